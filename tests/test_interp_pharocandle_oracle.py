"""Differential test on PharoCandle: a scriptable copy (tests/pharocandle_script.py) evaluates
tests/data/pharocandle_expressions.txt at startup under `oz run`; its results file must equal
squeak-vm's, kept in tests/data/pharocandle_expected.txt (rewrite it with
`python tests/pharocandle_script.py --regenerate`)."""
from __future__ import annotations

import os
import sys

import pytest

from conftest import image_path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pharocandle_script as P  # noqa: E402


def expected_lines():
    with open(P.EXPECTED, encoding="latin-1") as f:
        return f.read().split("\n")[:-1]


def test_expected_file_covers_the_expressions():
    exprs = P.read_expressions()
    lines = expected_lines()
    assert lines[-1] == "DONE"
    answered = [line.split("\t")[1] for line in lines[:-1]]
    assert answered == exprs
    for line in lines[:-1]:
        kind = line.split("\t")[0]
        assert kind in ("RESULT", "ERROR") and line.count("\t") >= 2, line
    assert len(exprs) >= 60


def test_build_installs_the_startup_method(tmp_path):
    from ozvm.space.objectspace import ObjectSpace
    path = P.make_in(str(tmp_path), image_path("pharocandle.image"), ["3 + 4", "3 foo"])
    space = ObjectSpace.load(path)
    meta = space.class_of(space.class_named("PCSystem"))
    md = meta.ptrs[1]
    names = {k.bytes.decode("latin-1") for k in md.ptrs[2:] if k is not space.nil}
    assert {"start", "ozRun:source:", "ozPart1", "ozExpr1", "ozExpr2"} <= names


def test_oz_run_matches_squeak_vm(tmp_path):
    image = P.make_in(str(tmp_path), image_path("pharocandle.image"), P.read_expressions())
    lines, proc = P.run_ozvm(image, timeout=300)
    assert proc.returncode == 0, proc.stderr
    expected = expected_lines()
    for mine, theirs in zip(lines, expected):
        assert mine == theirs
    assert len(lines) == len(expected), lines[len(expected):] or expected[len(lines):]
