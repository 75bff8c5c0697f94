"""The input device of one interpreter: where the host's mouse and keyboard events wait for
the guest (primitives 90, 93-95, 107-109 in display.py read it).

Squeak images read input two ways and this serves both: polling (mouse point, mouse
buttons with the modifier keys above them, the keyboard's next and peeked character), and
event records (primitive 94 fills an 8-slot array; mouse: type 1, time, x, y, buttons,
modifiers; keyboard: type 2, time, character code, press code 0 char / 1 down / 2 up,
modifiers, unicode) with the input semaphore signalled as events arrive. Buttons use
Squeak's bits: red (left) 4, yellow (middle) 2, blue (right) 1; modifiers shift 1, control
2, option 4, command 8. With nothing posted the device is the C VM's null display: the
mouse rests at 0@0, no key arrives.
"""
from __future__ import annotations

from collections import deque

RED, YELLOW, BLUE = 4, 2, 1
EVENT_MOUSE, EVENT_KEYBOARD = 1, 2
KEY_CHAR, KEY_DOWN, KEY_UP = 0, 1, 2


class InputDevice:
    """Mouse, keyboard and the event queue of one guest (made by `device_of`)."""

    def __init__(self, interp):
        self.interp = interp
        self.x = self.y = 0
        self._buttons = 0
        self.modifiers = 0
        self.reads = 0      # the guest's looks at the mouse (buttons polled, an event taken)
        self.events: deque = deque()
        self.keys: deque = deque()           # polling: (modifiers << 8) | char code
        self.semaphore = 0                   # external index of the input semaphore, 0 none

    @property
    def buttons(self) -> int:
        """The buttons down; a read is the guest looking at the mouse (counted in `reads`:
        a host feeding presses and releases waits for a look between two)."""
        self.reads += 1
        return self._buttons

    def _time(self) -> int:
        return self.interp.millisecond_clock() & 0x3FFFFFFF

    def _post(self, record) -> None:
        self.events.append(record)
        if self.semaphore:
            self.interp.signal_external_semaphore(self.semaphore)

    def mouse(self, x: int, y: int, buttons: int = 0, modifiers: int = 0) -> None:
        """The mouse is at x@y with `buttons` down (an event, and the polled state)."""
        self.x, self.y, self._buttons, self.modifiers = int(x), int(y), int(buttons) & 7, int(modifiers) & 15
        self._post([EVENT_MOUSE, self._time(), self.x, self.y, self._buttons, self.modifiers, 0, 0])

    def click(self, x: int, y: int, buttons: int = RED) -> None:
        """Move to x@y, press and release."""
        self.mouse(x, y, 0)
        self.mouse(x, y, buttons)
        self.mouse(x, y, 0)

    def key(self, char: str, modifiers: int = 0) -> None:
        """Type one character (key down, character, key up; and the polled keyboard)."""
        code = ord(char)
        if code > 255:
            from ..errors import OzError
            raise OzError("the guest's keyboard takes Latin-1 characters, not %r" % char)
        self.key_code(code, modifiers)

    def key_code(self, code: int, modifiers: int = 0, unicode: int | None = None) -> None:
        """Type the key of character code `code` (0-255, the image's own encoding) with
        `modifiers`; `unicode` the character's Unicode value (default: `code`)."""
        code, modifiers = int(code) & 255, int(modifiers) & 15
        uni = code if unicode is None else int(unicode)
        for press in (KEY_DOWN, KEY_CHAR, KEY_UP):
            self._post([EVENT_KEYBOARD, self._time(), code, press, modifiers, uni, 0, 0])
        self.keys.append((modifiers << 8) | code)

    def type(self, text: str) -> None:
        for char in text:
            self.key(char)

    def next_event(self):
        if not self.events:
            return None
        self.reads += 1
        return self.events.popleft()


def device_of(interp) -> InputDevice:
    """The interpreter's input device (made on first use)."""
    device = getattr(interp, "input_device", None)
    if device is None:
        device = interp.input_device = InputDevice(interp)
    return device
