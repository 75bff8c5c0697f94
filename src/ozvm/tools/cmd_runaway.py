"""`oz bench runaway`: how soon the host regains control from every shape of runaway guest.

    oz bench runaway [IMAGE ...] [--quantum MS] [--rounds N] [--memory-limit MB] [--only NAME]
        for each runaway shape of the catalogue (tight loop, sends, deep recursion, huge
        allocations, replaceFrom:to:with: on huge collections, large-integer arithmetic
        on huge numbers, allocation bombs, fork bombs) and each image (squeak2.2-mini and
        pharocandle by default), run it at priority 80 in a fresh space with the memory
        limit, in transfers of control of one quantum each, and print the worst overrun of
        a transfer past its quantum (target < 100 ms), why the transfers came back, and
        how much the host's resident memory grew (target: under the limit + 300 MB)
"""
from __future__ import annotations

import gc
import os
import time

from ..errors import OzError
from .common import bench_subcommands

DEFAULT_IMAGES = [os.path.join("..", "shared", "images", name)
                  for name in ("squeak2.2-mini.image", "pharocandle.image")]
OVERRUN_TARGET_MS = 100.0
RSS_MARGIN = 300 << 20

# name -> (source of the runaway process, a method it needs installed in Object or None)
RUNAWAYS = {
    "tight loop": ("[true] whileTrue", None),
    "sends": ("[true] whileTrue: [nil ozSend]", "ozSend\n\t^ self yourself"),
    "deep recursion": ("nil ozDeep: 0", "ozDeep: n\n\t^ (self ozDeep: n + 1) + 1"),
    "huge allocation": ("[true] whileTrue: [String new: 20000000]", None),
    "huge replace": ("| a b | a := Array new: 8000000. b := Array new: 8000000. "
                     "[true] whileTrue: [a replaceFrom: 1 to: a size with: b startingAt: 1]", None),
    "huge large-integer": ("[true] whileTrue: [2 raisedTo: 10000000]", None),
    "huge multiply": ("| x | x := (2 raisedTo: 100000) - 1. "
                      "[true] whileTrue: [x := x * x]", None),
    "allocation bomb": ("| oc | oc := OrderedCollection new. "
                        "[true] whileTrue: [oc add: (Array new: 1000000)]", None),
    "small-object bomb": ("| oc | oc := OrderedCollection new. "
                          "[true] whileTrue: [oc add: Object new]", None),
    "fork bomb": ("[true] whileTrue: [[[true] whileTrue] fork]", None),
}
# PharoCandle's classes are named PC...
_CANDLE_NAMES = ("OrderedCollection", "Array", "String", "Object")


def add_commands(sub) -> None:
    bench = bench_subcommands(sub)
    q = bench.add_parser("runaway", help="how soon the host regains control from runaway guests "
                                         "(worst overrun of a quantum per shape)")
    q.add_argument("images", nargs="*", metavar="IMAGE")
    q.add_argument("--quantum", type=float, default=30.0, metavar="MS")
    q.add_argument("--rounds", type=int, default=12, help="transfers of control per shape")
    q.add_argument("--memory-limit", type=float, default=256.0, metavar="MB")
    q.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="run only the shapes whose name contains NAME (repeatable)")
    q.set_defaults(func=cmd_bench_runaway)


def _source_for(space, source: str) -> str:
    if space.class_named("Object") is None:
        for name in _CANDLE_NAMES:
            source = source.replace(name + " ", "PC" + name + " ")
            source = source.replace(name + ")", "PC" + name + ")")
    return source


def run_shape(path: str, name: str, quantum_ms: float, rounds: int, limit: int) -> dict:
    """Run one runaway shape in a fresh space: the worst overrun (ms), the reasons, the
    growth of the host's resident memory (bytes), the space's memory figures."""
    from ..interp.interpreter import resident_memory
    from ..vm import VM
    source, method = RUNAWAYS[name]
    gc.collect()
    vm = VM(memory_limit=limit)
    space = vm.load(path)
    if method is not None:
        space.install(space.class_named("Object") or space.class_named("PCObject"), method)
    rss_before = resident_memory()
    proc = space.create_process(_source_for(space, source), priority=80)
    worst = worst_cpu = 0.0
    reasons = {}
    rss_peak = rss_before
    for _ in range(rounds):
        t = time.perf_counter()
        c = time.process_time()
        reason = space.transfer_control(quantum_ms=quantum_ms)
        elapsed = (time.perf_counter() - t) * 1000.0
        cpu = (time.process_time() - c) * 1000.0
        reasons[reason] = reasons.get(reason, 0) + 1
        worst = max(worst, elapsed - quantum_ms, 0.0)
        worst_cpu = max(worst_cpu, cpu - quantum_ms, 0.0)
        rss_peak = max(rss_peak, resident_memory())
        if reason != "quantum":
            break
    # a shape the image cannot run (e.g. no #fork in PharoCandle): said so, not timed
    missing = None
    if reasons.get("error") and space.last_error is not None and "not understood" in space.last_error.message:
        missing = space.last_error.message
    figures = space.memory_figures()
    try:
        proc.terminate()
    except OzError:
        pass
    vm.remove(space)
    return {"overrun_ms": worst, "cpu_overrun_ms": worst_cpu, "reasons": reasons, "rss_growth": rss_peak - rss_before,
            "peak": figures["peak"], "stops": figures["stops"], "missing": missing}


def cmd_bench_runaway(args) -> int:
    paths = args.images or DEFAULT_IMAGES
    for path in paths:
        if not os.path.exists(path):
            raise OzError("no such image: %s" % path)
    limit = int(args.memory_limit * 1024 * 1024)
    names = [n for n in RUNAWAYS if not args.only or any(o in n for o in args.only)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print("oz bench runaway: priority 80, quantum %g ms, %d transfers, memory limit %d MB, "
          "load average %.1f" % (args.quantum, args.rounds, limit >> 20, load))
    print("  (overrun: wall time past the quantum; cpu: this process's CPU time past it, which a")
    print("  machine shared with other jobs does not inflate)")
    print("  %-20s %-22s %10s %9s  %-24s %8s" % ("shape", "image", "overrun", "cpu", "came back", "RSS +MB"))
    worst_all = 0.0
    bad = []
    for name in names:
        for path in paths:
            r = run_shape(path, name, args.quantum, args.rounds, limit)
            if r["missing"]:
                print("  %-20s %-22s does not apply (%s)" % (name, os.path.basename(path)[:22], r["missing"][:40]))
                continue
            came = ", ".join("%s x%d" % kv for kv in sorted(r["reasons"].items()))
            print("  %-20s %-22s %7.1f ms %6.1f ms  %-24s %8.0f" % (
                name, os.path.basename(path)[:22], r["overrun_ms"], r["cpu_overrun_ms"], came[:24],
                r["rss_growth"] / 2 ** 20))
            worst_all = max(worst_all, r["overrun_ms"])
            if r["overrun_ms"] >= OVERRUN_TARGET_MS or r["rss_growth"] >= limit + RSS_MARGIN:
                bad.append("%s on %s" % (name, os.path.basename(path)))
    print("  worst overrun %.1f ms (target < %g ms); %s" % (
        worst_all, OVERRUN_TARGET_MS, "every shape met the targets" if not bad else
        "NOT met: " + "; ".join(bad)))
    return 0
