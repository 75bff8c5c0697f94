"""Debugger-level control of guest processes (space/debugger.py) on the real images: a
6502 BlockContext image (Squeak 2.2 mini), a 6505 closure image (PharoCandle) and, for
unwinding (ensure:/ifCurtailed:), the bootstrapped kernel. Work is counted in bytecodes."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm import bootstrap
from ozvm.errors import GuestError
from ozvm.space import control, debugger
from ozvm.space.process_mirrors import ContextMirror
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"


@pytest.fixture(params=[MINI, CANDLE])
def space(request):
    s = VM().load(image_path(request.param))
    root = s.class_named("Object") or s.class_named("PCObject")
    s.install(root, "ozTwice: x | y | y := x * 2. ^ y + self ozZero")
    s.install(root, "ozZero | z | z := 0. ^ z")   # not a quick method: a real frame
    s.install(root, "ozKeep: x | y | y := x. self ozZero. ^ y + 1")
    s.install(root, "ozSum: aCollection | s | s := 0. aCollection do: [:e | s := s + e]. ^ s")
    return s


def finish(space, p, bytecodes=2_000_000):
    """Run the space until host process `p` has answered; its result as a host value."""
    for _ in range(100):
        if control.is_finished(p):
            break
        space.transfer_control(bytecodes=bytecodes // 100)
    return p.result().to_local()


def into(p, selector, steps=20):
    """step_into until the top frame runs `selector`."""
    for _ in range(steps):
        f = p.step_into()
        if f.method().selector() == selector:
            return f
    raise AssertionError("never stepped into %s" % selector)


def names(frame):
    return [(n, v.describe()) for n, v in frame.variables()]


def test_step_over_walks_a_doit_statement_by_statement(space):
    p = space.create_process("| a b | a := 3 + 4. b := a printString. b size", start=False, priority=80)
    top = p.top_frame()
    assert isinstance(top, ContextMirror) and p.state() == "suspended"
    pc0 = top.pc()
    f1 = p.step_over()
    assert f1 == top and f1.pc() > pc0
    assert names(f1)[:2] == [("t1", "7"), ("t2", "nil")]
    assert [v.describe() for v in f1.stack_values()] == ["7"]      # about to send printString
    f2 = p.step_over()
    assert f2 == top and names(f2)[1] == ("t2", "'7'")
    f3 = p.step_over()
    assert debugger.will_return(space, f3.obj)          # at the doit's return, the size pushed
    assert f3.stack_values()[-1].to_local() == 1
    p.proceed()
    assert finish(space, p) == 1


def real_names(space, *names):
    """The names a frame shows for an installed method: the real ones, from the source
    space.install was given (logged where the image keeps source pointers, else kept by
    the space)."""
    return names


def test_step_into_enters_the_method_and_run_to_end_returns_from_it(space):
    X, Y = real_names(space, "x", "y")
    p = space.create_process("(nil ozTwice: 20) + 1", start=False, priority=80)
    doit = p.top_frame()
    f = p.step_into()
    assert f.method().selector() == "ozTwice:" and f.sender() == doit
    assert names(f) == [(X, "20"), (Y, "nil")]
    assert debugger.will_send(space, f.obj)             # stopped at its first send (x * 2)
    g = p.step_over()
    assert g == f and names(g) == [(X, "20"), (Y, "40")]
    h = p.step_into()
    assert h.method().selector() == "ozZero"
    back = p.run_to_end()
    assert back == f and back.stack_values()[-1].to_local() == 0
    out = p.run_to_end()
    assert out == doit and out.stack_values()[-1].to_local() == 40
    p.proceed()
    assert finish(space, p) == 41


def test_step_over_a_lower_frame_completes_its_callees_first(space):
    p = space.create_process("(nil ozTwice: 5) + 1", start=False, priority=80)
    doit = p.top_frame()
    p.step_into()
    p.step_into()                       # x * 2: a primitive, still in ozTwice:
    p.step_into()
    assert p.top_frame().method().selector() == "ozZero"
    f = p.step_over(doit)               # completes ozTwice: and stops at the doit's next point
    assert f == doit and [v.to_local() for v in f.stack_values()] == [10, 1]     # before the +


def test_step_through_stops_in_the_block_the_frame_made(space):
    p = space.create_process("nil ozSum: #(4 5 6)", start=False, priority=80)
    p.step_into()
    summer = p.top_frame()
    assert summer.method().selector() == "ozSum:"
    f = p.step_through()                    # the do: send: stops inside [:e | s := s + e]
    assert f != summer
    assert f.is_block_context() or f.closure() is not None
    assert f.home() == summer
    p.proceed()
    assert finish(space, p) == 15


def test_restart_reenters_the_frame_with_the_method_installed_since(space):
    X, Y = real_names(space, "x", "y")
    p = space.create_process("nil ozTwice: 20", start=False, priority=80)
    f = p.step_into()
    p.step_over()
    assert names(f)[1] == (Y, "40")
    root = f.method().method_class()
    space.install(root.obj, "ozTwice: x | y | y := x * 3. ^ y + self ozZero")   # the fix
    p.step_into()                                        # now in ozZero, above the frame
    g = p.restart(f)
    assert g == f and p.top_frame() == f
    assert g.pc() == g.method().initial_pc() and g.stack_values() == []
    assert names(g) == [(X, "20"), (Y, "nil")]  # args kept, temps nil
    assert g.method() == root.lookup("ozTwice:")        # the new method
    p.proceed()
    assert finish(space, p) == 60


def test_return_value_from_a_frame(space):
    p = space.create_process("(nil ozTwice: 20) + 1", start=False, priority=80)
    doit = p.top_frame()
    f = p.step_into()
    p.step_into()                                       # deeper: in ozZero
    back = f.return_value(100, process=p)
    assert back == doit and back.stack_values()[-1].to_local() == 100
    assert f.is_dead()
    p.proceed()
    assert finish(space, p) == 101


def test_evaluate_in_a_frame_sees_and_writes_its_variables(space):
    X, Y = real_names(space, "x", "y")
    p = space.create_process("nil ozKeep: 20", start=False, priority=80)
    f = p.step_into()
    assert f.method().selector() == "ozKeep:" and names(f) == [(X, "20"), (Y, "20")]
    result = f.evaluate("%s := %s + 1000. %s + %s" % (Y, Y, X, Y), process=p)
    assert result.to_local() == 1040
    assert names(f) == [(X, "20"), (Y, "1020")]
    assert f.evaluate("self", process=p).is_nil_object()
    p.proceed()
    assert finish(space, p) == 1021


def test_evaluate_in_a_frame_sees_instance_variables(space):
    point = "Point" if space.class_named("Point") is not None else "PCPoint"
    space.install(space.class_named(point), "ozNorm1 self yourself. ^ x abs + y abs")
    p = space.create_process("(3 @ -4) ozNorm1", start=False, priority=80)
    f = into(p, "ozNorm1")              # the @ is the first send (computed by the VM)
    assert f.evaluate("x * 10 + y", process=p).to_local() == 26
    assert p.evaluate_in(f, "x := 30. x").to_local() == 30      # the receiver's field
    p.proceed()
    assert finish(space, p) == 34


def test_an_error_while_stepping_leaves_the_process_suspended_at_the_error(space):
    p = space.create_process("nil foo. 3", start=False, priority=80)
    with pytest.raises(GuestError) as info:
        p.step_over()
    assert "foo" in info.value.message
    assert info.value.process == p and p.error() is info.value
    assert p.state() == "suspended"
    assert "doesNotUnderstand:" in p.top_frame().describe()
    p.terminate()


def test_operations_refuse_dead_frames_and_foreign_processes(space):
    p = space.create_process("nil ozTwice: 1", start=False, priority=80)
    q = space.create_process("3 + 4", start=False, priority=80)
    f = p.step_into()
    with pytest.raises(debugger.DebugError):
        q.step_over(f)
    p.run_to_end()
    with pytest.raises(debugger.DebugError):
        p.restart(f)
    p.terminate()
    with pytest.raises(debugger.DebugError):
        p.step_over()


# --- unwinding: the bootstrapped kernel has ensure:/ifCurtailed: and Context>>return: ----------

@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("kernel") / "k.image"
    bootstrap.build().save(str(path))
    return str(path)


@pytest.fixture
def kernel(kernel_path):
    s = VM().load(kernel_path)
    obj = s.class_named("Object")
    s.install(obj, "ozInner: log ^ [log add: #body. self ozDeep: log] ensure: [log add: #ensure]")
    s.install(obj, "ozDeep: log log add: #deep. ^ 5")
    s.install(obj, "ozCurtailed: log ^ [self ozDeep: log] ifCurtailed: [log add: #curtailed]")
    return s


def _to_deep(p):
    for _ in range(200):
        top = p.top_frame()
        if top.method().selector() == "ozDeep:":
            return top
        p.step_into()
    raise AssertionError("never reached ozDeep:")


def _log(result):
    return [x for x in result if x is not None]


def test_return_value_runs_the_ensure_blocks_on_the_way(kernel):
    p = kernel.create_process("| log | log := OrderedCollection new. log add: (nil ozInner: log). log asArray",
                              start=False, priority=80)
    _to_deep(p)
    inner = next(f for f in p.frames() if f.describe().startswith("Object>>ozInner:"))
    back = p.return_value(inner, 42)
    assert back.stack_values()[-1].to_local() == 42
    p.proceed()
    assert _log(finish(kernel, p)) == ["body", "ensure", 42]


def test_return_value_runs_ifcurtailed_blocks(kernel):
    p = kernel.create_process("| log | log := OrderedCollection new. log add: (nil ozCurtailed: log). log asArray",
                              start=False, priority=80)
    _to_deep(p)
    outer = next(f for f in p.frames() if f.describe().startswith("Object>>ozCurtailed:"))
    p.return_value(outer, 7)
    p.proceed()
    assert _log(finish(kernel, p)) == ["curtailed", 7]


def test_restart_unwinds_the_frames_above(kernel):
    p = kernel.create_process("| log | log := OrderedCollection new. log add: (nil ozInner: log). log asArray",
                              start=False, priority=80)
    _to_deep(p)
    inner = next(f for f in p.frames() if f.describe().startswith("Object>>ozInner:"))
    p.restart(inner)
    p.proceed()
    # the ensure block ran once for the abandoned run, then the restarted run did it all again
    # _to_deep stopped before #deep was logged: the abandoned run logged body, then its
    # ensure block ran while unwinding; the restarted run logged everything again
    assert _log(finish(kernel, p)) == ["body", "ensure", "body", "deep", "ensure", 5]


def test_terminate_runs_the_unwind_blocks(kernel):
    kernel.evaluate("Smalltalk at: #OzLog put: OrderedCollection new", timeout_ms=5000)
    p = kernel.create_process("nil ozInner: (Smalltalk at: #OzLog)", start=False, priority=80)
    _to_deep(p)
    p.terminate(unwind=True)
    assert p.state() == "suspended" and p.top_frame() is None
    log = kernel.evaluate("(Smalltalk at: #OzLog) asArray", timeout_ms=5000)
    assert kernel.to_local(log) == ["body", "ensure"]


def test_restart_a_closure_activation_restarts_its_block():
    s = VM().load(image_path(CANDLE))
    s.install(s.class_named("PCObject"),
              "ozBlock: k | b | b := [:x | | y | y := x + k. y * 2]. ^ (b value: 3) + (b value: 4)")
    p = s.create_process("nil ozBlock: 10", start=False, priority=80)
    p.step_into()
    block = p.step_through()                     # in [:x | ...] for x = 3
    assert block.closure() is not None and block.variables()[:2] == [
        ("blockArg1", s.mirror_on(3)), ("blockTemp1", s.mirror_on(10))]     # x, copied k
    p.step_over()
    again = p.restart(block)
    assert again == block and again.pc() == again.closure().obj.ptrs[1]   # the block's startpc
    assert [v.to_local() for v in again.frame()] == [3, 10]                # arg and copied value
    p.proceed()
    assert finish(s, p) == 54


def test_evaluate_in_a_frame_writes_temps_that_blocks_share(space):
    """s is written by the block: a plain temp of the method context in 6502, a temp in the
    method's temp vector with closures; named s where the image keeps the source, else t1 as
    the decompiled source names it."""
    S, = real_names(space, "s")
    p = space.create_process("nil ozSum: #(4 5 6)", start=False, priority=80)
    summer = into(p, "ozSum:")                      # at the do: send, s := 0 done
    assert (S, space.mirror_on(0)) in summer.variables()
    assert summer.evaluate("%s := %s + 100. %s" % (S, S, S), process=p).to_local() == 100
    assert (S, space.mirror_on(100)) in summer.variables()
    p.proceed()
    assert finish(space, p) == 115
