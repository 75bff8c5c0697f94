"""The LargeIntegers plugin's named primitives (module 'LargeIntegers'), on Python ints.

The plugin works on magnitudes and takes signs from the classes of its operands (a
SmallInteger counts as a LargeInteger of its sign): digitAdd: adds magnitudes keeping the
first operand's sign, digitSubtract: subtracts them (the sign flips when the second is
larger), digitMultiply:neg: and digitDiv:neg: take the result's sign from the flag, the
bit operations work on non-negative integers only, digitCompare: compares magnitudes
(SmallIntegers by value). Results are normalised (SmallInteger when they fit), except as
the plugin specifies: digitDiv:neg: answers #(quotient remainder) as LargeIntegers that
are not normalised (the image normalises them), and asLargeInteger answers a LargeInteger
for a SmallInteger. Montgomery multiplication is not provided (the image's code runs).
The '...With' variants take the first operand as an argument instead of the receiver.
"""
from __future__ import annotations

from ..memory import specials as S
from ..memory.accounting import cost_of
from ..memory.objects import SqObject
from .base import PrimitiveFailed, named_primitive
from .values import (
    boolean, boolean_value, integer_object, int_value, large_negative_class, small_value,
)

MODULE = "LargeIntegers"
MODULE_NAME = "LargeIntegers (ozvm)"


def _integer(heap, obj):
    """(value, byte length as the plugin sees it) of a SmallInteger or LargeInteger."""
    value = int_value(heap, obj)
    if obj.__class__ is int:
        mag = -value if value < 0 else value
        return value, max(1, (mag.bit_length() + 7) // 8)
    return value, len(obj.bytes)


def _large(heap, negative: bool, magnitude: int, length: int = 0) -> SqObject:
    """A LargeInteger of the given sign class with at least `length` bytes (not normalised)."""
    if negative:
        cls = large_negative_class(heap)
        if cls is None:
            raise PrimitiveFailed()
    else:
        cls = heap.specials.ptrs[S.CLASS_LARGE_POSITIVE_INTEGER]
    n = max(length, (magnitude.bit_length() + 7) // 8, 1)
    return heap.new_bytes(cls, magnitude.to_bytes(n, "little"))


def _is_negative(heap, obj) -> bool:
    if obj.__class__ is int:
        return obj < 0
    return obj.cls is not heap.specials.ptrs[S.CLASS_LARGE_POSITIVE_INTEGER]


def digit_add(heap, a, b):
    x, _ = _integer(heap, a)
    y, _ = _integer(heap, b)
    mag = abs(x) + abs(y)
    return integer_object(heap, -mag if _is_negative(heap, a) else mag)


def digit_subtract(heap, a, b):
    x, _ = _integer(heap, a)
    y, _ = _integer(heap, b)
    diff = abs(x) - abs(y)
    if _is_negative(heap, a):
        diff = -diff
    return integer_object(heap, diff)


# Bounds on one primitive's work, so that the host regains control within its quantum: in
# units of Python's 30-bit digits, about 10 ns each on CPython (a 1,000,000-bit square is
# 15 M units, 0.1 s). Past them the primitive fails and the image's own Smalltalk code
# computes the same answer, interruptibly (as when the C VM has no LargeIntegers plugin).
MULTIPLY_BUDGET = 2000000
DIVIDE_BUDGET = 2000000


def _digits(value: int) -> int:
    return value.bit_length() // 30 + 1


def _bounded_product(heap, x: int, y: int) -> None:
    """Fail a multiplication that would take too long (Karatsuba: about n * m**0.585
    digit operations for n >= m digits) or make a result past the memory limit."""
    n, m = _digits(x), _digits(y)
    if n < m:
        n, m = m, n
    if n * m ** 0.585 > MULTIPLY_BUDGET:
        raise PrimitiveFailed()
    heap.reserve(cost_of(nbytes=4 * (n + m)))


def _bounded_quotient(heap, x: int, y: int) -> None:
    """Fail a division that would take too long (schoolbook: about (n - m + 1) * m)."""
    n, m = _digits(x), _digits(y)
    if n >= m and (n - m + 1) * m > DIVIDE_BUDGET:
        raise PrimitiveFailed()


def digit_multiply(heap, a, b, neg):
    x, _ = _integer(heap, a)
    y, _ = _integer(heap, b)
    _bounded_product(heap, x, y)
    mag = abs(x) * abs(y)
    return integer_object(heap, -mag if boolean_value(heap, neg) else mag)


def _normalized(heap, obj) -> bool:
    if obj.__class__ is int:
        return True
    value = int_value(heap, obj)
    mag = -value if value < 0 else value
    family = heap.family
    return len(obj.bytes) == max(1, (mag.bit_length() + 7) // 8) and not (
        family.small_int_min <= value <= family.small_int_max)


def digit_div(heap, a, b, neg, check_normalized=True):
    x, xlen = _integer(heap, a)
    y, ylen = _integer(heap, b)
    negative = boolean_value(heap, neg)
    if y == 0:
        raise PrimitiveFailed()
    if check_normalized and not (_normalized(heap, a) and _normalized(heap, b)):
        raise PrimitiveFailed()
    length = xlen - ylen + 1
    if length <= 0:
        return heap.new_array([0, a])
    _bounded_quotient(heap, x, y)
    q, r = divmod(abs(x), abs(y))
    return heap.new_array([_large(heap, negative, q, length), _large(heap, _is_negative(heap, a), r)])


def _bit_logic(heap, a, b, op):
    x = int_value(heap, a)
    y = int_value(heap, b)
    if x < 0 or y < 0:
        raise PrimitiveFailed()
    if op == 1:
        return integer_object(heap, x & y)
    if op == 2:
        return integer_object(heap, x | y)
    if op == 3:
        return integer_object(heap, x ^ y)
    raise PrimitiveFailed()


def digit_shift_magnitude(heap, a, shift):
    x, _ = _integer(heap, a)
    n = small_value(shift)
    mag = abs(x)
    if n > 0:
        heap.reserve(cost_of(nbytes=(mag.bit_length() + n) // 8 + 1))    # before it is made
    mag = mag << n if n >= 0 else mag >> -n
    return integer_object(heap, -mag if _is_negative(heap, a) else mag)


def digit_compare(heap, a, b):
    x = int_value(heap, a)
    y = int_value(heap, b)
    if a.__class__ is int and b.__class__ is int:
        return (x > y) - (x < y)
    if a.__class__ is int:
        return -1
    if b.__class__ is int:
        return 1
    if len(a.bytes) != len(b.bytes):
        return 1 if len(a.bytes) > len(b.bytes) else -1
    mx, my = abs(x), abs(y)
    return (mx > my) - (mx < my)


def any_bit(heap, a, start, stop):
    """Is any bit start..stop (1-based) of the magnitude set?"""
    x, _ = _integer(heap, a)
    i = small_value(start)
    j = small_value(stop)
    if i < 1 or j < 1:
        raise PrimitiveFailed()
    if i > j:
        return heap.false
    mask = ((1 << (j - i + 1)) - 1) << (i - 1)
    return boolean(heap, abs(x) & mask != 0)


# --- registration ------------------------------------------------------------------------------

def _reg(name, argc):
    return named_primitive(MODULE, name, argc=argc)


def _with_and_without_receiver(name, with_name, argc, op):
    """Register `op(heap, *operands)` as `name`, whose receiver is the first operand (and
    `argc` arguments the others), and as `with_name`, whose receiver is not an operand
    (its `argc + 1` arguments are)."""
    def on_receiver(interp, *operands):
        return op(interp.heap, *operands)

    def on_arguments(interp, rcvr, *operands):
        return op(interp.heap, *operands)
    on_receiver.__name__ = "prim_" + op.__name__
    on_arguments.__name__ = "prim_" + op.__name__ + "_with"
    _reg(name, argc)(on_receiver)
    _reg(with_name, argc + 1)(on_arguments)


_with_and_without_receiver("primDigitAdd", "primDigitAddWith", 1, digit_add)
_with_and_without_receiver("primDigitSubtract", "primDigitSubtractWith", 1, digit_subtract)
_with_and_without_receiver("primDigitMultiplyNegative", "primDigitMultiplyWithNegative", 2,
                           digit_multiply)
_with_and_without_receiver("primDigitCompare", "primDigitCompareWith", 1, digit_compare)


@_reg("primDigitDivNegative", 2)
def prim_digit_div_negative(interp, a, b, neg):
    return digit_div(interp.heap, a, b, neg)


@_reg("primDigitDivWithNegative", 3)
def prim_digit_div_with_negative(interp, rcvr, a, b, neg):
    return digit_div(interp.heap, a, b, neg, check_normalized=False)


def _digit_bit_logic(name, op):
    """Register `name`: bit operation `op` (1 and, 2 or, 3 xor) of the receiver and the argument."""
    def fn(interp, a, b):
        return _bit_logic(interp.heap, a, b, op)
    fn.__name__ = "prim_digit_bit_logic_%d" % op
    _reg(name, 1)(fn)


_digit_bit_logic("primDigitBitAnd", 1)
_digit_bit_logic("primDigitBitOr", 2)
_digit_bit_logic("primDigitBitXor", 3)


@_reg("primDigitBitLogicWithOp", 3)
def prim_digit_bit_logic_with_op(interp, rcvr, a, b, op):
    return _bit_logic(interp.heap, a, b, small_value(op))


@_reg("primDigitBitShift", 1)
@_reg("primDigitBitShiftMagnitude", 1)
def prim_digit_bit_shift_magnitude(interp, a, shift):
    return digit_shift_magnitude(interp.heap, a, shift)


@_reg("primAnyBitFromTo", 2)
def prim_any_bit_from_to(interp, a, start, stop):
    return any_bit(interp.heap, a, start, stop)


@_reg("primNormalizePositive", 0)
def prim_normalize_positive(interp, rcvr):
    heap = interp.heap
    if rcvr.__class__ is not SqObject or rcvr.cls is not heap.specials.ptrs[S.CLASS_LARGE_POSITIVE_INTEGER]:
        raise PrimitiveFailed()
    return integer_object(heap, int_value(heap, rcvr))


@_reg("primNormalizeNegative", 0)
def prim_normalize_negative(interp, rcvr):
    heap = interp.heap
    if rcvr.__class__ is not SqObject or rcvr.cls is not large_negative_class(heap):
        raise PrimitiveFailed()
    return integer_object(heap, int_value(heap, rcvr))


@_reg("primNormalize", 1)
def prim_normalize(interp, rcvr, a):
    heap = interp.heap
    return integer_object(heap, int_value(heap, a))


@_reg("primAsLargeInteger", 1)
def prim_as_large_integer(interp, rcvr, a):
    heap = interp.heap
    x = int_value(heap, a)
    if a.__class__ is not int:
        return a
    return _large(heap, x < 0, abs(x))


@_reg("primCheckIfCModuleExists", 0)
def prim_check_if_c_module_exists(interp, rcvr):
    return interp.heap.true


@_reg("primGetModuleName", 0)
def prim_get_module_name(interp, rcvr):
    return interp.heap.new_string(MODULE_NAME)
