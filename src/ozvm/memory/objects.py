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
    words  list of 32-bit unsigned ints for word objects (format 6); else None.
           A Float is a word object of two words, most significant word first.
    cache  free for the interpreter (e.g. a decoded compiled method); never saved
"""
from __future__ import annotations

import struct

FMT_EMPTY = 0        # no fields
FMT_FIXED = 1        # named pointer fields only
FMT_VAR = 2          # indexable pointer fields only
FMT_FIXED_VAR = 3    # named and indexable pointer fields
FMT_WEAK = 4         # named and weak indexable pointer fields
FMT_WORDS = 6        # indexable 32-bit words
FMT_BYTES = 8        # indexable bytes (8-11 in a file: low bits give the unused bytes)
FMT_METHOD = 12      # compiled method: header and literals, then bytes (12-15 in a file)

FORMAT_NAMES = {
    FMT_EMPTY: "empty", FMT_FIXED: "fixed pointers", FMT_VAR: "indexable pointers",
    FMT_FIXED_VAR: "fixed+indexable pointers", FMT_WEAK: "weak pointers",
    FMT_WORDS: "words", FMT_BYTES: "bytes", FMT_METHOD: "compiled method",
}


class SqObject:
    """A guest object that is not a SmallInteger."""

    __slots__ = ("cls", "hash", "fmt", "ptrs", "bytes", "words", "cache")

    def __init__(self, cls, fmt, hash=0, ptrs=None, bytes=None, words=None):
        self.cls = cls
        self.hash = hash
        self.fmt = fmt
        self.ptrs = ptrs
        self.bytes = bytes
        self.words = words
        self.cache = None

    # --- shape -----------------------------------------------------------
    def is_pointers(self) -> bool:
        return self.fmt <= FMT_WEAK

    def is_bytes(self) -> bool:
        return self.fmt == FMT_BYTES

    def is_words(self) -> bool:
        return self.fmt == FMT_WORDS

    def is_method(self) -> bool:
        return self.fmt == FMT_METHOD

    def body_words(self) -> int:
        """Size of the body in 32-bit words, as in a V3 image (header words excluded)."""
        fmt = self.fmt
        if fmt <= FMT_WEAK:
            return len(self.ptrs)
        if fmt == FMT_WORDS:
            return len(self.words)
        if fmt == FMT_BYTES:
            return (len(self.bytes) + 3) // 4
        return len(self.ptrs) + (len(self.bytes) + 3) // 4

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
