"""ozvm's debugger API (space/debugger.py, on the real interpreter) against Squeak 2.2's own
debugger machinery on squeak-vm: the simulator its Debugger steps with (ContextPart>>step,
stepToSendOrReturn, completeCallee:, return:to:, MethodContext>>restartWith:). The same
methods are compiled in both (byte-identical, checked by the first expression), the same
operations done, and the pcs, temps, stack tops and frames met must be the same.

Expected answers (squeak-vm), regenerated with:
    ../shared/oracle/run-oracle ../shared/oracle/squeak2.2-mini-oracle.image \\
        tests/data/debugger_oracle_expressions.txt 120 > tests/data/debugger_oracle_expected.txt
"""
from __future__ import annotations

import os
import re

import pytest

from conftest import image_path
from ozvm.space import control, debugger
from ozvm.vm import VM

HERE = os.path.dirname(os.path.abspath(__file__))
EXPECTED = os.path.join(HERE, "data", "debugger_oracle_expected.txt")
METHODS = ["ozTwice: x | y | y := x * 2. ^ y + self ozZero",
           "ozZero | z | z := 0. ^ z",
           "ozSum: aCollection | s | s := 0. aCollection do: [:e | s := s + e]. ^ s"]


def expected() -> list:
    """The squeak-vm answers, in order, as the Strings they printed (quotes removed)."""
    out = []
    with open(EXPECTED) as f:
        for line in f.read().splitlines():
            if line.startswith("RESULT"):
                text = line.split("\t")[2]
                out.append(text[1:-1] if text.startswith("'") else text)
    assert len(out) == 5, "the expected file is incomplete: regenerate it"
    return out


def name(printed: str) -> str:
    """Squeak 2.2 prints a frame as 'Receiver(MethodClass)>>selector': keep the method's class."""
    return re.sub(r"\w+\((\w+)\)>>", r"\1>>", printed)


@pytest.fixture(scope="module")
def space():
    s = VM().load(image_path("squeak2.2-mini.image"))
    for source in METHODS:
        s.install(s.class_named("Object"), source)
    return s


def into(p, selector):
    for _ in range(20):
        f = p.step_into()
        if f.method().selector() == selector:
            return f
    raise AssertionError("never stepped into " + selector)


def t1(frame):
    return frame.variables()[1][1].describe()


def top(frame):
    return frame.stack_values()[-1].describe()


def test_the_methods_are_the_same_bytes(space):
    obj = space.mirror_on(space.class_named("Object"))
    sizes = [obj.lookup(s).variable_size() for s in ("ozTwice:", "ozZero", "ozSum:")]
    assert str(sum(sizes)) == expected()[0]


def test_step_into_over_and_run_to_end(space):
    p = space.create_process("nil ozTwice: 20", start=False, priority=80)
    out = []
    c = into(p, "ozTwice:")
    out += [c.pc(), t1(c)]
    c = p.step_over()
    out += [c.pc(), t1(c)]
    d = p.step_into()
    out += [d.where(), d.pc()]
    c = p.run_to_end(d)
    out += [c.pc(), top(c)]
    c = p.step_over()
    out += [c.pc(), top(c), str(debugger.will_return(space, c.obj)).lower()]
    assert " ".join(str(x) for x in out) == name(expected()[1])
    p.terminate()


def test_return_value(space):
    p = space.create_process("nil ozTwice: 20", start=False, priority=80)
    into(p, "ozTwice:")
    c = p.step_over()
    d = p.step_into()
    assert p.return_value(d, 100) == c
    c = p.step_over()
    out = [c.pc(), top(c), str(debugger.will_return(space, c.obj)).lower()]
    assert " ".join(str(x) for x in out) == expected()[2]
    p.terminate()


def test_step_into_blocks_of_a_6502_image(space):
    p = space.create_process("nil ozSum: #(4 5)", start=False, priority=80)
    c = into(p, "ozSum:")
    out = ["%d;" % c.pc()]
    for _ in range(14):
        f = p.step_into()
        out.append("%s %d;" % (f.where(), f.pc()))
    assert "".join(out) == name(expected()[3])
    p.proceed()
    for _ in range(20):
        if control.is_finished(p):
            break
        space.transfer_control(bytecodes=20000)
    assert p.result().to_local() == 9


def test_restart_with_the_method_accepted_since(space):
    p = space.create_process("nil ozTwice: 20", start=False, priority=80)
    c = into(p, "ozTwice:")
    p.step_over()
    space.install(space.class_named("Object"), "ozTwice: x | y | y := x * 3. ^ y + self ozZero")
    try:
        c = p.restart(c)
        out = [c.pc()]
        while not debugger.will_return(space, c.obj):
            c = p.step_over()
        out += [c.pc(), top(c)]
    finally:
        space.install(space.class_named("Object"), METHODS[0])
    assert " ".join(str(x) for x in out) == expected()[4]
    p.terminate()
