"""Controlled interruption: a runaway guest process at the top priority (80, given the
image's highest level) is interrupted by a quantum (of bytecodes, counted; or of time), found as the space's
active process, its stack shown, terminated; the guest goes on."""
from __future__ import annotations


import pytest

from conftest import image_path
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"

RUNAWAYS = {
    "loop": ("[true] whileTrue", None, "UndefinedObject>>DoIt (host process)"),
    "recursion": ("nil ozDeep: 0", "ozDeep: n\n\t^ (self ozDeep: n + 1) + 1", ">>ozDeep:"),
    "allocation": ("| all | all := nil. [true] whileTrue: [all := (Array new: 50) at: 1 put: all; yourself]",
                   None, "UndefinedObject>>DoIt (host process)"),
}


@pytest.fixture(scope="module")
def vm_spaces():
    vm = VM()
    return vm, {MINI: vm.load(image_path(MINI)), CANDLE: vm.load(image_path(CANDLE))}


@pytest.mark.parametrize("kind", sorted(RUNAWAYS))
@pytest.mark.parametrize("name", [MINI, CANDLE])
def test_runaway_at_priority_80_is_interrupted_and_terminated(vm_spaces, name, kind):
    vm, spaces = vm_spaces
    space = spaces[name]
    source, method, frame = RUNAWAYS[kind]
    if name == CANDLE:
        source = source.replace("Array", "PCArray")
    if method is not None:
        space.install(space.class_named("Object") or space.class_named("PCObject"), method)
    before = space.active_process()
    proc = space.create_process(source, priority=80)
    assert proc.priority() == len(space.scheduler().ready_list_objects())   # the top level
    # the host regains control: after a budget of bytecodes (counted: at most a heartbeat
    # past it), and after a quantum of time (how soon is measured by `oz bench runaway`)
    assert space.transfer_control(bytecodes=20000) == "quantum"
    assert 20000 <= space.last_transfer.bytecodes < 20000 + 4000
    assert space.transfer_control(quantum_ms=30) == "quantum"
    assert space.last_transfer.bytecodes > 1000
    # the culprit is the space's active process, with its stack
    culprit = space.active_process()
    assert culprit == proc and culprit.state() == "active"
    stack = culprit.stack(limit=10 ** 6)
    assert any(frame in s for s in stack), stack
    assert stack[-1] == "(host process base)"
    if kind == "recursion":
        assert len(culprit.frames()) > 200
    # terminated: the process that was active before is active again, the guest goes on
    proc.terminate()
    assert proc.suspended_context() is None
    assert space.active_process() == before
    assert space.print_string("3 + 4", timeout_ms=5000) == "7"
    assert space.to_local(space.evaluate("| s | s := 0. 1 to: 4 do: [:i | s := s + i]. s", timeout_ms=5000)) == 10
    vm.check_isolation()


def test_interrupted_process_resumes_exactly_where_it_stopped(vm_spaces):
    vm, spaces = vm_spaces
    space = spaces[CANDLE]
    proc = space.create_process("| n | n := 0. [n < 100000000] whileTrue: [n := n + 1]. n", priority=80)
    assert space.transfer_control(quantum_ms=30) == "quantum"
    ctx = proc.suspended_context()
    n1 = ctx.temps()[0].to_local()
    pc1 = ctx.pc()
    assert n1 > 0
    # the guest's own state is untouched between transfers: run again, it continues
    assert space.transfer_control(bytecodes=4000) == "quantum"
    n2 = proc.suspended_context().temps()[0].to_local()
    assert n2 > n1 and proc.suspended_context() == ctx and pc1 is not None
    proc.terminate()


@pytest.mark.parametrize("name", [MINI, CANDLE])
def test_a_starved_process_runs_once_the_runaway_is_terminated(vm_spaces, name):
    vm, spaces = vm_spaces
    space = spaces[name]
    top = len(space.scheduler().ready_list_objects())
    worker = space.create_process("| s | s := 0. 1 to: 1000 do: [:i | s := s + i]. s", priority=top - 1)
    runaway = space.create_process("[true] whileTrue", priority=80)
    assert space.transfer_control(quantum_ms=30) == "quantum"
    assert space.active_process() == runaway and worker.state() == "ready"
    runaway.terminate()
    for _ in range(20):
        if worker.state() != "ready" and worker != space.active_process():
            break
        space.transfer_control(quantum_ms=30)
    assert worker.result().to_local() == 500500
