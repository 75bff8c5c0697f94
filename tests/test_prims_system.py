"""System primitives (answers shaped like squeak-vm 4.10 headless on Unix)."""
from __future__ import annotations

import os
import time

import pytest

from conftest import image_path, load_heap
from ozvm.memory import specials as S
from ozvm.prims.system import GuestExitToDebugger, GuestQuit, SQUEAK_EPOCH_OFFSET
from ozvm.prims.values import int_value
from prims_fake import FAILED, FakeInterp, call


@pytest.fixture(params=["squeak2.2-mini.image", "pharocandle.image"])
def vm(request):
    return FakeInterp(load_heap(request.param), image_path(request.param))


def text(obj):
    return bytes(obj.bytes).decode("latin-1")


def test_quit_and_exit_to_debugger_raise(vm):
    with pytest.raises(GuestQuit):
        call(vm, 113, vm.heap.nil)
    with pytest.raises(GuestExitToDebugger):
        call(vm, 114, vm.heap.nil)


def test_image_name_and_vm_path(vm):
    h = vm.heap
    assert text(call(vm, 121, h.nil)) == os.path.abspath(vm.image_path)
    assert call(vm, 121, h.nil, h.new_string("/tmp/other.image")) is h.nil
    assert vm.image_path == "/tmp/other.image"
    vm.image_path = None
    assert call(vm, 121, h.nil) is FAILED
    path = text(call(vm, 142, h.nil))
    assert path.endswith("/") and os.path.isdir(path)


def test_system_attributes(vm):
    h = vm.heap
    assert text(call(vm, 149, h.nil, 1001)) == "unix"                  # oracle
    assert text(call(vm, 149, h.nil, 1002)) == "linux"                 # oracle
    assert text(call(vm, 149, h.nil, 1003)) == os.uname().machine      # oracle: x86_64
    assert text(call(vm, 149, h.nil, 1005)) == "none"                  # oracle (null display)
    assert text(call(vm, 149, h.nil, 1)) == os.path.abspath(vm.image_path)
    assert os.path.isabs(text(call(vm, 149, h.nil, 0)))
    assert call(vm, 149, h.nil, 2) is FAILED                           # oracle: nil (fallback)
    assert call(vm, 149, h.nil, 1008) is FAILED
    assert call(vm, 149, h.nil, h.nil) is FAILED


def test_seconds_clock_counts_from_1901_local_time(vm):
    value = int_value(vm.heap, call(vm, 137, vm.heap.nil))
    now = time.time()
    expected = int(now) + time.localtime(now).tm_gmtoff + SQUEAK_EPOCH_OFFSET
    assert abs(value - expected) <= 2
    assert value > 2**31                       # oracle: a LargePositiveInteger today


def test_microsecond_clocks_only_with_closures(vm):
    r = call(vm, 240, vm.heap.nil)
    if not vm.heap.info.has_closures:
        assert r is FAILED
        return
    us = int_value(vm.heap, r)
    assert abs(us / 1e6 - (time.time() + SQUEAK_EPOCH_OFFSET)) < 5


def test_semaphore_registration_and_small_services(vm):
    h = vm.heap
    sema = h.new_array([])
    assert call(vm, 124, h.nil, sema) is h.nil and h.special(S.THE_LOW_SPACE_SEMAPHORE) is sema
    assert call(vm, 134, h.nil, sema) is h.nil and h.special(S.THE_INTERRUPT_SEMAPHORE) is sema
    assert call(vm, 125, h.nil, 1000) is h.nil
    assert call(vm, 140, h.true) is h.true
    assert text(call(vm, 141, h.nil)) == ""
    assert call(vm, 141, h.nil, h.new_string("hello")) is h.nil
    assert text(call(vm, 141, h.nil)) == "hello"


def test_vm_parameters(vm):
    h = vm.heap
    params = call(vm, 254, h.nil)
    assert len(params.ptrs) == 40 and params.ptrs[39] == 4              # oracle: 40 entries, word size 4
    assert call(vm, 254, h.nil, 5) == 4000                              # oracle
    assert call(vm, 254, h.nil, 41) is FAILED
    assert call(vm, 254, h.nil, 5, 5000) == 4000 and call(vm, 254, h.nil, 5) == 5000
    assert call(vm, 254, h.nil, 1, 5) is FAILED
    call(vm, 130, h.nil)
    assert call(vm, 254, h.nil, 7) == 1


def test_change_class(vm):
    h = vm.heap
    a = h.new_array([1])
    assert call(vm, 115, a, h.new_string("x")) is FAILED
    pt = call(vm, 18, 1, 2)
    assert call(vm, 115, pt, a) is FAILED
