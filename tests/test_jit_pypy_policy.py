"""PyPy's translation policy (interp/jit.py's pypy_worth_translating; docs/jit.md, "The
tier on PyPy"), run on CPython with the policy switched on: which hot methods of the real
squeak2.2-mini image are translated (a recursion, a loop that sends only primitives) and
which are left to the interpreter (a loop that calls a block or sends to a method), and the
same answers as the interpreter alone."""
from __future__ import annotations

from conftest import image_path
from ozvm.interp.jit import PYPY, Jit, pypy_worth_translating
from ozvm.space import execution as X
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
# a recursion (benchFib), loops of primitives and arithmetic (benchmark's inner loops, the
# doit's own loop) and loops that call a block (do:, inject:into:) or send to methods
EXPR = ("(20 benchFib) + (2 benchmark) + "
        "((1 to: 30) inject: 0 into: [:a :i | a + (#(3 4 5) inject: i into: [:x :y | x + y])])")


def method(space, class_name, selector):
    return space.mirror_on(space.class_named(class_name)).lookup(selector).obj


def test_the_policy_is_on_only_on_pypy_with_a_threshold():
    space = VM().load(image_path(MINI))
    interp = X.interpreter_for(space)
    assert (Jit(interp, 40).policy is pypy_worth_translating) == PYPY
    assert Jit(interp, 0).policy is None            # OZ_JIT=always translates everything


def test_recursions_and_loops_of_primitives_are_translated_the_rest_is_left():
    answers = []
    for policy in (None, "pypy", "interpreter only"):
        space = VM().load(image_path(MINI))
        interp = X.interpreter_for(space)
        jit = interp.jit = None if policy == "interpreter only" else Jit(interp, 2)
        if jit is not None:
            jit.policy = pypy_worth_translating if policy == "pypy" else None
        answers.append(X.print_string(space, EXPR, timeout=300))
        if policy == "pypy":
            translated = {m for m, (_info, fn) in jit.fns.items() if fn is not None}
            assert method(space, "Integer", "benchFib") in translated
            assert method(space, "Integer", "benchmark") in translated
            for cls, sel in (("Collection", "inject:into:"), ("SequenceableCollection", "do:")):
                m = method(space, cls, sel)
                assert m in jit.fns and m not in translated, (cls, sel)
                assert "PyPy policy" in jit.untranslatable[m]
        elif jit is not None:
            assert method(space, "SequenceableCollection", "do:") in {
                m for m, (_info, fn) in jit.fns.items() if fn is not None}
    assert answers[0] == answers[1] == answers[2]
