"""The live screen's damage tracking and frames (space/screen_updates.py) and the page's
input events (space/browser_input.py) on a real image: Squeak 2.2's MVC world (2 M
bytecodes of startup, counted), clicked through the feeder as a page would."""
from __future__ import annotations

import random

import pytest

from conftest import image_path
from ozvm.errors import OzError
from ozvm.memory import specials as S
from ozvm.memory.objects import SqObject
from ozvm.space import execution
from ozvm.space.browser_input import InputFeeder
from ozvm.space.objectspace import ObjectSpace
from ozvm.space.screen import Screen
from ozvm.space.screen_updates import ScreenUpdates, changed_boxes
from test_screen import decode_png


class Viewer:
    """What a page's canvas holds: the whole screen of the first update, then each
    rectangle drawn where it belongs."""

    def __init__(self):
        self.rows = None

    def apply(self, update):
        if update.full:
            self.rows = [bytearray(update.width * 3) for _ in range(update.height)]
        for r in update.rects:
            w, h, rows = decode_png(r.png)
            assert (w, h) == (r.w, r.h)
            for i, row in enumerate(rows):
                self.rows[r.y + i][3 * r.x:3 * (r.x + r.w)] = row

    def same_as(self, space) -> bool:
        return [bytes(r) for r in self.rows] == Screen(space).rgb_rows()


def _set_display(space, depth, width, height, seed):
    rng = random.Random(seed)
    ppw = 32 // abs(depth)
    words = [rng.randrange(1 << 32) for _ in range(((width + ppw - 1) // ppw) * height)]
    if abs(depth) == 16:
        words = [w & 0x7FFF7FFF for w in words]
    bits = SqObject(space.class_named("Bitmap"), 6, 0, words=words)
    form = SqObject(space.class_named("Form"), 1, 0,
                    ptrs=[bits, width, height, depth, space.heap.nil])
    space.heap.specials.ptrs[S.THE_DISPLAY] = form
    return words


@pytest.mark.parametrize("depth", [32, 16, -16, 8, 4, 2, 1, -1])
def test_changed_rectangles_rebuild_the_screen(depth):
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    width, height = 203, 57                 # not a multiple of a word or of a tile
    words = _set_display(space, depth, width, height, seed=depth)
    tracker, viewer = ScreenUpdates(space, tile_width=32), Viewer()
    first = tracker.update()
    assert first.full and [r.box() for r in first.rects] == [(0, 0, width, height)]
    viewer.apply(first)
    assert viewer.same_as(space)
    assert tracker.update().rects == []     # nothing changed: nothing sent
    rng = random.Random(7)
    for _ in range(6):
        touched = set()
        for _ in range(rng.randrange(1, 12)):
            i = rng.randrange(len(words))
            words[i] ^= rng.randrange(1, 1 << 16) << (16 if rng.random() < 0.5 else 0)
            touched.add(i)
        update = tracker.update()
        assert not update.full and update.rects
        viewer.apply(update)
        assert viewer.same_as(space)
        # only changed parts are sent: every rectangle is within the screen, and together
        # they are far smaller than the screen
        for r in update.rects:
            assert 0 <= r.x and r.x + r.w <= width and 0 <= r.y and r.y + r.h <= height
        assert sum(r.w * r.h for r in update.rects) < width * height // 2


def test_changed_boxes_merge_rows_and_split_distant_changes():
    old = [0] * (8 * 10)
    new = list(old)
    for y in (2, 3, 4):
        new[y * 8 + 1] = 1                   # a column of changes at word 1, rows 2-4
    new[9 * 8 + 7] = 5                       # one far away, the last row
    assert sorted(changed_boxes(old, new, 8, 10, 2)) == [(0, 2, 2, 5), (6, 8, 9, 10)]


def test_a_new_display_is_sent_whole():
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    _set_display(space, 8, 40, 30, seed=1)
    tracker = ScreenUpdates(space)
    assert tracker.update().full
    _set_display(space, 32, 50, 20, seed=2)
    update = tracker.update()
    assert update.full and (update.width, update.height, update.depth) == (50, 20, 32)
    tracker.reset()
    assert tracker.update().full
    space.heap.specials.ptrs[S.THE_DISPLAY] = space.heap.nil
    with pytest.raises(OzError, match="no Display form"):
        tracker.update()


def test_squeak_world_clicked_from_a_page():
    """Squeak 2.2 polls the mouse: a press and release sent together by a page still select
    a category in its System Browser, and only the changed parts of the screen are sent."""
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)
    assert interp.run(max_bytecodes=2_000_000) == "limit"
    tracker, viewer = ScreenUpdates(space), Viewer()
    first = tracker.update()
    assert (first.width, first.height, first.depth) == (640, 480, 1)
    viewer.apply(first)
    before = Screen(space).rgb_rows()
    feeder = InputFeeder()
    for event in ({"type": "mousemove", "x": 110, "y": 50, "buttons": 0},
                  {"type": "mousedown", "x": 110, "y": 50, "button": 0, "buttons": 1},
                  {"type": "mouseup", "x": 110, "y": 50, "button": 0, "buttons": 0}):
        feeder.push(event, first.width, first.height)
    device = space.input_device()
    fed = []
    sent = 0
    for _ in range(3):
        fed.append(feeder.feed(device, turn=interp.bytecodes))
        assert interp.run(max_bytecodes=200_000) == "limit"
        update = tracker.update()
        viewer.apply(update)
        sent += sum(r.w * r.h for r in update.rects)
        assert viewer.same_as(space)
    assert fed == [2, 1, 0]                 # down, then (after the guest ran) up
    after = Screen(space).rgb_rows()
    # "Graphics-Editors" (the third category, rows 46-57) is selected: shown inverted
    # (white letters on black across the list pane), as it was not before
    dark = lambda rows: sum(r[3 * 76:3 * 190].count(b"\x00\x00\x00") for r in rows[46:58])
    assert dark(after) > 1000 > 300 > dark(before)
    assert 0 < sent < 640 * 480 // 2


def test_squeak_world_typed_into():
    """Keys from a page reach the guest: typed into the System Browser's code pane."""
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    interp = execution.interpreter_for(space)
    execution.let_guest_handle_errors(space)
    assert interp.run(max_bytecodes=2_000_000) == "limit"
    tracker = ScreenUpdates(space)
    tracker.update()
    feeder = InputFeeder()
    for event in ({"type": "mousedown", "x": 300, "y": 300, "buttons": 1},
                  {"type": "mouseup", "x": 300, "y": 300, "buttons": 0}):
        feeder.push(event)
    device = space.input_device()
    while len(feeder):
        feeder.feed(device)
        interp.run(max_bytecodes=200_000)
    tracker.update()
    for key in "xyz":
        feeder.push({"type": "keydown", "key": key})
    feeder.feed(device)
    interp.run(max_bytecodes=400_000)
    update = tracker.update()
    assert update.rects and all(140 < r.y < 350 for r in update.rects)   # in the code pane
