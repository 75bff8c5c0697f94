"""Recursive guest errors stop the process with a GuestRecursionError (space/recursion.py)
instead of spinning: an error inside the image's error handling, an error handler failing
again and again, the same unhandled error again and again, a runaway recursion."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import GuestError, GuestRecursionError
from ozvm.space import execution, recursion
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"


@pytest.fixture(params=[MINI, CANDLE])
def space(request):
    return VM().load(image_path(request.param))


def root(space):
    return space.class_named("Object") or space.class_named("PCObject")


def debugger_entry(space):
    if space.class_named("Debugger") is not None:
        return space.class_named("Debugger").cls, "openContext: c label: l contents: t"
    return space.class_named("PCObject"), "handleExceptionName: l context: c"


def test_an_error_handler_failing_again_and_again_is_stopped(space):
    space.install(root(space), "ozBad ^ [nil ozMissing] ifError: [:a :b | self ozBad]")
    with pytest.raises(GuestRecursionError) as info:
        execution.run_send(space, space.nil, "ozBad", max_bytecodes=5_000_000)
    assert info.value.kind == "nested"
    assert "errors already being handled" in info.value.message
    assert len(info.value.stack) >= 20
    assert space.print_string("3 + 4") == "7"          # the space goes on


def test_an_error_inside_the_images_own_error_handling(space):
    cls, header = debugger_entry(space)
    space.install(cls, header + " ^ nil ozBrokenDebugger")     # the debugger entry itself fails
    execution.let_guest_handle_errors(space)
    with pytest.raises(GuestRecursionError) as info:
        execution.run_send(space, space.nil, "ozMissing", max_bytecodes=5_000_000)
    assert info.value.kind == "nested"
    assert "ozBrokenDebugger" in info.value.message and "error handling runs" in info.value.message


def test_the_same_unhandled_error_again_and_again(space):
    cls, header = debugger_entry(space)
    space.install(cls, header + " ^ nil")        # a debugger entry that just returns: resent, fails again
    space.install(root(space), "ozAgain [true] whileTrue: [nil ozMissing]")
    execution.let_guest_handle_errors(space)
    with pytest.raises(GuestRecursionError) as info:
        execution.run_send(space, space.nil, "ozAgain", max_bytecodes=5_000_000)
    assert info.value.kind == "repeated"
    assert "%d times in a row" % recursion.REPEAT_LIMIT in info.value.message


def test_a_runaway_recursion_stops_at_the_depth_limit(space):
    space.install(root(space), "ozRecurse ^ self ozRecurse + 1")
    interp = execution.interpreter_for(space)
    interp.max_stack_depth = 3000
    p = space.create_process("3 ozRecurse", priority=80)
    for _ in range(50):
        if space.transfer_control(bytecodes=20000) == "error":
            break
    err = space.last_error
    assert isinstance(err, GuestRecursionError) and err.kind == "depth"
    assert err.process == p and p.state() == "suspended"
    assert len(p.frames()) > 3000
    assert p.error() is err
    p.terminate()


def test_handled_errors_in_a_loop_are_not_recursive(space):
    space.install(root(space), "ozMany | n | n := 0. 1 to: 50 do: [:i | [nil ozMissing] ifError: [:a :b | n := n + 1]]. ^ n")
    assert execution.run_send(space, space.nil, "ozMany", max_bytecodes=5_000_000) == 50


def test_ordinary_errors_stay_guest_errors(space):
    with pytest.raises(GuestError) as info:
        execution.run_send(space, space.nil, "ozMissing", max_bytecodes=1_000_000)
    assert not isinstance(info.value, GuestRecursionError)
