"""Arithmetic primitives: SmallInteger (1-17), makePoint (18), LargeInteger (20-39), Float (40-59).

Semantics follow the C interpreter VM (Debian squeak-vm 4.10, the oracle):
- 1-13 take two SmallIntegers and fail when the result does not fit in 31 bits
  (the image's fallback code then answers a LargeInteger); 10 (/) fails unless exact;
  7 (=) and 8 (~=) also compare non-negative 32-bit values (LargePositiveIntegers of at
  most 4 bytes, normalised or not), as the C VM does.
- 14-17 work on non-negative 32-bit values (SmallIntegers >= 0 or LargePositiveIntegers of
  at most 4 bytes) and answer SmallInteger or LargePositiveInteger; negative operands fail.
- 21-33 accept any integers whose values fit a signed 64-bit int and fail when the result
  does not; 34-36 work on non-negative 64-bit values. 20 (rem:) and 37 (bitShift:) are not
  primitives of that VM (they fail there), so they are not registered: the image's code runs.
- 40-50 accept a Float or a SmallInteger for receiver and argument (40: SmallInteger only);
  51-59 need a Float receiver. Results are IEEE doubles as C computes them (overflow gives
  infinities, log of 0 is -inf, of a negative number NaN); 50 fails on a zero divisor,
  51 when the truncated value is not a SmallInteger, 55 on negative or NaN receivers.
"""
from __future__ import annotations

import math
import operator

from ..memory.objects import FLAG_IMMUTABLE, FMT_IMMEDIATE
from .base import PRIMITIVES, PrimitiveFailed, primitive, raw_primitive
from .values import (
    MAX_SMALL, MIN_SMALL, float_or_small_value, float_value, new_float, new_point,
    positive32_object, positive32_value, integer_object, int_value, is_float, small_value,
)

_MIN64 = -0x8000000000000000
_MAX64 = 0x7FFFFFFFFFFFFFFF
_MAXU64 = 0xFFFFFFFFFFFFFFFF


# --- SmallInteger 1-13 (hot: written out against the raw convention) ------------------

def _two_smalls(op):
    def prim(interp, argc):
        if argc != 1:
            return False
        stack = interp.stack
        sp = interp.sp
        a = stack[sp - 1]
        b = stack[sp]
        if a.__class__ is not int or b.__class__ is not int:
            return False
        r = op(a, b)
        if r is None:
            return False
        if not MIN_SMALL <= r <= MAX_SMALL:         # 31 bits; 61 in 64-bit Spur images
            family = interp.heap.family
            if not family.small_int_min <= r <= family.small_int_max:
                return False
        interp.pop_push(2, r)
        return True
    prim.__name__ = op.__name__
    return prim


# The operations answer the exact result (None to fail); the caller checks that it is a
# SmallInteger of the image's family (1-13) or a signed 64-bit integer (21-33).

def small_add(a, b):
    return a + b


def small_subtract(a, b):
    return a - b


def small_multiply(a, b):
    return a * b


def small_divide(a, b):
    """/ : only exact quotients."""
    if b == 0 or a % b:
        return None
    return a // b


def small_mod(a, b):
    """\\\\ : remainder of floored division (sign of the divisor)."""
    if b == 0:
        return None
    return a % b


def small_div(a, b):
    """// : floored quotient."""
    if b == 0:
        return None
    return a // b


def quo(a, b):
    """Quotient truncated toward zero (b != 0)."""
    q = a // b
    if q < 0 and q * b != a:
        q += 1
    return q


def rem(a, b):
    """Remainder of the truncated division (sign of the dividend)."""
    return a - quo(a, b) * b


def small_quo(a, b):
    if b == 0:
        return None
    return quo(a, b)


def _compare(op, widen=None):
    """A comparison of two SmallIntegers; with `widen`, other operands are first converted
    by it (failing the primitive when it fails)."""
    def prim(interp, argc):
        if argc != 1:
            return False
        stack = interp.stack
        sp = interp.sp
        a = stack[sp - 1]
        b = stack[sp]
        heap = interp.heap
        if a.__class__ is not int or b.__class__ is not int:
            if widen is None:
                return False
            try:
                a = widen(heap, a)
                b = widen(heap, b)
            except PrimitiveFailed:
                return False
        interp.pop_push(2, heap.true if op(a, b) else heap.false)
        return True
    return prim


raw_primitive(1)(_two_smalls(small_add))
raw_primitive(2)(_two_smalls(small_subtract))
raw_primitive(3)(_compare(operator.lt))
raw_primitive(4)(_compare(operator.gt))
raw_primitive(5)(_compare(operator.le))
raw_primitive(6)(_compare(operator.ge))


# 7 (=) and 8 (~=) also compare positive 32-bit values (non-negative SmallIntegers and
# LargePositiveIntegers of at most 4 bytes, normalised or not), as the C VM's
# compare31or32Bits:equal: (LargePositiveInteger>>= uses 7 in Squeak 2.x/3.x)
raw_primitive(7)(_compare(operator.eq, positive32_value))
raw_primitive(8)(_compare(operator.ne, positive32_value))
raw_primitive(9)(_two_smalls(small_multiply))
raw_primitive(10)(_two_smalls(small_divide))
raw_primitive(11)(_two_smalls(small_mod))
raw_primitive(12)(_two_smalls(small_div))
raw_primitive(13)(_two_smalls(small_quo))


# --- bit operations 14-17 on positive 32-bit values --------------------------------

def _bitwise(index, op, operand, answer, name):
    """Register primitive `index`: `op` (a C-level operator) on the receiver's and the
    argument's values as `operand` reads them (failing where it fails), answered as
    `answer` makes it."""
    def fn(interp, rcvr, arg):
        heap = interp.heap
        return answer(heap, op(operand(heap, rcvr), operand(heap, arg)))
    fn.__name__ = name
    primitive(index, argc=1)(fn)


_bitwise(14, operator.and_, positive32_value, positive32_object, "bit_and")
_bitwise(15, operator.or_, positive32_value, positive32_object, "bit_or")
_bitwise(16, operator.xor, positive32_value, positive32_object, "bit_xor")


@primitive(17, argc=1)
def bit_shift(interp, rcvr, arg):
    """Left shifts may not lose bits beyond 32; shift counts beyond 31 fail."""
    heap = interp.heap
    value = positive32_value(heap, rcvr)
    shift = small_value(arg)
    if shift >= 0:
        if shift > 31:
            raise PrimitiveFailed()
        shifted = value << shift
        if shifted > 0xFFFFFFFF:
            raise PrimitiveFailed()
    else:
        if shift < -31:
            raise PrimitiveFailed()
        shifted = value >> -shift
    return positive32_object(heap, shifted)


@primitive(18, argc=1)
def make_point(interp, rcvr, arg):
    """x @ y: the receiver must be a SmallInteger or a Float; the argument is stored as is."""
    heap = interp.heap
    if rcvr.__class__ is not int and not is_float(heap, rcvr):
        raise PrimitiveFailed()
    return new_point(heap, rcvr, arg)


# --- LargeInteger 20-39 (signed 64-bit range) ---------------------------------------

def _signed64(heap, obj) -> int:
    value = int_value(heap, obj)
    if _MIN64 <= value <= _MAX64:
        return value
    raise PrimitiveFailed()


def _unsigned64(heap, obj) -> int:
    value = int_value(heap, obj)
    if 0 <= value <= _MAXU64:
        return value
    raise PrimitiveFailed()


def _answer64(heap, value):
    if _MIN64 <= value <= _MAX64:
        return integer_object(heap, value)
    raise PrimitiveFailed()


def _large_binary(index, op):
    """Register primitive `index`: SmallInteger operation `op` (None to fail) on any
    integers of the signed 64-bit range, failing when the result leaves it."""
    def fn(interp, rcvr, arg):
        heap = interp.heap
        r = op(_signed64(heap, rcvr), _signed64(heap, arg))
        if r is None:
            raise PrimitiveFailed()
        return _answer64(heap, r)
    fn.__name__ = "large_" + op.__name__[len("small_"):]
    primitive(index, argc=1)(fn)


_large_binary(21, small_add)
_large_binary(22, small_subtract)
_large_binary(29, small_multiply)
_large_binary(30, small_divide)
_large_binary(31, small_mod)
_large_binary(32, small_div)
_large_binary(33, small_quo)


def _large_compare(index, op, name):
    def fn(interp, rcvr, arg):
        heap = interp.heap
        return heap.true if op(_signed64(heap, rcvr), _signed64(heap, arg)) else heap.false
    fn.__name__ = name
    primitive(index, argc=1)(fn)


_large_compare(23, operator.lt, "large_less")
_large_compare(24, operator.gt, "large_greater")
_large_compare(25, operator.le, "large_less_or_equal")
_large_compare(26, operator.ge, "large_greater_or_equal")
_large_compare(27, operator.eq, "large_equal")
_large_compare(28, operator.ne, "large_not_equal")


_bitwise(34, operator.and_, _unsigned64, integer_object, "large_bit_and")
_bitwise(35, operator.or_, _unsigned64, integer_object, "large_bit_or")
_bitwise(36, operator.xor, _unsigned64, integer_object, "large_bit_xor")


@primitive(38, argc=1)
def float_at(interp, rcvr, index):
    """Float basicAt: 1 (most significant word) or 2."""
    heap = interp.heap
    if not is_float(heap, rcvr) or index.__class__ is not int or not 1 <= index <= 2:
        raise PrimitiveFailed()
    return positive32_object(heap, rcvr.words[index - 1])


@primitive(39, argc=2)
def float_at_put(interp, rcvr, index, value):
    heap = interp.heap
    if not is_float(heap, rcvr) or index.__class__ is not int or not 1 <= index <= 2 \
            or rcvr.fmt == FMT_IMMEDIATE or rcvr.flags & FLAG_IMMUTABLE:
        raise PrimitiveFailed()
    word = positive32_value(heap, value)
    rcvr.words[index - 1] = word
    return value


# --- Float 40-59 ----------------------------------------------------------------------

@primitive(40, argc=0)
def as_float(interp, rcvr):
    if rcvr.__class__ is not int:
        raise PrimitiveFailed()
    return new_float(interp.heap, float(rcvr))


def _float_binary(index, op, name):
    def fn(interp, rcvr, arg):
        heap = interp.heap
        return new_float(heap, op(float_or_small_value(heap, rcvr), float_or_small_value(heap, arg)))
    fn.__name__ = name
    primitive(index, argc=1)(fn)


def _float_compare(index, op, name):
    def fn(interp, rcvr, arg):
        heap = interp.heap
        if op(float_or_small_value(heap, rcvr), float_or_small_value(heap, arg)):
            return heap.true
        return heap.false
    fn.__name__ = name
    primitive(index, argc=1)(fn)


def float_divide(a, b):
    if b == 0.0:
        raise PrimitiveFailed()
    return a / b


_float_binary(41, lambda a, b: a + b, "float_add")
_float_binary(42, lambda a, b: a - b, "float_subtract")
_float_compare(43, lambda a, b: a < b, "float_less")
_float_compare(44, lambda a, b: a > b, "float_greater")
_float_compare(45, lambda a, b: a <= b, "float_less_or_equal")
_float_compare(46, lambda a, b: a >= b, "float_greater_or_equal")
_float_compare(47, lambda a, b: a == b, "float_equal")
_float_compare(48, lambda a, b: a != b, "float_not_equal")
_float_binary(49, lambda a, b: a * b, "float_multiply")
_float_binary(50, float_divide, "float_divide")


@primitive(51, argc=0)
def float_truncated(interp, rcvr):
    x = float_value(interp.heap, rcvr)
    if x != x or x in (math.inf, -math.inf):
        raise PrimitiveFailed()
    t = math.modf(x)[1]
    family = interp.heap.family
    if not family.small_int_min <= t <= family.small_int_max:
        raise PrimitiveFailed()
    return int(t)


@primitive(52, argc=0)
def float_fraction_part(interp, rcvr):
    """C modf: the fraction keeps the receiver's sign (-3.5 -> -0.5)."""
    heap = interp.heap
    return new_float(heap, math.modf(float_value(heap, rcvr))[0])


@primitive(53, argc=0)
def float_exponent(interp, rcvr):
    """frexp exponent - 1 (0.0 answers -1, as C's frexp gives 0 for it)."""
    x = float_value(interp.heap, rcvr)
    if x != x or x in (math.inf, -math.inf):
        return -1
    return math.frexp(x)[1] - 1


def ldexp(x: float, n: int) -> float:
    """C ldexp: overflow gives a signed infinity, underflow a signed zero."""
    try:
        return math.ldexp(x, n)
    except OverflowError:
        return math.copysign(math.inf, x)


@primitive(54, argc=1)
def float_times_two_power(interp, rcvr, arg):
    heap = interp.heap
    x = float_value(heap, rcvr)
    return new_float(heap, ldexp(x, small_value(arg)))


@primitive(55, argc=0)
def float_sqrt(interp, rcvr):
    heap = interp.heap
    x = float_value(heap, rcvr)
    if not x >= 0.0:
        raise PrimitiveFailed()
    return new_float(heap, math.sqrt(x))


def c_sin(x: float) -> float:
    if x != x or x in (math.inf, -math.inf):
        return math.nan
    return math.sin(x)


def c_log(x: float) -> float:
    if x != x:
        return x
    if x == 0.0:
        return -math.inf
    if x < 0.0:
        return math.nan
    if x == math.inf:
        return x
    return math.log(x)


def c_exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _float_unary(index, fn, name):
    def prim(interp, rcvr):
        heap = interp.heap
        return new_float(heap, fn(float_value(heap, rcvr)))
    prim.__name__ = name
    primitive(index, argc=0)(prim)


_float_unary(56, c_sin, "float_sin")
_float_unary(57, math.atan, "float_arctan")
_float_unary(58, c_log, "float_ln")
_float_unary(59, c_exp, "float_exp")


def _small_float_primitive(float_prim):
    """The SmallFloat64 variant (index + 500) of a Float primitive: the same operation,
    only in 64-bit Spur images (no such primitive elsewhere)."""
    def prim(interp, argc):
        if not interp.heap.family.has_small_floats:
            return False
        return float_prim(interp, argc)
    prim.__name__ = "small_" + float_prim.__name__
    return prim


for _i in range(41, 60):
    if _i in PRIMITIVES:
        PRIMITIVES[500 + _i] = _small_float_primitive(PRIMITIVES[_i])
