"""Recognising image files and choosing the reader for their format.

Each format family has modules of its own (v3_reader/v3_writer, spur_reader/spur_writer);
`read_image` picks the reader by the file's version, `write_image` the writer by the heap's
family.
"""
from __future__ import annotations

import os
import struct

from ..errors import ImageFormatError, UnsupportedImageFormat
from ..memory.accounting import image_fits
from .files import atomic_write, read_image_data

V3_VERSIONS = {6502: "V3 32-bit, no closures", 6504: "V3 32-bit, closures",
               6505: "V3 32-bit, closures, float words in platform order"}
SPUR_VERSIONS = {6521: "Spur 32-bit", 68021: "Spur 64-bit", 68019: "Spur 64-bit (pre-release)",
                 6519: "Spur 32-bit (pre-release)"}
OTHER_VERSIONS = {6501: "V3 32-bit (very old)", 68000: "V3 64-bit", 68002: "V3 64-bit, closures",
                  68003: "V3 64-bit, closures, native floats"}


def detect(data: bytes):
    """(version, little_endian, file_offset) of an image file's contents.

    Images may start with a 512-byte prefix (old Mac resource fork); both byte orders
    are tried.
    """
    for offset in (0, 512):
        if len(data) < offset + 4:
            break
        for little, fmt in ((True, "<I"), (False, ">I")):
            version = struct.unpack_from(fmt, data, offset)[0]
            if version in V3_VERSIONS or version in SPUR_VERSIONS or version in OTHER_VERSIONS:
                return version, little, offset
    if len(data) < 4:
        raise ImageFormatError("file too short for an image header (%d bytes)" % len(data), 0)
    raise ImageFormatError("no known image format version (expected one of %s), found 0x%08x"
                           % (", ".join(str(v) for v in sorted(V3_VERSIONS)),
                              struct.unpack_from("<I", data, 0)[0]), 0)


def describe_version(version: int) -> str:
    return (V3_VERSIONS.get(version) or SPUR_VERSIONS.get(version)
            or OTHER_VERSIONS.get(version) or "unknown")


def read_image_bytes(data: bytes, path: str | None = None):
    """Parse an image file's contents into a Heap."""
    version, little, offset = detect(data)
    if version in V3_VERSIONS:
        from .v3_reader import read_v3
        return read_v3(data, version, little, offset, path)
    if version in (6521, 68021):
        from .spur_reader import read_spur
        return read_spur(data, version, little, offset, path)
    if version in SPUR_VERSIONS:
        raise UnsupportedImageFormat("image version %d (%s) is not supported: only the released "
                                     "Spur formats 6521 and 68021 are" % (version, SPUR_VERSIONS[version]),
                                     offset)
    raise UnsupportedImageFormat("image version %d (%s) is not supported"
                                 % (version, OTHER_VERSIONS[version]), offset)


def read_image(path: str, memory_limit=None):
    """Read the image file at `path` into a Heap. The file is only read, never written;
    only a regular file is read, and only the bytes its header declares (image/files.py),
    after checking that its objects fit `memory_limit` bytes (None: the process's
    backstop; MemoryLimitError otherwise)."""
    def length(head, file_size):
        return declared_length(head, file_size, memory_limit)
    return read_image_bytes(read_image_data(path, length), os.path.abspath(path))


def declared_length(head: bytes, file_size: int, memory_limit=None) -> int:
    """How many bytes of an image file its header declares (prefix, header and object
    memory), from the file's first bytes `head`; ImageFormatError when that is more than
    the file's `file_size`, MemoryLimitError when its objects would not fit
    `memory_limit` (memory/accounting.py). An unreadable header answers only `head`'s
    length: the reader then names what is wrong with it."""
    version, little, offset = detect(head)
    if len(head) < offset + 16:
        return len(head)
    order = "<" if little else ">"
    header_size = struct.unpack_from(order + "I", head, offset + 4)[0]
    if not 36 <= header_size <= 4096:
        return len(head)
    if version in (6521, 68021) and not little:
        return len(head)        # a byte order Spur does not have: the reader says so
    if version in (6521, 68021):
        from .spur_reader import header_bytes_needed, header_fields
        word = 8 if version == 68021 else 4
        if len(head) < offset + header_bytes_needed(word):
            return len(head)
        data_size = header_fields(head, offset, word)["data_size"]
    else:
        data_size = struct.unpack_from(order + "I", head, offset + 8)[0]
    total = offset + header_size + data_size
    if total > file_size:
        raise ImageFormatError("truncated image: header says the object memory ends at %d, but the "
                               "file has %d bytes" % (total, file_size), offset + 8)
    image_fits(data_size, memory_limit)
    return total


def write_image(heap, path: str, little_endian: bool | None = None, protect=()) -> None:
    """Write `heap` as an image of its own format family, atomically; never over the file
    the heap was read from, nor over a file in `protect`, nor over anything but a regular
    file (image/files.py)."""
    atomic_write(path, encode_image(heap, little_endian),
                 protect=(getattr(heap.info, "path", None),) + tuple(protect))


def encode_image(heap, little_endian: bool | None = None) -> bytes:
    """The bytes `write_image` would write."""
    if heap.family.is_spur:
        from .spur_writer import encode_image as encode_spur
        if little_endian is False:
            from ..errors import OzError
            from .spur_reader import NO_BIG_ENDIAN_SPUR
            raise OzError("Spur images are written little-endian only: " + NO_BIG_ENDIAN_SPUR)
        return encode_spur(heap)
    from .v3_writer import encode_image as encode_v3
    return encode_v3(heap, little_endian)
