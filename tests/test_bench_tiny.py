"""`oz bench tiny`'s table (tools/cmd_bench_tiny.py): best of the runs, their spread, the
ratios best to best, the lowest CPU share; which rows run. Figures are given, not timed:
benchmarks are not tests."""
from __future__ import annotations

import argparse

from ozvm.tools import cmd_bench_tiny as tiny


def test_the_last_figure_of_an_answer_is_the_measured_one():
    text = "1000 bytecodes/sec; 10 sends/sec" + "'2000 bytecodes/sec; 30 sends/sec'"
    assert tiny.parse(text) == (2000, 30)
    assert tiny.parse("no figures") is None and tiny.parse(None) is None


def test_the_table_shows_the_best_run_its_spread_and_ratios_best_to_best():
    rows = [("ozvm (pypy3, JIT)", [tiny.Run((400_000_000, 5_000_000), 0.97),
                                   tiny.Run((450_000_000, 7_000_000), 0.80),
                                   tiny.Run(None, note="timed out")]),
            ("squeak-vm (oracle image)", [tiny.Run((600_000_000, 40_000_000), 0.99),
                                          tiny.Run((700_000_000, 35_000_000), 0.95),
                                          tiny.Run((650_000_000, 38_000_000), 0.99)])]
    lines = tiny.report(rows, 3, 1, (1.0, 2.5))
    assert "best of 3 runs a row" in lines[0] and "after 1 warm-up run" in lines[0]
    assert "load average 1.0 at the start, 2.5 at the end" in lines[0]
    pypy = lines[3].split()
    assert pypy[3:12] == ["450,000,000", "(400-450", "M)", "7,000,000", "(5-7", "M)",
                          "0.643", "0.175", "80%"]
    assert "(1 run failed)" in lines[3]
    squeak = lines[4].split()
    assert squeak[3:6] == ["700,000,000", "(600-700", "M)"] and squeak[9:11] == ["1", "1"]


def test_a_row_without_figures_says_why():
    rows = [("ozvm (pypy3)", [tiny.Run(None, note="pypy3 is not installed")])]
    line = tiny.report(rows, 1, 0, (0.0, 0.0))[-1]
    assert line.startswith("ozvm (pypy3)") and line.endswith("pypy3 is not installed")


def test_no_jit_leaves_only_the_interpreter_rows(monkeypatch):
    args = argparse.Namespace(image="x.image", jit="both", no_pypy=False, no_squeak=True,
                              warm=0, timeout=1, cpu_clock=False)
    monkeypatch.setenv("OZ_JIT", "0")
    assert [label for label, _ in tiny._rows(args)] == [
        "ozvm (CPython %s)" % tiny.sys.version.split()[0], "ozvm (pypy3)"]
    monkeypatch.delenv("OZ_JIT")
    labels = [label for label, _ in tiny._rows(args)]
    assert len(labels) == 4 and labels[1].endswith(", JIT)") and labels[3] == "ozvm (pypy3, JIT)"
    args.jit = "on"
    assert [label for label, _ in tiny._rows(args)][1] == "ozvm (pypy3, JIT)"


def test_the_cpu_clock_does_not_count_a_sleep():
    """--cpu-clock: the image's clock (primitive 135) reads the process's CPU time, so the
    time the process does not run (here a sleep; on a loaded machine, other processes)
    is not counted."""
    import time
    from conftest import image_path
    from ozvm.space import execution as X
    from ozvm.space.objectspace import ObjectSpace
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    tiny.use_cpu_clock(space)
    clock = space.class_named("Time")
    before = X.run_send(space, clock, "millisecondClockValue")
    time.sleep(1.0)
    after = X.run_send(space, clock, "millisecondClockValue")
    assert 0 <= after - before < 1000
    assert abs(before - int(time.process_time() * 1000)) < 1000
