"""Reading V3 (pre-Spur, 32-bit) image files: versions 6502, 6504, 6505, either byte order.

File layout: an image header (version, header size, data size, old base address,
special objects oop, last hash, saved window size, flags, extra VM memory, padding),
then the object memory as it was at `old base address`. Each object has 1, 2 or 3
header words, the last of which (the base header) is what its oop points at:

    type 3 (1 word):  [base]                 class from the compact classes array
    type 1 (2 words): [class|1] [base]
    type 0 (3 words): [size in bytes|0] [class|0] [base]

    base header bits: 0-1 header type, 2-7 size in words (incl. base header),
    8-11 format, 12-16 compact class index, 17-28 identity hash, 29-31 GC bits.

Words are converted to host values; bytes stay in file order (which is address order
in both byte orders). A Float's two words are normalised to most significant first.
"""
from __future__ import annotations

import sys
from array import array

from ..errors import ImageFormatError
from ..memory import specials as S
from ..memory.heap import Heap, ImageInfo
from ..memory.objects import FMT_BYTES, FMT_METHOD, FMT_WORDS, SqObject, method_num_literals

HEADER_WORDS = 16
_HOST_LITTLE = sys.byteorder == "little"


def small_int_of_oop(w: int) -> int:
    return ((w ^ 0x80000000) - 0x80000000) >> 1


def read_v3(data: bytes, version: int, little: bool, offset: int, path: str | None) -> Heap:
    size = len(data)
    if size < offset + HEADER_WORDS * 4:
        raise ImageFormatError("truncated image header: expected %d bytes, file has %d"
                               % (HEADER_WORDS * 4, size - offset), offset)
    hw = array("I")
    hw.frombytes(data[offset:offset + HEADER_WORDS * 4])
    if little != _HOST_LITTLE:
        hw.byteswap()
    header_size, data_size, old_base, specials_oop = hw[1], hw[2], hw[3], hw[4]
    if header_size < 9 * 4 or header_size % 4 or header_size > 4096:
        raise ImageFormatError("inconsistent header size %d (expected a multiple of 4 between 36 and 4096)"
                               % header_size, offset + 4)
    start = offset + header_size
    if data_size % 4:
        raise ImageFormatError("object memory size %d is not a multiple of 4" % data_size, offset + 8)
    if start + data_size > size:
        raise ImageFormatError("truncated image: header says the object memory ends at %d, "
                               "but the file has %d bytes" % (start + data_size, size), offset + 8)
    extra = array("I")
    extra.frombytes(data[offset + HEADER_WORDS * 4: start]) if header_size > HEADER_WORDS * 4 else None
    info = ImageInfo(version=version, little_endian=little, file_offset=offset,
                     header_size=header_size, data_size=data_size, old_base=old_base,
                     specials_oop=specials_oop, last_hash=hw[5], window_size=hw[6], flags=hw[7],
                     extra_vm_memory=hw[8], header_words=list(hw[9:]), path=path)
    words = array("I")
    words.frombytes(memoryview(data)[start:start + data_size])     # no copy of a slice
    if little != _HOST_LITTLE:
        words.byteswap()
    return _Loader(data, words, start, info).load()


class _Loader:
    def __init__(self, data, words, start, info):
        self.data = data
        self.words = words
        self.start = start          # file offset of word 0 of the object memory
        self.info = info
        self.by_oop: dict = {}      # oop -> SqObject
        self.entries: list = []     # (obj, class oop or -cc index, body start word, body words, file format)

    def where(self, word_index: int) -> int:
        return self.start + 4 * word_index

    def fail(self, word_index: int, message: str):
        raise ImageFormatError(message, self.where(word_index))

    def load(self) -> Heap:
        self.scan_headers()
        specials = self.object_at(self.info.specials_oop, "the special objects array", -1)
        self.compact = self.compact_class_oops(specials)
        self.fill_objects()
        if specials.fmt > 4 or len(specials.ptrs) <= S.COMPACT_CLASSES:
            self.fail(-1, "the special objects array is not an array of at least %d pointers"
                      % (S.COMPACT_CLASSES + 1))
        body = next(e[2] for e in self.entries if e[0] is specials)
        for i, what in ((S.NIL, "nil"), (S.FALSE, "false"), (S.TRUE, "true")):
            if specials.ptrs[i].__class__ is not SqObject:
                self.fail(body + i, "special object %d (%s) is a SmallInteger, expected an object" % (i, what))
        self.info.oop_table = self.by_oop      # kept for offsets in later error messages
        return Heap(specials, self.info)

    def object_at(self, oop: int, what: str, word_index: int) -> SqObject:
        obj = self.by_oop.get(oop)
        if obj is None:
            raise ImageFormatError("%s (oop 0x%08x) is not an object in the heap" % (what, oop),
                                   self.info.file_offset + 16 if word_index < 0 else self.where(word_index))
        return obj

    def scan_headers(self) -> None:
        words = self.words
        n = len(words)
        base_addr = self.info.old_base
        by_oop = self.by_oop
        entries = self.entries
        i = 0
        while i < n:
            hdr = words[i]
            kind = hdr & 3
            if kind == 3:
                base_i = i
                cls_ref = -((hdr >> 12) & 31)
                if cls_ref == 0:
                    self.fail(i, "one-word object header without a compact class index")
                nwords = (hdr >> 2) & 63
            elif kind == 1:
                base_i = i + 1
                cls_ref = hdr - 1
                if base_i >= n:
                    self.fail(i, "object header runs past the end of the object memory")
                nwords = (words[base_i] >> 2) & 63
            elif kind == 0:
                base_i = i + 2
                if base_i >= n:
                    self.fail(i, "object header runs past the end of the object memory")
                cls_ref = words[i + 1]
                if cls_ref & 3:
                    self.fail(i + 1, "class word of a 3-word header has type bits %d, expected 0" % (cls_ref & 3))
                nwords = hdr >> 2
            else:
                self.fail(i, "free chunk in the object memory (expected an object header)")
            base = words[base_i]
            if base & 3 != kind:
                self.fail(base_i, "base header type %d does not match its header's type %d" % (base & 3, kind))
            if nwords < 1:
                self.fail(base_i, "object size %d words (expected at least 1)" % nwords)
            body = base_i + 1
            end = base_i + nwords
            if end > n:
                self.fail(base_i, "object of %d words runs past the end of the object memory" % nwords)
            fmt = (base >> 8) & 15
            if fmt == 5 or fmt == 7:
                self.fail(base_i, "invalid object format %d" % fmt)
            norm = fmt if fmt < 8 else (FMT_BYTES if fmt < 12 else FMT_METHOD)
            obj = SqObject(None, norm, (base >> 17) & 0xFFF)
            by_oop[base_addr + 4 * base_i] = obj
            entries.append((obj, cls_ref, body, nwords - 1, fmt))
            i = end

    def compact_class_oops(self, specials: SqObject) -> list:
        entry = next(e for e in self.entries if e[0] is specials)
        if entry[4] > 4 or entry[3] <= S.COMPACT_CLASSES:
            self.fail(entry[2] - 1, "the special objects array is not an array of at least %d pointers"
                      % (S.COMPACT_CLASSES + 1))
        cc_oop = self.words[entry[2] + S.COMPACT_CLASSES]
        cc = self.object_at(cc_oop, "the compact classes array", entry[2] + S.COMPACT_CLASSES)
        cc_entry = next(e for e in self.entries if e[0] is cc)
        if cc_entry[4] > 4:
            self.fail(cc_entry[2] - 1, "the compact classes array is not a pointer object")
        return list(self.words[cc_entry[2]:cc_entry[2] + cc_entry[3]])

    def decode_pointers(self, first: int, count: int) -> list:
        by_oop = self.by_oop
        chunk = self.words[first:first + count]
        try:
            return [by_oop[w] if not w & 1 else ((w ^ 0x80000000) - 0x80000000) >> 1 for w in chunk]
        except KeyError:
            for k, w in enumerate(chunk):
                if not w & 1 and w not in by_oop:
                    self.fail(first + k, "pointer 0x%08x does not point at an object in the heap" % w)
            raise

    def fill_objects(self) -> None:
        data = self.data
        words = self.words
        start = self.start
        by_oop = self.by_oop
        compact = self.compact
        float_oop = self.words_of_specials(S.CLASS_FLOAT)
        float_cls = by_oop.get(float_oop)
        swap_float = self.info.version == 6505 and self.info.little_endian
        for obj, cls_ref, body, count, fmt in self.entries:
            if cls_ref < 0:
                index = -cls_ref - 1
                if index >= len(compact):
                    self.fail(body - 1, "compact class index %d outside the compact classes array" % (index + 1))
                cls = by_oop.get(compact[index])
                if cls is None:
                    self.fail(body - 1, "compact class index %d names no class" % (index + 1))
            else:
                cls = by_oop.get(cls_ref)
                if cls is None:
                    self.fail(body - 1, "class pointer 0x%08x does not point at an object in the heap" % cls_ref)
            obj.cls = cls
            if fmt <= 4:
                obj.ptrs = self.decode_pointers(body, count)
            elif fmt == FMT_WORDS:
                w = list(words[body:body + count])
                if cls is float_cls and swap_float and count == 2:
                    w.reverse()
                obj.words = w
            elif fmt < 12:
                nbytes = 4 * count - (fmt & 3)
                if nbytes < 0:
                    self.fail(body - 1, "byte object with %d unused bytes but only %d words" % (fmt & 3, count))
                obj.bytes = bytearray(data[start + 4 * body:start + 4 * body + nbytes])
            else:
                if count < 1 or not words[body] & 1:
                    self.fail(body, "compiled method without a SmallInteger header")
                nlits = method_num_literals(small_int_of_oop(words[body]))
                nbytes = 4 * (count - 1 - nlits) - (fmt & 3)
                if nbytes < 0:
                    self.fail(body, "compiled method with %d literals does not fit in %d words" % (nlits, count))
                obj.ptrs = self.decode_pointers(body, 1 + nlits)
                first = start + 4 * (body + 1 + nlits)
                obj.bytes = bytearray(data[first:first + nbytes])

    def words_of_specials(self, index: int) -> int:
        specials = self.by_oop[self.info.specials_oop]
        entry = next(e for e in self.entries if e[0] is specials)
        return self.words[entry[2] + index]
