"""`oz info`, `oz classes`, `oz browse`, `oz processes`, `oz save`, `oz bench load`:
looking at an image from outside, through the ObjectSpace facade and its mirrors."""
from __future__ import annotations

import fnmatch
import os
import time

from ..errors import OzError
from ..image.formats import describe_version
from ..memory import specials as S
from .common import bench_subcommands


def add_commands(sub) -> None:
    p = sub.add_parser("info", help="header, object and class counts, memory by class, special objects")
    p.add_argument("image")
    p.add_argument("--top", type=int, default=15, metavar="N", help="classes shown in the memory table (default 15)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("classes", help="list the classes (PATTERN: a glob or a substring)")
    p.add_argument("image")
    p.add_argument("pattern", nargs="?")
    p.set_defaults(func=cmd_classes)

    p = sub.add_parser("browse", help="a class's definition and selectors, or one method; "
                                      "senders, implementors, references, hierarchy, categories")
    p.add_argument("image")
    p.add_argument("cls", metavar="CLASS", nargs="?", help="a class name ('Foo class' for the class "
                                                           "side; 'Foo>>bar' names a method)")
    p.add_argument("selector", nargs="?")
    q = p.add_mutually_exclusive_group()
    q.add_argument("--senders", metavar="SEL", help="the methods sending SEL")
    q.add_argument("--implementors", metavar="SEL", help="the methods with selector SEL")
    q.add_argument("--refs", metavar="NAME", help="the methods referring to the global or class "
                                                  "variable NAME (a class, Transcript, ...)")
    q.add_argument("--hierarchy", metavar="CLASS", help="superclasses and subclasses of CLASS")
    q.add_argument("--categories", metavar="CLASS", help="the method categories of CLASS and "
                                                         "their selectors")
    p.set_defaults(func=cmd_browse)

    p = sub.add_parser("processes", help="every process with its stack as snapshotted")
    p.add_argument("image")
    p.set_defaults(func=cmd_processes)

    p = sub.add_parser("save", help="load an image and save it again (optionally in the other byte order)")
    p.add_argument("image")
    p.add_argument("out")
    order = p.add_mutually_exclusive_group()
    order.add_argument("--big-endian", dest="little", action="store_false", default=None)
    order.add_argument("--little-endian", dest="little", action="store_true")
    p.set_defaults(func=cmd_save)

    what = bench_subcommands(sub)
    q = what.add_parser("load", help="time loading and saving an image")
    q.add_argument("image")
    q.add_argument("--repeat", type=int, default=5, metavar="N", help="runs (the best is reported; default 5)")
    q.set_defaults(func=cmd_bench_load)


def load(path: str):
    from ..space.objectspace import ObjectSpace
    return ObjectSpace.load(path)


def table(rows, headers=None, right=()) -> list:
    """Aligned text lines; columns whose index is in `right` are right-aligned."""
    rows = [[str(c) for c in r] for r in rows]
    allrows = ([list(headers)] if headers else []) + rows
    if not allrows:
        return []
    widths = [max(len(r[i]) for r in allrows if i < len(r)) for i in range(len(allrows[0]))]
    out = []
    for r in allrows:
        cells = [c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(r)]
        out.append("  ".join(cells).rstrip())
    if headers:
        out.insert(1, "  ".join("-" * w for w in widths))
    return out


def emit(lines) -> None:
    print("\n".join(lines))


# --- info ---------------------------------------------------------------------------

def cmd_info(args) -> int:
    space = load(args.image)
    info = space.info
    use = space.memory_use()
    classes = space.classes()
    w, h = info.window_extent()
    emit(table([
        ("image", info.path),
        ("format", "%d (%s), %s-endian" % (info.version, describe_version(info.version),
                                          "little" if info.little_endian else "big")),
        ("header size", "%d bytes%s" % (info.header_size, " after a 512-byte prefix" if info.file_offset else "")),
        ("object memory", "%d bytes at old base 0x%08x" % (info.data_size, info.old_base)),
        ("special objects", "oop 0x%08x (%d entries)" % (info.specials_oop, len(space.specials.ptrs))),
        ("last hash", info.last_hash),
        ("window size", "%dx%d" % (w, h)),
        ("flags", "0x%x" % info.flags),
        ("extra VM memory", info.extra_vm_memory),
        ("objects", "%d reachable, %d bytes" % (use.objects, use.bytes)),
        ("classes", "%d (and as many metaclasses)" % len(classes)),
    ]))
    print()
    print("memory by class (top %d of %d)" % (min(args.top, len(use.by_class)), len(use.by_class)))
    rows = [(name, n, b, "%.1f" % (100.0 * b / use.bytes)) for name, n, b in use.top(args.top)]
    emit("  " + l for l in table(rows, ("class", "objects", "bytes", "%"), right=(1, 2, 3)))
    print()
    print("special objects")
    rows = []
    for i, obj in enumerate(space.specials.ptrs):
        rows.append((i, special_name(space, i, obj), _short(space.describe(obj))))
    emit("  " + l for l in table(rows, ("#", "name", "value"), right=(0,)))
    return 0


def special_name(space, index, obj) -> str:
    """The V3 name of special object `index`, marked '(?)' when this image keeps something
    of another kind there (older images such as Squeak 2.2 use some slots differently)."""
    name = S.NAMES.get(index)
    if name is None:
        return "-"
    if obj is space.nil or obj.__class__ is int:
        return name if obj is space.nil else name + " (?)"
    layout = space.layout
    if name.startswith("class_"):
        ok = layout.is_class(obj)
    elif name.startswith("selector_"):
        ok = obj.cls is space.symbol_class()
    elif name.endswith("_semaphore"):
        ok = "Semaphore" in layout.class_name_of(obj.cls)
    elif name.endswith("_proto"):
        ok = not layout.is_class(obj)
    else:
        ok = True
    return name if ok else name + " (?)"


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --- classes ------------------------------------------------------------------------

def _matches(name: str, pattern) -> bool:
    if not pattern:
        return True
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name.lower(), pattern.lower())
    return pattern.lower() in name.lower()


def cmd_classes(args) -> int:
    space = load(args.image)
    rows = []
    for cls in space.classes():
        m = space.mirror_on(cls)
        name = m.name()
        if not _matches(name, args.pattern):
            continue
        sup = m.superclass()
        md, cmd = m.method_dictionary(), m.class_side().method_dictionary()
        rows.append((name, sup.name() if sup else "nil", len(m.instance_variable_names()),
                     len(md.selectors()) if md else 0, len(cmd.selectors()) if cmd else 0,
                     m.category() or ""))
    if not rows:
        raise OzError("no class matches %r" % args.pattern)
    emit(table(rows, ("class", "superclass", "ivars", "methods", "class methods", "category"), right=(2, 3, 4)))
    print("%d classes" % len(rows))
    return 0


# --- browse -------------------------------------------------------------------------

def _find_class(space, name):
    cls = space.class_named(name)
    if cls is None:
        close = [c for c in (space.layout.class_name_of(x) for x in space.classes())
                 if c.lower() == name.lower() or name.lower() in c.lower()][:5]
        raise OzError("no class named %r%s" % (name, (" (did you mean %s?)" % ", ".join(close)) if close else ""))
    return space.mirror_on(cls)


def cmd_browse(args) -> int:
    space = load(args.image)
    for query in ("senders", "implementors", "refs", "hierarchy", "categories"):
        if getattr(args, query, None) is not None:
            return browse_query(space, query, getattr(args, query))
    if args.cls is None:
        raise OzError("name a class (or Class>>selector), or a query such as --senders SEL")
    if ">>" in args.cls and not args.selector:          # 'Foo class>>bar' names a method too
        args.cls, args.selector = args.cls.split(">>", 1)
    cls = _find_class(space, args.cls.strip())
    if args.selector:
        return browse_method(space, cls, args.selector)
    inst = cls.instance_side()
    sup = inst.superclass()
    print("%s %s #%s" % (sup.name() if sup else "nil", inst.definition_kind(), inst.name()))
    print("    instanceVariableNames: '%s'" % " ".join(inst.instance_variable_names()))
    print("    classVariableNames: '%s'" % " ".join(inst.class_variable_names()))
    print("    poolDictionaries: '%s'" % " ".join(inst.shared_pool_names()))
    print("    category: '%s'" % (inst.category() or ""))
    print()
    meta = inst.class_side()
    print("%s instanceVariableNames: '%s'" % (meta.name(), " ".join(meta.instance_variable_names())))
    print()
    print("format: %s, %d named fields%s; %d instances in the image"
          % (inst.format_description(), inst.inst_size(),
             (", compact class %d" % inst.compact_class_index()) if inst.compact_class_index() else "",
             inst.instance_count()))
    print("superclasses: %s" % (" < ".join(c.name() for c in inst.superclasses()) or "none"))
    subs = inst.subclasses()
    print("subclasses: %s" % (", ".join(c.name() for c in subs) or "none"))
    for side in ((cls,) if cls.is_metaclass() else (inst, meta)):
        sels = side.selectors()
        print()
        print("%s: %d selectors" % (side.name(), len(sels)))
        emit(_columns(sels))
    return 0


def browse_query(space, query, arg) -> int:
    """`oz browse IMAGE --senders/--implementors SEL, --refs NAME, --hierarchy/--categories CLASS`."""
    if query in ("senders", "implementors", "refs"):
        find = {"senders": space.senders, "implementors": space.implementors,
                "refs": space.references_to}[query]
        refs = find(arg)
        for ref in refs:
            print(ref)
        what = {"senders": "senders of #%s", "implementors": "implementors of #%s",
                "refs": "references to %s"}[query] % arg
        print("%d %s" % (len(refs), what))
        return 0
    cls = _find_class(space, arg.strip())
    if query == "hierarchy":
        for depth, c in space.hierarchy(cls):
            mark = " *" if c == cls else ""
            print("%s%s%s" % ("    " * depth, c.name(), mark))
        return 0
    cats = cls.method_categories()
    for cat, sels in cats:
        print("%s (%d)" % (cat, len(sels)))
        emit(_columns(sels))
    if not cats:
        print("%s defines no methods" % cls.name())
    return 0


def _columns(words, width=96) -> list:
    if not words:
        return ["    (none)"]
    w = max(len(x) for x in words) + 2
    per = max(1, (width - 4) // w)
    return ["    " + "".join(x.ljust(w) for x in words[i:i + per]).rstrip() for i in range(0, len(words), per)]


def browse_method(space, cls, selector) -> int:
    method = cls.compiled_method_at(selector)
    where = cls
    if method is None:
        method = cls.lookup(selector)
        if method is None:
            raise OzError("%s does not understand #%s" % (cls.name(), selector))
        where = method.method_class() or cls
        print("(inherited from %s)" % where.name())
    print("%s>>%s" % (where.name(), selector))
    print("header: %s" % method.header_description())
    lits = method.literals()
    print("literals:")
    if not lits:
        print("    (none)")
    else:
        emit(table([("    %d" % (i + 1), l.describe()) for i, l in enumerate(lits)]))
    print("bytecodes (pc as in contexts):")
    emit(method.disassembly())
    trailer = method.trailer()
    if trailer:
        print("trailer: %d bytes" % len(trailer))
    source = space.method_source(method)
    origin = "source:"
    if source is None:
        source = _decompiled(space, method, where, selector)
        origin = "decompiled:"
    if source:
        print()
        print(origin)
        emit("    " + l for l in source.splitlines())
    return 0


def _decompiled(space, method, cls, selector):
    try:
        from ..compiler.decompiler import decompile
    except Exception:
        return None
    try:
        return decompile(space, method.obj, cls.obj, selector)
    except Exception as e:
        return "(the decompiler failed: %s: %s)" % (type(e).__name__, str(e).splitlines()[0] if str(e) else "")


# --- processes ----------------------------------------------------------------------

def cmd_processes(args) -> int:
    space = load(args.image)
    procs = space.processes()
    for p in procs:
        name = p.name()
        print("%s%s  priority %s  %s" % (p.describe(), (" %r" % name) if name else "",
                                          p.priority(), p.state()))
        frames = p.frames()
        if not frames:
            print("    (no suspended context)")
        for ctx in frames:
            print("    " + ctx.describe())
            values = []
            for label, ms in (("args", ctx.args()), ("temps", ctx.temps()), ("stack", ctx.stack_values())):
                if ms:
                    values.append("%s: %s" % (label, ", ".join(_short(m.describe(), 30) for m in ms)))
            if values:
                print("        " + "; ".join(values))
        print()
    print("%d processes" % len(procs))
    return 0


# --- save and bench -----------------------------------------------------------------

def cmd_save(args) -> int:
    from ..image.files import check_target
    check_target(args.out, (args.image,))       # refused before the image is even read
    space = load(args.image)
    space.save(args.out, args.little)
    little = space.info.little_endian if args.little is None else args.little
    print("saved %s (%d bytes, %s-endian, format %d)" % (args.out, os.path.getsize(args.out),
                                                         "little" if little else "big", space.info.version))
    return 0


def cmd_bench_load(args) -> int:
    from ..image.formats import encode_image, read_image
    from ..space.objectspace import ObjectSpace
    from ..image.files import read_image_data
    size = len(read_image_data(args.image))
    loads, spaces, saves = [], [], []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        heap = read_image(args.image)
        t1 = time.perf_counter()
        ObjectSpace(heap)
        t2 = time.perf_counter()
        data = encode_image(heap)
        t3 = time.perf_counter()
        loads.append(t1 - t0)
        spaces.append(t2 - t1)
        saves.append(t3 - t2)
    import platform
    print("%s (%d bytes), %s %s, %d runs" % (args.image, size, platform.python_implementation(),
                                            platform.python_version(), len(loads)))
    emit(table([("load (read + decode)", "%.3f s" % loads[0], "%.3f s" % min(loads)),
                ("space (layout discovery)", "%.3f s" % spaces[0], "%.3f s" % min(spaces)),
                ("save (encode %d bytes)" % len(data), "%.3f s" % saves[0], "%.3f s" % min(saves))],
               ("", "first", "best"), right=(1, 2)))
    return 0
