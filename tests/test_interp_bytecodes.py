"""Hand-assembled methods: each V3 bytecode form, run by the interpreter on the real images
(run_method executes a method on a receiver without lookup)."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.memory import specials as S
from ozvm.memory.objects import make_method_header
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace


@pytest.fixture(scope="module")
def space():
    return ObjectSpace.load(image_path("squeak2.2-mini.image"))


@pytest.fixture(scope="module")
def candle():
    return ObjectSpace.load(image_path("pharocandle.image"))


def asm(space, code, literals=(), nargs=0, ntemps=0, large=False):
    heap = space.heap
    header = make_method_header(nargs, ntemps, len(literals), large_frame=large)
    return heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, list(literals), bytes(code))


def run(space, code, literals=(), receiver=None, args=(), ntemps=0, **kw):
    meth = asm(space, code, literals, len(args), max(ntemps, len(args)), **kw)
    return X.run_method(space, meth, receiver, args, timeout=30)


def sym(space, name):
    return space.intern_symbol(name)


def point(space, x, y):
    p = space.heap.instantiate(space.special(S.CLASS_POINT))
    p.ptrs[0], p.ptrs[1] = x, y
    return p


def test_quick_pushes_and_returns(space):
    assert run(space, [0x74, 0x7C]) == -1
    assert run(space, [0x75, 0x7C]) == 0
    assert run(space, [0x76, 0x7C]) == 1
    assert run(space, [0x77, 0x7C]) == 2
    assert run(space, [0x71, 0x7C]) is space.true
    assert run(space, [0x72, 0x7C]) is space.false
    assert run(space, [0x73, 0x7C]) is space.nil
    assert run(space, [0x78], receiver=5) == 5
    assert run(space, [0x79]) is space.true
    assert run(space, [0x7A]) is space.false
    assert run(space, [0x7B]) is space.nil
    assert run(space, [0x70, 0x7C], receiver=9) == 9


def test_receiver_variables(space):
    p = point(space, 3, 4)
    assert run(space, [0x01, 0x7C], receiver=p) == 4
    # storeAndPop rcvr var 0 (0x60), then push it
    assert run(space, [0x20, 0x60, 0x00, 0x7C], [42], receiver=p) == 42 and p.ptrs[0] == 42


def test_temporaries_and_literals(space):
    # temp 0 := literal 0; temp 1 := temp 0 + 1; ^temp 1
    code = [0x20, 0x68, 0x10, 0x76, 0xB0, 0x69, 0x11, 0x7C]
    assert run(space, code, [41], ntemps=2) == 42
    assert run(space, [0x10, 0x11, 0xB1, 0x7C], args=(10, 3)) == 7


def test_literal_variables(space):
    assoc = space.global_association("Transcript")
    assert run(space, [0x40, 0x7C], [assoc]) is assoc.ptrs[1]


def test_extended_push_store(space):
    p = point(space, 3, 4)
    assoc = space.heap.new_array([sym(space, "k"), 0])
    code = [0x80, 0x01,            # push rcvr var 1
            0x80, 0x40,            # push temp 0 (arg)
            0xB0,                  # +
            0x81, 0x00,            # store rcvr var 0
            0x81, 0xC0,            # store literal var 0
            0x82, 0x41,            # store-pop temp 1
            0x80, 0x81,            # push literal 1
            0x80, 0xC0,            # push literal var 0
            0xB0, 0x7C]
    assert run(space, code, [assoc, 100], receiver=p, args=(10,), ntemps=2) == 114
    assert p.ptrs[0] == 14 and assoc.ptrs[1] == 14


def test_double_extended(space):
    p = point(space, 3, 4)
    assoc = space.heap.new_array([sym(space, "k"), 0])
    code = [0x84, 0x40, 0x01,      # push rcvr var 1            (kind 2)
            0x84, 0x60, 0x01,      # push literal 1             (kind 3)
            0x84, 0x80, 0x00,      # push literal var 0         (kind 4)
            0xB0, 0xB0,            # 4 + (7 + 0)
            0x84, 0xA0, 0x00,      # store rcvr var 0           (kind 5)
            0x84, 0xE0, 0x00,      # store literal var 0        (kind 7)
            0x84, 0xC0, 0x01,      # store-pop rcvr var 1       (kind 6)
            0x00,                  # push rcvr var 0
            0x84, 0x00, 0x02,      # send literal 2 (printString), 0 args (kind 0)
            0x7C]
    result = run(space, code, [assoc, 7, sym(space, "printString")], receiver=p)
    assert result.bytes == b"11"
    assert p.ptrs == [11, 11] and assoc.ptrs[1] == 11


def test_extended_sends(space):
    lits = [sym(space, "between:and:"), sym(space, "max:")]
    assert run(space, [0x77, 0x76, 0x22, 0x83, 0x40, 0x7C], lits + [5]) is space.true
    assert run(space, [0x77, 0x22, 0x86, 0x41, 0x7C], lits + [5]) == 5


def test_super_send(space):
    # a method of SmallInteger sending `super printString` (Integer>>printString):
    # the last literal is the class binding
    si = space.special(S.CLASS_SMALLINTEGER)
    binding = space.heap.new_array([sym(space, "SmallInteger"), si])
    code = [0x70, 0x85, 0x00, 0x7C]
    assert run(space, code, [sym(space, "printString"), binding], receiver=12).bytes == b"12"
    code = [0x70, 0x84, 0x20, 0x00, 0x7C]
    assert run(space, code, [sym(space, "printString"), binding], receiver=12).bytes == b"12"


def test_jumps_and_loops(space):
    # t0 := 0. t1 := 1. [t1 <= 10] whileTrue: [t0 := t0 + t1. t1 := t1 + 1]. ^t0
    code = [0x75, 0x68, 0x76, 0x69,                     # 0..3
            0x11, 0x20, 0xB4, 0xAC, 0x0A,                # 4: t1 <= 10, long jump if false +10
            0x10, 0x11, 0xB0, 0x68,                      # 9: t0 := t0 + t1
            0x11, 0x76, 0xB0, 0x69,                      # 13: t1 := t1 + 1
            0xA3, 0xF1,                                  # 17: long jump back to 4 (-15)
            0x10, 0x7C]                                  # 19
    assert run(space, code, [10], ntemps=2) == 55
    # short jumps: true ifTrue: [1] ifFalse: [2] with jumpFalse 0x99 / jump 0x90
    assert run(space, [0x71, 0x99, 0x76, 0x90, 0x77, 0x7C]) == 1
    assert run(space, [0x72, 0x99, 0x76, 0x90, 0x77, 0x7C]) == 2
    # long jump if true over a push
    assert run(space, [0x71, 0xA8, 0x02, 0x77, 0x7C, 0x76, 0x7C]) == 1


def test_non_boolean_jump_sends_must_be_boolean(space):
    with pytest.raises(GuestError) as info:
        run(space, [0x20, 0x99, 0x76, 0x7C, 0x77, 0x7C], [3])
    assert info.value.message == "Message not understood: mustBeBoolean"


def test_stack_operations(space):
    assert run(space, [0x20, 0x88, 0xB0, 0x7C], [21]) == 42          # dup
    assert run(space, [0x76, 0x77, 0x87, 0x7C]) == 1                 # pop
    ctx = run(space, [0x89, 0x7C])                                   # thisContext
    assert ctx.cls is space.special(S.CLASS_METHOD_CONTEXT) and ctx.ptrs[1] is space.nil


@pytest.mark.parametrize("op, a, b, expected", [
    (0xB0, 1073741823, 1, 1073741824), (0xB1, -1073741824, 1, -1073741825),
    (0xB8, 65536, 65536, 4294967296), (0xB9, 6, 3, 2), (0xBA, -7, 2, 1), (0xBD, -7, 2, -4),
    (0xBC, 1, 40, 1 << 40), (0xBC, -1, -3, -1), (0xBE, 12, 10, 8), (0xBF, 12, 3, 15),
    (0xB2, 1, 2, True), (0xB3, 1, 2, False), (0xB4, 2, 2, True), (0xB5, 1, 2, False),
    (0xB6, 3, 3, True), (0xB7, 3, 3, False),
])
def test_special_arithmetic(space, op, a, b, expected):
    result = run(space, [0x20, 0x21, op, 0x7C], [a, b])
    if isinstance(expected, bool):
        assert result is (space.true if expected else space.false)
    else:
        assert space.to_local(result) == expected


def test_special_sends(space):
    frac = run(space, [0x20, 0x21, 0xB9, 0x7C], [7, 2])                        # 7 / 2
    assert space.layout.class_name_of(frac.cls) == "Fraction"
    pt = run(space, [0x20, 0x21, 0xBB, 0x7C], [3, 4])                          # 3 @ 4
    assert pt.cls is space.special(S.CLASS_POINT) and pt.ptrs == [3, 4]
    arr = space.from_local([5, 6, 7])
    assert run(space, [0x20, 0x77, 0xC0, 0x7C], [arr]) == 6                   # at:
    assert run(space, [0x20, 0x77, 0x21, 0xC1, 0x87, 0x20, 0xC2, 0x7C], [arr, 9]) == 3
    assert arr.ptrs[1] == 9                                                    # at:put:
    assert run(space, [0x20, 0x20, 0xC6, 0x7C], [arr]) is space.true          # ==
    assert run(space, [0x20, 0x21, 0xC6, 0x7C], [100000, 100000]) is space.true
    assert run(space, [0x20, 0xC7, 0x7C], [arr]) is arr.cls                    # class
    assert run(space, [0x20, 0xCE, 0x7C], [point(space, 8, 9)]) == 8          # x


def test_primitive_methods_run_their_primitive_first(space):
    # a method with primitive 1 (SmallInteger +) and fallback code ^#failed
    heap = space.heap
    header = make_method_header(1, 1, 1, primitive=1)
    meth = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, [sym(space, "failed")],
                           bytes([0x20, 0x7C]))
    assert X.run_method(space, meth, 3, [4]) == 7
    assert X.run_method(space, meth, 3, [space.nil]).bytes == b"failed"
    quick = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD),
                            make_method_header(0, 0, 0, primitive=264 + 1), [], b"")
    assert X.run_method(space, quick, point(space, 1, 2)) == 2


# --- closure bytecodes (PharoCandle, 6505) ---------------------------------------------------------

def test_push_new_array(candle):
    arr = run(candle, [0x8A, 0x03, 0x7C])
    assert arr.cls is candle.special(S.CLASS_ARRAY) and arr.ptrs == [candle.nil] * 3
    arr = run(candle, [0x76, 0x77, 0x8A, 0x82, 0x7C])
    assert arr.ptrs == [1, 2]


def test_remote_temps(candle):
    # t0 := Array new: 2 (via 0x8A); t0[1] := 5 (store remote 0x8D), pop; push remote (0x8C)
    code = [0x8A, 0x02, 0x68,
            0x20, 0x8D, 0x01, 0x00, 0x87,
            0x21, 0x8E, 0x00, 0x00,
            0x8C, 0x00, 0x00, 0x8C, 0x01, 0x00, 0xB0, 0x7C]
    assert run(candle, code, [5, 6], ntemps=1) == 11


def test_closure_copy_and_value(candle):
    # [:x | x + t0] with t0 = 10 copied; value: 5
    code = [0x20, 0x68,                          # t0 := 10
            0x10, 0x8F, 0x11, 0x00, 0x04,        # push closure (1 arg, 1 copied), size 4
            0x10, 0x11, 0xB0, 0x7D,              #   [:x | x + copied]
            0x76, 0x77, 0xB0,                    # 1 + 2 (unrelated stack work)
            0x87,
            0x21, 0xCA, 0x7C]                    # value: 5
    assert run(candle, code, [10, 5], ntemps=1) == 15


def test_closure_non_local_return(candle):
    # [^7] value. ^8
    code = [0x8F, 0x00, 0x00, 0x02, 0x20, 0x7C, 0xC9, 0x87, 0x21, 0x7C]
    assert run(candle, code, [7, 8]) == 7
    # [7] value + 1 (block return)
    code = [0x8F, 0x00, 0x00, 0x02, 0x20, 0x7D, 0xC9, 0x76, 0xB0, 0x7C]
    assert run(candle, code, [7]) == 8
