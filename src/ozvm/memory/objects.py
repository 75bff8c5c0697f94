"""The object model: one Python object per guest object.

SmallIntegers are plain Python ints; every other guest object is a `SqObject`.
Identity is Python identity; `become:` swaps the bodies of two SqObjects.
Addresses (oops) exist only inside the image reader and writer.

A SqObject has
    cls    the class (a SqObject)
    hash   identity hash (12 bits in V3 images)
    fmt    the storage format, normalised (see FMT_* below: 8 for every byte object,
           12 for every compiled method; odd byte lengths come from len(bytes))
    ptrs   list of fields for pointer objects (formats 0-4), and for compiled
           methods the header followed by the literals; otherwise None
    bytes  bytearray for byte objects and the bytecodes of compiled methods; else None
    words  list of 32-bit unsigned ints for word objects (format 6), of 16-bit ones for
           FMT_SHORTS and 64-bit ones for FMT_DOUBLE_WORDS; else None.
           A Float is a word object of two words, most significant word first.
    cache  free for the interpreter (e.g. a decoded compiled method); never saved

Spur images add immediates besides SmallIntegers. An immediate Character or SmallFloat64 is
a SqObject too, of format FMT_IMMEDIATE, so that code written for V3 (where a Character is
an object with its value in field 0) keeps working:
    Character   ptrs [code point], hash the code point; one per code point per heap
                (`Heap.character`), so identity is Python identity as for V3's table
    SmallFloat  words [most, least significant], as a boxed Float; see `identical`
Immediates are never listed among a heap's objects and never written as objects.
Which family an object belongs to is known from its heap (`Heap.family`, families.py).
"""
from __future__ import annotations

import struct

FMT_EMPTY = 0        # no fields
FMT_FIXED = 1        # named pointer fields only
FMT_VAR = 2          # indexable pointer fields only
FMT_FIXED_VAR = 3    # named and indexable pointer fields
FMT_WEAK = 4         # named and weak indexable pointer fields
FMT_EPHEMERON = 5    # Spur: named pointer fields, an ephemeron
FMT_WORDS = 6        # indexable 32-bit words
FMT_IMMEDIATE = 7    # Spur: an immediate Character or SmallFloat64 (see above)
FMT_BYTES = 8        # indexable bytes (8-11 in a file: low bits give the unused bytes)
FMT_DOUBLE_WORDS = 9  # Spur: indexable 64-bit words
FMT_SHORTS = 10      # Spur: indexable 16-bit units
FMT_METHOD = 12      # compiled method: header and literals, then bytes (12-15 in a file)

# SqObject.flags (Spur header bits 23 and 30): primitives 163/164 and 183/184
FLAG_IMMUTABLE = 1   # read-only: stores into it fail (primitives) or are refused
FLAG_PINNED = 2      # immobile (for the FFI); ozvm never moves objects, the bit is kept

FORMAT_NAMES = {
    FMT_EMPTY: "empty", FMT_FIXED: "fixed pointers", FMT_VAR: "indexable pointers",
    FMT_FIXED_VAR: "fixed+indexable pointers", FMT_WEAK: "weak pointers",
    FMT_EPHEMERON: "ephemeron", FMT_WORDS: "words", FMT_IMMEDIATE: "immediate",
    FMT_BYTES: "bytes", FMT_DOUBLE_WORDS: "64-bit words", FMT_SHORTS: "16-bit words",
    FMT_METHOD: "compiled method",
}


class SqObject:
    """A guest object that is not a SmallInteger."""

    # __weakref__: the heap's memory account tracks big objects by weak reference
    # flags: Spur header bits that stay with the object's identity (FLAG_IMMUTABLE,
    # FLAG_PINNED; a copy has none, become: does not move them)
    __slots__ = ("cls", "hash", "fmt", "ptrs", "bytes", "words", "cache", "flags", "__weakref__")

    def __init__(self, cls, fmt, hash=0, ptrs=None, bytes=None, words=None):
        self.cls = cls
        self.hash = hash
        self.fmt = fmt
        self.ptrs = ptrs
        self.bytes = bytes
        self.words = words
        self.cache = None
        self.flags = 0

    # --- shape -----------------------------------------------------------
    def is_pointers(self) -> bool:
        return self.fmt <= FMT_EPHEMERON

    def is_immediate(self) -> bool:
        return self.fmt == FMT_IMMEDIATE

    def is_bytes(self) -> bool:
        return self.fmt == FMT_BYTES

    def is_words(self) -> bool:
        return self.fmt == FMT_WORDS

    def is_method(self) -> bool:
        return self.fmt == FMT_METHOD

    def body_words(self) -> int:
        """Size of the body in 32-bit words, as in a V3 image (header words excluded)."""
        fmt = self.fmt
        if fmt <= FMT_EPHEMERON:
            return len(self.ptrs)
        if fmt == FMT_WORDS:
            return len(self.words)
        if fmt == FMT_BYTES:
            return (len(self.bytes) + 3) // 4
        if fmt == FMT_METHOD:
            return len(self.ptrs) + (len(self.bytes) + 3) // 4
        if fmt == FMT_DOUBLE_WORDS:
            return 2 * len(self.words)
        if fmt == FMT_SHORTS:
            return (len(self.words) + 1) // 2
        return 0

    def become(self, other: "SqObject") -> None:
        """Two-way become: swap the bodies (class, hash, format, contents) of two objects."""
        for name in ("cls", "hash", "fmt", "ptrs", "bytes", "words", "cache"):
            a = getattr(self, name)
            setattr(self, name, getattr(other, name))
            setattr(other, name, a)

    def __repr__(self) -> str:
        return "<SqObject fmt=%d hash=%d>" % (self.fmt, self.hash)


# --- Floats: two words, most significant first ------------------------------
_DOUBLE = struct.Struct(">d")
_TWO_WORDS = struct.Struct(">II")


def identical(a, b) -> bool:
    """Smalltalk `==`: Python identity, except that two immediate SmallFloats of the same
    value are one object (Characters are made unique by their heap)."""
    if a is b:
        return True
    if a.__class__ is int:
        return b.__class__ is int and a == b
    return (a.__class__ is SqObject and b.__class__ is SqObject and a.fmt == FMT_IMMEDIATE
            and b.fmt == FMT_IMMEDIATE and a.cls is b.cls and a.words is not None
            and a.words == b.words)


def float_of_words(words) -> float:
    return _DOUBLE.unpack(_TWO_WORDS.pack(words[0], words[1]))[0]


def words_of_float(value: float) -> list:
    return list(_TWO_WORDS.unpack(_DOUBLE.pack(value)))


# --- Class format word (Behavior>>format, a SmallInteger) ------------------------
# value bits: 0 always 0, 1-6 instSize+1 low, 7-10 instSpec, 11-15 compact class index,
# 16-17 (instSize+1) // 64

def format_inst_spec(fmt_value: int) -> int:
    return (fmt_value >> 7) & 0xF


def format_inst_size(fmt_value: int) -> int:
    return ((fmt_value >> 10) & 0xC0) + ((fmt_value >> 1) & 0x3F) - 1


def format_compact_index(fmt_value: int) -> int:
    return (fmt_value >> 11) & 0x1F


def make_format_value(inst_spec: int, inst_size: int, compact_index: int = 0) -> int:
    """The Behavior format SmallInteger for a class with these instances."""
    size = inst_size + 1
    return ((size & 0xC0) << 10) | (compact_index << 11) | (inst_spec << 7) | ((size & 0x3F) << 1)


# --- CompiledMethod header (V3, the first literal slot) ---------------------------

def method_num_literals(header: int) -> int:
    return (header >> 9) & 0xFF


def method_num_args(header: int) -> int:
    return (header >> 24) & 0xF


def method_num_temps(header: int) -> int:
    return (header >> 18) & 0x3F


def method_large_frame(header: int) -> bool:
    return bool((header >> 17) & 1)


def method_primitive(header: int) -> int:
    return (header & 0x1FF) | ((header >> 19) & 0x200)


def make_method_header(num_args: int, num_temps: int, num_literals: int,
                       primitive: int = 0, large_frame: bool = False) -> int:
    return ((num_args & 0xF) << 24) | ((num_temps & 0x3F) << 18) | (int(large_frame) << 17) \
        | ((num_literals & 0xFF) << 9) | (primitive & 0x1FF) | ((primitive & 0x200) << 19)


# --- Spur: class format word (Behavior>>format) -------------------------------------
# value bits: 0-15 instSize, 16-20 instSpec (the Spur object format, 0-31)

def spur_format_inst_spec(fmt_value: int) -> int:
    return (fmt_value >> 16) & 0x1F


def spur_format_inst_size(fmt_value: int) -> int:
    return fmt_value & 0xFFFF


def make_spur_format_value(inst_spec: int, inst_size: int) -> int:
    return (inst_spec << 16) | inst_size


# --- Spur: CompiledMethod header (a SmallInteger, the first literal slot) -------------
# bits 0-14 numLiterals, 16 has primitive (its number is in the first bytecode,
# callPrimitive: the two bytes after it, little-endian), 17 large frame, 18-23 numTemps,
# 24-27 numArgs; a negative header selects the alternate bytecode set (Sista V1).

def spur_method_num_literals(header: int) -> int:
    return header & 0x7FFF


def spur_method_has_primitive(header: int) -> bool:
    return bool(header & 0x10000)


def spur_method_primitive(header: int, code) -> int:
    if not header & 0x10000 or len(code) < 3:
        return 0
    return code[1] | (code[2] << 8)


def spur_method_alternate_bytecodes(header: int) -> bool:
    return header < 0


def make_spur_method_header(num_args: int, num_temps: int, num_literals: int,
                            has_primitive: bool = False, large_frame: bool = False,
                            alternate: bool = False, small_int_min: int = -0x40000000) -> int:
    value = ((num_args & 0xF) << 24) | ((num_temps & 0x3F) << 18) | (int(large_frame) << 17) \
        | (int(has_primitive) << 16) | (num_literals & 0x7FFF)
    return value + small_int_min if alternate else value


# --- Spur 64: SmallFloat64 immediates -------------------------------------------------
# The 64 bits of the double rotated left by one (sign to bit 0), the 11-bit exponent
# rebased to 8 bits (minus 896), shifted over the 3 tag bits (tag 4). Only doubles with
# an exponent in 897..1151, and +/-0.0, are immediate; others are boxed Floats.
_SMALLFLOAT_OFFSET = 896 << 53
_MASK64 = (1 << 64) - 1


def small_float_bits(oop: int) -> int:
    """The IEEE bits of the double a SmallFloat64 oop encodes."""
    rot = oop >> 3
    if rot > 1:
        rot += _SMALLFLOAT_OFFSET
    return (rot >> 1) | ((rot & 1) << 63)


def small_float_oop(bits: int):
    """The SmallFloat64 oop of the double with these IEEE bits, or None if it must be boxed."""
    if bits & ~(1 << 63) & _MASK64:
        exponent = (bits >> 52) & 0x7FF
        if not 896 < exponent < 1152:
            return None
    rot = ((bits << 1) & _MASK64) | (bits >> 63)
    if rot > 1:
        rot -= _SMALLFLOAT_OFFSET
    return (rot << 3) | 4
