"""System primitives: quit (113), exitToDebugger (114), changeClass (115), imageName (121),
low-space and interrupt semaphores (124, 125, 133, 134), secondsClock (137), beep (140),
clipboard (141), vmPath (142), getSystemAttribute: (149), microsecond clocks (240, 241, in
images with closures), vmParameterAt: (254).

Answers follow a Unix squeak-vm (4.10, the oracle) running headless: attribute 1001 is
'unix', 1002 the OS name, 1003 the processor, 1005 the window system 'none'; the seconds
clock counts local-time seconds since 1 January 1901. The millisecond clock (135) and the
timer (136) belong to the scheduler (prims/control.py).

Quit raises GuestQuit and exitToDebugger GuestExitToDebugger: the interpreter (or the host
running it) turns them into the end of the run.
"""
from __future__ import annotations

import os
import platform
import sys
import time
import weakref

from .. import __version__
from ..errors import GuestExitToDebugger, GuestQuit
from ..memory import specials as S
from ..memory.objects import FMT_IMMEDIATE, FMT_METHOD, SqObject
from .base import PrimitiveFailed, primitive, raw_primitive
from .objects import MEMORY_LIMIT
from .values import (
    bytes_value, integer_object, positive32_object, register_failing, small_value,
)

# Seconds from 1 January 1901 (Squeak's epoch) to 1 January 1970 (Unix's).
SQUEAK_EPOCH_OFFSET = 2177452800


@raw_primitive(113)
def quit(interp, argc):
    raise GuestQuit()


@raw_primitive(114)
def exit_to_debugger(interp, argc):
    raise GuestExitToDebugger()


@primitive(115, argc=1)
def change_class(interp, rcvr, arg):
    """rcvr primitiveChangeClassTo: arg — rcvr becomes an instance of arg's class when
    the storage formats (and for fixed formats the sizes) agree and both classes are
    compact or both are not."""
    if rcvr.__class__ is not SqObject or arg.__class__ is not SqObject:
        raise PrimitiveFailed()
    new_cls = arg.cls
    fmt_value = new_cls.ptrs[2]
    family = interp.heap.family
    spec = family.object_format(family.class_inst_spec(fmt_value))
    if spec is None or spec == FMT_METHOD or spec == FMT_IMMEDIATE or rcvr.fmt == FMT_METHOD:
        raise PrimitiveFailed()
    if spec != rcvr.fmt:
        raise PrimitiveFailed()
    if spec < 2 and len(rcvr.ptrs) != family.class_inst_size(fmt_value):
        raise PrimitiveFailed()
    if (family.class_compact_index(fmt_value) != 0) != (family.class_compact_index(rcvr.cls.ptrs[2]) != 0):
        raise PrimitiveFailed()
    rcvr.cls = new_cls
    interp.flush_method_cache()
    return rcvr


# --- image and VM identity -----------------------------------------------------------------

def image_name(interp) -> str:
    path = getattr(interp, "image_path", None)
    if not path:
        raise PrimitiveFailed()
    return os.path.abspath(path)


@primitive(121)
def image_name_prim(interp, rcvr, *args):
    """imageName (the full path) / imageName: aString (answers the receiver)."""
    if not args:
        return interp.heap.new_string(os.fsencode(image_name(interp)))
    if len(args) != 1:
        raise PrimitiveFailed()
    interp.image_path = os.fsdecode(bytes_value(args[0]))
    return rcvr


def vm_executable() -> str:
    """What a C VM answers as its own path: the program this process was started as."""
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] else sys.executable
    return os.path.abspath(argv0)


def vm_path() -> str:
    return os.path.dirname(vm_executable()) + os.sep


@primitive(142, argc=0)
def vm_path_prim(interp, rcvr):
    return interp.heap.new_string(os.fsencode(vm_path()))


def system_attribute(interp, index: int):
    """The text of getSystemAttribute: index, or None where the C VM fails."""
    if index == 0:
        return vm_executable()
    if index == 1:
        return image_name(interp)
    if index == 1001:
        return "unix" if os.name == "posix" else sys.platform
    if index == 1002:
        return platform.system().lower()
    if index == 1003:
        return platform.machine()
    if index == 1004:
        return "ozvm %s" % __version__
    if index == 1005:
        return "none"
    if index == 1006:
        return "ozvm %s on %s %s" % (__version__, platform.python_implementation(),
                                     platform.python_version())
    return None


@primitive(149, argc=1)
def get_system_attribute(interp, rcvr, index):
    text = system_attribute(interp, small_value(index))
    if text is None:
        raise PrimitiveFailed()
    return interp.heap.new_string(os.fsencode(text))


# --- semaphores the VM signals ---------------------------------------------------------------

def _set_special(heap, index, value):
    sp = heap.specials.ptrs
    if index >= len(sp):
        raise PrimitiveFailed()
    sp[index] = value


@primitive(124, argc=1)
def low_space_semaphore(interp, rcvr, sema):
    _set_special(interp.heap, S.THE_LOW_SPACE_SEMAPHORE, sema)
    return rcvr


@primitive(125, argc=1)
def signal_at_bytes_left(interp, rcvr, nbytes):
    """The low-space threshold: the space's memory account signals the lowSpaceSemaphore
    when fewer bytes are left below its limit (memory/accounting.py)."""
    interp.heap.account.set_low_space_threshold(small_value(nbytes))
    return rcvr


@primitive(133, argc=1)
def set_interrupt_key(interp, rcvr, key):
    small_value(key)
    return rcvr


@primitive(134, argc=1)
def interrupt_semaphore(interp, rcvr, sema):
    _set_special(interp.heap, S.THE_INTERRUPT_SEMAPHORE, sema)
    return rcvr


# valueUninterruptably: the image's code runs instead.
register_failing(123)


# --- clocks ---------------------------------------------------------------------------------------

def local_offset_seconds(now: float) -> int:
    return time.localtime(now).tm_gmtoff


def seconds_clock(now: float = None) -> int:
    """Local-time seconds since 1 January 1901."""
    if now is None:
        now = time.time()
    return int(now) + local_offset_seconds(now) + SQUEAK_EPOCH_OFFSET


@primitive(137, argc=0)
def seconds_clock_prim(interp, rcvr):
    return positive32_object(interp.heap, seconds_clock() & 0xFFFFFFFF)


def utc_microseconds() -> int:
    return time.time_ns() // 1000 + SQUEAK_EPOCH_OFFSET * 1000000


@raw_primitive(240)
def utc_microsecond_clock(interp, argc):
    """Microseconds since 1901 UTC (images with closures; a serial-port primitive before)."""
    if argc != 0 or not interp.heap.info.has_closures:
        return False
    interp.pop_push(1, integer_object(interp.heap, utc_microseconds()))
    return True


@raw_primitive(241)
def local_microsecond_clock(interp, argc):
    if argc != 0 or not interp.heap.info.has_closures:
        return False
    now = time.time_ns()
    value = now // 1000 + (SQUEAK_EPOCH_OFFSET + local_offset_seconds(now / 1e9)) * 1000000
    interp.pop_push(1, integer_object(interp.heap, value))
    return True


# --- small services ---------------------------------------------------------------------------------

@primitive(140, argc=0)
def beep(interp, rcvr):
    """Beep: a headless VM has no speaker (the C VM with -vm-sound-null does nothing)."""
    return rcvr


_clipboards: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@primitive(141)
def clipboard_text(interp, rcvr, *args):
    """clipboardText / clipboardText: aString — the VM's own clipboard (headless: not
    shared with the host's desktop), empty at start."""
    key = interp.heap
    if not args:
        return interp.heap.new_string(_clipboards.get(key, b""))
    if len(args) != 1:
        raise PrimitiveFailed()
    _clipboards[key] = bytes_value(args[0])
    return rcvr


# --- VM parameters --------------------------------------------------------------------------------

VM_PARAMETER_COUNT = 40

# Settable parameters and their initial values in the C VM: allocations between GCs,
# tenuring threshold, extra VM memory, shrink threshold, grow headroom, interrupt check ms.
_SETTABLE_DEFAULTS = {5: 4000, 6: 2000, 23: 0, 24: 8388608, 25: 4194304, 26: 1}
_settings: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def vm_parameter(interp, index: int) -> int:
    heap = interp.heap
    settings = _settings.setdefault(heap, dict(_SETTABLE_DEFAULTS))
    if index in settings:
        return settings[index]
    if index in (1, 2):
        return heap.memory_use()[1]
    if index == 3:
        return MEMORY_LIMIT
    full, incremental = heap.gc.counts
    if index == 7:
        return full
    if index == 9:
        return incremental
    if index == 40:
        return heap.family.word_size        # bytes per word
    if index == 41 and heap.family.is_spur:
        return heap.info.version            # image format version
    return 0


def vm_parameter_count(heap) -> int:
    """40 parameters in a V3 VM, 71 in a Spur VM."""
    return 71 if heap.family.is_spur else VM_PARAMETER_COUNT


@primitive(254)
def vm_parameter_prim(interp, rcvr, *args):
    """vmParameterAt: i (1..40; 1..71 in Spur images) / vmParameterAt: i put: v (answers
    the old value; only the C VM's settable ones) / getVMParameters (an Array of all)."""
    heap = interp.heap
    count = vm_parameter_count(heap)
    if not args:
        return heap.new_array([integer_object(heap, vm_parameter(interp, i))
                               for i in range(1, count + 1)])
    index = small_value(args[0])
    if not 1 <= index <= count:
        raise PrimitiveFailed()
    if len(args) == 1:
        return integer_object(heap, vm_parameter(interp, index))
    if len(args) != 2 or index not in _SETTABLE_DEFAULTS:
        raise PrimitiveFailed()
    value = small_value(args[1])
    settings = _settings.setdefault(heap, dict(_SETTABLE_DEFAULTS))
    old = settings[index]
    settings[index] = value
    return old
