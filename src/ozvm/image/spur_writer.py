"""Writing a Spur space as a Spur image file (the layout is described in spur_reader).

One segment: nil, false, true, empty free lists, the hidden roots (the class table's
4096 page slots and 8 more, nil), the class table pages in use, then every other
object in `Heap.save_order` (file order first, new objects after), then the bridge that
ends the segment. No free chunks, no forwarders. The header is the one read, with the
sizes, addresses and last hash brought up to date. Class table entries of classes that
are no longer reachable are dropped, as the VM's collector does.
"""
from __future__ import annotations

import struct
import sys
from array import array

from ..errors import MembraneError, OzError
from ..memory.objects import (
    FMT_BYTES, FMT_DOUBLE_WORDS, FMT_EPHEMERON, FMT_IMMEDIATE, FMT_METHOD, FMT_SHORTS, FMT_WORDS,
    SqObject, small_float_oop,
)
from .spur_reader import (
    CLASS_TABLE_PAGES, HIDDEN_ARRAY_INDEX, PAGE_SIZE, header_bits_of_flags, header_bytes_needed,
)

_HOST_LITTLE = sys.byteorder == "little"
HIDDEN_ROOT_SLOTS = CLASS_TABLE_PAGES + 8
_Q = struct.Struct("<Q")


def _header(num_slots: int, spur_format: int, class_index: int, hash_: int, flags: int = 0) -> bytes:
    """An object's header (and overflow size word); `flags`: SqObject.flags."""
    bits = ((hash_ & 0x3FFFFF) << 32) | (spur_format << 24) | class_index
    if flags:
        bits |= header_bits_of_flags(flags)
    if num_slots >= 255:
        return _Q.pack(num_slots | (255 << 56)) + _Q.pack((255 << 56) | bits)
    return _Q.pack((num_slots << 56) | bits)


def _padded(body: bytes) -> bytes:
    pad = (-len(body)) % 8 if body else 8
    return body + b"\0" * pad


def encode_image(heap) -> bytes:
    """The bytes of a Spur image of `heap` (little-endian, one segment)."""
    info = heap.info
    family = heap.family
    word = family.word_size
    base = info.old_base if info.old_base is not None else 0x10000000
    nil, false, true = heap.nil, heap.false, heap.true
    objects = heap.save_order()
    live = set(map(id, objects))
    heap.forget_classes(live)
    rest = [o for o in objects if o is not nil and o is not false and o is not true]
    for o in rest:
        heap.class_index(o.cls)
    for o in (nil, false, true):
        heap.class_index(o.cls)
    table = heap.class_table
    pages = sorted({index // PAGE_SIZE for index in table})
    if 0 not in pages:
        pages.insert(0, 0)
    free_slots = 8 * word

    def size_of(num_slots):
        body = max(8, (num_slots * word + 7) & ~7)
        return body + (16 if num_slots >= 255 else 8)

    # addresses: an oop is the address of the object's (last) header word
    oops = {}
    pos = 0
    for o in (nil, false, true):
        oops[id(o)] = base + pos
        pos += size_of(heap.num_slots(o))
    pos += size_of(free_slots)
    pos += size_of(HIDDEN_ROOT_SLOTS)
    page_oops = {}
    for p in pages:
        page_oops[p] = base + pos + 8
        pos += size_of(PAGE_SIZE)
    layout = []
    for o in rest:
        n = heap.num_slots(o)
        oops[id(o)] = base + pos + (8 if n >= 255 else 0)
        pos += size_of(n)
        layout.append((o, n))
    end = pos + 16

    int_shift = 3 if word == 8 else 1
    char_shift = 3 if word == 8 else 2
    int_min, int_max = family.small_int_min, family.small_int_max
    nil_oop = oops[id(nil)]

    def oop_of(value):
        if value.__class__ is SqObject:
            if value.fmt == FMT_IMMEDIATE:
                if value.words is None:
                    return (value.ptrs[0] << char_shift) | 2
                bits = (value.words[0] << 32) | value.words[1]
                oop = small_float_oop(bits) if word == 8 else None
                if oop is None:
                    raise OzError("a SmallFloat64 holds %r, which no SmallFloat64 can" % (bits,))
                return oop
            return oops[id(value)]
        if value.__class__ is int:
            if int_min <= value <= int_max:
                return ((value << int_shift) | 1) & ((1 << (8 * word)) - 1)
            raise OzError("integer %d stored in an object is outside the SmallInteger range" % value)
        raise MembraneError("a host object (%r) is stored in a guest object" % (value,))

    slot_code = "I" if word == 4 else "Q"

    def pointer_bytes(values) -> bytes:
        return array(slot_code, [oop_of(v) for v in values]).tobytes() if _HOST_LITTLE else \
            struct.pack("<%d%s" % (len(values), slot_code), *[oop_of(v) for v in values])

    out = []
    append = out.append
    for o in (nil, false, true):
        append(_encode(o, heap.num_slots(o), heap, word, pointer_bytes, oops))
    free_format, free_index = (10, 18) if word == 4 else (9, 19)
    append(_header(free_slots, free_format, free_index, 0) + b"\0" * (free_slots * word))
    roots = [nil_oop] * HIDDEN_ROOT_SLOTS
    for p in pages:
        roots[p] = page_oops[p]
    slot_struct = "<%d" + slot_code
    append(_header(HIDDEN_ROOT_SLOTS, 2, HIDDEN_ARRAY_INDEX, 0)
           + _padded(struct.pack(slot_struct % HIDDEN_ROOT_SLOTS, *roots)))
    for p in pages:
        entries = [nil_oop] * PAGE_SIZE
        for i in range(PAGE_SIZE):
            cls = table.get(p * PAGE_SIZE + i)
            if cls is not None:
                entries[i] = oops[id(cls)]
        append(_header(PAGE_SIZE, 2, HIDDEN_ARRAY_INDEX, 0)
               + _padded(struct.pack(slot_struct % PAGE_SIZE, *entries)))
    for o, n in layout:
        append(_encode(o, n, heap, word, pointer_bytes, oops))
    bridge_format = 10 if word == 4 else 9
    append(_Q.pack((1 << 55) | (bridge_format << 24) | 3) + _Q.pack(0))
    memory = b"".join(out)
    if len(memory) != end:
        raise OzError("internal error: wrote %d bytes of object memory, planned %d" % (len(memory), end))

    header = bytearray(info.raw_header or b"")
    need = header_bytes_needed(word)
    if len(header) < need:
        header = bytearray(struct.pack("<II", info.version, 64 if word == 4 else 128))
        header += b"\0" * ((64 if word == 4 else 128) - len(header))
    fmt = "<I" if word == 4 else "<Q"
    struct.pack_into(fmt, header, 8, len(memory))
    struct.pack_into(fmt, header, 8 + word, base)
    struct.pack_into(fmt, header, 8 + 2 * word, oops[id(heap.specials)])
    struct.pack_into("<I", header, 8 + 3 * word, heap.last_hash & 0xFFFFFFFF)
    struct.pack_into(fmt, header, 8 + 6 * word + 16, len(memory))      # first segment size
    struct.pack_into(fmt, header, 8 + 7 * word + 16, 0)                # free old space
    return bytes(header) + memory


def _encode(o: SqObject, n: int, heap, word: int, pointer_bytes, oops) -> bytes:
    """An object's header and body."""
    fmt = o.fmt
    cid = heap.class_index(o.cls)
    if fmt <= FMT_EPHEMERON:
        return _header(n, fmt, cid, o.hash, o.flags) + _padded(pointer_bytes(o.ptrs))
    if fmt == FMT_BYTES:
        raw = bytes(o.bytes)
        return _header(n, 16 + (-len(raw)) % word, cid, o.hash, o.flags) + _padded(raw)
    if fmt == FMT_METHOD:
        raw = bytes(o.bytes)
        return _header(n, 24 + (-len(raw)) % word, cid, o.hash, o.flags) + _padded(pointer_bytes(o.ptrs) + raw)
    if fmt == FMT_WORDS:
        w = o.words
        if len(w) == 2 and o.cls is heap.specials.ptrs[9]:
            w = (w[1], w[0])            # a boxed Float: least significant word first
        return _header(n, 10 + len(w) % (word // 4), cid, o.hash, o.flags) + _padded(struct.pack("<%dI" % len(w), *w))
    if fmt == FMT_SHORTS:
        w = o.words
        return _header(n, 12 + (-len(w)) % (word // 2), cid, o.hash, o.flags) + _padded(struct.pack("<%dH" % len(w), *w))
    if fmt == FMT_DOUBLE_WORDS:
        return _header(n, 9, cid, o.hash, o.flags) + _padded(struct.pack("<%dQ" % len(o.words), *o.words))
    raise OzError("an object of format %d cannot be written in a Spur image" % fmt)
