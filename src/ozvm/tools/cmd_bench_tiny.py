"""`oz bench tiny IMAGE` (also `oz bench IMAGE`): `0 tinyBenchmarks` on ozvm (CPython and
pypy3, without and with the translation tier) and on squeak-vm (the oracle image), or for a
Spur image on SqueakJS (under node; its recorded figure when node or SqueakJS is missing),
with the ratios to the reference in the same run.

tinyBenchmarks times itself with the image's wall clock, and one process's figure differs
from another's (on PyPy by which traces its JIT makes first; everywhere by what a loaded
machine leaves the process). So every row runs --runs times, each run a fresh process, the
rows interleaved run after run (a change of load falls on every row alike); the table shows
the best run, the spread between runs, and each row's share of a CPU while it ran (CPU time
over wall time: below ~90% the machine's load, not the VM, set the figure). The ratios are
best to best. --warm K runs tinyBenchmarks K times first in the same process, as warm-up
(PyPy's JIT), and measures the run after them.
"""
from __future__ import annotations

import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from ..errors import OzError
from .common import bench_subcommands, load_average

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

_TINY = re.compile(r"(\d+) bytecodes/sec; (\d+) sends/sec")


def add_commands(sub) -> None:
    q = bench_subcommands(sub).add_parser(
        "tiny", help="0 tinyBenchmarks on CPython, PyPy and squeak-vm, with ratios")
    q.add_argument("image")
    q.add_argument("--runs", type=int, default=3, metavar="N",
                   help="runs of each row, each in a fresh process (default 3): best and spread")
    q.add_argument("--warm", type=int, default=0, metavar="K",
                   help="tinyBenchmarks runs before the measured one, in the same process")
    q.add_argument("--cpu-clock", action="store_true",
                   help="ozvm's image clock reads its process's CPU time: ozvm's figures "
                        "whatever the load (squeak-vm's stay on wall time)")
    q.add_argument("--no-pypy", action="store_true")
    q.add_argument("--no-squeak", action="store_true")
    q.add_argument("--timeout", type=float, default=900.0, metavar="S")
    q.add_argument("--jit", choices=("off", "on", "both"), default="both",
                   help="ozvm rows without and/or with the translation tier (OZ_JIT=on; docs/jit.md)")
    q.set_defaults(func=cmd_bench_tiny)


# --- the ozvm worker -------------------------------------------------------------------------------

def tiny_benchmarks(path: str, timeout: float = 900.0) -> str:
    """`0 tinyBenchmarks` on this Python, in a space of its own (a direct send: PharoCandle
    has no compiler; there it is `PCSystem tinyBenchmarks`)."""
    from .cmd_run import _load
    space = _load(path)
    return _tiny_in(space, timeout)


def _tiny_in(space, timeout) -> str:
    from ..space import execution
    interp = execution.interpreter_for(space)
    receiver = 0
    sym = space.symbol_named("tinyBenchmarks")
    if sym is None or interp.lookup(interp.smallint_class, sym) is None:
        receiver = space.class_named("PCSystem")
        if receiver is None:
            raise OzError("this image has no tinyBenchmarks")
    result = execution.run_send(space, receiver, "tinyBenchmarks", [], timeout=timeout)
    return result.bytes.decode("latin-1")


def _work(path, warm, timeout, cpu_clock=False) -> dict:
    """One worker run: tinyBenchmarks `warm` times, then measured (its answer, the CPU and
    wall seconds it took). `cpu_clock`: the image's millisecond clock reads this process's
    CPU time instead of the wall clock (a benchmark's choice, so that what other processes
    take is not counted)."""
    from .cmd_run import _load
    space = _load(path)
    if cpu_clock:
        use_cpu_clock(space)
    for _ in range(warm):
        _tiny_in(space, timeout)
    wall, cpu = time.perf_counter(), time.process_time()
    text = _tiny_in(space, timeout)
    return {"text": text, "cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}


def use_cpu_clock(space) -> None:
    """The image's millisecond clock (primitive 135, timers) reads this process's CPU time."""
    from ..interp.scheduler import CLOCK_MASK
    from ..space import execution
    execution.interpreter_for(space).millisecond_clock = \
        lambda: int(time.process_time() * 1000) & CLOCK_MASK


def parse(text):
    """(bytecodes/s, sends/s) of a tinyBenchmarks answer, or None."""
    m = None
    for m in _TINY.finditer(text or ""):
        pass                    # the last one (after warm-up runs)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


class Run:
    """One run's figures: (bytecodes/s, sends/s) or None, its CPU share (None when not
    known) and a note (why it has no figures)."""

    def __init__(self, res, share=None, note=""):
        self.res = res
        self.share = share
        self.note = note


def _ozvm(python, path, jit, warm, timeout, cpu_clock=False) -> Run:
    """A fresh worker process of `python` (this one or pypy3) with OZ_JIT=jit."""
    env = dict(os.environ, PYTHONPATH=SRC, OZ_JIT=jit)
    try:
        out = subprocess.run([python, "-m", "ozvm.tools.cmd_bench_tiny", "--worker", path,
                              str(warm), str(timeout)] + (["cpu"] if cpu_clock else []),
                             env=env, capture_output=True, text=True, timeout=timeout * (warm + 1) + 60)
    except subprocess.TimeoutExpired:
        return Run(None, note="timed out")
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            got = json.loads(line)
            return Run(parse(got["text"]), got["cpu"] / max(got["wall"], 1e-9), got["text"])
    return Run(None, note=(out.stdout + out.stderr).strip()[-300:] or "no answer")


# --- the reference VMs ----------------------------------------------------------------------------

def _oracle_image(path):
    oracle_dir = os.environ.get("OZ_ORACLE") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(path))), "oracle")
    base = os.path.basename(path)
    if base.endswith("-oracle.image"):
        return path, oracle_dir
    cand = os.path.join(oracle_dir, base.replace(".image", "-oracle.image"))
    return (cand if os.path.exists(cand) else None), oracle_dir


def _timed_child(cmd, timeout, **kw):
    """subprocess.run of `cmd` and the CPU share of its children (None if it timed out)."""
    wall, cpu = time.perf_counter(), _children_cpu()
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        return None, None
    return out, (_children_cpu() - cpu) / max(time.perf_counter() - wall, 1e-9)


def _squeak_log(path, timeout) -> Run:
    """Images that benchmark themselves at startup (PharoCandle writes log.txt):
    run a copy on squeak-vm in a temporary folder and read the log."""
    vms = glob.glob("/usr/lib/squeak/*/squeakvm")
    if not vms:
        return Run(None, note="squeak-vm is not installed")
    with tempfile.TemporaryDirectory() as work:
        image = os.path.join(work, os.path.basename(path))
        shutil.copy(path, image)
        out, share = _timed_child([vms[0], "-vm-display-null", "-vm-sound-null", image], timeout,
                                  cwd=work, stdin=subprocess.DEVNULL)
        if out is None:
            return Run(None, note="squeak-vm timed out")
        log = os.path.join(work, "log.txt")
        text = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
    return Run(parse(text), share, "startup log")


def _squeak(path, warm, timeout) -> Run:
    image, oracle_dir = _oracle_image(path)
    if image is None and "pharocandle" in os.path.basename(path).lower():
        return _squeak_log(path, timeout)
    runner = os.path.join(oracle_dir, "run-oracle")
    if image is None or not os.path.exists(runner):
        return Run(None, note="no oracle image for %s" % os.path.basename(path))
    if not glob.glob("/usr/lib/squeak/*/squeakvm"):
        return Run(None, note="squeak-vm is not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("0 tinyBenchmarks\n" * (warm + 1))
        exprs = f.name
    try:
        out, share = _timed_child([runner, image, exprs, str(int(timeout))], timeout + 30, text=True)
    finally:
        os.unlink(exprs)
    if out is None:
        return Run(None, note="squeak-vm timed out")
    return Run(parse(out.stdout), share, out.stdout.strip()[-300:])


# SqueakJS's figures, recorded with `oz bench tiny IMAGE` on a loaded 2-core machine, for
# when node or SqueakJS (../shared/oracle/squeakjs/README.md) is not at hand
RECORDED_SQUEAKJS = {
    "pharocandle-spur64.image": ((1_271_876, 154_214),
                                 "recorded 2026-12-07 on 2 cores under load, interpreter only"),
}


def _squeakjs(path, timeout):
    """`tinyBenchmarks` of a Spur image on SqueakJS: a copy whose startup answers it (ozvm's
    compiler writes `PCSystem class>>start`; the images have no compiler), run by
    ../oracle/squeakjs/run.sh under node; the recorded figure when that cannot run.
    Answers (figures or None, None or a note)."""
    from .cmd_run import _load
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
        res = parse(out.stdout)
        if res is not None:
            return res, None
        missing = "SqueakJS answered no figure"
    recorded = RECORDED_SQUEAKJS.get(os.path.basename(path))
    if recorded is None:
        return None, missing
    return recorded[0], "%s (%s)" % (recorded[1], missing)


def is_spur(path) -> bool:
    """Whether the image file's format version is a Spur one (the header's first word)."""
    from ..memory.families import family_of_version
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and family_of_version(int.from_bytes(head, "little")).is_spur


# --- the report ------------------------------------------------------------------------------------

def _rows(args) -> list:
    """(label, function answering one Run) of every row, the reference last (if any)."""
    from ..interp.jit import interpreter_only
    tiers = [("", "0"), (", JIT", "on")]
    if interpreter_only():                      # oz --no-jit
        tiers = tiers[:1]
    elif args.jit != "both":
        tiers = [tiers[args.jit == "on"]]
    pythons = [("CPython %s" % sys.version.split()[0], sys.executable)]
    if not args.no_pypy:
        pypy = shutil.which("pypy3")
        pythons.append(("pypy3", pypy))
    rows = []
    for name, exe in pythons:
        for label, jit in tiers:
            if exe is None:
                rows.append(("ozvm (%s%s)" % (name, label), lambda: Run(None, note="pypy3 is not installed")))
            else:
                rows.append(("ozvm (%s%s)" % (name, label),
                             lambda exe=exe, jit=jit: _ozvm(exe, args.image, jit, args.warm, args.timeout,
                                                            args.cpu_clock)))
    if args.no_squeak:
        return rows
    if is_spur(args.image):
        def squeakjs():
            res, note = _squeakjs(args.image, args.timeout)
            return Run(res, None, note or "")
        rows.append(("SqueakJS (node)", squeakjs))
    else:
        rows.append(("squeak-vm (oracle image)", lambda: _squeak(args.image, args.warm, args.timeout)))
    return rows


def _millions(values) -> str:
    lo, hi = min(values), max(values)
    return "%.3g M" % (lo / 1e6) if lo == hi else "%.3g-%.3g M" % (lo / 1e6, hi / 1e6)


def _ratio(x, ref) -> str:
    return "%.3g" % (x / ref) if ref else ""


def report(rows, runs, warm, loads, cpu_clock=False) -> list:
    """The table's lines: for each row (label, [Run]) the best figures, their spread, the
    ratios of the best to the reference's best (the last row, if it has figures), the
    lowest CPU share."""
    lines = ["0 tinyBenchmarks: best of %d run%s a row, each in a fresh process, rows interleaved%s; "
             "load average %.1f at the start, %.1f at the end"
             % (runs, "s" if runs != 1 else "",
                ", after %d warm-up run%s in the same process" % (warm, "s" if warm != 1 else "") if warm else "",
                loads[0], loads[1])]
    if cpu_clock:
        lines.append("ozvm's image clock read its process's CPU time (--cpu-clock); the reference's "
                     "is wall time: its CPU share says how far its figures hold")
    best = {}
    for label, rs in rows:
        ok = [r.res for r in rs if r.res is not None]
        if ok:
            best[label] = (max(b for b, _ in ok), max(s for _, s in ok))
    ref = None
    if rows and rows[-1][0].startswith(("squeak", "SqueakJS")):
        ref = best.get(rows[-1][0])
    fmt = "%-26s %13s %13s %7s %11s %11s %7s %7s  %s"
    lines.append(fmt % ("VM", "bytecodes/s", "(spread)", "", "sends/s", "(spread)", "bc", "sends",
                        "CPU share"))
    lines.append(fmt % ("", "best", "", "", "best", "", "ratio", "ratio", "(lowest)"))
    for label, rs in rows:
        ok = [r.res for r in rs if r.res is not None]
        if not ok:
            lines.append(fmt % (label, "-", "", "", "-", "", "", "", rs[-1].note if rs else ""))
            continue
        b, s = best[label]
        shares = [r.share for r in rs if r.share is not None]
        share = "%.0f%%" % (100 * min(shares)) if shares else "-"
        failed = len(rs) - len(ok)
        if failed:
            share += " (%d run%s failed)" % (failed, "s" if failed != 1 else "")
        lines.append(fmt % (label, "{:,}".format(b), "(%s)" % _millions([x for x, _ in ok]), "",
                            "{:,}".format(s), "(%s)" % _millions([x for _, x in ok]),
                            _ratio(b, ref and ref[0]), _ratio(s, ref and ref[1]), share))
    notes = [rs[0].note for label, rs in rows if label.startswith("SqueakJS") and rs and rs[0].note]
    lines.extend("SqueakJS: %s" % n for n in notes)
    return lines


def cmd_bench_tiny(args) -> int:
    if not os.path.exists(args.image):
        raise OzError("no such image: %s" % args.image)
    if args.runs < 1 or args.warm < 0:
        raise OzError("--runs must be at least 1 and --warm at least 0")
    rows = _rows(args)
    results = [(label, []) for label, _ in rows]
    loads = [load_average()]
    for k in range(args.runs):
        for (label, run), (_, rs) in zip(rows, results):
            if label.startswith("SqueakJS") and k > 0:
                continue                # one SqueakJS run (minutes; or its recorded figure)
            rs.append(run())
    loads.append(load_average())
    for line in report(results, args.runs, args.warm, loads, args.cpu_clock):
        print(line)
    return 0 if results[0][1] and any(r.res for r in results[0][1]) else 1


if __name__ == "__main__":      # a worker of `oz bench tiny`: IMAGE WARM TIMEOUT [cpu]
    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(_work(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5:6] == ["cpu"])))
    else:
        print(tiny_benchmarks(sys.argv[1]))
