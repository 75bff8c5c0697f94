"""`oz compile IMAGE CLASS SOURCE`: compile a method with ozvm's compiler against a class of an
image and print its header, literals and bytecodes (the image file is not changed).

    oz compile squeak2.2-mini.image Object 'foo ^ 3 + 4'
    oz compile pharocandle.image 'PCObject class' 'new ^ self basicNew'
    oz compile IMAGE Object --doit '3 + 4'           a do-it (method DoIt answering the value)
    oz compile IMAGE Object -f method.st             the source from a file
    oz compile IMAGE Object 'foo ^ #(1 2) collect: [:x | x]' --bytecode-set SistaV1
                                                     Sista V1 (Spur images): blocks listed after
"""
from __future__ import annotations

import sys

from ..errors import OzError


def add_commands(sub) -> None:
    p = sub.add_parser("compile", help="compile a method against a class of an image; print its bytecodes")
    p.add_argument("image", help="the image file")
    p.add_argument("cls", metavar="CLASS", help="the class ('Foo class' for a metaclass)")
    p.add_argument("source", nargs="?", help="the method source (or use -f)")
    p.add_argument("--bytecode-set", choices=("V3", "SistaV1"),
                   help="the bytecode set (default: what the image's methods use)")
    p.add_argument("-f", "--file", help="read the source from this file")
    p.add_argument("--doit", metavar="SOURCE", help="compile SOURCE as a do-it (method DoIt)")
    p.set_defaults(func=cmd_compile)


def cmd_compile(args) -> int:
    from ..compiler.api import generate
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
        header, literals, code, selector = generate(space, cls, source, doit=doit,
                                                    bytecode_set=getattr(args, "bytecode_set", None))
    except OzError as e:
        print("oz compile: %s" % e, file=sys.stderr)
        return 1
    print("%s>>%s" % (args.cls, selector))
    _print_code(space, header, literals, code, "")
    return 0


def _print_code(space, header, literals, code, indent) -> None:
    """Header, literals and listing of a method or (Sista V1) of each of its full blocks."""
    from ..compiler.disassembler import bytecode_set, format_lines
    from ..memory.objects import method_primitive, spur_method_primitive
    fam = space.heap.family
    alternate = fam.method_alternate_bytecodes(header)
    prim = spur_method_primitive(header, code) if fam.is_spur else method_primitive(header)
    print("%sheader %d: %d args, %d temps, %d literals, primitive %d%s%s" % (
        indent, header, fam.method_num_args(header), fam.method_num_temps(header),
        fam.method_num_literals(header), prim, ", large frame" if fam.method_large_frame(header) else "",
        ", Sista V1" if alternate else ""))
    for i, lit in enumerate(literals):
        print("%s  literal %d: %s" % (indent, i, _literal_text(space, lit)))
    decoder = bytecode_set(alternate)
    for line in format_lines(code, [lit for lit in literals],
                             lambda lit, variable=False: _literal_text(space, lit, variable),
                             decoder.decode_tolerant(code),
                             pc_base=fam.word_size * (len(literals) + 1) + 1):
        print(indent + "  " + line)
    for i, (kind, _key, value) in enumerate(literals):
        if kind == "block":
            print("%s  full block (literal %d):" % (indent, i))
            _print_code(space, value.header, value.literals, value.code, indent + "    ")


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
    if kind == "block":
        return "a CompiledBlock"
    if kind == "outer":
        return "the outer code"
    return repr(value)
