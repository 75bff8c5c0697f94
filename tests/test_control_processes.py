"""Processes from the host: create_process compiled in the host, results read through
mirrors, suspend/resume/terminate/priority keeping the guest scheduler consistent, guest
errors as host errors with the guest stack, evaluate(timeout_ms) never hanging, Ctrl-C."""
from __future__ import annotations

import os
import signal
import threading

import pytest

from conftest import image_path
from ozvm.errors import GuestError, GuestTimeout
from ozvm.space import control
from ozvm.space.process_mirrors import ContextMirror, ProcessMirror
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"


@pytest.fixture(params=[MINI, CANDLE])
def space(request):
    return VM().load(image_path(request.param))


def _in_lists(space, proc):
    """How many of the scheduler's ready lists hold `proc`."""
    return sum(1 for _, procs in space.scheduler().ready_lists() for p in procs if p == proc)


def test_create_process_result_read_through_mirrors(space):
    p = space.create_process("| a | a := 6. a * 7", priority=80)
    assert isinstance(p, ProcessMirror)
    assert not control.is_finished(p)
    with pytest.raises(control.ControlError):
        p.result()
    for _ in range(50):
        space.transfer_control(quantum_ms=50)
        if control.is_finished(p):
            break
    assert control.is_finished(p)
    # the result is in the process's bottom context: read it as a mirror
    ctx = p.suspended_context()
    assert isinstance(ctx, ContextMirror) and ctx.is_dead()
    assert ctx.temps()[0].to_local() == 42
    assert p.result().to_local() == 42
    q = space.create_process("#(1 $a 'str' #sym) , #(2)", priority=80)
    for _ in range(50):
        if control.is_finished(q):
            break
        space.transfer_control(quantum_ms=50)
    assert q.result().to_local() == [1, "a", "str", "sym", 2]


def test_suspend_resume_priority_keep_the_scheduler_consistent(space):
    top = len(space.scheduler().ready_list_objects())
    p = space.create_process("[true] whileTrue", priority=1, start=False)
    assert p.state() == "suspended" and _in_lists(space, p) == 0
    p.resume()
    assert p.state() == "ready" and _in_lists(space, p) == 1
    assert p.priority(2) == 2 and _in_lists(space, p) == 1
    assert p in dict(space.scheduler().ready_lists())[2]
    p.suspend()
    assert p.state() == "suspended" and _in_lists(space, p) == 0
    # resume at a higher priority than the active process: it becomes the active one,
    # the one it preempts is first in its ready list
    before = space.active_process()
    p.set_priority(top)
    p.resume()
    assert space.active_process() == p and _in_lists(space, p) == 0
    assert dict(space.scheduler().ready_lists())[before.priority()][0] == before
    assert space.transfer_control(quantum_ms=20) == "quantum"
    assert space.active_process() == p
    p.suspend()
    assert space.active_process() == before and _in_lists(space, before) == 0
    p.install_as_active_process()
    assert space.active_process() == p and _in_lists(space, before) == 1
    p.terminate()
    assert p.suspended_context() is None and space.active_process() == before
    with pytest.raises(control.ControlError):
        p.resume()
    assert space.print_string("3 + 4", timeout_ms=5000) == "7"


def test_two_host_processes_at_one_priority_share_by_yielding(space):
    top = len(space.scheduler().ready_list_objects())
    if space.scheduler().get_class().lookup("yield") is None:
        pytest.skip("this image's ProcessorScheduler has no yield")
    src = "| n | n := 0. [n < %d] whileTrue: [n := n + 1. Processor yield]. n"
    a = space.create_process(src % 300, priority=top)
    b = space.create_process(src % 200, priority=top)
    b_first = None
    for _ in range(1000):
        if control.is_finished(a) and control.is_finished(b):
            break
        space.transfer_control(bytecodes=2000)
        if b_first is None and control.is_finished(b):
            b_first = not control.is_finished(a)
    assert a.result().to_local() == 300 and b.result().to_local() == 200
    assert b_first       # they ran interleaved: the shorter one ended first


def test_guest_error_comes_back_as_host_error_with_stack(space):
    with pytest.raises(GuestError) as info:
        space.evaluate("#(1 2 3) at: 10", timeout_ms=5000)
    err = info.value
    assert "UndefinedObject>>DoIt (host process)" in err.stack
    assert len(err.stack) >= 3
    p = space.create_process("nil zork", priority=80)
    assert space.transfer_control(quantum_ms=500) == "error"
    with pytest.raises(GuestError, match="zork"):
        p.result()
    assert p.state() == "suspended"         # as a debugger would leave it
    assert space.print_string("3 + 4", timeout_ms=5000) == "7"


def test_evaluate_never_hangs_the_host(space):
    with pytest.raises(GuestTimeout) as info:
        space.evaluate("[true] whileTrue", timeout_ms=300)
    assert "UndefinedObject>>DoIt (host process)" in info.value.stack
    assert space.to_local(space.evaluate("3 + 4", timeout_ms=5000)) == 7
    # the timed-out process is gone: nothing of it left in the scheduler
    assert all("DoIt" not in " ".join(p.stack()) for p in space.processes())


def test_ctrl_c_stops_the_guest_and_shows_the_culprit(space):
    space.install(space.class_named("Object") or space.class_named("PCObject"),
                  "ozSpin\n\t[true] whileTrue")
    p = space.create_process("nil ozSpin", priority=80)
    timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with control.Interruptible(space) as intr:
        reason = space.transfer_control(quantum_ms=60000)
    timer.join()
    assert reason == "stopped"          # not 'quantum': stopped long before the minute
    assert intr.interrupted
    assert any(s.endswith(">>ozSpin") for s in intr.stack), intr.stack
    assert "ozSpin" in intr.report()
    assert space.active_process() == p
    p.terminate()
    assert space.print_string("3 + 4", timeout_ms=5000) == "7"


def test_evaluations_leave_nothing_behind_in_the_host(space):
    for i in range(5):
        assert space.to_local(space.evaluate("%d * 2" % i, timeout_ms=5000)) == 2 * i
    with pytest.raises(GuestError):
        space.evaluate("nil zork", timeout_ms=5000)
    with pytest.raises(GuestTimeout):
        space.evaluate("[true] whileTrue", timeout_ms=50)
    assert not getattr(space, "_hosted_processes", {})
    assert not getattr(space, "_host_methods", {})
    assert not getattr(space, "_process_errors", {})
    assert not space._interpreter.base_contexts


def test_a_failing_ready_process_is_left_suspended(space):
    top = len(space.scheduler().ready_list_objects())
    blocker = space.create_process("[true] whileTrue", priority=top)
    p = space.create_process("nil zork", priority=top - 1)
    assert p.state() == "ready"
    space.transfer_control(quantum_ms=20)
    blocker.terminate()
    for _ in range(10):
        if space.transfer_control(quantum_ms=50) == "error":
            break
    assert p.state() == "suspended" and _in_lists(space, p) == 0
    with pytest.raises(GuestError, match="zork"):
        p.result()


def test_evaluation_steps_take_quanta_answer_with_a_receiver_and_clean_up_when_closed(space):
    arr = space.mirror_on([3, 4, 5])
    steps = control.evaluation_steps(space, "(self at: 1) + (self at: 3)",
                                     timeout_ms=60000, quantum_ms=50, receiver=arr)
    value = None
    while True:
        try:
            next(steps)
        except StopIteration as done:
            value = done.value
            break
    assert space.to_local(value) == 8
    spin = control.evaluation_steps(space, "[true] whileTrue", timeout_ms=600000, quantum_ms=20)
    assert next(spin) == "quantum" and next(spin) == "quantum"     # a runaway, one quantum a step
    spin.close()                                                    # the host gave up on it
    budget = control.evaluation_steps(space, "[true] whileTrue", timeout_ms=600000, quantum_ms=20,
                                      max_bytecodes=50000)
    with pytest.raises(GuestTimeout, match="within 50000 bytecodes"):
        for _ in budget:
            pass
    assert not getattr(space, "_hosted_processes", {})
    assert all("DoIt" not in " ".join(p.stack()) for p in space.processes())
    assert space.to_local(space.evaluate("3 + 4", timeout_ms=5000)) == 7
