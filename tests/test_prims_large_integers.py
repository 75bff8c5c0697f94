"""The LargeIntegers plugin's named primitives."""
from __future__ import annotations

import pytest

from ozvm.memory import specials as S
from ozvm.prims.values import int_value
from prims_fake import FAILED, big, call, vm  # noqa: F401  (vm: the fixture)

M = "LargeIntegers"


def val(vm, obj):
    return int_value(vm.heap, obj)


def test_add_subtract_multiply_use_magnitudes_and_signs(vm):
    a, b = 2**70 + 5, 2**64
    assert val(vm, call(vm, (M, "primDigitAdd"), big(vm, a), big(vm, b))) == a + b
    assert val(vm, call(vm, (M, "primDigitAdd"), big(vm, -a), big(vm, b))) == -(a + b)
    assert val(vm, call(vm, (M, "primDigitSubtract"), big(vm, b), big(vm, a))) == b - a
    assert val(vm, call(vm, (M, "primDigitSubtract"), big(vm, -a), big(vm, b))) == -(a - b)
    assert call(vm, (M, "primDigitSubtract"), big(vm, a), big(vm, a - 3)) == 3     # normalised
    h = vm.heap
    assert val(vm, call(vm, (M, "primDigitMultiplyNegative"), big(vm, a), big(vm, -b), h.true)) == -a * b
    assert call(vm, (M, "primDigitAdd"), big(vm, a), h.nil) is FAILED
    assert val(vm, call(vm, (M, "primDigitAddWith"), h.nil, big(vm, a), 1)) == a + 1


def test_division_answers_quotient_and_remainder(vm):
    h = vm.heap
    a, b = 2**80 + 12345, 2**40 + 7
    r = call(vm, (M, "primDigitDivNegative"), big(vm, a), big(vm, b), h.false)
    q, rem = r.ptrs
    assert val(vm, q) == a // b and val(vm, rem) == a % b
    assert q.cls is h.special(S.CLASS_LARGE_POSITIVE_INTEGER) and len(q.bytes) == 11 - 6 + 1
    r = call(vm, (M, "primDigitDivNegative"), big(vm, -a), big(vm, b), h.true)
    assert val(vm, r.ptrs[0]) == -(a // b) and val(vm, r.ptrs[1]) == -(a % b)
    small = big(vm, 2**40)
    r = call(vm, (M, "primDigitDivNegative"), small, big(vm, a), h.false)
    assert r.ptrs[0] == 0 and r.ptrs[1] is small
    assert call(vm, (M, "primDigitDivNegative"), big(vm, a), 0, h.false) is FAILED


def test_bits_compare_normalize(vm):
    h = vm.heap
    a = 2**65 + 2**3
    assert val(vm, call(vm, (M, "primDigitBitAnd"), big(vm, a), 15)) == 8
    assert val(vm, call(vm, (M, "primDigitBitOr"), big(vm, a), 1)) == a | 1
    assert call(vm, (M, "primDigitBitXor"), big(vm, -a), 1) is FAILED
    assert val(vm, call(vm, (M, "primDigitBitLogicWithOp"), h.nil, big(vm, a), 3, 3)) == a ^ 3
    assert val(vm, call(vm, (M, "primDigitBitShiftMagnitude"), big(vm, -a), 3)) == -(a << 3)
    assert call(vm, (M, "primDigitBitShiftMagnitude"), big(vm, a), -63) == 4
    assert call(vm, (M, "primDigitCompare"), big(vm, -a), big(vm, a - 1)) == 1
    assert call(vm, (M, "primDigitCompare"), 5, big(vm, a)) == -1
    assert call(vm, (M, "primDigitCompare"), -5, 3) == -1
    assert call(vm, (M, "primAnyBitFromTo"), big(vm, a), 1, 3) is h.false
    assert call(vm, (M, "primAnyBitFromTo"), big(vm, a), 4, 4) is h.true
    assert call(vm, (M, "primAnyBitFromTo"), big(vm, a), 0, 4) is FAILED
    lpi = h.special(S.CLASS_LARGE_POSITIVE_INTEGER)
    odd = h.instantiate(lpi, 6)
    odd.bytes[0] = 7
    assert call(vm, (M, "primNormalizePositive"), odd) == 7
    assert call(vm, (M, "primNormalizeNegative"), odd) is FAILED
    made = call(vm, (M, "primAsLargeInteger"), h.nil, -5)
    assert val(vm, made) == -5 and made.__class__ is not int
    assert call(vm, (M, "primCheckIfCModuleExists"), h.nil) is h.true


@pytest.mark.parametrize("name,with_name,args", [
    ("primDigitAdd", "primDigitAddWith", (2**70 + 5, -2**64)),
    ("primDigitSubtract", "primDigitSubtractWith", (-2**70, 2**64 + 3)),
    ("primDigitMultiplyNegative", "primDigitMultiplyWithNegative", (2**40 + 1, -2**33, "true")),
    ("primDigitDivNegative", "primDigitDivWithNegative", (2**80 + 9, 2**40 + 7, "false")),
    ("primDigitCompare", "primDigitCompareWith", (-2**70, 2**70 - 1)),
    ("primDigitBitShiftMagnitude", "primDigitBitShift", (2**65 + 8, 3)),
])
def test_with_variants_answer_as_the_receiver_forms(vm, name, with_name, args):
    """The ...With forms take the first operand as an argument (the receiver is ignored);
    primDigitBitShift is primDigitBitShiftMagnitude."""
    h = vm.heap
    ops = [getattr(h, a) if isinstance(a, str) else big(vm, a) for a in args]
    plain = call(vm, (M, name), *ops)
    receiver = (h.nil,) if "With" in with_name else ()
    other = call(vm, (M, with_name), *receiver, *ops)
    assert plain is not FAILED and other is not FAILED
    if plain.__class__ is int or plain.ptrs is None:
        assert val(vm, plain) == val(vm, other)
    else:
        assert [val(vm, x) for x in plain.ptrs] == [val(vm, x) for x in other.ptrs]
