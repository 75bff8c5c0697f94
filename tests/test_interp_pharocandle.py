"""The interpreter on PharoCandle (6505: closures, no compiler): direct sends and the
image's own startup (`oz run`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


@pytest.fixture(scope="module")
def space():
    return ObjectSpace.load(image_path("pharocandle.image"))


def text(obj):
    return obj.bytes.decode("latin-1")


def test_arithmetic_and_sends(space):
    assert X.run_send(space, 3, "+", [4]) == 7
    assert X.run_send(space, 20, "benchFib") == 21891


def test_closures_and_non_local_return(space):
    arr = space.from_local([3, 1, 2])
    # includes: runs a closure with a non-local return (anySatisfy:/do:)
    assert X.run_send(space, arr, "includes:", [2]) is space.true
    assert X.run_send(space, arr, "includes:", [5]) is space.false
    assert text(X.run_send(space, arr, "printString")) == "#(3 1 2 )"
    # the sieve: closures inside loops
    assert X.run_send(space, 3, "benchmark") == 1028


def test_large_integer_result(space):
    big = X.run_send(space, 1000000000, "*", [1000000000])
    assert space.to_local(big) == 10 ** 18


def test_does_not_understand(space):
    with pytest.raises(GuestError) as info:
        X.run_send(space, 3, "foo")
    assert info.value.message == "Message not understood: foo"
    assert info.value.stack[0] == "PCObject>>doesNotUnderstand:"
    # the space is still usable
    assert X.run_send(space, 3, "+", [4]) == 7


@pytest.mark.slow
def test_oz_run_startup_log(tmp_path):
    """`oz run` resumes PCSystem start: log.txt as squeak-vm writes it (the benchmark line varies)."""
    image = tmp_path / "pharocandle.image"
    shutil.copy(image_path("pharocandle.image"), image)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    out = subprocess.run([sys.executable, "-m", "ozvm.cli", "run", str(image), "--timeout", "300"],
                         env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr
    lines = (tmp_path / "log.txt").read_bytes().decode("latin-1").split("\r")
    assert lines[0] == "Welcome to Pharo Candle edition!"
    assert lines[1].endswith(" sends/sec") and " bytecodes/sec; " in lines[1]
    assert lines[2] == "800@600"
