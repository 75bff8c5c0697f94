"""Object access primitives on real image objects (expected answers from squeak-vm 4.10)."""
from __future__ import annotations

import pytest

from conftest import load_heap
from ozvm.memory import specials as S
from ozvm.memory.objects import format_inst_size
from ozvm.prims.values import int_value, integer_object, new_float
from prims_fake import FAILED, FakeInterp, call


@pytest.fixture(params=["squeak2.2-mini.image", "pharocandle.image"])
def vm(request):
    return FakeInterp(load_heap(request.param))


def cls(vm, i):
    return vm.heap.special(i)


def new(vm, i, n=0):
    return vm.heap.instantiate(cls(vm, i), n)


def test_at_put_size_on_each_format(vm):
    h = vm.heap
    arr = h.new_array([1, 2, 3])
    assert call(vm, 60, arr, 2) == 2
    assert call(vm, 60, arr, 4) is FAILED
    assert call(vm, 60, arr, 0) is FAILED
    assert call(vm, 61, arr, 3, h.nil) is h.nil and arr.ptrs[2] is h.nil
    assert call(vm, 62, arr) == 3
    s = h.new_string("abc")
    assert call(vm, 60, s, 1) == 97
    assert call(vm, 60, s, 4) is FAILED                   # oracle
    assert call(vm, 61, s, 1, 256) is FAILED
    assert call(vm, 61, s, 1, 66) == 66 and s.bytes == b"Bbc"
    assert call(vm, 62, s) == 3                           # oracle
    assert call(vm, 63, s, 2) is h.special(S.CHARACTER_TABLE).ptrs[98]
    assert call(vm, 64, s, 3, h.special(S.CHARACTER_TABLE).ptrs[65]) is not FAILED and s.bytes == b"BbA"
    assert call(vm, 64, s, 3, 65) is FAILED
    assert call(vm, 63, arr, 1) is FAILED
    f = new_float(h, 1.5)
    assert call(vm, 60, f, 1) == 1073217536               # oracle
    w = words_object(vm, 2)
    assert int_value(h, call(vm, 61, w, 1, integer_object(h, 0xFFFFFFFF))) == 0xFFFFFFFF
    assert int_value(h, call(vm, 60, w, 1)) == 0xFFFFFFFF
    assert call(vm, 61, w, 1, -1) is FAILED
    # non-indexable objects and SmallIntegers have no size (oracle: 62 fails)
    point = call(vm, 18, 3, 4)
    assert call(vm, 62, point) is FAILED and call(vm, 62, 3) is FAILED
    assert call(vm, 60, point, 1) is FAILED               # oracle


def test_compiled_method_indexing(vm):
    h = vm.heap
    m = h.new_method(cls(vm, S.CLASS_COMPILED_METHOD), (2 << 9), [h.nil, h.true], b"\x70\x7c")
    assert call(vm, 62, m) == 3 * 4 + 2                   # header and literals count as bytes
    assert call(vm, 60, m, 13) == 0x70
    assert call(vm, 60, m, 12) is FAILED
    assert call(vm, 68, m, 1) == (2 << 9) and call(vm, 68, m, 3) is h.true
    assert call(vm, 68, m, 4) is FAILED
    assert call(vm, 69, m, 2, 7) == 7 and m.ptrs[1] == 7
    from ozvm.memory.contexts import decode_method
    decode_method(m, h)
    assert call(vm, 69, m, 2, h.nil) is h.nil and m.cache is not None   # a literal: cache stays
    assert call(vm, 69, m, 1, (2 << 9) | 60) == (2 << 9) | 60
    assert decode_method(m, h)[1] == 60                            # the new header is seen
    made = call(vm, 79, cls(vm, S.CLASS_COMPILED_METHOD), 5, (3 << 9) | 1)
    assert made.fmt == 12 and made.ptrs == [(3 << 9) | 1, h.nil, h.nil, h.nil] and made.bytes == bytes(5)


def test_inst_var_at_named_fields_only(vm):
    h = vm.heap
    pt = call(vm, 18, 3, 4)
    assert call(vm, 73, pt, 2) == 4
    assert call(vm, 73, pt, 3) is FAILED                  # oracle
    assert call(vm, 74, pt, 1, h.nil) is h.nil and pt.ptrs[0] is h.nil
    assert call(vm, 73, h.new_array([1]), 1) is FAILED


def test_instantiation(vm):
    h = vm.heap
    arr = call(vm, 70, cls(vm, S.CLASS_ARRAY))
    assert arr.cls is cls(vm, S.CLASS_ARRAY) and arr.ptrs == []        # oracle: '()'
    s = call(vm, 71, cls(vm, S.CLASS_STRING), 4)
    assert s.bytes == bytes(4)
    assert call(vm, 71, cls(vm, S.CLASS_STRING), -1) is FAILED         # oracle
    assert call(vm, 71, cls(vm, S.CLASS_POINT), 1) is FAILED           # oracle (Object new: 1)
    pt = call(vm, 71, cls(vm, S.CLASS_POINT), 0)                       # oracle: an Object
    assert pt.ptrs == [h.nil, h.nil]
    assert call(vm, 70, 3) is FAILED
    assert call(vm, 71, cls(vm, S.CLASS_ARRAY), 10**9) is FAILED


def test_identity_and_class(vm):
    h = vm.heap
    a = h.new_array([])
    assert call(vm, 110, a, a) is h.true and call(vm, 110, 3, 3) is h.true
    assert call(vm, 110, a, h.new_array([])) is h.false
    assert call(vm, 111, 3) is cls(vm, S.CLASS_SMALLINTEGER)
    assert call(vm, 75, a) == a.hash and call(vm, 75, 3) is FAILED      # oracle
    closures = h.info.has_closures
    r = call(vm, 169, a, a)
    assert r is (h.false if closures else FAILED)
    r = call(vm, 170, 65)
    assert r is (h.special(S.CHARACTER_TABLE).ptrs[65] if closures else FAILED)


def test_replace_from_to_with_starting_at(vm):
    h = vm.heap
    s = h.new_string("abcd")
    sym = h.special(S.SELECTOR_DOES_NOT_UNDERSTAND)      # a Symbol: same byte format
    assert call(vm, 105, s, 1, 2, sym, 1) is s and s.bytes == b"docd"
    assert call(vm, 105, h.new_array([1, 2]), 1, 2, h.new_string("ab"), 1) is FAILED   # oracle
    assert call(vm, 105, s, 1, 2, h.new_array([1, 2]), 1) is FAILED                    # oracle
    assert call(vm, 105, s, 3, 5, sym, 1) is FAILED
    assert call(vm, 105, s, 3, 2, sym, 1) is s                      # empty range
    arr = h.new_array([1, 2, 3, 4, 5])
    assert call(vm, 105, arr, 2, 5, arr, 1) is arr and arr.ptrs == [1, 1, 1, 1, 1]   # forward copy
    arr = h.new_array([1, 2, 3, 4, 5])
    assert call(vm, 105, arr, 1, 4, arr, 2) is arr and arr.ptrs == [2, 3, 4, 5, 5]


def test_become(vm):
    h = vm.heap
    a, b = h.new_array([1]), h.new_string("x")
    holder = h.new_array([a, b])
    h.extra_roots.append(holder)
    ha, hb = a.hash, b.hash
    assert call(vm, 128, h.new_array([a]), h.new_array([b])) is not FAILED
    assert holder.ptrs[0].bytes == b"x" and holder.ptrs[1].ptrs == [1]
    assert holder.ptrs[0].hash == ha and holder.ptrs[1].hash == hb     # hash stays with the reference
    assert call(vm, 128, h.new_array([a]), h.new_array([3])) is FAILED
    assert call(vm, 128, h.new_array([a]), h.new_array([])) is FAILED
    # one-way: every reference to c now refers to d
    c, d = h.new_array([7]), h.new_array([8])
    holder.ptrs[0] = c
    vm.stack[3] = c
    assert call(vm, 248, h.new_array([c]), h.new_array([d])) is not FAILED
    assert holder.ptrs[0] is d and vm.stack[3] is d and d.hash != c.hash
    e = h.new_array([9])
    holder.ptrs[1] = e
    assert call(vm, 72, h.new_array([e]), h.new_array([d])) is not FAILED
    assert holder.ptrs[1] is d and d.hash == e.hash
    assert call(vm, 249, h.new_string("ab"), 3) is FAILED          # PharoCandle's putAscii: falls back


def test_enumeration(vm):
    h = vm.heap
    point_class = cls(vm, S.CLASS_POINT)
    first = call(vm, 77, point_class)
    assert first is not FAILED and first.cls is point_class
    seen = [first]
    x = call(vm, 78, first)
    while x is not FAILED:
        assert x.cls is point_class
        seen.append(x)
        x = call(vm, 78, x)
    assert len(seen) == len({id(o) for o in seen}) == len(h.all_instances(point_class))
    def every_object():
        o = call(vm, 138, h.nil)
        found = [o]
        while True:
            o = call(vm, 139, o)
            if o == 0 and o.__class__ is int:
                return found
            found.append(o)
    # memory order: the image file's objects (garbage included) until a collection
    assert call(vm, 138, h.nil) is h.nil
    assert every_object() == list(h.info.oop_table.values())
    assert call(vm, 130, h.nil) is not FAILED
    after = every_object()
    assert {id(o) for o in after} == {id(o) for o in h.gc.mark()[0]}
    assert len(after) <= len(h.info.oop_table)
    # a new instance is found, also when only the stack refers to it
    p = call(vm, 18, 1, 2)
    vm.stack[vm.sp] = p
    assert any(call(vm, 77, point_class) is p or True for _ in [0])
    found, x = False, call(vm, 77, point_class)
    while x is not FAILED:
        found = found or x is p
        x = call(vm, 78, x)
    assert found


def test_store_stackp_and_context_size(vm):
    h = vm.heap
    ctx_class = cls(vm, S.CLASS_METHOD_CONTEXT)
    ctx = h.instantiate(ctx_class, 10)
    fixed = format_inst_size(ctx_class.ptrs[2])
    assert fixed == 6
    ctx.ptrs[2] = 2
    ctx.ptrs[6:8] = [1, 2]
    assert call(vm, 62, ctx) == 2 and call(vm, 60, ctx, 2) == 2 and call(vm, 60, ctx, 3) is FAILED
    ctx.ptrs[8] = 99
    assert call(vm, 76, ctx, 4) is ctx and ctx.ptrs[2] == 4 and ctx.ptrs[8] is h.nil
    assert call(vm, 76, ctx, 11) is FAILED


def test_points_to_shorts_fill_clone(vm):
    h = vm.heap
    a = h.new_array([1, h.nil])
    assert call(vm, 132, a, 1) is h.true and call(vm, 132, a, h.true) is h.false
    assert call(vm, 132, h.new_string("a"), 97) is h.false
    w = words_object(vm, 2)
    assert call(vm, 143, w, 1) == 0                                  # oracle
    assert call(vm, 144, w, 2, -2) == -2 and w.words[0] == 0xFFFE0000
    assert call(vm, 143, w, 2) == -2 and call(vm, 143, w, 5) is FAILED
    assert call(vm, 144, w, 1, 40000) is FAILED
    s = h.new_string("abc")
    assert call(vm, 145, s, 65) is s and s.bytes == b"AAA"         # oracle
    assert call(vm, 145, h.new_array([1]), 1) is FAILED              # oracle
    assert call(vm, 145, s, 256) is FAILED
    c = call(vm, 148, s)
    assert c is not s and c.bytes == s.bytes and c.cls is s.cls
    c.bytes[0] = 66
    assert s.bytes == b"AAA"
    assert call(vm, 148, 3) == 3


def test_memory_primitives(vm):
    h = vm.heap
    left = call(vm, 112, h.nil)
    assert left.__class__ is int and 0 < left
    assert call(vm, 129, h.nil) is h.specials
    assert call(vm, 130, h.nil).__class__ is int


def words_object(vm, n):
    """A new instance of some word-indexable class of the image (not Float)."""
    from ozvm.memory.objects import format_inst_spec
    h = vm.heap
    for o in h.all_objects():
        if (o.ptrs is not None and len(o.ptrs) > 2 and o.ptrs[2].__class__ is int and o.fmt <= 4
                and format_inst_spec(o.ptrs[2]) == 6 and o is not h.special(S.CLASS_FLOAT)
                and len(o.ptrs) >= 7 and o.cls.cls is h.special(S.CLASS_FLOAT).cls.cls):
            return h.instantiate(o, n)
    raise AssertionError("no word class")
