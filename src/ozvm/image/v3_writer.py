"""Writing a space as a V3 image file (the layout is described in v3_reader).

The objects written are those reachable from the special objects array (and the VM's
extra roots), those read from a file first and in their file order, new ones after them
(`Heap.save_order`), so an unchanged space is written back as it was read. Instances
of compact classes get compact headers as the C VM makes them. The file is written next to its destination and renamed into place, so a
failed save never leaves a half-written image.
"""
from __future__ import annotations

import sys
from array import array

from ..errors import MembraneError, OzError
from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_METHOD, FMT_WORDS, SqObject

_HOST_LITTLE = sys.byteorder == "little"
HEADER_SIZE = 64


def encode_image(heap, little_endian: bool | None = None) -> bytes:
    """The bytes of a V3 image of `heap` in the given byte order (default: as loaded)."""
    info = heap.info
    little = info.little_endian if little_endian is None else little_endian
    swap = little != _HOST_LITTLE
    swap_float = info.version == 6505 and little
    objects = heap.save_order()
    compact = heap.compact_classes()
    float_cls = heap.specials.ptrs[S.CLASS_FLOAT]
    base = info.old_base if info.old_base is not None else 0x10000000

    oops = {}
    pos = 0
    layout = []
    for obj in objects:
        body = obj.body_words()
        cc = compact.get(id(obj.cls), 0)
        kind = 0 if body + 1 > 63 else (3 if cc else 1)
        pos += 8 if kind == 0 else (4 if kind == 1 else 0)
        oops[id(obj)] = base + pos
        pos += 4 * (body + 1)
        layout.append((obj, body, cc, kind))

    def oop_of(value):
        if value.__class__ is SqObject:
            return oops[id(value)]
        if value.__class__ is int:
            if -0x40000000 <= value < 0x40000000:
                return ((value << 1) | 1) & 0xFFFFFFFF
            raise OzError("integer %d stored in an object is outside the SmallInteger range" % value)
        raise MembraneError("a host object (%r) is stored in a guest object" % (value,))

    out = array("I")
    extend = out.extend
    for obj, body, cc, kind in layout:
        fmt = obj.fmt
        if fmt == FMT_BYTES:
            file_fmt = FMT_BYTES + (-len(obj.bytes)) % 4
        elif fmt == FMT_METHOD:
            file_fmt = FMT_METHOD + (-len(obj.bytes)) % 4
        else:
            file_fmt = fmt
        header = ((obj.hash & 0xFFF) << 17) | (cc << 12) | (file_fmt << 8) | kind
        if kind == 0:
            extend((4 * (body + 1), oops[id(obj.cls)], header))
        elif kind == 1:
            extend((oops[id(obj.cls)] | 1, header | ((body + 1) << 2)))
        else:
            out.append(header | ((body + 1) << 2))
        if fmt <= 4:
            extend([oop_of(p) for p in obj.ptrs])
        elif fmt == FMT_WORDS:
            w = obj.words
            if swap_float and obj.cls is float_cls and len(w) == 2:
                w = (w[1], w[0])
            extend(w)
        else:
            if fmt == FMT_METHOD:
                extend([oop_of(p) for p in obj.ptrs])
            raw = obj.bytes
            chunk = array("I")
            chunk.frombytes(bytes(raw) + b"\0" * ((-len(raw)) % 4))
            if swap:
                chunk.byteswap()   # undone below: bytes end up in file order
            extend(chunk)
    if swap:
        out.byteswap()

    header = array("I", [info.version, HEADER_SIZE, 4 * len(out), base, oops[id(heap.specials)],
                         heap.last_hash & 0xFFFFFFFF, info.window_size or 0, info.flags or 0,
                         info.extra_vm_memory or 0])
    padding = list(info.header_words or [])[:HEADER_SIZE // 4 - len(header)]
    header.extend(padding + [0] * (HEADER_SIZE // 4 - len(header) - len(padding)))
    if swap:
        header.byteswap()
    return header.tobytes() + out.tobytes()
