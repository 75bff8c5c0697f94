"""What changed on a guest's screen since a viewer last looked: damage tracking and frame
encoding for a live view of the Display (the workbench's live screen).

    tracker = ScreenUpdates(space)
    update = tracker.update()       # first: the whole screen; then only what changed
    update.full, update.width, update.height, update.depth
    for r in update.rects:          # Rect: x, y, w, h, png (an 8-bit RGB PNG of the rectangle)
        ...

Damage is found by comparing the Display's bits with the copy the tracker kept of them
when it last answered, so it holds whatever wrote the pixels (copyBits, warpBits, a
primitive, guest code storing into the Bitmap, a new Display form): nothing in the
interpreter has to report it. The screen is cut into tiles (TILE_WIDTH pixels wide, one
row high); the changed tiles of consecutive rows are merged into rectangles, each sent as
a PNG. A new Display (another form, extent or depth) sends the whole screen again. Each
viewer has its own tracker (its own copy of the bits).

The comparison runs in the host between transfers of control (the space is not running):
an unchanged screen is one comparison of the two word lists, a changed one a comparison a row.
"""
from __future__ import annotations

from .screen import Screen, encode_png

TILE_WIDTH = 64             # pixels
PNG_LEVEL = 1               # zlib level of the live frames: fast, still small for UIs


class Rect:
    """A changed rectangle of the screen and its pixels as a PNG."""

    __slots__ = ("x", "y", "w", "h", "png")

    def __init__(self, x, y, w, h, png):
        self.x, self.y, self.w, self.h, self.png = x, y, w, h, png

    def box(self) -> tuple:
        return (self.x, self.y, self.w, self.h)

    def __repr__(self):
        return "<Rect %d,%d %dx%d>" % (self.x, self.y, self.w, self.h)


class Update:
    """What a tracker answers: the screen's geometry, whether it is the whole screen
    (`full`: a first look or a new Display), the changed rectangles, and a sequence number."""

    __slots__ = ("width", "height", "depth", "full", "rects", "serial")

    def __init__(self, width, height, depth, full, rects, serial):
        self.width, self.height, self.depth = width, height, depth
        self.full, self.rects, self.serial = full, rects, serial

    def __repr__(self):
        return "<Update %d %dx%dx%d%s %d rects>" % (self.serial, self.width, self.height, self.depth,
                                                   " full" if self.full else "", len(self.rects))


def changed_boxes(old, new, pitch: int, height: int, tile_words: int) -> list:
    """[(first word column, end word column, first row, end row)] of the rectangles holding
    every word of `new` that differs from `old` (both `pitch` words a row): runs of changed
    tiles (`tile_words` a tile) in a row, merged with an overlapping rectangle of the row above."""
    closed, open_ = [], []
    for y in range(height):
        a = y * pitch
        if old[a:a + pitch] == new[a:a + pitch]:
            if open_:
                closed.extend(open_)
                open_ = []
            continue
        runs = []
        c = 0
        while c < pitch:
            e = min(pitch, c + tile_words)
            if old[a + c:a + e] != new[a + c:a + e]:
                if runs and runs[-1][1] == c:
                    runs[-1][1] = e
                else:
                    runs.append([c, e])
            c = e
        still = []
        for c0, c1 in runs:
            for r in open_:
                if r[3] == y and r[0] < c1 and c0 < r[1]:
                    r[0], r[1], r[3] = min(r[0], c0), max(r[1], c1), y + 1
                    break
            else:
                still.append([c0, c1, y, y + 1])
        for r in open_:
            (still if r[3] == y + 1 else closed).append(r)
        open_ = still
    closed.extend(open_)
    return [tuple(r) for r in closed]


class ScreenUpdates:
    """The changes of one space's Display for one viewer (see the module doc)."""

    def __init__(self, space, tile_width: int = TILE_WIDTH, level: int = PNG_LEVEL):
        self.space = space
        self.tile_width = tile_width
        self.level = level
        self.serial = 0
        self._seen = None           # (form, bits object, width, height, depth)
        self._copy = None           # the words as last sent

    def reset(self) -> None:
        """Send the whole screen at the next update (a viewer that lost its canvas)."""
        self._seen = self._copy = None

    def update(self) -> Update:
        """The rectangles changed since the last update (all of the screen the first time).
        Raises OzError when the space has no Display form to show (screen.Screen)."""
        screen = Screen(self.space)
        words = screen.words()
        key = (screen.form, screen.bits, screen.width, screen.height, screen.depth)
        self.serial += 1
        ppw = 32 // abs(screen.depth)
        if self._seen is None or any(a is not b for a, b in zip(key[:2], self._seen[:2])) \
                or key[2:] != self._seen[2:]:
            self._seen = key
            self._copy = list(words)
            boxes = [(0, 0, screen.width, screen.height)] if screen.width and screen.height else []
            full = True
        elif self._copy == words:           # nothing changed: one comparison at C speed
            boxes, full = [], False
        else:
            pitch = screen.pitch()
            tile_words = max(1, self.tile_width // ppw)
            found = changed_boxes(self._copy, words, pitch, screen.height, tile_words)
            boxes = []
            for c0, c1, y0, y1 in found:
                for y in range(y0, y1):
                    self._copy[y * pitch + c0:y * pitch + c1] = words[y * pitch + c0:y * pitch + c1]
                x0 = c0 * ppw
                boxes.append(screen.clip((x0, y0, c1 * ppw - x0, y1 - y0)))
            full = False
        rects = []
        for box in boxes:
            if box[2] and box[3]:
                rows = screen.rgb_rows(box, words=self._copy)
                rects.append(Rect(box[0], box[1], box[2], box[3],
                                  encode_png(box[2], box[3], rows, self.level)))
        return Update(screen.width, screen.height, screen.depth, full, rects, self.serial)
