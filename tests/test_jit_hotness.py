"""When the translation tier translates a method on CPython (interp/jit.py, docs/jit.md
"When a method is translated"): with the default threshold, the interpreter's first WARMUP
bytecodes (a program's start-up: code that runs once) translate only the methods that
WARMUP_SAMPLES heartbeats found running (long loops); from then on a method is translated
after DEFAULT_THRESHOLD activations. An explicit threshold has no warm-up. These tests
count activations, bytecodes and heartbeats, never time."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.interp import jit as J
from ozvm.space import execution as X
from ozvm.vm import VM

pytestmark = pytest.mark.skipif(J.PYPY, reason="the CPython policy (PyPy keeps its own)")


def _space():
    space = VM().load(image_path("squeak2.2-mini.image"))
    root = space.class_named("Object")
    space.install(root, "ozSmall: n ^ n + 3")
    space.install(root, "ozLoop: n | s | s := 0. 1 to: n do: [:i | s := s + (i \\\\ 7)]. ^ s")
    return space, X.interpreter_for(space)


def _method(space, selector):
    return X.evaluate(space, "Object compiledMethodAt: #%s" % selector)


def _translated(jit, meth):
    rec = jit.fns.get(meth)
    return rec is not None and rec[1] is not None


def test_the_default_threshold_has_a_warm_up_an_explicit_one_not():
    space, interp = _space()
    interp.use_tier("on")
    assert interp.jit.threshold == J.DEFAULT_THRESHOLD and interp.jit.warmup == J.WARMUP > 0
    interp.use_tier(str(J.DEFAULT_THRESHOLD + 1))
    assert interp.jit.warmup == 0
    interp.use_tier("always")
    assert interp.jit.warmup == 0


def test_no_method_is_translated_by_activations_during_the_warm_up():
    """500 activations a do-it: none translated while the interpreter has run fewer than
    `warmup` bytecodes; once past them, at most DEFAULT_THRESHOLD activations translate it."""
    space, interp = _space()
    jit = interp.jit = J.Jit(interp, J.DEFAULT_THRESHOLD, interp.bytecodes + 400000)
    meth = _method(space, "ozSmall:")
    runs = 0
    while interp.bytecodes < jit.warmup - 100000:       # (a run takes about 50,000)
        assert X.print_string(space, "(1 to: 500) inject: 0 into: [:a :i | a + (nil ozSmall: i)]") \
            == str(sum(i + 3 for i in range(1, 501)))
        runs += 1
        assert not _translated(jit, meth), runs
    assert runs > 2
    while interp.bytecodes < jit.warmup:
        X.print_string(space, "3 + 4")
    assert not _translated(jit, meth)
    for k in range(J.DEFAULT_THRESHOLD):
        X.run_send(space, 5, "ozSmall:", [k])
        if _translated(jit, meth):
            break
    assert _translated(jit, meth)


def test_a_long_loop_is_translated_during_the_warm_up():
    """`ozLoop:` activated once runs long enough for many heartbeats: the WARMUP_SAMPLES-th
    that finds it running translates it, within the warm-up, and the answer is the
    interpreter's."""
    space, interp = _space()
    interp.use_tier("on")
    jit = interp.jit
    meth = _method(space, "ozLoop:")
    samples = []
    wants = jit.wants

    def counting(ctx, sampled=False):
        if sampled and ctx.ptrs[3] is meth and not _translated(jit, meth):
            samples.append(interp.bytecodes)
        return wants(ctx, sampled)
    jit.wants = counting
    n = 100000
    assert X.print_string(space, "nil ozLoop: %d" % n) == str(sum(i % 7 for i in range(1, n + 1)))
    assert _translated(jit, meth)
    assert len(samples) == J.WARMUP_SAMPLES and samples[-1] < jit.warmup
