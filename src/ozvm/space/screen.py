"""A guest's screen as the host sees it: the Display form (the specials' `Display`) as rows
of RGB pixels and as a PNG file.

The Display is a Form (bits width height depth ...); `space.screen()` answers a Screen that
reads it when asked (nothing is copied before). Pixels are taken as a C VM's window shows
them: 32 bits as 0xAARRGGBB (alpha ignored), 16 bits as 5-5-5 RGB widened to 8 bits per
color by repeating the top bits, 1 to 8 bits through Squeak's standard color table (index
0, transparent, shows as white; index 1 is black). A negative depth is a Form whose pixels are stored in
little-endian order within each word.

`Screen.png()` answers PNG bytes (8-bit RGB, no dependency beyond zlib); `save_png(path)`
writes them atomically; with `cursor=True` the guest's cursor is drawn at the mouse point.
`Screen.cursor` is the cursor the guest set (primitive 101), `cursor_position` the mouse.
"""
from __future__ import annotations

import struct
import zlib

from ..errors import OzError
from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_WORDS, SqObject
from ..prims.bitblt import DEFAULT_8_TO_32


def _palette():
    table = list(DEFAULT_8_TO_32)
    table[0] = 0xFFFFFFFF        # transparent shows as white on the screen
    table[1] = 0xFF000000        # black (0x000001 as a 32-bit pixel, only not to be transparent)
    return [bytes(((c >> 16) & 255, (c >> 8) & 255, c & 255)) for c in table]


_PALETTE = _palette()


def encode_png(width: int, height: int, rows, level: int = 9) -> bytes:
    """An 8-bit RGB PNG of `rows` (one bytes of width * 3 per row, top to bottom);
    `level`: zlib's compression level (1 fast, 9 small)."""
    raw = b"".join(b"\x00" + row for row in rows)

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b""))


class Screen:
    """The Display form of a space (read when asked)."""

    def __init__(self, space, form=None):
        self.space = space
        display = form if form is not None else space.heap.specials.ptrs[S.THE_DISPLAY]
        if display.__class__ is not SqObject or display.ptrs is None or len(display.ptrs) < 4:
            raise OzError("the image has no Display form (its specials' Display is %s)"
                          % space.describe(display))
        bits, width, height, depth = display.ptrs[:4]
        if not all(v.__class__ is int for v in (width, height, depth)) or abs(depth) not in (1, 2, 4, 8, 16, 32):
            raise OzError("the Display is no Form of a known depth (%r x %r x %r)" % (width, height, depth))
        self.form = display
        self.width, self.height, self.depth = width, height, depth
        if bits.__class__ is not SqObject or bits.fmt not in (FMT_WORDS, FMT_BYTES):
            raise OzError("the Display has no bits yet (%s): the image has not drawn it"
                          % space.describe(bits))
        self.bits = bits

    def words(self) -> list:
        """The Display's bits as 32-bit words (its own list when it is a word object)."""
        if self.bits.fmt == FMT_WORDS:
            return self.bits.words
        data = bytes(self.bits.bytes)
        return list(struct.unpack("<%dI" % (len(data) // 4), data[:len(data) // 4 * 4]))

    def pitch(self) -> int:
        """Words per row."""
        ppw = 32 // abs(self.depth)
        return (self.width + ppw - 1) // ppw

    def clip(self, box) -> tuple:
        """(x, y, w, h) of `box` within the screen (w or h 0 when nothing of it is)."""
        x, y, w, h = box
        x0, y0 = max(0, x), max(0, y)
        x1, y1 = min(self.width, x + w), min(self.height, y + h)
        return x0, y0, max(0, x1 - x0), max(0, y1 - y0)

    def rgb_rows(self, box=None, words=None) -> list:
        """One `bytes` of width * 3 (R, G, B) per row, top to bottom; of the rectangle
        `box` = (x, y, w, h) only when given (clipped to the screen). `words`: the bits to
        read (default: the Display's, as they are now)."""
        depth = abs(self.depth)
        msb = self.depth > 0
        ppw = 32 // depth
        pitch = self.pitch()
        if words is None:
            words = self.words()
        if len(words) < pitch * self.height:
            raise OzError("the Display's bits are shorter than its extent (%d words for %dx%dx%d)"
                          % (len(words), self.width, self.height, self.depth))
        x, y0, w, h = self.clip(box) if box is not None else (0, 0, self.width, self.height)
        first, last = x // ppw, (x + w + ppw - 1) // ppw     # the words holding the columns
        skip = x - first * ppw
        mask = (1 << depth) - 1
        shifts = range(32 - depth, -1, -depth) if msb else range(0, 32, depth)
        rows = []
        for y in range(y0, y0 + h):
            row = words[y * pitch + first:y * pitch + last]
            if depth == 32:
                data = struct.pack(">%dI" % len(row), *row)
                rgb = bytearray(len(row) * 3)
                rgb[0::3] = data[1::4]
                rgb[1::3] = data[2::4]
                rgb[2::3] = data[3::4]
                rows.append(bytes(rgb))
                continue
            pixels = []
            for word in row:
                pixels.extend((word >> s) & mask for s in shifts)
            pixels = pixels[skip:skip + w]
            if depth == 16:
                out = bytearray()
                for p in pixels:
                    r, g, b = (p >> 10) & 31, (p >> 5) & 31, p & 31
                    out += bytes(((r << 3) | (r >> 2), (g << 3) | (g >> 2), (b << 3) | (b >> 2)))
                rows.append(bytes(out))
            else:
                rows.append(b"".join(_PALETTE[p] for p in pixels))
        return rows

    # --- the cursor ------------------------------------------------------------------
    @property
    def cursor(self):
        """The cursor the guest set (primitive 101), a CursorShape (prims/display.py:
        `hotspot`, `offset`, `bits`, `mask`, `pixels()`, `rgba()`), or None when it set none."""
        interp = getattr(self.space, "_interpreter", None) if self.space is not None else None
        return getattr(interp, "cursor", None)

    @property
    def cursor_position(self) -> tuple:
        """Where the mouse is (x, y): the guest's input device (0, 0 until the host moves it)."""
        interp = getattr(self.space, "_interpreter", None) if self.space is not None else None
        device = getattr(interp, "input_device", None)
        return (device.x, device.y) if device is not None else (0, 0)

    def draw_cursor(self, rows) -> list:
        """`rows` (full-screen RGB rows) with the cursor drawn where the mouse is, its
        hotspot on the mouse point (clipped to the screen); the rows as they were when the
        guest set no cursor."""
        cursor = self.cursor
        if cursor is None:
            return rows
        mx, my = self.cursor_position
        left, top = mx + cursor.offset[0], my + cursor.offset[1]
        rows = list(rows)
        for dy, line in enumerate(cursor.pixels()):
            y = top + dy
            if not 0 <= y < len(rows):
                continue
            row = bytearray(rows[y])
            for dx, pixel in enumerate(line):
                x = left + dx
                if pixel is not None and 0 <= x < self.width:
                    row[3 * x:3 * x + 3] = b"\x00\x00\x00" if pixel else b"\xff\xff\xff"
            rows[y] = bytes(row)
        return rows

    def png(self, cursor: bool = False) -> bytes:
        """The screen as a PNG file's bytes (8-bit RGB); with the cursor drawn if `cursor`."""
        rows = self.rgb_rows()
        if cursor:
            rows = self.draw_cursor(rows)
        return encode_png(self.width, self.height, rows)

    def save_png(self, path: str, cursor: bool = False) -> None:
        """Write the PNG atomically (a temporary file beside `path`, then a rename)."""
        from ..image.files import atomic_write
        atomic_write(path, self.png(cursor))
