"""Headless display and input primitives."""
from __future__ import annotations

import pytest

from conftest import load_heap
from ozvm.memory import specials as S
from prims_fake import FAILED, FakeInterp, call


@pytest.fixture(params=["squeak2.2-mini.image", "pharocandle.image"])
def vm(request):
    return FakeInterp(load_heap(request.param))


def test_screen_size_is_the_saved_window_size(vm):
    pt = call(vm, 106, vm.heap.nil)
    assert pt.cls is vm.heap.special(S.CLASS_POINT)
    assert tuple(pt.ptrs[:2]) == vm.heap.info.window_extent()


def test_pharocandle_screen_is_800_by_600():
    vm = FakeInterp(load_heap("pharocandle.image"))
    assert call(vm, 106, vm.heap.nil).ptrs[:2] == [800, 600]     # its log.txt says 800@600


def test_no_input_headless(vm):
    h = vm.heap
    assert call(vm, 90, h.nil).ptrs[:2] == [0, 0]
    assert call(vm, 107, h.nil) == 0
    assert call(vm, 108, h.nil) is h.nil and call(vm, 109, h.nil) is h.nil
    buf = h.new_array([h.nil] * 8)
    assert call(vm, 94, h.nil, buf) is h.nil and buf.ptrs == [0] * 8
    assert call(vm, 94, h.nil, h.new_array([1])) is FAILED
    assert call(vm, 93, h.nil, 3) is h.nil and call(vm, 95, h.nil) == 0


def test_copy_bits_fails_on_what_is_no_bitblt(vm):
    h = vm.heap
    blt = h.new_array([])
    assert call(vm, 96, blt) is FAILED
    assert call(vm, 96, h.new_array([h.nil] * 15)) is FAILED
    assert call(vm, 103, blt, 1, 2, 3, 4, 5, 6) is FAILED


def test_display_and_cursor(vm):
    h = vm.heap
    screen = h.new_array([1, 2, 3, 4])
    assert call(vm, 102, screen) is screen and h.special(S.THE_DISPLAY) is screen
    assert call(vm, 102, h.new_array([])) is FAILED
    assert call(vm, 101, screen) is FAILED          # no 16x16 1-bit Form: bitblt_cases' cursor cases
    assert call(vm, 126, screen, h.true) is screen and call(vm, 126, screen, 3) is FAILED
    assert call(vm, 127, screen, 0, 10, 0, 10) is screen
    assert call(vm, 231, screen) is screen
    assert call(vm, 91, h.nil, 8) is h.true and call(vm, 91, h.nil, 3) is h.false
    assert call(vm, 91, h.nil, h.nil) is FAILED      # 2.2's primCursorLocPut: aPoint falls back


class EventInterp(FakeInterp):
    """A FakeInterp with the clock and external signals the input device uses."""

    def __init__(self, heap):
        super().__init__(heap)
        self.signalled = []

    def millisecond_clock(self):
        return 1234

    def signal_external_semaphore(self, index):
        self.signalled.append(index)


def test_input_device_events_and_polling(vm):
    from ozvm.prims.input_device import RED, device_of
    h = vm.heap
    interp = EventInterp(h)
    assert call(interp, 93, h.nil, 7) is h.nil
    device = device_of(interp)
    device.click(60, 83)
    device.type("a")
    assert interp.signalled == [7] * 6
    buf = h.new_array([h.nil] * 8)
    records = []
    for _ in range(7):
        assert call(interp, 94, h.nil, buf) is h.nil
        records.append(list(buf.ptrs))
    assert [r[0] for r in records] == [1, 1, 1, 2, 2, 2, 0]
    assert records[1] == [1, 1234, 60, 83, RED, 0, 0, 0]
    assert records[4][2:4] == [97, 0]                  # the character event of 'a'
    assert call(interp, 90, h.nil).ptrs[:2] == [60, 83]
    device.mouse(5, 6, RED, modifiers=1)
    assert call(interp, 107, h.nil) == RED | (1 << 3)
    assert call(interp, 109, h.nil) == 97 and call(interp, 108, h.nil) == 97
    assert call(interp, 108, h.nil) is h.nil
