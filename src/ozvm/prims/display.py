"""Display and input primitives for a headless VM: input (90-95, 107-109), cursor and
display (101, 102, 106, 122, 126, 127, 231, 233); copyBits (96) is in bitblt.py.

Like squeak-vm with -vm-display-null: nothing is shown, the screen size is the window size
saved in the image header; input comes from the interpreter's input device
(input_device.py), where the host posts mouse and keyboard events (none by default: the
mouse rests at 0@0). copyBits (96), warpBits (147) and character scanning (103) are in
bitblt.py. The line-drawing loop (104) fails, so the image's own Smalltalk code runs.
"""
from __future__ import annotations

from ..memory import specials as S
from ..memory.objects import FMT_VAR, FMT_WORDS, SqObject
from .base import PrimitiveFailed, primitive
from .input_device import device_of
from .values import boolean, boolean_value, new_point, register_failing, small_value


# --- input: the interpreter's input device (input_device.py) ------------------------------------

@primitive(90, argc=0)
def mouse_point(interp, rcvr):
    device = device_of(interp)
    return new_point(interp.heap, device.x, device.y)


@primitive(91, argc=1)
def test_display_depth(interp, rcvr, depth):
    """supportsDisplayDepth: n, as the C VM's primitiveTestDisplayDepth (a SmallInteger
    argument, else it fails: Squeak 2.2's primCursorLocPut: aPoint then runs its own code)."""
    return boolean(interp.heap, small_value(depth) in (1, 2, 4, 8, 16, 32))


register_failing(92)   # setDisplayMode


@primitive(93, argc=1)
def input_semaphore(interp, rcvr, index):
    """Register the input semaphore (by its external index), signalled as events arrive."""
    device_of(interp).semaphore = small_value(index)
    return rcvr


@primitive(94, argc=1)
def get_next_event(interp, rcvr, buffer):
    """Fill the event buffer with the next event record (type 0 when there is none)."""
    if buffer.__class__ is not SqObject or buffer.fmt != FMT_VAR or len(buffer.ptrs) < 8:
        raise PrimitiveFailed()
    record = device_of(interp).next_event() or [0] * 8
    buffer.ptrs[:8] = record
    return rcvr


@primitive(95, argc=0)
def input_word(interp, rcvr):
    return 0


@primitive(107, argc=0)
def mouse_buttons(interp, rcvr):
    device = device_of(interp)
    return device.buttons | (device.modifiers << 3)


@primitive(108, argc=0)
def keyboard_next(interp, rcvr):
    keys = device_of(interp).keys
    return keys.popleft() if keys else interp.heap.nil


@primitive(109, argc=0)
def keyboard_peek(interp, rcvr):
    keys = device_of(interp).keys
    return keys[0] if keys else interp.heap.nil


# --- drawing ---------------------------------------------------------------------------------------

register_failing(104)


# --- cursor and display ---------------------------------------------------------------------------------

class CursorShape:
    """The cursor a guest set with primitive 101 (Cursor>>beCursor, beCursorWithMask:), as
    the C VM keeps it: a copy of the 16x16 1-bit form's 16 words (the leftmost pixel in
    each word's top bit, as a Form holds it), of its mask's when one was given, and the
    offset of its top left corner from the mouse point (-16..0 each)."""

    width = height = 16

    def __init__(self, bits, mask, offset):
        self.bits = list(bits)
        self.mask = None if mask is None else list(mask)
        self.offset = offset

    @property
    def hotspot(self) -> tuple:
        """The pixel of the cursor that lies on the mouse point (x, y from its top left)."""
        return -self.offset[0], -self.offset[1]

    def pixels(self) -> list:
        """16 rows of 16: 1 black, 0 white, None transparent. With a mask, a pixel shows
        where the mask is set (black where the form is); without, where the form is set."""
        rows = []
        for y in range(16):
            word, mask = self.bits[y], self.mask[y] if self.mask is not None else None
            row = []
            for x in range(16):
                bit = (word >> (31 - x)) & 1
                if mask is None:
                    row.append(1 if bit else None)
                else:
                    row.append(bit if (mask >> (31 - x)) & 1 else None)
            rows.append(row)
        return rows

    def rgba(self) -> bytes:
        """The cursor as 16x16 RGBA bytes, row by row (transparent pixels have alpha 0)."""
        colors = {1: b"\x00\x00\x00\xff", 0: b"\xff\xff\xff\xff", None: b"\x00\x00\x00\x00"}
        return b"".join(colors[p] for row in self.pixels() for p in row)


def _cursor_form(form, with_offset):
    """(16 words of bits, (offset x, offset y)) of a 16x16 1-bit Form, as primitive 101
    checks it; PrimitiveFailed otherwise."""
    if form.__class__ is not SqObject or form.ptrs is None or form.fmt > 4 or len(form.ptrs) < 5:
        raise PrimitiveFailed()
    bits, width, height, depth, offset = form.ptrs[:5]
    if not (width.__class__ is int and height.__class__ is int and depth.__class__ is int):
        raise PrimitiveFailed()
    point = None
    if with_offset:
        if offset.__class__ is not SqObject or offset.ptrs is None or offset.fmt > 4 or len(offset.ptrs) < 2:
            raise PrimitiveFailed()
        point = offset.ptrs[0], offset.ptrs[1]
        if not all(v.__class__ is int and -16 <= v <= 0 for v in point):
            raise PrimitiveFailed()
    if (width, height, depth) != (16, 16, 1):
        raise PrimitiveFailed()
    if bits.__class__ is not SqObject or bits.fmt != FMT_WORDS or len(bits.words) != 16:
        raise PrimitiveFailed()
    return bits.words, point


@primitive(101)
def be_cursor(interp, rcvr, *args):
    """beCursor / beCursorWithMask: aForm: the receiver (and the mask) must be 16x16 1-bit
    Forms with 16-word bits, the offset within -16..0, as squeak-vm 4.10 checks them (it
    has no 32-bit cursors). The shape is kept on the interpreter (`interp.cursor`, a
    CursorShape; `Screen.cursor` shows it); nothing is drawn. With more than one argument,
    or a receiver that is no object of five fields, squeak-vm crashes; ozvm fails."""
    if len(args) > 1:
        raise PrimitiveFailed()
    bits, offset = _cursor_form(rcvr, True)
    mask = _cursor_form(args[0], False)[0] if args else None
    interp.cursor = CursorShape(bits, mask, offset)
    return rcvr


@primitive(102, argc=0)
def be_display(interp, rcvr):
    """Make the receiver (a DisplayScreen: bits width height depth ...) the display."""
    if rcvr.__class__ is not SqObject or rcvr.ptrs is None or len(rcvr.ptrs) < 4:
        raise PrimitiveFailed()
    interp.heap.specials.ptrs[S.THE_DISPLAY] = rcvr
    return rcvr


def screen_size(heap):
    """The window size saved in the image header (width, height)."""
    return heap.info.window_extent()


@primitive(106, argc=0)
def screen_size_prim(interp, rcvr):
    w, h = screen_size(interp.heap)
    return new_point(interp.heap, w, h)


@primitive(122, 231, argc=0)
def display_request(interp, rcvr):
    """reverseDisplay (122) and forceDisplayUpdate (231): headless, nothing to do."""
    return rcvr


@primitive(126, 233, argc=1)
def display_mode(interp, rcvr, flag):
    """deferUpdates: (126) and fullScreen: (233): a Boolean, else they fail; headless,
    nothing changes."""
    boolean_value(interp.heap, flag)
    return rcvr


@primitive(127, argc=4)
def show_display_rect(interp, rcvr, left, right, top, bottom):
    for v in (left, right, top, bottom):
        small_value(v)
    return rcvr
