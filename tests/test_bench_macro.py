"""The workloads of `oz bench macro` (tools/cmd_bench_macro.py) do on ozvm the work they do
on squeak-vm: the same answers (data/bench_macro_expected.txt, made by the oracle runner;
the command is at its top). Their timings are not looked at: benchmarks, not tests."""
from __future__ import annotations

import os

from conftest import image_path
from ozvm.space.objectspace import ObjectSpace
from ozvm.tools.cmd_bench_macro import _parse_answer, expressions, run_block, workload_blocks

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def expected() -> list:
    with open(os.path.join(DATA, "bench_macro_expected.txt"), encoding="latin-1") as f:
        return [line.rstrip("\n").split("\t") for line in f if line.startswith(("RESULT", "ERROR"))]


def test_the_workloads_answer_as_on_squeak_vm():
    lines = expected()
    exprs = expressions()
    assert [l[1] for l in lines] == [e for _, e in exprs]
    assert all(l[0] == "RESULT" for l in lines)
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    # as `oz bench macro`'s worker runs them: each compiled once into a block
    blocks = workload_blocks(space, 600)
    assert [name for name, _ in blocks] == [name for name, _ in exprs]
    for (name, block), line in zip(blocks, lines):
        want = _parse_answer(line[2])
        got = run_block(space, block, 600)
        assert want is not None and got is not None, (name, line[2])
        assert got[1] == want[1], name
        assert got[2] > 0, name                 # its CPU seconds


def test_the_cpu_table_sets_the_tier_against_the_interpreter_on_each_python():
    """`oz bench macro`'s table of CPU seconds (docs/jit.md's "why off" table) from given
    figures: best of the runs, the tier's speed-up (x) or slow-down (/)."""
    from ozvm.tools.cmd_bench_macro import WORKLOADS, cpu_table

    def col(cpu, fps):
        rows = {name: [[100, "1", c * 1.5], [90, "1", c]] for (name, _), c in zip(WORKLOADS, cpu)}
        return {"rows": rows, "redraw": [[5, 2.0, 2.0], [5, 1.0, 5.0 / fps]],
                "scratch": {"seconds": 9.0, "cpu": 10.0 / fps, "bytecodes": 680000}}
    results = [("CPython 3.11", " no JIT", col([2.6, 0.9, 0.8, 0.6], 4.0)),
               ("CPython 3.11", " JIT", col([2.6 * 1.25, 0.6, 0.8, 0.3], 5.0)),
               ("PyPy 3.9", " no JIT", col([0.5, 0.1, 0.1, 0.1], 10.0)),
               ("PyPy 3.9", " JIT", col([2.0, 0.2, 0.25, 0.1], 4.0))]
    lines = cpu_table(results, 2)
    assert "best of 2 runs; no JIT / JIT" in lines[1]
    assert lines[2].split() == ["workload", "CPython", "3.11", "PyPy", "3.9"]
    assert lines[3].split() == ["compiler", "2.60", "/", "3.25", "s", "(/1.25)",
                                "0.50", "/", "2.00", "s", "(/4.00)"]
    assert lines[4].split()[5] == "(x1.50)"
    assert lines[7].split() == ["Scratch", "startup", "2.50", "/", "2.00", "s", "(x1.25)",
                                "1.00", "/", "2.50", "s", "(/2.50)"]
    assert lines[8].split() == ["Scratch", "redraw", "4.00", "/", "5.00", "fps", "(x1.25)",
                                "10.00", "/", "4.00", "fps", "(/2.50)"]
    assert "last 5 of 10 frames" in lines[9]
