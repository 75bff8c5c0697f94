"""What differs between image families in the object model, behind one interface.

A heap has a family (`Heap.family`): V3 (32-bit), Spur 32-bit or Spur 64-bit. The family
knows the word size, the SmallInteger range, how a class's format word and a compiled
method's header are laid out, and where a method's bytecodes start; the interpreter,
primitives, mirrors and tools ask the family instead of knowing the bits themselves.
"""
from __future__ import annotations

from .objects import (
    FMT_BYTES, FMT_DOUBLE_WORDS, FMT_EPHEMERON, FMT_IMMEDIATE, FMT_METHOD, FMT_SHORTS, FMT_WORDS,
    format_compact_index, format_inst_size, format_inst_spec, make_format_value,
    make_method_header, make_spur_format_value, make_spur_method_header, method_large_frame,
    method_num_args, method_num_literals, method_num_temps, method_primitive,
    spur_format_inst_size, spur_format_inst_spec, spur_method_alternate_bytecodes,
    spur_method_num_literals, spur_method_primitive,
)

CALL_PRIMITIVE = 139       # the V3PlusClosures bytecode that names a Spur method's primitive


class V3Family:
    """V3 images (6502, 6504, 6505): 32-bit words, 31-bit SmallIntegers, 12-bit hashes,
    compact classes, the primitive number in the method header."""

    name = "V3"
    is_spur = False
    word_size = 4
    hash_bits = 12
    small_int_min = -0x40000000
    small_int_max = 0x3FFFFFFF
    has_immediate_characters = False
    has_small_floats = False
    method_format = "V3"            # the compiled-method header layout (transplant compares it)
    max_primitive = 1023            # 10 bits of the method header
    quick_methods_have_bytecodes = False

    # --- class format word ---------------------------------------------------
    def class_inst_spec(self, fmt_value: int) -> int:
        """The instance specification as the class stores it (0-15)."""
        return format_inst_spec(fmt_value)

    def class_inst_size(self, fmt_value: int) -> int:
        return format_inst_size(fmt_value)

    def class_compact_index(self, fmt_value: int) -> int:
        return format_compact_index(fmt_value)

    def object_format(self, spec: int):
        """ozvm's storage format (objects.FMT_*) for instances of a class whose format
        word holds instance specification `spec`; None if no object can have it."""
        if spec <= 4 or spec == FMT_WORDS:
            return spec
        if 8 <= spec < 12:
            return FMT_BYTES
        if spec >= 12:
            return FMT_METHOD
        return None

    def make_class_format(self, fmt: int, inst_size: int, compact_index: int = 0) -> int:
        return make_format_value(fmt, inst_size, compact_index)

    # --- compiled methods ----------------------------------------------------------
    def method_num_literals(self, header: int) -> int:
        return method_num_literals(header)

    def method_num_args(self, header: int) -> int:
        return method_num_args(header)

    def method_num_temps(self, header: int) -> int:
        return method_num_temps(header)

    def method_large_frame(self, header: int) -> bool:
        return method_large_frame(header)

    def method_primitive(self, method) -> int:
        return method_primitive(method.ptrs[0])

    def method_alternate_bytecodes(self, header: int) -> bool:
        return False

    def make_method_header(self, num_args: int, num_temps: int, num_literals: int,
                           primitive: int = 0, large_frame: bool = False) -> int:
        return make_method_header(num_args, num_temps, num_literals, primitive, large_frame)

    def method_prologue(self, primitive: int) -> bytes:
        """The bytecodes a method with `primitive` starts with (none: it is in the header)."""
        return b""

    def pc_offset(self, method) -> int:
        """A context's stored pc minus the 0-based index of the bytecode it designates."""
        return self.word_size * len(method.ptrs) + 1


class SpurFamily(V3Family):
    """Spur images (6521 32-bit, 68021 64-bit): class indices, 22-bit hashes, immediate
    Characters (and SmallFloat64s on 64-bit), the primitive in a callPrimitive bytecode."""

    is_spur = True
    hash_bits = 22
    has_immediate_characters = True
    method_format = "Spur"
    max_primitive = 0xFFFF          # the two operand bytes of callPrimitive
    quick_methods_have_bytecodes = True     # callPrimitive 256-519, then the same in bytecodes

    def __init__(self, word_size: int):
        self.word_size = word_size
        self.name = "Spur %d-bit" % (8 * word_size)
        bits = 8 * word_size - (1 if word_size == 4 else 3)
        self.small_int_min = -(1 << (bits - 1))
        self.small_int_max = (1 << (bits - 1)) - 1
        self.has_small_floats = word_size == 8

    def class_inst_spec(self, fmt_value: int) -> int:
        return spur_format_inst_spec(fmt_value)

    def class_inst_size(self, fmt_value: int) -> int:
        return spur_format_inst_size(fmt_value)

    def class_compact_index(self, fmt_value: int) -> int:
        return 0

    def object_format(self, spec: int):
        if spec <= 4 or spec == 5:
            return FMT_EPHEMERON if spec == 5 else spec
        if spec == 7:
            return FMT_IMMEDIATE
        if spec == 9:
            return FMT_DOUBLE_WORDS
        if spec in (10, 11):
            return FMT_WORDS
        if 12 <= spec < 16:
            return FMT_SHORTS
        if 16 <= spec < 24:
            return FMT_BYTES
        if spec >= 24:
            return FMT_METHOD
        return None

    def make_class_format(self, fmt: int, inst_size: int, compact_index: int = 0) -> int:
        spec = {FMT_EPHEMERON: 5, FMT_IMMEDIATE: 7, FMT_DOUBLE_WORDS: 9, FMT_WORDS: 10,
                FMT_SHORTS: 12, FMT_BYTES: 16, FMT_METHOD: 24}.get(fmt, fmt)
        return make_spur_format_value(spec, inst_size)

    def method_num_literals(self, header: int) -> int:
        return spur_method_num_literals(header)

    def method_primitive(self, method) -> int:
        return spur_method_primitive(method.ptrs[0], method.bytes)

    def method_alternate_bytecodes(self, header: int) -> bool:
        return spur_method_alternate_bytecodes(header)

    def make_method_header(self, num_args: int, num_temps: int, num_literals: int,
                           primitive: int = 0, large_frame: bool = False) -> int:
        """The header of a method whose bytecodes start with callPrimitive when `primitive`."""
        return make_spur_method_header(num_args, num_temps, num_literals, bool(primitive),
                                       large_frame, False, self.small_int_min)

    def method_prologue(self, primitive: int) -> bytes:
        """callPrimitive (139, the number little-endian) when the method has a primitive."""
        if not primitive:
            return b""
        return bytes((CALL_PRIMITIVE, primitive & 0xFF, primitive >> 8))


V3 = V3Family()
SPUR32 = SpurFamily(4)
SPUR64 = SpurFamily(8)


def family_of_version(version) -> V3Family:
    """The family of an image format version (V3 when unknown, e.g. a new heap)."""
    if version in (6521, 6519):
        return SPUR32
    if version in (68021, 68019):
        return SPUR64
    return V3
