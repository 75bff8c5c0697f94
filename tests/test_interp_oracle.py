"""Differential test: ozvm against squeak-vm on the expressions of
data/oracle_expressions.txt (expected outputs in data/oracle_expected.txt, made by the
oracle; the regenerate command is at the top of the expressions file).

Each expression is evaluated as `(expr) printString` by the image's own Compiler, as the
oracle runner does; an error must end with the same label (Debugger openContext:label:...).
"""
from __future__ import annotations

import os

import pytest

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.interp.jit import setting
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def expected_outputs(name: str = "oracle_expected.txt") -> list:
    """(expression, RESULT or ERROR, printString or error label) of each line the oracle
    runner wrote in data/`name`."""
    out = []
    with open(os.path.join(DATA, name), encoding="latin-1") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] in ("RESULT", "ERROR"):
                out.append((parts[1], parts[0], parts[2]))
    return out


def expressions(name: str = "oracle_expressions.txt") -> list:
    """The expressions of data/`name` (one a line; lines starting with `"` are comments)."""
    with open(os.path.join(DATA, name), encoding="latin-1") as f:
        return [l.strip() for l in f if l.strip() and not l.startswith('"')]


def test_expected_outputs_cover_the_expressions():
    exprs = expressions()
    assert [e for e, _, _ in expected_outputs()] == exprs
    assert len(exprs) >= 150


@pytest.mark.parametrize("tier", ["off", "on"], ids=["interpreter", "tier"])
def test_same_answers_as_squeak_vm(tier):
    """The interpreter alone and with the translation tier at its default threshold
    (docs/jit.md), whatever the default or OZ_JIT (OZ_JIT=always runs the tier variant
    with every method translated)."""
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    if tier == "off" or setting() != 0:         # (OZ_JIT=always: every method translated)
        X.interpreter_for(space).use_tier(tier)
    # the mini image was saved by snapshot:andQuit:, whose shutDown took Delay's lock;
    # the oracle image was saved by snapshotPrimitive (no shutDown): give it back
    X.evaluate(space, "Delay startUp")
    mismatches = []
    for expr, kind, text in expected_outputs():
        try:
            got = ("RESULT", X.print_string(space, expr, timeout=60))
        except GuestError as e:
            got = ("ERROR", e.message)
        if got != (kind, text):
            mismatches.append("%s\n    squeak-vm: %s %s\n    ozvm:      %s %s" % ((expr, kind, text) + got))
    assert not mismatches, "%d differences:\n%s" % (len(mismatches), "\n".join(mismatches))


def _without_timings(path) -> list:
    lines = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] == "RESULT":
                parts = parts[:3]           # the last field is the time taken
            if parts[0] in ("RESULT", "ERROR", "DONE"):
                lines.append(tuple(parts))
    return lines


@pytest.mark.parametrize("image", ["squeak2.2-mini-oracle.image", "squeak2.2-benchmark-oracle.image"])
def test_oracle_image_under_oz_run_writes_what_squeak_vm_writes(tmp_path, image):
    """Each scriptable oracle image, resumed by `oz run` as a real VM would (its own
    patched Debugger reports errors and its runner carries on), writes the same
    oracle_out.txt as squeak-vm for the whole differential suite, timings aside (squeak-vm
    answers the same for both images)."""
    import shutil
    import subprocess
    import sys
    from conftest import oracle_path
    shutil.copy(oracle_path(image), tmp_path / "o.image")
    shutil.copy(os.path.join(DATA, "oracle_expressions.txt"), tmp_path / "oracle_in.txt")
    done = subprocess.run([sys.executable, "-m", "ozvm.cli", "run", "o.image", "--timeout", "600"],
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=700)
    assert done.returncode == 0, done.stderr
    got = _without_timings(tmp_path / "oracle_out.txt")
    want = _without_timings(os.path.join(DATA, "oracle_expected.txt"))
    assert got[-1] == ("DONE",) and len(got) == len(want)
    assert [g for g, w in zip(got, want) if g != w] == []
