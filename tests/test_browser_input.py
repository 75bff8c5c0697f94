"""A page's DOM events as Squeak's input events (space/browser_input.py): buttons, modifiers,
MacRoman characters, special keys, feeding one button change at a time, bad events."""
from __future__ import annotations

from collections import deque

import pytest

from ozvm.errors import OzError
from ozvm.prims.input_device import BLUE, RED, YELLOW, InputDevice
from ozvm.space.browser_input import MAX_UNREAD, InputFeeder, translate


class Clock:
    def millisecond_clock(self):
        return 99

    def signal_external_semaphore(self, index):
        pass


def test_mouse_buttons_and_modifiers():
    assert translate({"type": "mousedown", "x": 3, "y": 4, "buttons": 1}) == ("mouse", 3, 4, RED, 0)
    assert translate({"type": "mousedown", "x": 3, "y": 4, "buttons": 2}) == ("mouse", 3, 4, BLUE, 0)
    assert translate({"type": "mousedown", "x": 3, "y": 4, "buttons": 4}) == ("mouse", 3, 4, YELLOW, 0)
    assert translate({"type": "mousedown", "x": 3, "y": 4, "buttons": 1, "alt": True}) == \
        ("mouse", 3, 4, YELLOW, 8)
    assert translate({"type": "mousemove", "x": 3.0, "y": 4, "buttons": 0, "shift": True,
                      "ctrl": True}) == ("mouse", 3, 4, 0, 3)
    assert translate({"type": "mouseup", "x": 3, "y": 4}) == ("mouse", 3, 4, 0, 0)
    # kept on the screen
    assert translate({"type": "mousemove", "x": -5, "y": 900, "buttons": 0}, 640, 480) == \
        ("mouse", 0, 479, 0, 0)


def test_keys():
    assert translate({"type": "keydown", "key": "a"}) == ("key", 97, 0, 97)
    assert translate({"type": "keydown", "key": "A", "shift": True}) == ("key", 65, 1, 65)
    assert translate({"type": "keydown", "key": "c", "ctrl": True}) == ("key", 3, 2, 99)
    assert translate({"type": "keydown", "key": "s", "alt": True}) == ("key", 115, 8, 115)
    assert translate({"type": "keydown", "key": "Enter"}) == ("key", 13, 0, 13)
    assert translate({"type": "keydown", "key": "ArrowLeft"}) == ("key", 28, 0, 28)
    assert translate({"type": "keydown", "key": "Backspace"}) == ("key", 8, 0, 8)
    assert translate({"type": "keydown", "key": "é"}) == ("key", 0x8E, 0, 0xE9)     # MacRoman
    assert translate({"type": "keydown", "key": "Shift", "shift": True}) is None
    assert translate({"type": "keydown", "key": "F5"}) is None
    with pytest.raises(OzError, match="no key for"):
        translate({"type": "keydown", "key": "\u4e2d"})


@pytest.mark.parametrize("bad", [None, [], {"type": "wheel"}, {"type": "mousedown", "x": "1", "y": 2},
                                 {"type": "mousedown", "x": 1, "y": 2, "buttons": 1, "alt": 1},
                                 {"type": "keydown"}, {"type": "keydown", "key": 5},
                                 {"type": "mousemove", "x": 1.5, "y": 2}])
def test_malformed_events_are_refused(bad):
    with pytest.raises(OzError):
        InputFeeder().push(bad)


def test_feeding_one_button_change_at_a_time():
    device = InputDevice(Clock())
    feeder = InputFeeder()
    for x in range(5):
        feeder.push({"type": "mousemove", "x": x, "y": 1, "buttons": 0})
    assert len(feeder) == 1                         # moves merged: the last counts
    feeder.push({"type": "mousedown", "x": 4, "y": 1, "buttons": 1})
    feeder.push({"type": "mousemove", "x": 9, "y": 1, "buttons": 1})
    feeder.push({"type": "mouseup", "x": 9, "y": 1, "buttons": 0})
    feeder.push({"type": "keydown", "key": "q"})
    assert feeder.feed(device) == 2 and (device.x, device.buttons) == (4, RED)
    assert feeder.feed(device) == 2 and (device.x, device.buttons) == (9, 0)
    assert feeder.feed(device) == 1 and list(device.keys) == [ord("q")]
    assert feeder.feed(device) == 0
    # with turns: a change of the buttons waits until the guest has run
    feeder.push({"type": "mousedown", "x": 1, "y": 1, "buttons": 4})
    feeder.push({"type": "mouseup", "x": 1, "y": 1, "buttons": 0})
    assert feeder.feed(device, turn=10) == 1 and device.buttons == YELLOW
    assert feeder.feed(device, turn=10) == 0 and device.buttons == YELLOW
    assert feeder.feed(device, turn=11) == 1 and device.buttons == 0
    assert (feeder.changes, feeder.keystrokes) == (4, 1)   # two presses, two releases, a key
    records = list(device.events)
    assert [r[0] for r in records] == [1, 1, 1, 1, 2, 2, 2, 1, 1]
    assert records[1] == [1, 99, 4, 1, RED, 0, 0, 0]
    assert records[5] == [2, 99, ord("q"), 0, 0, ord("q"), 0, 0]      # the character event


def test_unread_events_are_bounded():
    device = InputDevice(Clock())
    feeder = InputFeeder()
    for i in range(MAX_UNREAD * 2):
        feeder.push({"type": "keydown", "key": "x"})
        feeder.feed(device)
    assert len(device.events) == MAX_UNREAD and len(device.keys) == MAX_UNREAD
    assert feeder.dropped > 0
    assert isinstance(device.events, deque)
