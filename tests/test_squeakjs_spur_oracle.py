"""Differential test on the Spur images against SqueakJS: scripted copies that ozvm's
compiler and ozvm's save made (tests/squeakjs_spur_script.py) evaluate ~500 expressions
at startup under `oz run`; the answers must equal SqueakJS's on the same copies, kept in
tests/data/squeakjs_spur_expected.txt (rewrite it with
`python tests/squeakjs_spur_script.py --regenerate`). SqueakJS finishing those images is
also the proof that images saved by ozvm start on SqueakJS."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import squeakjs_spur_script as S  # noqa: E402


def expected():
    return S.read_expected()


def test_expected_file_covers_the_expressions():
    exp = expected()
    assert sorted(exp) == sorted(S.IMAGES)
    for name, exprs in (("pharocandle-spur64.image", S.spur64_expressions()),
                        ("spur32-headless.image", S.spur32_expressions())):
        lines = exp[name]
        assert lines[-1] == "DONE", name
        assert [line.split("\t")[1] for line in lines[:-1]] == exprs
        assert all(line.split("\t")[0] in ("RESULT", "ERROR") for line in lines[:-1])
    assert len(S.spur64_expressions()) + len(S.spur32_expressions()) >= 150
    assert len(S.spur32_expressions()) >= 150


@pytest.mark.parametrize("name", S.IMAGES)
def test_oz_run_matches_squeakjs(name, tmp_path):
    lines, proc = S.run_ozvm(name, str(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr
    theirs = expected()[name]
    for mine, ref in zip(lines, theirs):
        assert mine == ref
    assert len(lines) == len(theirs), lines[len(theirs):] or theirs[len(lines):]


def test_slot_primitives_on_spur_only():
    """173/174 (slotAt:, slotAt:put:), which PharoCandle-Spur64's instVarAt: uses: every
    pointer slot of a Spur object; V3 has no such primitives."""
    from conftest import image_path
    from ozvm.space.objectspace import ObjectSpace
    sp = ObjectSpace.load(image_path("pharocandle-spur64.image"))
    assert sp.print_string("(3 @ 4) instVarAt: 2") == "4"
    assert sp.evaluate("| p | p := 3 @ 4. p instVarAt: 1 put: 7. p x").to_local() == 7
    sp.install("PCObject", "ozSlot: i <primitive: 173> ^ #failed", "oz")
    assert sp.print_string("(3 @ 4) ozSlot: 3") == "failed"
    assert sp.print_string("#(5 6 7) ozSlot: 3") == "7"
    v3 = ObjectSpace.load(image_path("pharocandle.image"))
    v3.install("PCObject", "ozSlot: i <primitive: 173> ^ #failed", "oz")
    assert v3.print_string("(3 @ 4) ozSlot: 1") == "failed"
