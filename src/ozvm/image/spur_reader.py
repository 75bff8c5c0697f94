"""Reading Spur image files: 6521 (32-bit) and 68021 (64-bit), little-endian (the only byte
order Spur has: NO_BIG_ENDIAN_SPUR).

File layout: an image header (version, header size, then in words of the image's size:
data size, old base address, special objects oop, last hash, saved window size, flags,
four 32-bit VM parameters, first segment size, free old space), then the object memory as
it was at `old base address`, in one or more segments. Every object is 8-byte aligned
and starts with a 64-bit header (in both word sizes):

    bits 0-21 class index, 23 immutable, 24-28 format, 29 remembered, 30 pinned,
    31 grey, 32-53 identity hash, 55 marked, 56-63 number of slots (255: the word
    before the header holds the number in its low 56 bits and 255 in its top byte)

followed by its slots (words of the image's size), at least 8 bytes, padded to 8.
Class indices below 32 are the VM's own: 0 free chunk, 8 forwarder (its first slot
points at the object it became), 16-19 hidden objects (the free lists, the hidden roots
whose first 4096 slots are the class table's pages of 1024 classes). The first objects
are nil, false, true, the free lists and the hidden roots. Each segment ends with a
16-byte bridge: [gap to the next segment in slots, with 255 in the top byte, or a plain
header] [bytes of the next segment, 0 after the last].

Formats: 0 no fields, 1 named, 2 indexable, 3 both, 4 weak, 5 ephemeron, 7 forwarder,
9 64-bit words, 10-11 32-bit, 12-15 16-bit, 16-23 bytes, 24-31 compiled methods (the low
bits count the unused units of the last word). Oops with tag bits are immediates: 32-bit
x1 SmallInteger, 10 Character; 64-bit 001 SmallInteger, 010 Character, 100 SmallFloat64.
A compiled method's first slot is its header, a SmallInteger whose low 15 bits count
the literals after it. Words are converted to host values; bytes stay in file order;
a boxed Float's two words are normalised to most significant first.
"""
from __future__ import annotations

import struct
import sys
from array import array

from ..errors import ImageFormatError, UnsupportedImageFormat
from ..memory import specials as S
from ..memory.families import family_of_version
from ..memory.heap import ImageInfo
from ..memory.objects import (
    FLAG_IMMUTABLE, FLAG_PINNED, FMT_BYTES, FMT_DOUBLE_WORDS, FMT_EPHEMERON, FMT_METHOD,
    FMT_SHORTS, FMT_WORDS, SqObject, small_float_bits,
)
from ..memory.spur_heap import SpurHeap

_HOST_LITTLE = sys.byteorder == "little"
FORWARDER_INDEX = 8
HIDDEN_ARRAY_INDEX = 16
CLASS_TABLE_PAGES = 4096
PAGE_SIZE = 1024
OVERFLOW = 255
_M56 = (1 << 56) - 1

# Spur format -> (ozvm format, bytes per unit) for the non-pointer formats
_UNITS = {9: (FMT_DOUBLE_WORDS, 8), 10: (FMT_WORDS, 4), 12: (FMT_SHORTS, 2),
          16: (FMT_BYTES, 1), 24: (FMT_METHOD, 1)}


class _BadOop(Exception):
    pass


def header_fields(data: bytes, offset: int, word: int) -> dict:
    """The named fields of a Spur image header (`word`: 4 or 8 bytes)."""
    fmt = "<I" if word == 4 else "<Q"
    pos = offset + 8
    out = {}
    for name in ("data_size", "old_base", "specials_oop", "last_hash", "window_size", "flags"):
        out[name] = struct.unpack_from(fmt, data, pos)[0]
        pos += word
    out["last_hash"] &= 0xFFFFFFFF
    out["extra_vm_memory"] = struct.unpack_from("<I", data, pos)[0]
    pos += 16
    out["first_segment_size"] = struct.unpack_from(fmt, data, pos)[0]
    return out


def header_bytes_needed(word: int) -> int:
    return 8 + 6 * word + 16 + 2 * word


# Why ozvm has no big-endian Spur (docs/spur.md, "Byte order"): the Spur object memory is
# little-endian by design; VMMaker reads an object's slot count from byte 7 of its 64-bit
# header (SpurMemoryManager>>rawNumSlotsOf:), which holds it only in little-endian memory,
# and no Spur VM was ever built for a big-endian machine, so none ever wrote such a file.
NO_BIG_ENDIAN_SPUR = ("big-endian Spur images do not exist: Spur's object memory is little-endian "
                      "only (a VM reads an object's slot count from byte 7 of its header), no Spur VM "
                      "runs on a big-endian machine, and none ever wrote such a file")


def read_spur(data: bytes, version: int, little: bool, offset: int, path: str | None) -> SpurHeap:
    if not little:
        raise UnsupportedImageFormat("image version %d read byte-swapped: %s" % (version, NO_BIG_ENDIAN_SPUR),
                                     offset)
    family = family_of_version(version)
    word = family.word_size
    size = len(data)
    need = header_bytes_needed(word)
    if size < offset + need:
        raise ImageFormatError("truncated image header: expected %d bytes, file has %d"
                               % (need, size - offset), offset)
    header_size = struct.unpack_from("<I", data, offset + 4)[0]
    if header_size < need or header_size % 8 or header_size > 4096:
        raise ImageFormatError("inconsistent header size %d (expected a multiple of 8 between %d and 4096)"
                               % (header_size, need), offset + 4)
    fields = header_fields(data, offset, word)
    start = offset + header_size
    data_size = fields["data_size"]
    if data_size % 8 or data_size < 16:
        raise ImageFormatError("object memory size %d is not a positive multiple of 8" % data_size,
                               offset + 8)
    if start + data_size > size:
        raise ImageFormatError("truncated image: header says the object memory ends at %d, "
                               "but the file has %d bytes" % (start + data_size, size), offset + 8)
    seg = fields["first_segment_size"]
    if seg % 8 or not 16 <= seg <= data_size:
        raise ImageFormatError("first segment size %d is not a multiple of 8 between 16 and the "
                               "object memory size %d" % (seg, data_size), offset + 8 + 8 * word)
    info = ImageInfo(version=version, little_endian=True, file_offset=offset,
                     header_size=header_size, data_size=data_size, old_base=fields["old_base"],
                     specials_oop=fields["specials_oop"], last_hash=fields["last_hash"],
                     window_size=fields["window_size"], flags=fields["flags"],
                     extra_vm_memory=fields["extra_vm_memory"], header_words=[],
                     raw_header=bytes(data[offset:start]), path=path)
    units = array("Q")
    units.frombytes(memoryview(data)[start:start + data_size])     # no copy of a slice
    if not _HOST_LITTLE:
        units.byteswap()
    return _Loader(data, units, start, info, family, seg).load()


_IMMUTABLE_BIT = 1 << 23
_PINNED_BIT = 1 << 30
_FLAG_BITS = _IMMUTABLE_BIT | _PINNED_BIT


def flags_of_header(h: int) -> int:
    """SqObject.flags of a Spur object header (its immutable and pinned bits)."""
    return (FLAG_IMMUTABLE if h & _IMMUTABLE_BIT else 0) | (FLAG_PINNED if h & _PINNED_BIT else 0)


def header_bits_of_flags(flags: int) -> int:
    """The Spur header bits of SqObject.flags (the writer's side of flags_of_header)."""
    return (_IMMUTABLE_BIT if flags & FLAG_IMMUTABLE else 0) | (_PINNED_BIT if flags & FLAG_PINNED else 0)


class _Loader:
    def __init__(self, data, units, start, info, family, first_segment):
        self.data = data
        self.units = units              # the object memory in 64-bit units
        self.start = start              # file offset of unit 0
        self.info = info
        self.family = family
        self.word = family.word_size
        self.first_segment = first_segment
        if self.word == 4:
            self.slots = array("I")
            self.slots.frombytes(memoryview(data)[start:start + info.data_size])
            if not _HOST_LITTLE:
                self.slots.byteswap()
        else:
            self.slots = units
        self.by_oop: dict = {}          # oop -> SqObject (and forwarders -> their target)
        self.entries: list = []         # (obj, class index, spur format, first body unit, slots)
        self.hidden: dict = {}          # oop -> (class index, format, first body unit, slots)
        self.forwarders: dict = {}      # oop -> (oop it forwards to, unit of its header)
        self.first_oops: list = []      # oops of the first five objects, hidden or not
        self.unit_of_oop: dict = {}     # oop -> unit of its header (for error offsets)

    def where(self, unit: int) -> int:
        return self.start + 8 * unit

    def fail(self, unit: int, message: str):
        raise ImageFormatError(message, self.where(unit) if unit >= 0 else self.info.file_offset + 8)

    def load(self) -> SpurHeap:
        self.scan()
        self.resolve_forwarders()
        class_table = self.read_class_table()
        specials = self.by_oop.get(self.info.specials_oop)
        if specials is None:
            raise ImageFormatError("the special objects array (oop 0x%x) is not an object in the heap"
                                   % self.info.specials_oop, self.info.file_offset + 8 + 2 * self.word)
        self.fill_objects(class_table, specials)
        if specials.ptrs is None or specials.bytes is not None or len(specials.ptrs) <= S.CLASS_PROCESS:
            self.fail(self.unit_of(specials), "the special objects array is not an array of at least %d pointers"
                      % (S.CLASS_PROCESS + 1))
        nil = specials.ptrs[S.NIL]
        if nil.__class__ is not SqObject or self.by_oop.get(self.first_oops[0]) is not nil:
            self.fail(self.unit_of(specials), "special object 0 (nil) is not the first object of the heap")
        for i, what in ((S.FALSE, "false"), (S.TRUE, "true")):
            if specials.ptrs[i].__class__ is not SqObject or specials.ptrs[i].fmt == 7:
                self.fail(self.unit_of(specials), "special object %d (%s) is not an object" % (i, what))
        self.info.oop_table = {oop: obj for oop, obj in self.by_oop.items() if oop not in self.forwarders}
        return SpurHeap(specials, self.info, class_table, self.chars)

    def unit_of(self, obj) -> int:
        for oop, o in self.by_oop.items():
            if o is obj:
                return self.unit_of_oop.get(oop, -1)
        return -1

    # --- pass 1: object headers ----------------------------------------------------
    def scan(self) -> None:
        units = self.units
        total = len(units)
        base = self.info.old_base
        word = self.word
        by_oop = self.by_oop
        entries = self.entries
        hidden = self.hidden
        unit_of_oop = self.unit_of_oop
        first = self.first_oops
        seg_end = self.first_segment // 8
        delta = 0                       # address gap of the segments read so far
        u = 0
        while True:
            limit = seg_end - 2
            while u < limit:
                head = u
                h = units[u]
                n = h >> 56
                if n == OVERFLOW:
                    n = h & _M56
                    u += 1
                    if u >= limit:
                        self.fail(head, "object header runs past the end of its segment")
                    h = units[u]
                    if h >> 56 != OVERFLOW:
                        self.fail(u, "an overflow size word is not followed by a header of 255 slots")
                body = (n + 1) >> 1 if word == 4 else n
                end = u + 1 + (body or 1)
                if end > limit:
                    self.fail(head, "object of %d slots runs past the end of its segment" % n)
                cid = h & 0x3FFFFF
                fmt = (h >> 24) & 31
                oop = base + 8 * u + delta
                if len(first) < 5:
                    first.append(oop)
                if cid >= 32:
                    obj = SqObject(None, fmt, (h >> 32) & 0x3FFFFF)
                    if h & _FLAG_BITS:
                        obj.flags = flags_of_header(h)
                    by_oop[oop] = obj
                    entries.append((obj, cid, fmt, u + 1, n))
                    unit_of_oop[oop] = u
                elif cid == FORWARDER_INDEX:
                    if n < 1:
                        self.fail(u, "forwarder without a slot for its target")
                    self.forwarders[oop] = (self.slot(u + 1, 0), u)
                elif cid:
                    hidden[oop] = (cid, fmt, u + 1, n)
                    unit_of_oop[oop] = u
                u = end
            if u != limit:
                self.fail(u, "objects overrun the segment bridge")
            gap_word, next_size = units[limit], units[limit + 1]
            if next_size == 0:
                break
            if next_size % 8 or next_size < 16 or seg_end + next_size // 8 > total:
                self.fail(limit + 1, "next segment size %d does not fit in the object memory" % next_size)
            if gap_word >> 56 == OVERFLOW:
                delta += (gap_word & _M56) * word      # memory between the segments
            u = seg_end
            seg_end += next_size // 8
        if len(first) < 5:
            self.fail(-1, "the object memory holds fewer than five objects (nil, false, true, "
                          "free lists, hidden roots)")

    def slot(self, unit: int, index: int) -> int:
        return self.slots[unit * (8 // self.word) + index]

    def resolve_forwarders(self) -> None:
        by_oop = self.by_oop
        for oop, (target, unit) in self.forwarders.items():
            seen = 0
            while target in self.forwarders:
                target = self.forwarders[target][0]
                seen += 1
                if seen > len(self.forwarders):
                    self.fail(unit, "forwarders point at each other in a cycle")
            obj = by_oop.get(target)
            if obj is None:
                self.fail(unit + 1, "forwarder to 0x%x, which is not an object in the heap" % target)
            by_oop[oop] = obj

    # --- the class table ---------------------------------------------------------------
    def read_class_table(self) -> dict:
        roots_oop = self.first_oops[4]
        roots = self.hidden.get(roots_oop)
        if roots is None or roots[0] != HIDDEN_ARRAY_INDEX or roots[3] < CLASS_TABLE_PAGES:
            self.fail(self.unit_of_oop.get(roots_oop, 0),
                      "the fifth object is not the hidden roots (an array of at least %d pages)"
                      % CLASS_TABLE_PAGES)
        nil_oop = self.first_oops[0]
        table = {}
        by_oop = self.by_oop
        for p in range(CLASS_TABLE_PAGES):
            page_oop = self.slot(roots[2], p)
            if page_oop == nil_oop:
                continue
            page = self.hidden.get(page_oop)
            if page is None or page[0] != HIDDEN_ARRAY_INDEX or page[3] != PAGE_SIZE:
                self.fail(roots[2], "class table page %d (oop 0x%x) is not a hidden array of %d slots"
                          % (p, page_oop, PAGE_SIZE))
            first_slot = page[2]
            for i in range(PAGE_SIZE):
                oop = self.slot(first_slot, i)
                if oop == nil_oop:
                    continue
                cls = by_oop.get(oop)
                if cls is None:
                    self.fail(first_slot, "class table entry %d (oop 0x%x) is not an object in the heap"
                              % (p * PAGE_SIZE + i, oop))
                table[p * PAGE_SIZE + i] = cls
        return table

    # --- pass 2: contents ----------------------------------------------------------------
    def decode_pointers(self, first: int, count: int) -> list:
        """The values of `count` slots from slot index `first`."""
        by_oop = self.by_oop
        chunk = self.slots[first:first + count]
        imm = self.immediate
        try:
            if self.word == 4:
                return [by_oop[w] if not w & 3 else
                        (((w ^ 0x80000000) - 0x80000000) >> 1 if w & 1 else imm(w)) for w in chunk]
            return [by_oop[w] if not w & 7 else
                    (((w ^ 0x8000000000000000) - 0x8000000000000000) >> 3 if w & 7 == 1 else imm(w))
                    for w in chunk]
        except (KeyError, _BadOop):
            mask = 3 if self.word == 4 else 7
            for k, w in enumerate(chunk):
                if not w & mask and w not in by_oop:
                    self.fail_slot(first + k, "pointer 0x%x does not point at an object in the heap" % w)
                if w & mask and (w & 1 if self.word == 4 else w & 7 == 1) == 0:
                    try:
                        imm(w)
                    except _BadOop:
                        self.fail_slot(first + k, "oop 0x%x has invalid tag bits %d" % (w, w & mask))
            raise

    def fail_slot(self, slot_index: int, message: str):
        raise ImageFormatError(message, self.start + self.word * slot_index)

    def immediate(self, w: int):
        if self.word == 4:
            if w & 3 == 2:
                return self.heap_chars(w >> 2)
            raise _BadOop()
        tag = w & 7
        if tag == 2:
            return self.heap_chars(w >> 3)
        if tag == 4:
            bits = small_float_bits(w)
            return SqObject(self.small_float_cls, 7, 0, words=[bits >> 32, bits & 0xFFFFFFFF])
        raise _BadOop()

    def heap_chars(self, code: int):
        ch = self.chars.get(code)
        if ch is None:
            ch = self.chars[code] = SqObject(self.char_cls, 7, code, ptrs=[code])
        return ch

    def fill_objects(self, class_table: dict, specials: SqObject) -> None:
        data = self.data
        start = self.start
        word = self.word
        per_unit = 8 // word
        slots = self.slots
        self.chars = {}
        self.char_cls = class_table.get(2)
        # a SmallFloat64 in an image without that class (PharoCandle's literal pi) is an
        # instance of nil, as the VM's class table says
        self.small_float_cls = class_table.get(4) or self.by_oop.get(self.first_oops[0])
        if self.char_cls is None:
            self.fail(-1, "the class table has no class for immediate Characters (index 2)")
        specials_entry = next((e for e in self.entries if e[0] is specials), None)
        float_cls = None
        if specials_entry is not None and specials_entry[4] > S.CLASS_FLOAT and specials_entry[2] <= 5:
            float_oop = slots[specials_entry[3] * per_unit + S.CLASS_FLOAT]
            float_cls = self.by_oop.get(float_oop)
        decode = self.decode_pointers
        for obj, cid, fmt, body, n in self.entries:
            cls = class_table.get(cid)
            if cls is None:
                self.fail(body - 1, "class index %d is not in the class table" % cid)
            obj.cls = cls
            first = body * per_unit
            if fmt <= 5:
                obj.fmt = FMT_EPHEMERON if fmt == 5 else fmt
                obj.ptrs = decode(first, n)
                continue
            base = 24 if fmt >= 24 else (16 if fmt >= 16 else (12 if fmt >= 12 else (10 if fmt >= 10 else fmt)))
            kind = _UNITS.get(base)
            if kind is None:
                self.fail(body - 1, "invalid object format %d for an object of class index %d" % (fmt, cid))
            norm, unit = kind
            unused = fmt - base
            if unused >= word // unit:
                self.fail(body - 1, "object format %d is not valid in a %d-bit image" % (fmt, 8 * word))
            obj.fmt = norm
            count = n * word // unit - unused
            if count < 0:
                self.fail(body - 1, "object of %d slots cannot have %d unused units" % (n, unused))
            if norm == FMT_METHOD:
                if n < 1 or slots[first] & (1 if word == 4 else 7) != 1:
                    self.fail(body, "compiled method without a SmallInteger header")
                header = decode(first, 1)[0]
                nlits = header & 0x7FFF
                nbytes = count - (1 + nlits) * word
                if nbytes < 0:
                    self.fail(body, "compiled method with %d literals does not fit in %d slots" % (nlits, n))
                obj.ptrs = decode(first, 1 + nlits)
                at = start + 8 * body + (1 + nlits) * word
                obj.bytes = bytearray(data[at:at + nbytes])
            elif norm == FMT_BYTES:
                at = start + 8 * body
                obj.bytes = bytearray(data[at:at + count])
            elif norm == FMT_WORDS:
                w = slots[first:first + count].tolist() if word == 4 else _words32(data, start + 8 * body, count)
                if cls is float_cls and count == 2:
                    w.reverse()
                obj.words = w
            elif norm == FMT_DOUBLE_WORDS:
                obj.words = self.units[body:body + count].tolist()
            else:
                obj.words = list(struct.unpack_from("<%dH" % count, data, start + 8 * body))


def _words32(data, at: int, count: int) -> list:
    w = array("I")
    w.frombytes(data[at:at + 4 * count])
    if not _HOST_LITTLE:
        w.byteswap()
    return w.tolist()
