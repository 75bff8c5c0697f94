"""A web page's mouse and keyboard events as the guest's input events (the workbench's live
screen): DOM events, as the page sends them, translated to Squeak's (prims/input_device.py).

    feeder = InputFeeder()
    feeder.push({"type": "mousedown", "x": 60, "y": 83, "button": 0, "buttons": 1})   # any thread
    feeder.feed(space.input_device())       # between transfers of control (the VM's thread)

An event is a dict: `type` ('mousedown', 'mouseup', 'mousemove', 'keydown'), for the mouse
`x`, `y` (the guest's pixels) and `buttons` (the DOM's bit mask: 1 left, 2 right, 4 middle),
for keys `key` (the DOM's key value: one character, or a name such as 'Enter',
'ArrowLeft'); and the modifier flags `shift`, `ctrl`, `alt`, `meta`. Translation, as a C
VM on X11 does (and SqueakJS on a PC):
  - buttons: left is red (4), middle yellow (2), right blue (1); the left button with alt
    or meta down is yellow (a mouse without a middle button);
  - modifiers: shift 1, control 2, alt or meta is command 8;
  - characters are the images' MacRoman codes (with their Unicode value in the event
    record); control with a letter gives the control character (code & 31); the special
    keys give Squeak's codes (Backspace 8, Tab 9, Enter 13, Escape 27, Delete 127, Home 1,
    End 4, PageUp 11, PageDown 12, Insert 5, arrows 28-31); other keys (Shift alone, F1...)
    are not sent. A character MacRoman has no code for is refused (OzError).

Feeding: events wait in the feeder until the VM's thread feeds them to the device between
two transfers of control; a feed stops after a change of the buttons, so an image that
polls the mouse (Squeak 2.2's MVC) sees every press and release, even when the page sent
both before the guest ran. Mouse moves in a row are merged (the last counts). At most
MAX_UNREAD events wait in the device: an image that polls never reads them, the oldest go.
"""
from __future__ import annotations

import threading
from collections import deque

from ..errors import OzError
from ..prims.input_device import BLUE, RED, YELLOW

SHIFT, CONTROL, OPTION, COMMAND = 1, 2, 4, 8
MAX_UNREAD = 64
MAX_PENDING = 1000

SPECIAL_KEYS = {"Backspace": 8, "Tab": 9, "Enter": 13, "Escape": 27, "Delete": 127,
                "Home": 1, "End": 4, "PageUp": 11, "PageDown": 12, "Insert": 5,
                "ArrowLeft": 28, "ArrowRight": 29, "ArrowUp": 30, "ArrowDown": 31}

MOUSE_TYPES = ("mousedown", "mouseup", "mousemove")


def _flag(event, name) -> bool:
    value = event.get(name, False)
    if value.__class__ is not bool:
        raise OzError("event field %r must be true or false, not %r" % (name, value))
    return value


def _int(event, name, lo, hi) -> int:
    value = event.get(name)
    if value.__class__ is float and value == int(value):
        value = int(value)
    if value.__class__ is not int:
        raise OzError("event field %r must be an integer, not %r" % (name, value))
    return max(lo, min(hi, value))


def modifiers_of(event) -> int:
    """Squeak's modifier bits of a DOM event's flags."""
    return ((SHIFT if _flag(event, "shift") else 0)
            | (CONTROL if _flag(event, "ctrl") else 0)
            | (COMMAND if _flag(event, "alt") or _flag(event, "meta") else 0))


def buttons_of(event) -> int:
    """Squeak's button bits of a DOM event's `buttons` mask (and alt/meta)."""
    dom = _int(event, "buttons", 0, 31)
    buttons = (RED if dom & 1 else 0) | (BLUE if dom & 2 else 0) | (YELLOW if dom & 4 else 0)
    if buttons == RED and (_flag(event, "alt") or _flag(event, "meta")):
        buttons = YELLOW
    return buttons


def key_code_of(event):
    """(code, unicode) of a keydown, or None for a key that types nothing."""
    key = event.get("key")
    if key.__class__ is not str or not key:
        raise OzError("a key event needs its 'key' (a string), not %r" % (key,))
    if key in SPECIAL_KEYS:
        code = SPECIAL_KEYS[key]
        return code, code
    if len(key) != 1:
        return None             # Shift, Control, F1, Dead...: nothing to type
    try:
        code = key.encode("mac_roman")[0]
    except UnicodeEncodeError:
        raise OzError("the guest's keyboard has no key for %r (MacRoman)" % key) from None
    if _flag(event, "ctrl") and 64 <= code < 127:
        code &= 31
    return code, ord(key)


def translate(event, width: int = 1 << 16, height: int = 1 << 16):
    """A DOM event (dict) as the device action it makes: ('mouse', x, y, buttons,
    modifiers), ('key', code, modifiers, unicode) or None (nothing to send). The mouse is
    kept within width x height. Raises OzError on a malformed event."""
    if not isinstance(event, dict):
        raise OzError("an input event is an object, not %r" % type(event).__name__)
    kind = event.get("type")
    if kind in MOUSE_TYPES:
        x = _int(event, "x", 0, max(0, width - 1))
        y = _int(event, "y", 0, max(0, height - 1))
        buttons = 0 if kind == "mouseup" and "buttons" not in event else buttons_of(event)
        return ("mouse", x, y, buttons, modifiers_of(event))
    if kind == "keydown":
        found = key_code_of(event)
        if found is None:
            return None
        return ("key", found[0], modifiers_of(event), found[1])
    raise OzError("unknown input event type %r (mousedown, mouseup, mousemove, keydown)" % (kind,))


class InputFeeder:
    """Translated events waiting for the guest (see the module doc)."""

    def __init__(self):
        self.pending: deque = deque()
        self.buttons = 0            # the buttons as last fed
        self.dropped = 0            # unread events the device let go
        self.changes = 0            # changes of the buttons given to the device so far
        self.keystrokes = 0         # key events given to the device so far
        self._change_turn = None    # the guest's turn when the buttons last changed
        self._lock = threading.Lock()

    def push(self, event, width: int = 1 << 16, height: int = 1 << 16) -> None:
        """Translate a DOM event and keep it for the next feed (OzError when malformed)."""
        action = translate(event, width, height)
        if action is None:
            return
        with self._lock:
            if len(self.pending) >= MAX_PENDING:
                raise OzError("too many input events waiting (%d): the guest is not running"
                              % MAX_PENDING)
            move = event.get("type") == "mousemove"
            last = self.pending[-1] if self.pending else None
            if move and last is not None and last[0] and last[1][3:] == action[3:]:
                self.pending[-1] = (move, action)       # moves: only where they end counts
            else:
                self.pending.append((move, action))

    def __len__(self):
        return len(self.pending)

    def feed(self, device, turn=None) -> int:
        """Post waiting events to the device, up to and including the first that changes
        the buttons; answer how many were posted. `turn`: anything that changes when the
        guest has run (its last transfer of control, its bytecode count): a change of the
        buttons waits until the guest has had a turn since the previous one."""
        posted = 0
        while True:
            with self._lock:
                if not self.pending:
                    break
                action = self.pending[0][1]
                change = action[0] == "mouse" and action[3] != self.buttons
                if change and turn is not None and self._change_turn is not None \
                        and turn == self._change_turn:
                    break                   # the guest has not run since the last change
                self.pending.popleft()
            if action[0] == "mouse":
                _, x, y, buttons, modifiers = action
                device.mouse(x, y, buttons, modifiers)
            else:
                _, code, modifiers, unicode = action
                device.key_code(code, modifiers, unicode)
                self.keystrokes += 1
            posted += 1
            for unread in (device.events, device.keys):
                while len(unread) > MAX_UNREAD:
                    unread.popleft()
                    self.dropped += 1
            if change:
                self.buttons = action[3]
                self.changes += 1
                self._change_turn = turn
                break
        return posted
