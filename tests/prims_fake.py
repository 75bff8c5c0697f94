"""A tiny stand-in for the interpreter, enough to call primitives in tests.

It has what the primitives may use (heap, stack, sp, pop_push, class_of,
flush_method_cache, flush_method_cache_after_become, image_path, files) and nothing else.
"""
from __future__ import annotations

import pytest

from conftest import load_heap
from ozvm.memory import specials as S
from ozvm.prims import base
from ozvm.prims.files import FileTable

_heaps: dict = {}


def shared_heap(name: str):
    """A heap read once per test session (tests that mutate objects make their own)."""
    if name not in _heaps:
        _heaps[name] = load_heap(name)
    return _heaps[name]


class FakeInterp:
    def __init__(self, heap, image_path=None):
        self.heap = heap
        self.stack = [heap.nil] * 40
        self.sp = 9
        self.image_path = image_path
        self.files = FileTable(image_path)
        self.flushes = 0

    def pop_push(self, n, value):
        self.sp -= n - 1
        self.stack[self.sp] = value

    def class_of(self, obj):
        if obj.__class__ is int:
            return self.heap.specials.ptrs[S.CLASS_SMALLINTEGER]
        return obj.cls

    def flush_method_cache(self):
        self.flushes += 1

    def flush_method_cache_after_become(self, objects):
        self.flushes += 1


FAILED = object()


def call(interp, index, rcvr, *args):
    """Run numbered primitive `index` (or a (module, name) pair) on rcvr and args;
    answer its result, or FAILED after checking that the stack is untouched."""
    base.load_all()
    prim = base.NAMED[index] if isinstance(index, tuple) else base.PRIMITIVES[index]
    below = interp.sp
    stack = interp.stack
    marker = stack[below]
    for x in (rcvr,) + args:
        interp.sp += 1
        stack[interp.sp] = x
    before = list(stack[:interp.sp + 1])
    ok = prim(interp, len(args))
    if not ok:
        assert interp.sp == below + 1 + len(args), "a failing primitive moved the stack"
        assert all(a is b for a, b in zip(stack[:interp.sp + 1], before)), \
            "a failing primitive changed the stack"
        interp.sp = below
        return FAILED
    assert interp.sp == below + 1, "primitive %r left sp at %d" % (index, interp.sp)
    assert stack[below] is marker
    result = stack[interp.sp]
    interp.sp = below
    return result


@pytest.fixture(params=["squeak2.2-mini.image", "pharocandle.image"])
def vm(request):
    """A FakeInterp on each V3 image's shared heap (import it into a test module to use it:
    primitives that change existing objects want a heap of their own)."""
    return FakeInterp(shared_heap(request.param))


def big(interp, value: int):
    """`value` as the heap's SmallInteger or LargeInteger."""
    from ozvm.prims.values import integer_object
    return integer_object(interp.heap, value)
