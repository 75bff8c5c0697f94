"""ozvm's debugger API (space/debugger.py, on the real interpreter) against Squeak 2.2's own
debugger machinery on squeak-vm: the simulator its Debugger steps with (ContextPart>>step,
stepToSendOrReturn, completeCallee:, return:to:, MethodContext>>restartWith:). The same
methods are compiled in both (byte-identical, checked by the first expression), the same
operations done, and the pcs, temps, stack tops and frames met must be the same.

Expected answers (squeak-vm), regenerated with:
    ../shared/oracle/run-oracle ../shared/oracle/squeak2.2-mini-oracle.image \\
        tests/data/debugger_oracle_expressions.txt 120 > tests/data/debugger_oracle_expected.txt

Unwinding (Squeak 2.2 has no ensure:): ozvm's bootstrapped kernel has ensure:, ifCurtailed: and
Context>>return:, and runs on squeak-vm. There the process itself, stopped in a deeper frame,
does what the debugger's 'return value' activates on top of it (`frame return: 42`); the
log of unwind blocks run and values delivered must be what ozvm's return_value gives.
Expected answers regenerated with:
    .venv/bin/python tests/test_debugger_oracle.py > tests/data/debugger_kernel_expected.txt
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tempfile

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


# --- unwinding on the bootstrapped kernel ------------------------------------------------------

KERNEL_EXPECTED = os.path.join(HERE, "data", "debugger_kernel_expected.txt")
KERNEL_METHODS = [
    "ozInner: log sem: sem ^ [log add: #body. self ozDeep: log sem: sem] ensure: [log add: #ensure]",
    "ozCurtailed: log sem: sem ^ [log add: #body. self ozDeep: log sem: sem] ifCurtailed: [log add: #curtailed]",
    "ozDeep: log sem: sem log add: #deep. sem wait. (Smalltalk at: #OzAction) value: thisContext. "
    "log add: #after. ^ 5",
]
# (the method the process calls, the selector of the frame to return from, from its block?)
KERNEL_CASES = [("ozInner", "ozInner:sem:", False), ("ozInner", "ozInner:sem:", True),
                ("ozCurtailed", "ozCurtailed:sem:", False)]


def kernel_expression(call, selector, in_block) -> str:
    """Guest code for squeak-vm: the process waits in ozDeep:sem:; once signalled, it
    returns 42 from the frame (`return:`, what the debugger activates on top of it)."""
    return ("| log sem p | log := OrderedCollection new. sem := Semaphore new. "
            "Smalltalk at: #OzAction put: [:ctx | | c | c := ctx. "
            "[c method == (Object compiledMethodAt: #%s) and: [c closure %s]] whileFalse: [c := c sender]. "
            "c return: 42]. p := [log add: (nil %s: log sem: sem)] newProcess. p resume. "
            "Processor yield. sem signal. Processor yield. log asArray"
            % (selector, "notNil" if in_block else "isNil", call))


def kernel_space(expressions=()):
    from ozvm import bootstrap
    s = bootstrap.build(expressions=list(expressions))
    for source in KERNEL_METHODS:
        s.install(s.class_named("Object"), source)
    return s


def squeak_vm_kernel_answers() -> str:
    """Run the cases on squeak-vm (the regeneration of KERNEL_EXPECTED)."""
    folder = tempfile.mkdtemp()
    kernel_space([kernel_expression(*c) for c in KERNEL_CASES]).save(os.path.join(folder, "k.image"))
    vm = glob.glob("/usr/lib/squeak/*/squeakvm")[0]
    subprocess.run([vm, "-vm-display-null", "-vm-sound-null", os.path.join(folder, "k.image")],
                   cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    with open(os.path.join(folder, "k.results.txt")) as f:
        return f.read()


def kernel_expected() -> list:
    with open(KERNEL_EXPECTED) as f:
        out = [line.split("\t")[2] for line in f.read().splitlines() if line.startswith("RESULT")]
    assert len(out) == len(KERNEL_CASES), "the expected file is incomplete: regenerate it"
    return out


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("kernel") / "k.image")
    kernel_space().save(path)
    return path


@pytest.mark.parametrize("case", range(len(KERNEL_CASES)))
def test_return_value_unwinds_as_the_kernel_does_on_squeak_vm(kernel_path, case):
    call, selector, in_block = KERNEL_CASES[case]
    s = VM().load(kernel_path)
    s.evaluate("Smalltalk at: #OzLog put: OrderedCollection new. Smalltalk at: #OzSem put: Semaphore new",
               timeout_ms=10000)
    p = s.create_process("(Smalltalk at: #OzLog) add: (nil %s: (Smalltalk at: #OzLog) sem: (Smalltalk at: #OzSem))"
                         % call, priority=80)
    for _ in range(50):
        if p.state().startswith("waiting"):
            break
        s.transfer_control(bytecodes=5000)
    assert p.state().startswith("waiting")
    frame = next(f for f in p.frames() if f.method() is not None and f.method().selector() == selector
                 and (f.closure() is not None) == in_block)
    p.return_value(frame, 42)
    p.proceed()
    for _ in range(50):
        if control.is_finished(p):
            break
        s.transfer_control(bytecodes=20000)
    assert control.is_finished(p)
    assert s.print_string("(Smalltalk at: #OzLog) asArray", timeout_ms=10000) == kernel_expected()[case]


if __name__ == "__main__":
    sys.stdout.write(squeak_vm_kernel_answers())
