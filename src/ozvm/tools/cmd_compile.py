"""`oz compile IMAGE CLASS SOURCE`: compile a method with ozvm's compiler against a class of an
image and print its header, literals and bytecodes (the image file is not changed).

    oz compile squeak2.2-mini.image Object 'foo ^ 3 + 4'
    oz compile pharocandle.image 'PCObject class' 'new ^ self basicNew'
    oz compile IMAGE Object --doit '3 + 4'           a do-it (method DoIt answering the value)
    oz compile IMAGE Object -f method.st             the source from a file
"""
from __future__ import annotations

import sys

from ..errors import OzError


def add_commands(sub) -> None:
    p = sub.add_parser("compile", help="compile a method against a class of an image; print its bytecodes")
    p.add_argument("image", help="the image file")
    p.add_argument("cls", metavar="CLASS", help="the class ('Foo class' for a metaclass)")
    p.add_argument("source", nargs="?", help="the method source (or use -f)")
    p.add_argument("-f", "--file", help="read the source from this file")
    p.add_argument("--doit", metavar="SOURCE", help="compile SOURCE as a do-it (method DoIt)")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args) -> int:
    from ..compiler.api import generate
    from ..compiler.disassembler import format_lines
    from ..memory.objects import (method_large_frame, method_num_args, method_num_literals,
                                  method_num_temps, method_primitive)
    from ..space.objectspace import ObjectSpace
    doit = args.doit is not None
    if doit:
        source = args.doit
    elif args.file:
        with open(args.file, encoding="latin-1") as f:
            source = f.read()
    elif args.source is not None:
        source = args.source
    else:
        print("oz compile: give the source or -f FILE", file=sys.stderr)
        return 2
    try:
        space = ObjectSpace.load(args.image)
        cls = space.class_named(args.cls)
        if cls is None:
            print("oz compile: no class %s in %s" % (args.cls, args.image), file=sys.stderr)
            return 1
        header, literals, code, selector = generate(space, cls, source, doit=doit)
    except OzError as e:
        print("oz compile: %s" % e, file=sys.stderr)
        return 1
    names = [_literal_text(space, lit) for lit in literals]
    print("%s>>%s" % (args.cls, selector))
    print("header %d: %d args, %d temps, %d literals, primitive %d%s" % (
        header, method_num_args(header), method_num_temps(header), method_num_literals(header),
        method_primitive(header), ", large frame" if method_large_frame(header) else ""))
    for i, n in enumerate(names):
        print("  literal %d: %s" % (i, n))
    for line in format_lines(code, literals, lambda lit, variable=False: _literal_text(space, lit, variable)):
        print("  " + line)
    return 0


def _literal_text(space, literal, variable=False) -> str:
    """A literal of `generate` ((kind, key, value)) as text; `variable`: as the variable an
    association is (its key)."""
    kind, _key, value = literal
    if kind in ("assoc", "classbinding"):
        key = value.ptrs[0]
        if key is space.nil:
            return "nil->%s" % space.layout.class_name_of(value.ptrs[1])
        name = key.bytes.decode("latin-1")
        return name if variable else "#%s binding" % name
    if kind in ("sel", "supersel", "selector", "opt"):
        return "#" + str(value)
    return repr(value)
