"""Method source code from the image's `.sources` and `.changes` files (seed: the surgeon's
browser shows real source, with the names the programmer chose).

Squeak keeps no source in the image: each CompiledMethod ends with a *trailer* that points
into one of two text files beside the image, the `.sources` file (file index 1, the release's
sources) and the `.changes` file (file index 2, everything compiled since). The trailer is the
method's last four bytes: the last byte is 251 + the file index (252..255; below 252 the
method has no source pointer) and the three bytes before it are the position, most
significant first (bytes size-1, size-2, size-3). This is the encoding of Squeak 2.x
(`CompiledMethod>>fileIndex`, `filePosition`) and of the StandardSourceFileArray of Squeak 3.x
(Scratch 1.4). At that position starts a *chunk*: text up to a lone `!` (a doubled `!!`
stands for one `!`), with CR line ends.

`SourceFiles(image_path)` finds the files beside an image and reads chunks; it never writes
them. Methods the host installs with source (`ObjectSpace.install(..., log_source=True)`) get
their source appended to an in-memory continuation of the `.changes` file, as the image's own
`compile:classified:withStamp:notifying:` appends it, and a trailer pointing there;
`write_changes(image_out)` writes the original `.changes` plus those chunks beside a saved
image, so the saved image finds its sources on any VM.

Images whose methods use another trailer scheme (Pharo's CompiledMethodTrailer) are not read
here: `source_of` answers None and callers fall back to the decompiler.

Pharo's trailers (`CompiledMethodTrailer`, Pharo 1.1 to 11) name their kind in the six high
bits of a method's last byte. One kind keeps the source in the method itself: #EmbeddedSource
(kind 11): the source's bytes, then their count in 1 to 4 bytes (least significant first),
then the kind byte `11 << 2 + (count bytes - 1)`. Pharo writes it when it cannot log a
method's source in a `.changes` (`CompiledMethod>>putSource:withPreamble:` falls back to
`copyWithSource:`), and reads it first (`CompiledMethod>>sourceCode`). ozvm keeps the source of
a method it compiles into an image without Squeak source pointers so (`embedded_trailer`,
read back by `embedded_source`), and `pharo_trailer_size` says where such a trailer starts.
"""
from __future__ import annotations

import glob
import os

from ..errors import OzError

SOURCES_INDEX = 1
CHANGES_INDEX = 2
TRAILER_SIZE = 4


def source_pointer(method_bytes) -> tuple:
    """(file index, position) of a V3 Squeak method's trailer; (0, 0) when it has none."""
    if method_bytes is None or len(method_bytes) < TRAILER_SIZE:
        return 0, 0
    last = method_bytes[-1]
    if last < 252:
        return 0, 0
    position = (method_bytes[-2] << 16) | (method_bytes[-3] << 8) | method_bytes[-4]
    return last - 251, position


def set_source_pointer(method_bytes: bytearray, index: int, position: int) -> None:
    """Write a source pointer into the last four bytes of a method (its trailer)."""
    if not 1 <= index <= 4:
        raise OzError("invalid source file index %d" % index)
    if not 0 <= position < 1 << 24:
        raise OzError("source position %d does not fit a trailer (16 MB)" % position)
    method_bytes[-1] = 251 + index
    method_bytes[-2] = (position >> 16) & 255
    method_bytes[-3] = (position >> 8) & 255
    method_bytes[-4] = position & 255


def read_chunk(data: bytes, position: int) -> str | None:
    """The chunk that starts at `position` (`!!` read as `!`), or None past the end."""
    if not 0 <= position < len(data):
        return None
    out = []
    i = position
    n = len(data)
    while i < n:
        j = data.find(b"!", i)
        if j < 0:
            out.append(data[i:])
            break
        out.append(data[i:j])
        if j + 1 < n and data[j + 1:j + 2] == b"!":
            out.append(b"!")
            i = j + 2
            continue
        break
    return b"".join(out).decode("latin-1")


def chunk(text: str) -> bytes:
    """`text` as a chunk body: CR line ends, `!` doubled (the terminating `!` not included)."""
    body = text.replace("\r\n", "\r").replace("\n", "\r").replace("!", "!!")
    try:
        return body.encode("latin-1")
    except UnicodeEncodeError as e:
        raise OzError("source has a character the image's files cannot hold: %r"
                      % text[e.start]) from None


EMBEDDED_SOURCE = 11           # Pharo's trailer kind #EmbeddedSource (2r001011)
SOURCE_BY_SELECTOR = 4         # #SourceBySelector: the kind byte alone
VAR_LENGTH_SOURCE_POINTER = 8  # #VarLengthSourcePointer: 7 bits a byte, high bit: more
# the kinds whose kind byte is preceded by a length field, then that many bytes of data:
# ClearedTrailer, TempsNamesQCompress/Zip, SourceByStringIdentifier, EmbeddedSourceQCompress/
# Zip, EmbeddedSource, EmbeddedSourceWide
LENGTH_FIELD_KINDS = (1, 2, 3, 5, 6, 7, 11, 12)


def embedded_trailer(source: str) -> bytes:
    """Pharo's #EmbeddedSource trailer holding `source` (CR line ends, as the image's own
    source strings; every character a byte: OzError otherwise)."""
    text = source.replace("\r\n", "\r").replace("\n", "\r")
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError as e:
        raise OzError("source has a character the image's strings cannot hold: %r"
                      % text[e.start]) from None
    count = len(data)
    length = bytearray()
    while count > 0:
        length.append(count & 255)
        count >>= 8
    if not length or len(length) > 4:
        raise OzError("a source of %d bytes does not fit a method's trailer" % len(data))
    return data + bytes(length) + bytes([(EMBEDDED_SOURCE << 2) + len(length) - 1])


def _length_field(method_bytes):
    """(data length, trailer size) of a trailer with a length field, or None when it does
    not fit the method."""
    n = len(method_bytes)
    size_bytes = (method_bytes[-1] & 3) + 1
    if n < 1 + size_bytes:
        return None
    length = 0
    for i in range(1, size_bytes + 1):
        length = (length << 8) + method_bytes[n - 1 - i]
    size = 1 + size_bytes + length
    return (length, size) if size <= n else None


def pharo_trailer_size(method_bytes) -> int | None:
    """How many bytes at the end of a method are its Pharo trailer, for the kinds that say
    so themselves (those with a length field, #SourceBySelector, #VarLengthSourcePointer);
    None for the others (#NoTrailer's zero bytes, #SourcePointer's four) and when the
    trailer would not fit the method."""
    if not method_bytes:
        return None
    kind = method_bytes[-1] >> 2
    if kind in LENGTH_FIELD_KINDS:
        field = _length_field(method_bytes)
        return None if field is None else field[1]
    if kind == SOURCE_BY_SELECTOR:
        return 1
    if kind == VAR_LENGTH_SOURCE_POINTER:
        pos = len(method_bytes) - 2
        while pos >= 0 and method_bytes[pos] > 127:
            pos -= 1
        return len(method_bytes) - pos if pos >= 0 else None
    return None


def embedded_source(method_bytes) -> str | None:
    """The source an #EmbeddedSource trailer holds (host line ends), or None."""
    if not method_bytes or method_bytes[-1] >> 2 != EMBEDDED_SOURCE:
        return None
    field = _length_field(method_bytes)
    if field is None:
        return None
    length, size = field
    start = len(method_bytes) - size
    text = bytes(method_bytes[start:start + length]).decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


class SourceFiles:
    """The `.sources` and `.changes` files beside one image, read lazily, never written."""

    def __init__(self, image_path: str | None):
        self.image_path = image_path
        self.changes_path = None
        self.sources_path = None
        if image_path:
            base = os.path.splitext(image_path)[0]
            if os.path.isfile(base + ".changes"):
                self.changes_path = base + ".changes"
            folder = os.path.dirname(os.path.abspath(image_path))
            found = sorted(glob.glob(os.path.join(folder, "*.sources")))
            if found:
                self.sources_path = found[0]
        self._data = {}
        self.added = bytearray()      # chunks appended after the original .changes

    def copy(self) -> "SourceFiles":
        other = SourceFiles(None)
        other.image_path = self.image_path
        other.changes_path, other.sources_path = self.changes_path, self.sources_path
        other._data = self._data
        other.added = bytearray(self.added)
        return other

    def _file(self, index: int) -> bytes:
        data = self._data.get(index)
        if data is None:
            path = {SOURCES_INDEX: self.sources_path, CHANGES_INDEX: self.changes_path}.get(index)
            data = b""
            if path and os.path.isfile(path):     # a FIFO or device is never opened
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError:
                    data = b""
            self._data[index] = data
        if index == CHANGES_INDEX and self.added:
            return data + bytes(self.added)
        return data

    def source_of(self, method_bytes) -> str | None:
        """The method's source text (host line ends), or None when it has no readable source."""
        index, position = source_pointer(method_bytes)
        if index == 0:
            return None
        text = read_chunk(self._file(index), position)
        if not text:
            return None
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def log_method(self, method, class_name: str, category: str, source: str, stamp: str) -> None:
        """Append `source` as the image's own compiler logs a method and point `method`'s
        trailer at it (the method must end with the compiler's 4-byte trailer)."""
        preamble = b"\r!" + chunk("%s methodsFor: '%s' stamp: '%s'" % (
            class_name, category.replace("'", "''"), stamp.replace("'", "''"))) + b"!\r"
        body = chunk(source)
        head = len(self._file(CHANGES_INDEX)) + len(preamble)
        set_source_pointer(method.bytes, CHANGES_INDEX, head)
        self.added += preamble + body + b"! !"

    def changes_target(self, image_out: str) -> str | None:
        """Where `write_changes` puts the `.changes` of an image saved at `image_out` (None when
        there is nothing to write); refuses the input's own `.changes`."""
        if not self._file(CHANGES_INDEX):
            return None
        target = os.path.splitext(image_out)[0] + ".changes"
        if self.changes_path and os.path.exists(target) and os.path.samefile(target, self.changes_path):
            raise OzError("refusing to overwrite the input changes file %s" % target)
        return target

    def write_changes(self, target: str) -> None:
        """Write the original `.changes` text plus what the host logged to `target`,
        atomically (a temp file beside it, then a rename)."""
        from ..image.files import atomic_write
        atomic_write(target, bytes(self._file(CHANGES_INDEX)), protect=(self.changes_path,))
