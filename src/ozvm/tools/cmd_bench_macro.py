"""`oz bench macro IMAGE`: macro benchmarks beside tinyBenchmarks, on ozvm (this Python and
pypy3) and on squeak-vm (the oracle image of IMAGE, ../oracle/README.md) in the same run.

Each workload is a Smalltalk expression that times itself with the image's own clock
(`Time millisecondsToRun:`) and answers 'MS RESULT': the same text runs on every VM, and
RESULT must be the same everywhere (a check that each VM did the same work):

    compiler        the image's own Compiler parses and generates every method of five
                    collection classes from their source (nothing is installed)
    collections     a Dictionary keyed by Strings, an OrderedCollection, a SortedCollection
    strings         printString, reversed, concatenation, Symbols, replaceFrom:, asUppercase
    large integers  printString of 200 factorial and of 2 raisedTo: 2000

Each runs --repeat times in one process (first and best are shown: on PyPy the first
includes the JIT's warm-up). Also, on ozvm only:

    warm-up         PyPy's time to its steady state: `24 benchFib` run again and again;
                    the time until a run is within 10% of the best run
    --suite FILE    a differential suite's expressions (one a line, as
                    tests/data/oracle_expressions.txt), each evaluated and printed: wall time
                    on ozvm, the sum of the oracle's own timings on squeak-vm
    --scratch IMAGE Scratch 1.4 started as `oz run` starts it, until its first display update
                    (the first DisplayScreen>>forceToScreen:, primitive 127): seconds and
                    bytecodes (squeak-vm runs it headless, with no display to update)

Where ozvm has its translation tier (interp/jit.py), each ozvm column is given without and
with it (OZ_JIT=0 and OZ_JIT=on; --jit off|on|both, default both), and a second table sets
the tier against the interpreter in CPU seconds of the ozvm process (each workload compiled
once into a block; best of --repeat), with Scratch's Morphic redraw rate (frames per CPU
second of the last half of --frames, after one frame) when --scratch is given.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from ..errors import OzError
from .common import bench_subcommands, load_average

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))

# (name, body): the body answers RESULT; `v` is an Array of 4 (v at: 3 and 4 are free)
WORKLOADS = [
    ("compiler",
     "#(OrderedCollection Dictionary Interval Bag Set) inject: 0 into: [:n :name | "
     "(Smalltalk at: name) selectors inject: n into: [:m :s | ((Smalltalk at: name) compilerClass new "
     "compile: ((Smalltalk at: name) sourceCodeAt: s) in: (Smalltalk at: name) notifying: nil "
     "ifFail: [nil]) generate: #(0 0 0 0). m + 1]]"),
    ("collections",
     "v at: 3 put: Dictionary new. 1 to: 400 do: [:i | (v at: 3) at: i printString put: i]. "
     "v at: 4 put: OrderedCollection new. (v at: 3) keysDo: [:k | (v at: 4) add: k reversed]. "
     "((v at: 4) asSortedCollection: [:a :b | a <= b]) asArray inject: 0 into: [:a :e | a + e size]"),
    ("strings",
     "(1 to: 1000) inject: 0 into: [:a :i | a + ((i * 7919 \\\\ 10007) printString reversed , 'x') "
     "asSymbol size + ((String new: 20) replaceFrom: 1 to: 5 with: 'hello' startingAt: 1; yourself) "
     "asUppercase size]"),
    ("large integers", "(200 factorial) printString size + (2 raisedTo: 2000) printString size"),
]
TIMED = ("[:v | v at: 1 put: (Time millisecondsToRun: [v at: 2 put: [%s] value]). "
         "(v at: 1) printString, ' ', (v at: 2) printString] value: (Array new: 4)")
_ANSWER = re.compile(r"^'?(\d+) (.*?)'?$")
WARMUP_RUNS = 12


def add_commands(sub) -> None:
    q = bench_subcommands(sub).add_parser(
        "macro", help="macro benchmarks (compiler, collections, strings, large integers, "
                      "warm-up, a suite, Scratch startup) on CPython, PyPy and squeak-vm")
    q.add_argument("image", help="an image with a compiler (squeak2.2-mini)")
    q.add_argument("--repeat", type=int, default=2, help="runs of each workload (default 2)")
    q.add_argument("--suite", default=None, metavar="FILE",
                   help="also a differential suite's expressions (one a line)")
    q.add_argument("--scratch", default=None, metavar="IMAGE",
                   help="also Scratch 1.4's startup to its first display update, and its "
                        "Morphic redraw (--frames)")
    q.add_argument("--frames", type=int, default=10, metavar="N",
                   help="with --scratch: the whole screen redrawn N times after one frame; "
                        "the rate of the last half (default 10; 0: none)")
    q.add_argument("--no-pypy", action="store_true")
    q.add_argument("--no-squeak", action="store_true")
    q.add_argument("--timeout", type=float, default=1800.0)
    q.add_argument("--jit", choices=("off", "on", "both"), default="both",
                   help="ozvm columns without and/or with the translation tier (OZ_JIT)")
    q.set_defaults(func=cmd_bench_macro)


def expressions() -> list:
    return [(name, TIMED % body) for name, body in WORKLOADS]


def _parse_answer(text):
    m = _ANSWER.match(text or "")
    return (int(m.group(1)), m.group(2)) if m else None


# --- the ozvm worker (this Python or pypy3) --------------------------------------------------

def _work(args) -> dict:
    """Run every workload in this process; answer what the parent prints."""
    from ..space import execution
    from .cmd_run import _load
    out = {"python": sys.version.split()[0], "impl": sys.implementation.name, "rows": {}}
    space = _load(args["image"])
    out["warmup"] = _warmup(space, args["timeout"])       # first: a fresh PyPy JIT
    for name, block in workload_blocks(space, args["timeout"]):
        out["rows"][name] = [run_block(space, block, args["timeout"]) for _ in range(args["repeat"])]
    if args.get("suite"):
        out["suite"] = _suite_time(args["image"], args["suite"], args["timeout"])
    if args.get("scratch"):
        out["scratch"] = _scratch_startup(args["scratch"], args["timeout"])
        if args.get("frames"):
            from .cmd_screenshot import redraw_times
            out["redraw"] = redraw_times(args["scratch"], args["frames"])
    return out


def workload_blocks(space, timeout) -> list:
    """(name, a guest block running the workload's timed expression) of every workload:
    compiled once by the image's compiler, so that a run's CPU time is the workload's."""
    from ..space import execution
    return [(name, execution.evaluate(space, "[:unused | %s]" % expr, timeout=timeout))
            for name, expr in expressions()]


def run_block(space, block, timeout):
    """One run of a workload's block: [ms by the image's clock, RESULT, CPU seconds of this
    process], or None when the answer is not 'MS RESULT'."""
    from ..space import execution
    cpu = time.process_time()
    answer = execution.run_send(space, block, "value:", [0], timeout=timeout)
    cpu = time.process_time() - cpu
    got = _parse_answer(answer.bytes.decode("latin-1") if answer.bytes is not None else "")
    return None if got is None else [got[0], got[1], cpu]


def _warmup(space, timeout) -> list:
    """Seconds of each of WARMUP_RUNS runs of `24 benchFib`."""
    from ..space import execution
    times = []
    for _ in range(WARMUP_RUNS):
        t = time.perf_counter()
        execution.run_send(space, 24, "benchFib", [], timeout=timeout)
        times.append(time.perf_counter() - t)
    return times


def read_suite(path) -> list:
    with open(path, encoding="latin-1") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('"')]


def _suite_time(image, path, timeout) -> dict:
    """Wall time of evaluating and printing each expression of the suite (errors count:
    the differential suites have expected errors)."""
    from ..errors import GuestError
    from ..space import execution
    from .cmd_run import _load
    space = _load(image)
    try:
        execution.evaluate(space, "Delay startUp")      # as the differential test does
    except GuestError:
        pass
    exprs = read_suite(path)
    t = time.perf_counter()
    for expr in exprs:
        try:
            execution.print_string(space, expr, timeout=timeout)
        except GuestError:
            pass
    return {"count": len(exprs), "seconds": time.perf_counter() - t}


def _scratch_startup(path, timeout) -> dict:
    """Resume Scratch as `oz run` does until its first display update."""
    from ..space import execution
    from .cmd_run import _load
    space = _load(path)
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)
    cls = space.class_named("DisplayScreen")
    sym = space.symbol_named("forceToScreen:")
    meth = interp.lookup(cls, sym) if cls is not None and sym is not None else None
    if meth is None:
        raise OzError("%s has no DisplayScreen>>forceToScreen:" % path)
    seen = {}

    def first_update(interp, argc, method):
        if not seen:
            seen["bytecodes"] = interp.bytecodes
            interp.request_stop("updated")
        return False                # the method runs as usual
    interp.add_hook(meth, first_update)
    t, cpu = time.perf_counter(), time.process_time()
    reason = interp.run(deadline=time.monotonic() + timeout)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    if not seen:
        raise OzError("Scratch stopped before its first display update (%s)" % reason)
    return {"seconds": seconds, "cpu": cpu, "bytecodes": seen["bytecodes"]}


# --- squeak-vm ---------------------------------------------------------------------------------

def _squeak(image, repeat, suite, timeout):
    """(rows, suite seconds or None, note) from the oracle runner on the oracle image."""
    from .cmd_bench_tiny import _oracle_image
    oracle, oracle_dir = _oracle_image(image)
    runner = os.path.join(oracle_dir, "run-oracle")
    if oracle is None or not os.path.exists(runner):
        return None, None, "no oracle image for %s" % os.path.basename(image)
    if shutil.which("squeakvm") is None and not os.path.isdir("/usr/lib/squeak"):
        return None, None, "squeak-vm is not installed"
    rows = {}
    for name, expr in expressions():
        for _ in range(repeat):
            # one squeak-vm a run: squeak-vm 4.10 can crash running the 2.2 image's
            # collections workload a second time in the same process
            lines = _run_oracle(runner, oracle, [expr], timeout)
            parts = lines[0].split("\t") if lines else ["-"]
            rows.setdefault(name, []).append(_parse_answer(parts[2]) if parts[0] == "RESULT" else None)
    suite_s = None
    if suite:
        suite_lines = _run_oracle(runner, oracle, read_suite(suite), timeout)
        suite_s = sum(int(l.split("\t")[3]) for l in suite_lines if l.startswith("RESULT")) / 1000.0
    return rows, suite_s, ""


def _run_oracle(runner, image, exprs, timeout) -> list:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="latin-1") as f:
        f.write("\n".join(exprs) + "\n")
        name = f.name
    try:
        out = subprocess.run([runner, image, name, str(int(timeout))], capture_output=True,
                             text=True, timeout=timeout + 30)
    finally:
        os.unlink(name)
    return [l for l in out.stdout.splitlines() if l.startswith(("RESULT", "ERROR"))]


# --- the report ------------------------------------------------------------------------------

def _worker(python, args, jit) -> dict:
    env = dict(os.environ, PYTHONPATH=SRC)
    if jit is not None:
        env["OZ_JIT"] = jit
    spec = json.dumps({"image": args.image, "repeat": args.repeat, "suite": args.suite,
                       "scratch": args.scratch, "frames": args.frames, "timeout": args.timeout})
    proc = subprocess.run([python, "-m", "ozvm.tools.cmd_bench_macro", spec], env=env,
                          capture_output=True, text=True, timeout=args.timeout * 4)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise OzError("the %s worker failed: %s" % (python, (proc.stderr or proc.stdout)[-500:]))


def _cell(runs):
    """'first/best ms' of a workload's runs."""
    if not runs or any(r is None for r in runs):
        return "-"
    times = [r[0] for r in runs]
    return "%d" % times[0] if len(times) == 1 else "%d/%d" % (times[0], min(times))


def _steady(times) -> str:
    best = min(times)
    total = 0.0
    for i, t in enumerate(times):
        total += t
        if t <= best * 1.1:
            return "%.2fs (run %d of %d; then %.0f ms a run, first %.0f ms)" % (
                total, i + 1, len(times), best * 1000, times[0] * 1000)
    return "-"


def cmd_bench_macro(args) -> int:
    for path in [args.image] + ([args.suite] if args.suite else []) + ([args.scratch] if args.scratch else []):
        if not os.path.exists(path):
            raise OzError("no such file: %s" % path)
    tiers = [("", None)]
    if importlib.util.find_spec("ozvm.interp.jit") is not None:
        from ..interp.jit import interpreter_only
        jit = "off" if interpreter_only() else args.jit       # oz --no-jit
        tiers = [(t, j) for t, j in ((" no JIT", "0"), (" JIT", "on"))
                 if jit == "both" or j == ("0" if jit == "off" else "on")]
    pythons = [("CPython %s" % sys.version.split()[0], sys.executable)]
    if not args.no_pypy:
        pypy = shutil.which("pypy3")
        if pypy is None:
            print("pypy3 is not installed: no PyPy column", file=sys.stderr)
        else:
            pythons.append(("PyPy %s" % subprocess.run(
                [pypy, "-c", "import sys; print(sys.version.split()[0])"],
                capture_output=True, text=True).stdout.strip(), pypy))
    load = load_average()
    results = [(name, tier, _worker(exe, args, jit)) for name, exe in pythons for tier, jit in tiers]
    cols = [(name + tier, col) for name, tier, col in results]
    squeak = (None, None, "not run")
    if not args.no_squeak:
        squeak = _squeak(args.image, args.repeat, args.suite, args.timeout)
    print("ms by the image's clock (first/best of %d runs), ratio of the best to squeak-vm's; "
          "load average %.1f at the start, %.1f at the end" % (args.repeat, load, load_average()))
    head = "%-16s %14s" % ("workload", "squeak-vm")
    for name, _ in cols:
        head += " %26s" % ("ozvm " + name)
    print(head + "  same answer")
    ok = True
    for name, _ in WORKLOADS:
        ref = squeak[0].get(name) if squeak[0] else None
        line = "%-16s %14s" % (name, _cell(ref))
        answers = set()
        if ref and all(ref):
            answers.update(r[1] for r in ref)
        for _, col in cols:
            runs = col["rows"].get(name)
            cell = _cell(runs)
            if ref and all(ref) and runs and all(runs):
                cell += " (1/%.1f)" % (min(r[0] for r in runs) / max(1, min(r[0] for r in ref)))
            if runs and all(runs):
                answers.update(r[1] for r in runs)
            line += " %26s" % cell
        same = "yes" if len(answers) == 1 else "NO: %s" % ", ".join(sorted(answers))
        ok = ok and len(answers) == 1
        print(line + "  " + same)
    for name, col in cols:
        if col["impl"] == "pypy":
            print("warm-up on %s (24 benchFib): steady after %s" % (name, _steady(col["warmup"])))
    if args.suite:
        line = "suite %s (%d expressions): " % (os.path.basename(args.suite), cols[0][1]["suite"]["count"])
        parts = [] if squeak[1] is None else ["squeak-vm %.1fs" % squeak[1]]
        parts += ["ozvm %s %.1fs" % (name, col["suite"]["seconds"]) for name, col in cols]
        print(line + ", ".join(parts))
    if args.scratch:
        for name, col in cols:
            s = col["scratch"]
            print("Scratch startup to its first display update on ozvm %s: %.1fs (%.1fs of CPU), "
                  "%s bytecodes" % (name, s["seconds"], s["cpu"], "{:,}".format(s["bytecodes"])))
    if squeak[2]:
        print("squeak-vm: %s" % squeak[2])
    for line in cpu_table(results, args.repeat):
        print(line)
    return 0 if ok else 1


def _speed(plain, tier, higher_is_faster=False) -> str:
    """How much faster the tier is than the interpreter alone (x1.50) or slower (/1.50)."""
    if not plain or not tier:
        return ""
    r = plain / tier if not higher_is_faster else tier / plain
    return "x%.2f" % r if r >= 1 else "/%.2f" % (1 / r)


def cpu_table(results, repeat) -> list:
    """The interpreter against the tier on each Python (`results`: (Python, tier, worker's
    answer) in order): CPU seconds of each workload (best of its runs), of Scratch's
    startup to its first display update (one run: the first, with PyPy's warm-up) and
    Scratch's steady redraw rate (frames per CPU second, the last half of the frames),
    each with the tier's speed-up (x) or slow-down (/)."""
    pythons = []
    for base, tier, col in results:
        if not pythons or pythons[-1][0] != base:
            pythons.append((base, []))
        pythons[-1][1].append((tier.strip(), col))
    cols = [(base + tier, col) for base, tier, col in results]
    lines = ["", "CPU seconds of the ozvm process (best of %d runs; %s)"
             % (repeat, " / ".join(t or "ozvm" for t, _ in pythons[0][1]))]
    head = "%-16s" % "workload"
    for base, tiers in pythons:
        head += " %34s" % base
    lines.append(head)

    def cell(values, unit, higher):
        text = " / ".join("-" if v is None else ("%.2f" % v) for v in values) + " " + unit
        if len(values) == 2 and None not in values:
            text += " (%s)" % _speed(values[0], values[1], higher)
        return text
    for name, _ in WORKLOADS:
        line = "%-16s" % name
        for base, tiers in pythons:
            values = []
            for _, col in tiers:
                runs = col["rows"].get(name)
                values.append(min(r[2] for r in runs) if runs and all(runs) else None)
            line += " %34s" % cell(values, "s", False)
        lines.append(line)
    if all("scratch" in col for _, col in cols):
        line = "%-16s" % "Scratch startup"
        for base, tiers in pythons:
            line += " %34s" % cell([col["scratch"]["cpu"] for _, col in tiers], "s", False)
        lines.append(line)
    if all("redraw" in col for _, col in cols):
        line = "%-16s" % "Scratch redraw"
        for base, tiers in pythons:
            values = []
            for _, col in tiers:
                n, _wall, cpu = col["redraw"][1]
                values.append(n / cpu if n and cpu else None)
            line += " %34s" % cell(values, "fps", True)
        lines.append(line)
        lines.append("(Scratch startup: one run, to its first display update; redraw: the last "
                     "%d of %d frames, frames per CPU second)"
                     % (cols[0][1]["redraw"][1][0], sum(h[0] for h in cols[0][1]["redraw"])))
    return lines


if __name__ == "__main__":
    if sys.argv[1:] == ["--expressions"]:      # the workloads, for the oracle runner
        print("\n".join(e for _, e in expressions()))
    else:                                       # a worker of `oz bench macro`
        print(json.dumps(_work(json.loads(sys.argv[1]))))
