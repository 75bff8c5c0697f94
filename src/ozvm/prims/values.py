"""Conversions between guest objects and host values that primitives share.

SmallIntegers (V3: 31 bits, -2**30 .. 2**30-1) are Python ints. Integers outside that
range are LargePositiveInteger / LargeNegativeInteger byte objects holding the magnitude
little-endian, normalised (no high zero bytes). Floats are two-word objects (most
significant word first). Every `*_value` function raises PrimitiveFailed when the object
is not of the expected kind, so a simple primitive fails the way the C VM's does.
"""
from __future__ import annotations

import struct
import weakref

from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_EPHEMERON, FMT_IMMEDIATE, SqObject
from .base import PrimitiveFailed

MIN_SMALL = -0x40000000
MAX_SMALL = 0x3FFFFFFF

_DOUBLE = struct.Struct(">d")
_TWO_WORDS = struct.Struct(">II")


# --- SmallIntegers and LargeIntegers -------------------------------------------------

def small_value(obj) -> int:
    """The value of a SmallInteger argument (fail otherwise)."""
    if obj.__class__ is int:
        return obj
    raise PrimitiveFailed()


_large_negative: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def large_negative_class(heap):
    """LargeNegativeInteger: special object 42, or (Squeak 2.2, whose specials array is
    shorter) the subclass of LargePositiveInteger's superclass hierarchy named so.
    None if the image has no such class."""
    sp = heap.specials.ptrs
    if len(sp) > S.CLASS_LARGE_NEGATIVE_INTEGER:
        cls = sp[S.CLASS_LARGE_NEGATIVE_INTEGER]
        if cls is not heap.nil:
            return cls
    try:
        return _large_negative[heap]
    except KeyError:
        pass
    found = _find_class_named(heap, b"LargeNegativeInteger")
    _large_negative[heap] = found
    return found


def _find_class_named(heap, name: bytes):
    symbol_class = heap.special(S.SELECTOR_DOES_NOT_UNDERSTAND).cls
    lpi = heap.special(S.CLASS_LARGE_POSITIVE_INTEGER)
    for obj in heap.all_objects():
        ptrs = obj.ptrs
        if ptrs is None or len(ptrs) < 7 or obj.fmt > 4 or ptrs[2].__class__ is not int:
            continue
        # a class: superclass methodDict format ...; look for its name symbol
        if ptrs[0] is not lpi and ptrs[0] is not lpi.ptrs[0]:
            continue
        for p in ptrs[3:]:
            if p.__class__ is SqObject and p.cls is symbol_class and p.bytes == name:
                return obj
    return None


def int_value(heap, obj) -> int:
    """The value of a SmallInteger, LargePositiveInteger or LargeNegativeInteger."""
    if obj.__class__ is int:
        return obj
    if obj.__class__ is SqObject and obj.fmt == FMT_BYTES:
        cls = obj.cls
        if cls is heap.specials.ptrs[S.CLASS_LARGE_POSITIVE_INTEGER]:
            return int.from_bytes(obj.bytes, "little")
        if cls is large_negative_class(heap):
            return -int.from_bytes(obj.bytes, "little")
    raise PrimitiveFailed()


def positive32_value(heap, obj) -> int:
    """A non-negative SmallInteger or a LargePositiveInteger of at most 4 bytes
    (the C VM's positive32BitValueOf:)."""
    if obj.__class__ is int:
        if obj >= 0:
            return obj
        raise PrimitiveFailed()
    if (obj.__class__ is SqObject and obj.fmt == FMT_BYTES and len(obj.bytes) <= 4
            and obj.cls is heap.specials.ptrs[S.CLASS_LARGE_POSITIVE_INTEGER]):
        return int.from_bytes(obj.bytes, "little")
    raise PrimitiveFailed()


def signed64_value(heap, obj) -> int:
    """An integer whose magnitude fits in 64 bits and whose value fits a signed 64-bit
    int (the range the C VM's large-integer primitives 21-39 work in)."""
    value = int_value(heap, obj)
    if -0x8000000000000000 <= value <= 0x7FFFFFFFFFFFFFFF:
        return value
    raise PrimitiveFailed()


def large_integer(heap, value: int) -> SqObject:
    """A new normalised LargePositive/NegativeInteger for `value` (outside SmallInteger
    range or not: no normalisation to SmallInteger here)."""
    if value >= 0:
        cls = heap.specials.ptrs[S.CLASS_LARGE_POSITIVE_INTEGER]
        mag = value
    else:
        cls = large_negative_class(heap)
        if cls is None:
            raise PrimitiveFailed()
        mag = -value
    return heap.new_bytes(cls, mag.to_bytes((mag.bit_length() + 7) // 8 or 1, "little"))


def integer_object(heap, value: int):
    """`value` as a guest integer: a SmallInteger when it fits (31 bits; 61 in 64-bit
    Spur images), else a normalised LargePositive/NegativeInteger."""
    if MIN_SMALL <= value <= MAX_SMALL:
        return value
    family = heap.family
    if family.small_int_min <= value <= family.small_int_max:
        return value
    return large_integer(heap, value)


def positive32_object(heap, value: int):
    """The C VM's positive32BitIntegerFor: (value must be 0 .. 2**32-1): a SmallInteger
    when it fits the family's range (always in 64-bit Spur images)."""
    if value <= MAX_SMALL or value <= heap.family.small_int_max:
        return value
    return large_integer(heap, value)


# --- Floats ---------------------------------------------------------------------------

def is_float(heap, obj) -> bool:
    """A Float: boxed, or (64-bit Spur) an immediate SmallFloat64."""
    return obj.__class__ is SqObject and (obj.cls is heap.specials.ptrs[S.CLASS_FLOAT]
                                          or (obj.fmt == FMT_IMMEDIATE and obj.words is not None))


def float_of(obj) -> float:
    w = obj.words
    return _DOUBLE.unpack(_TWO_WORDS.pack(w[0], w[1]))[0]


def float_value(heap, obj) -> float:
    """The value of a Float, boxed or SmallFloat64 (fail otherwise)."""
    if obj.__class__ is SqObject and (obj.cls is heap.specials.ptrs[S.CLASS_FLOAT]
                                      or (obj.fmt == FMT_IMMEDIATE and obj.words is not None)):
        w = obj.words
        return _DOUBLE.unpack(_TWO_WORDS.pack(w[0], w[1]))[0]
    raise PrimitiveFailed()


def float_or_small_value(heap, obj) -> float:
    """A Float's value, or a SmallInteger converted (the C VM's loadFloatOrIntFrom:)."""
    if obj.__class__ is int:
        return float(obj)
    return float_value(heap, obj)


def new_float(heap, value: float) -> SqObject:
    return heap.new_float(value)


# --- booleans, characters, strings ---------------------------------------------------

def boolean(heap, flag):
    return heap.true if flag else heap.false


def boolean_value(heap, obj) -> bool:
    if obj is heap.true:
        return True
    if obj is heap.false:
        return False
    raise PrimitiveFailed()


def character(heap, code: int):
    """The Character with this code (V3: the character table below 256; Spur: the
    immediate Character)."""
    return heap.character(code)


def character_value(heap, obj) -> int:
    """The code of a Character (fail otherwise)."""
    if obj.__class__ is SqObject and obj.cls is heap.specials.ptrs[S.CLASS_CHARACTER]:
        code = obj.ptrs[0]
        if code.__class__ is int:
            return code
    raise PrimitiveFailed()


def bytes_value(obj) -> bytes:
    """The contents of a byte object (String, Symbol, ByteArray) as bytes (fail otherwise)."""
    if obj.__class__ is SqObject and obj.fmt == FMT_BYTES:
        return bytes(obj.bytes)
    raise PrimitiveFailed()


def string_value(obj) -> str:
    """The contents of a byte object decoded as Latin-1 text."""
    return bytes_value(obj).decode("latin-1")


def new_string(heap, text) -> SqObject:
    return heap.new_string(text)


def new_point(heap, x, y) -> SqObject:
    pt = heap.instantiate(heap.specials.ptrs[S.CLASS_POINT])
    pt.ptrs[0] = x
    pt.ptrs[1] = y
    return pt


# --- shapes ---------------------------------------------------------------------------

def is_pointers(obj) -> bool:
    return obj.__class__ is SqObject and obj.fmt <= FMT_EPHEMERON


def is_class(obj) -> bool:
    """Does `obj` look like a Behavior (superclass, methodDict, format SmallInteger ...)?"""
    return (obj.__class__ is SqObject and obj.fmt <= 4 and obj.ptrs is not None
            and len(obj.ptrs) >= 3 and obj.ptrs[2].__class__ is int)


def register_failing(*indices):
    """Register numbered primitives that exist only to fail (the C VM's answer for them),
    so that the image's fallback code runs and the interpreter sees them as known."""
    from .base import PRIMITIVES

    def fail(interp, argc):
        return False
    fail.always_fails = True        # `oz prims` reports these as failing, not as supported
    for i in indices:
        PRIMITIVES.setdefault(i, fail)
