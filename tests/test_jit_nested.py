"""Nested runs of the interpreter under translated code (interp/jit.py `Jit.nest`;
docs/jit.md "Contexts stay real"): a cold callee runs in the interpreter while its
translated caller waits on the Python stack, and the run ends where the guest leaves that
discipline. These tests count the tier's work (unwinds, nested runs), never time."""
from __future__ import annotations

from conftest import image_path
from ozvm.interp.jit import MAX_DEPTH, Jit
from ozvm.space import execution as X
from ozvm.vm import VM


def _space(threshold):
    space = VM().load(image_path("squeak2.2-mini.image"))
    root = space.class_named("Object")
    space.install(root, "ozR: n ^ n = 0 ifTrue: [0] ifFalse: [(self ozR: n - 1) + 1]")
    space.install(root, "ozDown: n to: m ^ n = 0 ifTrue: [self ozCold: m] "
                        "ifFalse: [(self ozDown: n - 1 to: m) + 1]")
    space.install(root, "ozCold: m ^ self ozR: m")
    interp = X.interpreter_for(space)
    interp.jit = None if threshold is None else Jit(interp, threshold)
    return space, interp.jit


def test_a_nested_run_begun_near_the_depth_limit_gives_its_frames_up_once():
    """Translated code MAX_DEPTH - 2 frames deep sends a cold method (run nested), which
    recurses 400 deep in translated code: the nested run ends at the first call past the
    limit and a driver further down takes the recursion up with the whole depth, so the
    Python stack is given up about once per MAX_DEPTH calls (not at every deeper call), and
    the answer is the interpreter's."""
    space, jit = _space(10)
    X.evaluate(space, "1 to: 20 do: [:i | nil ozR: 5]. 1 to: 3 do: [:i | nil ozDown: 5 to: 1]")
    for depth in (5, MAX_DEPTH - 6, MAX_DEPTH - 2):
        unwinds, nested = jit.unwinds, jit.nested
        assert X.print_string(space, "nil ozDown: %d to: 400" % depth) == str(400 + depth)
        assert jit.nested > nested                      # ozCold ran nested
        assert jit.unwinds - unwinds <= 400 // (MAX_DEPTH // 2) + 2, depth
    plain, _ = _space(None)
    assert X.print_string(plain, "nil ozDown: %d to: 400" % (MAX_DEPTH - 2)) == str(398 + MAX_DEPTH)


def test_a_process_switch_inside_a_nested_run_and_back():
    """A translated method's cold callee (run nested) waits on a semaphore: another process
    runs inside the nested run (the waiting caller's frame stays on the Python stack) and
    signals it; the callee goes on, returns to its translated caller, and the answers and
    the other process's effects are the interpreter's."""
    answers = []
    for threshold in (None, 4):
        space, jit = _space(threshold)
        root = space.class_named("Object")
        space.install(root, "ozWaitOn: s s wait. ^ 5")
        space.install(root, "ozHot: s ^ s isNil ifTrue: [0] ifFalse: [(self ozWaitOn: s) + 1]")
        X.evaluate(space, "1 to: 6 do: [:i | nil ozHot: nil]")
        nested = jit and jit.nested
        answers.append(X.evaluate_and_print(
            space, "| s r q | q := OrderedCollection new. s := Semaphore new. "
                   "[q add: 1. s signal. q add: 2] fork. r := nil ozHot: s. q add: r. q asArray"))
        if jit is not None:
            hot, cold = (X.evaluate(space, "Object compiledMethodAt: #%s" % sel)
                         for sel in ("ozHot:", "ozWaitOn:"))
            assert jit.fns[hot][1] is not None and cold not in jit.fns
            assert jit.nested > nested
    assert answers == ["(1 2 6 )"] * 2


def test_a_call_of_a_cold_method_loads_the_registers_once():
    """A translated loop sending to a cold method 100 times: each nested run loads the
    callee into the interpreter's registers (one `fetch`) and its return into the waiting
    caller ends it without loading the caller again (the caller's frame goes on from its
    own fields); the answer is the interpreter's."""
    space, jit = _space(300)
    root = space.class_named("Object")
    space.install(root, "ozCall: n | s | s := 0. 1 to: n do: [:i | s := s + (self ozPlain: i)]. ^ s")
    space.install(root, "ozPlain: i ^ i + 1")
    X.evaluate(space, "1 to: 1000 do: [:i | nil ozCall: 0]")
    hot, cold = (X.evaluate(space, "Object compiledMethodAt: #%s" % sel) for sel in ("ozCall:", "ozPlain:"))
    assert jit.fns[hot][1] is not None and cold not in jit.fns
    interp = X.interpreter_for(space)
    fetches = []
    fetch = interp.fetch
    interp.fetch = lambda ctx: fetches.append(ctx.ptrs[3]) or fetch(ctx)
    nested = jit.nested
    assert X.print_string(space, "nil ozCall: 100") == str(sum(range(2, 102)))
    assert jit.nested - nested >= 100
    # each call loaded the callee once; the caller was loaded again after each before
    assert fetches.count(cold) >= 100 and fetches.count(hot) <= 1, fetches.count(hot)
