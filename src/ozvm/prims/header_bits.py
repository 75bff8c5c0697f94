"""Spur's per-object header bits as primitives (Spur images only; SqObject.flags):

    163 getImmutability   Object>>isReadOnlyObject: true for a read-only object and for
                          immediates (SmallIntegers, Characters, SmallFloat64s)
    164 setImmutability   Object>>setIsReadOnlyObject: aBoolean: answers whether it was
                          read-only; fails for an immediate receiver, an argument that is
                          no Boolean, and (making it read-only) for an object that cannot
                          be: a context, a weak object or an ephemeron, a Semaphore, the
                          process scheduler, its process lists, a LinkedList or Process
                          (of the classes the scheduler's lists and active process have)
    183 isPinned          fails for an immediate receiver
    184 pin: aBoolean     answers whether it was pinned; fails for an immediate receiver or
                          an argument that is no Boolean

as VMMaker's InterpreterPrimitives / StackInterpreterPrimitives (and SpurMemoryManager's
header bits: 23 immutable, 30 pinned). ozvm never moves an object, so pinning only keeps
the bit (an image that asks gets its answer; a saved image keeps it); its contexts are
never "married" to a machine stack frame, so any context can be pinned (the C VM refuses
one that still has a frame). A V3 image has no such bits: there 163 keeps its old meaning
(the numbered file primitive of Squeak 2.2, prims/files.py), and 164, 183, 184 fail.

What a read-only object refuses: every primitive that stores into its receiver fails
(at:put:, basicAt:put:, stringAt:put:, objectAt:put:, instVarAt:put:, slotAt:put:,
replaceFrom:to:with:startingAt:, shortAt:put:, floatAt:put:; become: on it fails), as the Spur VM's
PrimErrNoModification.
"""
from __future__ import annotations

from ..memory import specials as S
from ..memory.contexts import ACTIVE_PROCESS, PROCESS_LISTS, VALUE
from ..memory.objects import (
    FLAG_IMMUTABLE, FLAG_PINNED, FMT_EPHEMERON, FMT_IMMEDIATE, FMT_WEAK, SqObject,
)
from . import files  # noqa: F401 - 163's V3 meaning is registered there first
from .base import PRIMITIVES, raw_primitive
from .objects import is_context
from .values import boolean

_V3_PRIMITIVE_163 = PRIMITIVES.get(163)


def _object(obj) -> bool:
    """A non-immediate object (the receiver these primitives need)."""
    return obj.__class__ is SqObject and obj.fmt != FMT_IMMEDIATE


def _boolean_arg(heap, obj):
    """True/False for the guest's true/false, None for anything else."""
    if obj is heap.true:
        return True
    if obj is heap.false:
        return False
    return None


def can_be_read_only(heap, obj) -> bool:
    """VMMaker's canBeImmutable: (a non-immediate `obj`)."""
    if is_context(heap, obj) or obj.fmt == FMT_EPHEMERON or obj.fmt == FMT_WEAK:
        return False
    if obj.cls is heap.special(S.CLASS_SEMAPHORE):
        return False
    assoc = heap.special(S.SCHEDULER_ASSOCIATION)
    if assoc is heap.nil:
        return True
    scheduler = assoc.ptrs[VALUE]
    lists = scheduler.ptrs[PROCESS_LISTS]
    if obj is scheduler or obj is lists:
        return False
    if lists.ptrs and len(lists.ptrs) > 1 and lists.ptrs[1].__class__ is SqObject \
            and lists.ptrs[1].cls is obj.cls:
        return False                    # a LinkedList
    active = scheduler.ptrs[ACTIVE_PROCESS]
    return not (active.__class__ is SqObject and active.cls is obj.cls)     # a Process


@raw_primitive(163)
def get_immutability(interp, argc):
    heap = interp.heap
    if not heap.family.is_spur:
        return _V3_PRIMITIVE_163 is not None and _V3_PRIMITIVE_163(interp, argc)
    if argc != 0:
        return False
    rcvr = interp.stack[interp.sp]
    read_only = not _object(rcvr) or bool(rcvr.flags & FLAG_IMMUTABLE)
    interp.pop_push(1, boolean(heap, read_only))
    return True


def _set_flag(interp, argc, mask, may_set=None):
    """`rcvr flag: aBoolean` for a header bit: true sets `mask` (where `may_set` allows),
    false clears it; answers whether it was set."""
    heap = interp.heap
    if not heap.family.is_spur or argc != 1:
        return False
    rcvr = interp.stack[interp.sp - 1]
    flag = _boolean_arg(heap, interp.stack[interp.sp])
    if not _object(rcvr) or flag is None:
        return False
    was = bool(rcvr.flags & mask)
    if flag:
        if may_set is not None and not may_set(heap, rcvr):
            return False
        rcvr.flags |= mask
    else:
        rcvr.flags &= ~mask
    interp.pop_push(2, boolean(heap, was))
    return True


@raw_primitive(164)
def set_immutability(interp, argc):
    return _set_flag(interp, argc, FLAG_IMMUTABLE, can_be_read_only)


@raw_primitive(183)
def is_pinned(interp, argc):
    heap = interp.heap
    if not heap.family.is_spur or argc != 0:
        return False
    rcvr = interp.stack[interp.sp]
    if not _object(rcvr):
        return False
    interp.pop_push(1, boolean(heap, bool(rcvr.flags & FLAG_PINNED)))
    return True


@raw_primitive(184)
def pin(interp, argc):
    return _set_flag(interp, argc, FLAG_PINNED)
