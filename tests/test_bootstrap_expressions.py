"""Expressions on the bootstrapped kernel, covering its classes: compiled into an image
as its startup script and run by squeak-vm and by ozvm (both must write exactly the expected
results, tests/data/bootstrap_expected.txt), and evaluated from the host through
ozvm.bootstrap.evaluation.

The expressions are the second column of the expected file; regenerate it with squeak-vm
(edit exprs.txt between the first two commands to change an expression):

    cut -f2 tests/data/bootstrap_expected.txt | grep -vx DONE > exprs.txt
    oz bootstrap -o k.image --expressions exprs.txt --no-progress
    /usr/lib/squeak/*/squeakvm -vm-display-null -vm-sound-null k.image </dev/null
    cp k.results.txt tests/data/bootstrap_expected.txt

No answer may depend on the machine's speed: an expression about Delays asks only what
no stall between two steps can change (the order of their resumption times)."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import squeak_vm
from ozvm import bootstrap
from ozvm.space.objectspace import ObjectSpace

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "data", "bootstrap_expected.txt")


def expected_lines():
    with open(EXPECTED) as f:
        return f.read().splitlines()


def expressions():
    return [line.split("\t")[1] for line in expected_lines() if line != "DONE"]


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kernel")
    path = folder / "k.image"
    bootstrap.build(expressions=expressions()).save(str(path))
    return path


def results(folder):
    with open(os.path.join(str(folder), "k.results.txt")) as f:
        return f.read().splitlines()


def test_there_are_at_least_100_expressions():
    assert len(expressions()) >= 100


def test_squeak_vm_gives_the_expected_results(image):
    run = subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", str(image)],
                         cwd=str(image.parent), stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=120)
    assert run.returncode == 0
    assert results(image.parent) == expected_lines()


@pytest.mark.slow
def test_ozvm_gives_the_expected_results(image, tmp_path):
    from ozvm.space import execution
    copy = tmp_path / "k.image"
    copy.write_bytes(image.read_bytes())
    space = ObjectSpace.load(str(copy))
    assert execution.interpreter_for(space).run(deadline=time.monotonic() + 600) == "quit"
    assert results(tmp_path) == expected_lines()


HOST_CASES = [
    ("3 + 4", "7"),
    ("(2 raisedTo: 100) - (2 raisedTo: 99)", "633825300114114700748351602688"),
    ("| oc | oc := OrderedCollection new. oc add: 3; addFirst: 1. oc", "an OrderedCollection(1 3)"),
    ("[:x | x * x] value: 12", "144"),
    ("(1/3) + 0.5", "0.833333333333333"),
    ("#(3 1 2) asSortedArray", "#(1 2 3)"),
    ("1/0", "ERROR: division by zero"),
    ("nil foo", "ERROR: Message not understood: foo"),
    ("| log | log := OrderedCollection new. [[1/0] ensure: [log add: #done]] on: ZeroDivide do: [:e | e return: 0]. log",
     "an OrderedCollection(#done)"),
    ("Transcript show: 'hello'; contents", "'hello'"),
]


@pytest.fixture(scope="module")
def space():
    return bootstrap.build(expressions=[])


@pytest.mark.parametrize("source,expected", HOST_CASES)
def test_host_evaluation(space, source, expected):
    from ozvm.bootstrap.evaluation import print_string
    assert print_string(space, source) == expected


def test_an_unhandled_error_is_raised_on_the_host_with_the_guest_stack(space):
    from ozvm.bootstrap.evaluation import evaluate
    from ozvm.errors import GuestError
    with pytest.raises(GuestError) as info:
        evaluate(space, "#(1 2) inject: 0 into: [:a :b | a / 0]")
    assert info.value.message == "division by zero"
    assert any("ZeroDivide" in line or "Integer>>/" in line for line in info.value.stack)
    assert space.to_local(evaluate(space, "3 + 4")) == 7           # the space still works


FALLBACK_CASES = [
    ("[1/0] on: ZeroDivide do: [:e | e messageText]", "'division by zero'"),
    ("| log | log := OrderedCollection new. [[log add: 1. 1/0] ensure: [log add: 2]] on: ZeroDivide do: [:e | log add: 3]. log",
     "an OrderedCollection(1 3 2)"),
    ("| log | log := OrderedCollection new. #(1 2 3) do: [:e | [e = 2 ifTrue: [^ log]] ensure: [log add: e]]",
     "an OrderedCollection(1 2)"),
    ("| n | n := 0. [n := n + 1. n < 3 ifTrue: [1/0]. n] on: ZeroDivide do: [:e | e retry]", "3"),
    ("[[1/0] on: ZeroDivide do: [:e | e pass]] on: ZeroDivide do: [:e | 'outer']", "'outer'"),
    ("[(ZeroDivide new signal: 'z') + 1] on: ZeroDivide do: [:e | e resume: 41]", "42"),
]


def test_the_smalltalk_fallbacks_of_the_context_primitives(monkeypatch):
    """Primitives 195-197 only make stack walking fast (SqueakJS has none): the kernel's
    Smalltalk code after them must give the same answers."""
    from ozvm.bootstrap.evaluation import print_string
    from ozvm.prims import base
    base.load_all()
    for index in (195, 196, 197):
        monkeypatch.delitem(base.PRIMITIVES, index)
    space = bootstrap.build(expressions=[])
    assert [print_string(space, source) for source, _ in FALLBACK_CASES] == [e for _, e in FALLBACK_CASES]
