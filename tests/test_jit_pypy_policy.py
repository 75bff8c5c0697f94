"""PyPy's translation policy (interp/jit.py's pypy_worth_translating; docs/jit.md, "The
tier on PyPy"), run on CPython with the policy switched on: which hot methods of the real
squeak2.2-mini image are translated (a recursion, a loop that sends only primitives) and
which are left to the interpreter (a loop that calls a block or sends to a method), and the
same answers as the interpreter alone."""
from __future__ import annotations

from conftest import image_path
from ozvm.interp.jit import LONG, PYPY, Jit, pypy_worth_translating
from ozvm.space import execution as X
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
# a recursion (benchFib), loops of primitives and arithmetic (benchmark's inner loops, the
# doit's own loop) and loops that call a block (do:, inject:into:) or send to methods
EXPR = ("(20 benchFib) + (2 benchmark) + "
        "((1 to: 30) inject: 0 into: [:a :i | a + (#(3 4 5) inject: i into: [:x :y | x + y])])")


def method(space, class_name, selector):
    return space.mirror_on(space.class_named(class_name)).lookup(selector).obj


def methods_asked(jit) -> list:
    """From now on, the methods whose activations the interpreter asks the tier about
    (`Jit.wants`), in order."""
    wanted = []
    wants = jit.wants

    def counted(ctx, sampled=False):
        wanted.append(ctx.ptrs[3])
        return wants(ctx, sampled)
    jit.wants = counted
    return wanted


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


def test_a_method_left_to_the_interpreter_is_never_asked_about_again():
    """A method the policy refused is marked in its decoded form's cell: the interpreter's
    next activations of it are answered there, without the tier's table of translations
    or its policy."""
    asked = []

    class Translations(dict):
        def get(self, key, default=None):
            asked.append(key)
            return dict.get(self, key, default)
    space = VM().load(image_path(MINI))
    interp = X.interpreter_for(space)
    jit = interp.jit = Jit(interp, 2)
    jit.policy = pypy_worth_translating
    jit.fns = Translations()
    X.print_string(space, EXPR, timeout=300)
    inject = method(space, "Collection", "inject:into:")
    assert jit.fns[inject][1] is None and "PyPy policy" in jit.untranslatable[inject]
    assert inject.cache[8] == [jit.token, None]
    assert inject in asked
    del asked[:]
    wanted = methods_asked(jit)
    before = interp.bytecodes
    assert X.print_string(space, "(1 to: 30) inject: 0 into: [:a :i | a + i]", timeout=300) == "465"
    assert interp.bytecodes - before > 300       # the block ran 30 times, inject:into: once
    assert asked and inject not in asked
    # the interpreter's activation of it does not even ask the tier
    assert wanted and inject not in wanted
    # a flush of the method (primitive 116) gives it a new decoded form: asked again,
    # counted from zero
    interp.flush_method_cache_for_method(inject)
    X.print_string(space, "(1 to: 3) inject: 0 into: [:a :i | a + i]", timeout=300)
    assert inject in asked and inject.cache[8] == [jit.token, 1]


def test_activations_are_counted_in_the_decoded_form():
    """The tier counts a method's activations in its decoded form's cell and translates it
    at the threshold: each run of `3 benchFib` adds its activations there (the same number
    each time) until the count reaches the threshold; a flush of every translation (a new
    token) starts every count again."""
    space = VM().load(image_path(MINI))
    interp = X.interpreter_for(space)
    jit = interp.jit = Jit(interp, 40)
    fib = method(space, "Integer", "benchFib")
    counts = []
    for _ in range(3):
        assert X.run_send(space, 3, "benchFib") == 5
        cell = fib.cache[8]
        assert cell[0] is jit.token and fib not in jit.fns
        counts.append(cell[1])
    step = counts[0]
    assert step > 0 and counts == [step, 2 * step, 3 * step]
    jit.flush()
    assert X.run_send(space, 3, "benchFib") == 5
    assert fib.cache[8] == [jit.token, step]
    while fib not in jit.fns:
        X.run_send(space, 3, "benchFib")
    assert jit.fns[fib][1] is not None and fib.cache[8][1] >= jit.threshold
    assert X.run_send(space, 10, "benchFib") == 177


def test_loops_are_translated_after_a_long_run_in_one_activation():
    """A method of loops the policy admits is translated only once a heartbeat has found it
    running in the same context as the heartbeat before (its loops ran a chunk's bytecodes in
    one call): `benchmark` (a sieve of 8190 flags) is; `inheritsFrom:` (a few superclasses a
    call), activated 300 times, is not: it is marked in its decoded form's cell, and the
    interpreter's activations of it do not ask the tier."""
    space = VM().load(image_path(MINI))
    interp = X.interpreter_for(space)
    jit = interp.jit = Jit(interp, 2)
    jit.policy = pypy_worth_translating
    assert X.print_string(space, "(1 to: 300) inject: 0 into: [:a :i | "
                          "(OrderedCollection inheritsFrom: Collection) ifTrue: [a + 1] ifFalse: [a]]",
                          timeout=300) == "300"
    inherits = method(space, "Behavior", "inheritsFrom:")
    assert inherits not in jit.fns and inherits.cache[8] == [jit.token, LONG]
    wanted = methods_asked(jit)
    X.print_string(space, "(1 to: 30) inject: 0 into: [:a :i | "
                   "(OrderedCollection inheritsFrom: Collection) ifTrue: [a + 1] ifFalse: [a]]",
                   timeout=300)
    assert wanted and inherits not in wanted
    assert X.run_send(space, 2, "benchmark") is not None
    bench = method(space, "Integer", "benchmark")
    assert jit.fns[bench][1] is not None and jit.long_run is bench
