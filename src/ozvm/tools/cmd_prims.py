"""`oz prims IMAGE`: which primitives an image's methods use, and which ozvm lacks.

A primitive ozvm does not have fails, as an absent primitive fails on the C VM, so the
method's own Smalltalk code runs; this command shows where that happens.
"""
from __future__ import annotations

from ..prims.base import NAMED, PRIMITIVES, load_all

NAMED_DISPATCH = 117        # <primitive: 'name' module: 'Module'>: first literal (module name ...)


def primitive_usage(space) -> dict:
    """key -> sorted list of 'Class>>selector' using it; a key is a primitive number,
    or (module, name) for a named primitive."""
    usage: dict = {}
    mirrors = []
    for cls in space.classes():
        m = space.mirror_on(cls)
        mirrors += [m, m.class_side()]
    for cls in mirrors:
        for selector, method in cls.method_dictionary().items():
            prim = method.primitive()
            if not prim:
                continue
            key = prim
            if prim == NAMED_DISPATCH:
                spec = method.literal_objects()[0] if method.num_literals() else None
                names = [space.to_local(x) if x.__class__ is not int else x
                         for x in (spec.ptrs if spec is not None and spec.ptrs is not None else [])]
                if len(names) >= 2 and all(isinstance(n, str) for n in names[:2]):
                    key = (names[0], names[1])
            usage.setdefault(key, []).append("%s>>%s" % (cls.name(), selector))
    return {k: sorted(v) for k, v in usage.items()}


def status(key) -> str:
    """'yes'; 'fails' where ozvm makes it fail on purpose, as the C VM's does (e.g. drawing
    primitives of a headless VM); or 'MISSING'."""
    load_all()
    if isinstance(key, tuple):
        f = NAMED.get(key)
    elif 255 < key < 520:
        return "yes"                # quick returns, done by the interpreter
    else:
        f = PRIMITIVES.get(key)
    if f is None:
        return "MISSING"
    return "fails" if getattr(f, "always_fails", False) else "yes"


def _label(key) -> str:
    return "%s %s" % key if isinstance(key, tuple) else str(key)


def cmd_prims(args) -> int:
    from ..space.objectspace import ObjectSpace
    space = ObjectSpace.load(args.image)
    usage = primitive_usage(space)
    keys = sorted(usage, key=lambda k: (isinstance(k, tuple), k))
    missing = [k for k in keys if status(k) != "yes"]
    shown = missing if not args.all else keys
    width = max([len(_label(k)) for k in shown] + [9])
    print("%-*s  %-7s  %s" % (width, "primitive", "ozvm", "used by"))
    for k in shown:
        users = usage[k]
        more = " (+%d more)" % (len(users) - 3) if len(users) > 3 else ""
        print("%-*s  %-7s  %s%s" % (width, _label(k), status(k),
                                    ", ".join(users[:3]), more))
    print("%d primitives used by the image's methods, %d of them missing or failing in ozvm "
          "(such a primitive fails; the method's own code runs)" % (len(keys), len(missing)))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("prims", help="primitives the image's methods use that ozvm lacks")
    p.add_argument("image")
    p.add_argument("--all", action="store_true", help="list every primitive used, not only the missing ones")
    p.set_defaults(func=cmd_prims)
