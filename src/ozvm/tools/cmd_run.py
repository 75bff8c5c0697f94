"""`oz eval`, `oz run`, `oz bench tiny`: running guest code on ozvm's interpreter.

    oz eval IMAGE 'CODE'        evaluate CODE with the guest's own Compiler, print the
                                printString of the result
    oz run IMAGE [--timeout S]  resume the image's active process headless until it quits
    oz bench tiny IMAGE         `0 tinyBenchmarks` on CPython, on pypy3 (if installed) and
                                on squeak-vm (the oracle image) in the same run, with ratios;
                                for a Spur image on SqueakJS (under node) instead, or its
                                recorded figure when node or SqueakJS is missing
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

from ..errors import GuestError, OzError
from .common import add_files_option, bench_subcommands, file_policy, report_denials

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))


def add_commands(sub) -> None:
    p = sub.add_parser("eval", help="evaluate an expression in an image and print its printString")
    p.add_argument("image")
    p.add_argument("expr")
    p.add_argument("--timeout", type=float, default=600.0, metavar="S")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("run", help="resume the image's active process headless until it quits")
    p.add_argument("image")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="stop after S seconds (exit code 2)")
    p.add_argument("--emergency", action="store_true",
                   help="when the image fails (unhandled error, deadlock, Ctrl-C) the host takes "
                        "over and opens the surgeon console on the failing process")
    add_files_option(p, "host")
    p.set_defaults(func=cmd_run)

    bench = bench_subcommands(sub)
    q = bench.add_parser("tiny", help="0 tinyBenchmarks on CPython, PyPy and squeak-vm, with ratios")
    q.add_argument("image")
    q.add_argument("--no-pypy", action="store_true")
    q.add_argument("--no-squeak", action="store_true")
    q.add_argument("--timeout", type=float, default=900.0, metavar="S")
    q.add_argument("--jit", choices=("off", "on", "both"), default="both",
                   help="ozvm rows without and/or with the translation tier (OZ_JIT=on; docs/jit.md)")
    q.set_defaults(func=cmd_bench_tiny)


def _load(path, files=None):
    """The image's space; `files`: a --files argument for its file policy."""
    from ..space.objectspace import ObjectSpace
    if not os.path.exists(path):
        raise OzError("no such image: %s" % path)
    space = ObjectSpace.load(path)
    if files is not None:
        space.file_policy = file_policy(files)
    return space


def cmd_eval(args) -> int:
    from ..space import execution
    from ..space.control import Interruptible      # Ctrl-C: stop, show the culprit's stack
    space = _load(args.image, getattr(args, "files", None))
    try:
        with Interruptible(space) as intr:
            text = execution.evaluate_and_print(space, args.expr, timeout=args.timeout)
        if execution.interpreter_for(space).transcript_line_open:
            print()
        print(text)
    except GuestError as e:
        if intr.interrupted:
            print("oz eval: %s" % intr.report(), file=sys.stderr)
            return 130
        print("guest error: %s" % e, file=sys.stderr)
        return 1
    finally:
        report_denials(space, "oz eval")
        space.file_table().close()
    return 0


def cmd_run(args) -> int:
    space = _load(args.image, getattr(args, "files", None))
    try:
        return _run(space, args)
    finally:
        report_denials(space, "oz run")
        space.file_table().close()


def _run(space, args) -> int:
    from ..space import execution
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    if getattr(args, "emergency", False):
        return _run_emergency(space, deadline, args.timeout)
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)      # as a real VM: the image's own debugger code runs
    interrupted = []
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
    interp.host_poll = lambda interp: bool(interrupted)     # Ctrl-C stops at the next heartbeat
    try:
        reason = interp.run(deadline=deadline)
    finally:
        signal.signal(signal.SIGINT, previous)
    if reason == "stopped":
        print("oz run: interrupted", file=sys.stderr)
        if interp.ctx is not None:      # the culprit's stack (space/control.py)
            from ..space.control import describe_stack
            for line in describe_stack(space, interp.ctx, 40):
                print("  " + line, file=sys.stderr)
        return 130
    if reason == "quit":
        return 0
    if reason == "limit":
        print("oz run: stopped after %gs (the guest had not quit)" % args.timeout, file=sys.stderr)
        return 2
    if reason == "error" or reason == "memory":
        print("oz run: guest error: %s" % interp.guest_error, file=sys.stderr)
        return 1
    print("oz run: the guest stopped (%s)" % reason, file=sys.stderr)
    return 0 if reason == "idle" else 1


def _run_emergency(space, deadline, timeout) -> int:
    """`oz run --emergency`: the host's error traps stay armed; failures open the surgeon
    console (tools/surgeon_console.py)."""
    from .surgeon_console import run_with_console
    reason = run_with_console(space, deadline=deadline)
    if reason == "quit":
        return 0
    if reason == "limit":
        print("oz run: stopped after %gs (the guest had not quit)" % timeout, file=sys.stderr)
        return 2
    print("oz run: the surgeon quit (the image was not resumed)", file=sys.stderr)
    return 1


# --- benchmarks ----------------------------------------------------------------------------------

_TINY = re.compile(r"(\d+) bytecodes/sec; (\d+) sends/sec")


def tiny_benchmarks(path: str, timeout: float = 900.0) -> str:
    """`0 tinyBenchmarks` on this Python (a direct send: PharoCandle has no compiler;
    there it is `PCSystem tinyBenchmarks`)."""
    from ..space import execution
    space = _load(path)
    interp = execution.interpreter_for(space)
    receiver = 0
    sym = space.symbol_named("tinyBenchmarks")
    if sym is None or interp.lookup(interp.smallint_class, sym) is None:
        receiver = space.class_named("PCSystem")
        if receiver is None:
            raise OzError("this image has no tinyBenchmarks")
    result = execution.run_send(space, receiver, "tinyBenchmarks", [], timeout=timeout)
    return result.bytes.decode("latin-1")


def _parse(text):
    m = _TINY.search(text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def _pypy(path, timeout, jit="0"):
    exe = shutil.which("pypy3")
    if exe is None:
        return None, "pypy3 is not installed"
    env = dict(os.environ, PYTHONPATH=SRC, OZ_JIT=jit)
    try:
        out = subprocess.run([exe, "-m", "ozvm.tools.cmd_run", path], env=env, capture_output=True,
                             text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return _parse(out.stdout), (out.stdout + out.stderr).strip()[-300:]


def _oracle_image(path):
    oracle_dir = os.environ.get("OZ_ORACLE") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(path))), "oracle")
    base = os.path.basename(path)
    if base.endswith("-oracle.image"):
        return path, oracle_dir
    cand = os.path.join(oracle_dir, base.replace(".image", "-oracle.image"))
    return (cand if os.path.exists(cand) else None), oracle_dir


def _squeak_log(path, timeout):
    """Images that benchmark themselves at startup (PharoCandle writes log.txt):
    run a copy on squeak-vm in a temporary folder and read the log."""
    import tempfile
    vms = glob.glob("/usr/lib/squeak/*/squeakvm")
    if not vms:
        return None, "squeak-vm is not installed"
    with tempfile.TemporaryDirectory() as work:
        image = os.path.join(work, os.path.basename(path))
        shutil.copy(path, image)
        try:
            subprocess.run([vms[0], "-vm-display-null", "-vm-sound-null", image], cwd=work,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, "squeak-vm timed out"
        log = os.path.join(work, "log.txt")
        text = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    return _parse(text), "startup log"


def _squeak(path, timeout):
    image, oracle_dir = _oracle_image(path)
    if image is None and "pharocandle" in os.path.basename(path).lower():
        return _squeak_log(path, timeout)
    runner = os.path.join(oracle_dir, "run-oracle")
    if image is None or not os.path.exists(runner):
        return None, "no oracle image for %s" % os.path.basename(path)
    if not glob.glob("/usr/lib/squeak/*/squeakvm"):
        return None, "squeak-vm is not installed"
    exprs = os.path.join(os.environ.get("TMPDIR", "/tmp"), "oz_bench_%d.txt" % os.getpid())
    with open(exprs, "w") as f:
        f.write("0 tinyBenchmarks\n")
    try:
        out = subprocess.run([runner, image, exprs, str(int(timeout))], capture_output=True,
                             text=True, timeout=timeout + 30)
    finally:
        os.unlink(exprs)
    return _parse(out.stdout), out.stdout.strip()[-300:]


def _with_jit(jit, f, *args):
    """f(*args) with interpreters made under OZ_JIT=jit."""
    old = os.environ.get("OZ_JIT")
    os.environ["OZ_JIT"] = jit
    try:
        return f(*args)
    finally:
        if old is None:
            del os.environ["OZ_JIT"]
        else:
            os.environ["OZ_JIT"] = old


# SqueakJS's figures, recorded with `oz bench tiny IMAGE` on a loaded 2-core machine, for
# when node or SqueakJS (../shared/oracle/squeakjs/README.md) is not at hand
RECORDED_SQUEAKJS = {
    "pharocandle-spur64.image": ((1_271_876, 154_214),
                                 "recorded 2026-12-07 on 2 cores under load, interpreter only"),
}


def _squeakjs(path, timeout):
    """`tinyBenchmarks` of a Spur image on SqueakJS: a copy whose startup answers it (ozvm's
    compiler writes `PCSystem class>>start`; the images have no compiler), run by
    ../oracle/squeakjs/run.sh under node; the recorded figure when that cannot run."""
    import tempfile
    _image, oracle_dir = _oracle_image(path)
    runner = os.path.join(oracle_dir, "squeakjs", "run.sh")
    sqjs = os.environ.get("SQJS", "/tmp/sqjs")
    missing = None
    if not os.path.exists(runner):
        missing = "no SqueakJS runner at %s" % runner
    elif shutil.which("node") is None:
        missing = "node is not installed"
    elif not os.path.exists(os.path.join(sqjs, "vm.interpreter.js")):
        missing = "SqueakJS is not in %s" % sqjs
    if missing is None:
        space = _load(path)
        system = space.class_named("PCSystem")
        if system is None:
            return None, "only PharoCandle-Spur64 has tinyBenchmarks among the Spur images"
        space.install(space.class_of(system), "start\n\tself log: self tinyBenchmarks.\n\tself quit")
        with tempfile.TemporaryDirectory() as work:
            copy = os.path.join(work, os.path.basename(path))
            space.save(copy)
            try:
                out = subprocess.run([runner, "-o", "-q", copy, str(int(timeout))], capture_output=True,
                                     text=True, timeout=timeout + 60)
            except subprocess.TimeoutExpired:
                return None, "SqueakJS timed out"
        res = _parse(out.stdout)
        if res is not None:
            return res, None
        missing = "SqueakJS answered no figure"
    recorded = RECORDED_SQUEAKJS.get(os.path.basename(path))
    if recorded is None:
        return None, missing
    return recorded[0], "%s (%s)" % (recorded[1], missing)


def _is_spur(path) -> bool:
    """Whether the image file's format version is a Spur one (the header's first word)."""
    from ..memory.families import family_of_version
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and family_of_version(int.from_bytes(head, "little")).is_spur


def cmd_bench_tiny(args) -> int:
    rows = []
    # the interpreter only, and with the translation tier (unless `oz --no-jit`)
    tiers = [("", "0"), (", JIT", "on")]
    if args.jit != "both" or os.environ.get("OZ_JIT") == "0":
        tiers = [tiers[1 if args.jit == "on" and os.environ.get("OZ_JIT") != "0" else 0]]
    for label, jit in tiers:
        t = time.time()
        text = _with_jit(jit, tiny_benchmarks, args.image, args.timeout)
        rows.append(("ozvm (CPython %s%s)" % (sys.version.split()[0], label), _parse(text),
                     "%.1fs" % (time.time() - t)))
    if not args.no_pypy:
        for label, jit in tiers:
            t = time.time()
            res, note = _pypy(args.image, args.timeout, jit)
            rows.append(("ozvm (pypy3%s)" % label, res, note if res is None else "%.1fs" % (time.time() - t)))
    if not args.no_squeak and _is_spur(args.image):
        t = time.time()
        res, note = _squeakjs(args.image, args.timeout)
        rows.append(("SqueakJS (node)", res, note if note else "%.1fs" % (time.time() - t)))
    elif not args.no_squeak:
        t = time.time()
        res, note = _squeak(args.image, args.timeout)
        rows.append(("squeak-vm (oracle image)", res, note if res is None else "%.1fs" % (time.time() - t)))
    ref = rows[-1][1] if rows[-1][1] is not None and rows[-1][0].startswith(("squeak", "SqueakJS")) else None
    print("%-26s %15s %13s %9s %9s  %s" % ("VM", "bytecodes/s", "sends/s", "bc ratio", "send ratio", "time"))
    for name, res, note in rows:
        if res is None:
            print("%-26s %15s %13s %9s %9s  %s" % (name, "-", "-", "", "", note))
            continue
        ratio_b = ratio_s = ""
        if ref is not None:
            ratio_b = "1/%.0f" % (ref[0] / res[0]) if res[0] else ""
            ratio_s = "1/%.0f" % (ref[1] / res[1]) if res[1] else ""
        print("%-26s %15s %13s %9s %9s  %s" % (name, "{:,}".format(res[0]), "{:,}".format(res[1]),
                                               ratio_b, ratio_s, note))
    return 0 if rows[0][1] is not None else 1


if __name__ == "__main__":      # the pypy3 worker of `oz bench tiny`
    print(tiny_benchmarks(sys.argv[1]))
