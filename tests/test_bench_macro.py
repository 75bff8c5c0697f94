"""The workloads of `oz bench macro` (tools/cmd_bench_macro.py) do on ozvm the work they do
on squeak-vm: the same answers (data/bench_macro_expected.txt, made by the oracle runner;
the command is at its top). Their timings are not looked at: benchmarks, not tests."""
from __future__ import annotations

import os

from conftest import image_path
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace
from ozvm.tools.cmd_bench_macro import _parse_answer, expressions

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
    for (name, expr), line in zip(exprs, lines):
        want = _parse_answer(line[2])
        got = _parse_answer(X.print_string(space, expr, timeout=600))
        assert want is not None and got is not None, (name, line[2])
        assert got[1] == want[1], name
