"""`oz sandbox`, `oz bench switch`: execution control of guest spaces from the host.

    oz sandbox IMAGE 'EXPR' [--check 'EXPR2']...
        load IMAGE, copy the space, evaluate EXPR (side effects allowed) in the copy only,
        then show what changed there and that the original space and file did not
        (classes removed or added, method dictionaries changed, the values of the
        --check expressions in both, the file's digest); the copy's files are an overlay
        (--files: another policy), and the file operations it refused are listed
    oz bench switch [IMAGE]
        the cost of a host->guest->host round trip (a transfer of control of one
        bytecode: switch in, run, switch out), of switching between two spaces, and of
        a mirror field read
"""
from __future__ import annotations

import hashlib
import os
import sys
import time

from ..errors import GuestError, OzError
from .common import add_files_option, bench_subcommands, file_policy, report_denials

DEFAULT_BENCH_IMAGE = os.path.join("..", "shared", "images", "pharocandle.image")


def add_commands(sub) -> None:
    p = sub.add_parser("sandbox", help="run side-effecting code in a copy of an image's space; "
                                       "show that the original is unchanged")
    p.add_argument("image")
    p.add_argument("expr")
    p.add_argument("--check", action="append", default=[], metavar="EXPR",
                   help="an expression printed in the sandbox and in the original (repeatable)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S")
    p.add_argument("--memory-limit", type=float, default=256.0, metavar="MB",
                   help="stop the sandboxed guest past this size (default 256 MB)")
    add_files_option(p, "overlay")
    p.set_defaults(func=cmd_sandbox)

    bench = bench_subcommands(sub)
    q = bench.add_parser("switch", help="cost of a host->guest->host round trip and of a mirror read")
    q.add_argument("image", nargs="?", default=None)
    q.add_argument("--rounds", type=int, default=20000)
    q.set_defaults(func=cmd_bench_switch)


def _digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()[:16]


def _method_table(space) -> dict:
    """'Class>>selector' -> the compiled method object, for every class and metaclass."""
    out = {}
    for cls in space.classes():
        m = space.mirror_on(cls)
        for side in (m, m.class_side()):
            md = side.method_dictionary()
            if md is None:
                continue
            for sel in md.selectors():
                meth = md.at(sel)
                out["%s>>%s" % (side.name(), sel)] = meth.obj if meth is not None else None
    return out


def _globals(space) -> set:
    d = space.globals_dictionary()
    if d is None:
        return set(space.layout.class_name_of(c) for c in space.classes())
    names = set()
    for assoc in d.ptrs[1].ptrs:
        if assoc is not space.nil and assoc.ptrs[0].bytes is not None:
            names.add(assoc.ptrs[0].bytes.decode("latin-1"))
    return names


def _show(space, expr, timeout_ms) -> str:
    try:
        return space.print_string(expr, timeout_ms=timeout_ms)
    except GuestError as e:
        return "error: %s" % e.message


def cmd_sandbox(args) -> int:
    from ..vm import VM
    if not os.path.exists(args.image):
        raise OzError("no such image: %s" % args.image)
    before = _digest(args.image)
    beside_before = _beside(args.image)
    vm = VM()
    original = vm.load(args.image)
    globals_before = _globals(original)
    methods_before = _method_table(original)
    sandbox = original.copy()            # its files: an overlay, unless --files says otherwise
    if args.files != "overlay":
        sandbox.file_policy = file_policy(args.files)
    sandbox.memory_limit = int(args.memory_limit * 1024 * 1024)
    timeout_ms = args.timeout * 1000.0
    print("sandbox: a copy of %s (%d objects)" % (args.image, sandbox.object_count()))
    print("sandbox files: %s" % sandbox.file_policy.describe())
    print("sandbox> %s" % args.expr)
    status = 0
    try:
        result = sandbox.evaluate(args.expr, timeout_ms=timeout_ms)
        print("  -> %s" % sandbox.describe(result))
    except GuestError as e:
        print("  guest error: %s" % e)
        status = 1
    sandbox.invalidate_indexes()
    globals_after = _globals(sandbox)
    methods_after = _method_table(sandbox)
    removed = sorted(globals_before - globals_after)
    added = sorted(globals_after - globals_before)
    # methods are compared by their position in the graph: the copy's method for a name is
    # the copy of the original's unless the sandbox replaced it
    changed = sorted(k for k in methods_after if k in methods_before and
                     methods_after[k] is not None and methods_before[k] is not None and
                     _fingerprint(methods_after[k]) != _fingerprint(methods_before[k]))
    new_methods = sorted(set(methods_after) - set(methods_before))
    gone_methods = sorted(set(methods_before) - set(methods_after))
    print("changes in the sandbox:")
    for label, items in (("globals removed", removed), ("globals added", added),
                         ("methods changed", changed), ("methods added", new_methods),
                         ("methods removed", gone_methods)):
        if items:
            shown = ", ".join(items[:12]) + (" ... (%d)" % len(items) if len(items) > 12 else "")
            print("  %s: %s" % (label, shown))
    if not (removed or added or changed or new_methods or gone_methods):
        print("  (no classes, globals or methods changed)")
    print("the original space:")
    same_globals = _globals(original) == globals_before
    same_methods = _method_table(original) == methods_before
    print("  globals unchanged: %s; methods unchanged: %s" % (_yes(same_globals), _yes(same_methods)))
    for expr in args.check:
        print("  %-40s sandbox: %-24s original: %s" % (expr, _show(sandbox, expr, timeout_ms),
                                                       _show(original, expr, timeout_ms)))
    vm.check_isolation()
    print("  no object or file handle shared between the two spaces: yes")
    after = _digest(args.image)
    print("  image file unchanged: %s (sha256 %s)" % (_yes(after == before), after))
    changed = _changes(beside_before, _beside(args.image))
    print("  files beside the image unchanged: %s%s" % (_yes(not changed), "".join(
        "\n    %s %s" % (what, name) for name, what in changed[:12])))
    report_denials(sandbox, "sandbox", out=sys.stdout)
    sandbox.discard()
    if not (same_globals and same_methods and after == before):
        return 1
    return status


def _beside(image) -> dict:
    """name -> (size, mtime) of the entries in the image's folder."""
    folder = os.path.dirname(os.path.abspath(image))
    out = {}
    for name in os.listdir(folder):
        try:
            st = os.lstat(os.path.join(folder, name))
        except OSError:
            continue
        out[name] = (st.st_size, st.st_mtime_ns)
    return out


def _changes(before: dict, after: dict) -> list:
    return sorted([(n, "removed") for n in before if n not in after] +
                  [(n, "added") for n in after if n not in before] +
                  [(n, "changed") for n in after if n in before and after[n] != before[n]])


def _fingerprint(meth):
    return (tuple(x if x.__class__ is int else id(x) for x in meth.ptrs[:1]), bytes(meth.bytes))


def _yes(flag) -> str:
    return "yes" if flag else "NO"


# --- oz bench switch --------------------------------------------------------------------------

def _bench_image(path):
    if path is not None:
        return path
    from ..errors import OzError as _E
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.environ.get("OZ_IMAGES"), os.path.join(here, "..", "..", "..", "..", "shared", "images")):
        if cand and os.path.exists(os.path.join(cand, "pharocandle.image")):
            return os.path.join(cand, "pharocandle.image")
    raise _E("give an image: oz bench switch IMAGE")


def switch_costs(path: str, rounds: int = 20000) -> dict:
    """Seconds per operation: a round trip host->guest->host of one bytecode, a switch
    between two spaces (each running one bytecode), a mirror field read."""
    from ..vm import VM
    vm = VM()
    a = vm.load(path)
    b = vm.load(path)
    for space in (a, b):
        for p in space.processes():
            p.suspend()
        space.create_process("[true] whileTrue", priority=1)
        space.transfer_control(bytecodes=100)           # warm up
    out = {}
    t = time.perf_counter()
    for _ in range(rounds):
        a.transfer_control(bytecodes=1)
    out["round trip"] = (time.perf_counter() - t) / rounds
    t = time.perf_counter()
    for _ in range(rounds // 2):
        a.transfer_control(bytecodes=1)
        b.transfer_control(bytecodes=1)
    out["space switch + round trip"] = (time.perf_counter() - t) / (rounds // 2 * 2)
    proc = a.active_process()
    t = time.perf_counter()
    for _ in range(rounds):
        proc.inst_var_at(3)
    out["mirror field read"] = (time.perf_counter() - t) / rounds
    ctx = proc.suspended_context()
    t = time.perf_counter()
    for _ in range(rounds):
        ctx.pc()
    out["mirror named field read (pc)"] = (time.perf_counter() - t) / rounds
    return out


def cmd_bench_switch(args) -> int:
    path = _bench_image(args.image)
    costs = switch_costs(path, args.rounds)
    impl = "%s %s" % (sys.implementation.name, sys.version.split()[0])
    print("oz bench switch on %s (%s, %d rounds)" % (os.path.basename(path), impl, args.rounds))
    for name, seconds in costs.items():
        print("  %-32s %8.2f us" % (name, seconds * 1e6))
    target = 50e-6
    ok = costs["round trip"] < target
    print("  round trip target < 50 us: %s" % ("met" if ok else "NOT met"))
    return 0
