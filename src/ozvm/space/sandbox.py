"""Sandboxes: an independent deep copy of a space (seed: fork of an object space).

`copy_space(space)` parks the space (its active process's context saved), copies every
object reachable from its roots into new Python objects (classes, methods, symbols, the
scheduler and the suspended contexts included), and answers a new space on that graph,
added to the same VM. No object is shared: side effects in the copy (a class removed,
Object>>printString redefined, memory filled) leave the original untouched, and the copy
has no image path, so nothing it does can write the original file. Its files are its own:
no file is open in it, the original's images stay protected, and its file policy is the
original's made for a sandbox (FilePolicy.for_copy: an overlay in a fresh temporary folder
instead of the host's files, so what the copy writes, deletes or renames never reaches
them; deny and read-only stay as they are).

A space's `memory_limit` (bytes, see control.transfer_control) stops a guest that grows
past it with the reason 'memory' and a clear GuestError in `space.last_error`.
"""
from __future__ import annotations

import copy as _copy

from ..memory.heap import Heap
from ..memory.objects import FMT_IMMEDIATE, SqObject
from ..memory.spur_heap import SpurHeap
from ..prims.file_policy import FilePolicy
from . import control


def copy_heap(heap) -> Heap:
    """A deep copy of the object graph of `heap` (everything reachable from its roots).
    A Spur heap's copy is a Spur heap: its class table and immediates (Characters, one
    per code point, and SmallFloat64s) are the copy's own."""
    objects = heap.all_objects()
    new_of = {}
    make = SqObject.__new__
    for o in objects:
        n = make(SqObject)
        n.hash = o.hash
        n.fmt = o.fmt
        n.cache = None
        n.flags = o.flags          # read-only and pinned stay so in the copy
        new_of[id(o)] = n
    spur = isinstance(heap, SpurHeap)
    if spur:                       # immediates are not listed: every one the heap made
        immediates = list(heap._chars.values())
        for o in objects:
            ptrs = o.ptrs
            if ptrs is not None:
                immediates.extend(p for p in ptrs if p.__class__ is SqObject and p.fmt == FMT_IMMEDIATE)
        for o in immediates:
            if id(o) not in new_of:
                new_of[id(o)] = SqObject(new_of[id(o.cls)], FMT_IMMEDIATE, o.hash,
                                         ptrs=None if o.ptrs is None else list(o.ptrs),
                                         words=None if o.words is None else list(o.words))
    get = new_of.__getitem__
    for o in objects:
        n = new_of[id(o)]
        n.cls = get(id(o.cls))
        ptrs = o.ptrs
        if ptrs is not None:
            n.ptrs = [get(id(p)) if p.__class__ is SqObject else p for p in ptrs]
        else:
            n.ptrs = None
        n.bytes = bytearray(o.bytes) if o.bytes is not None else None
        n.words = list(o.words) if o.words is not None else None
    info = _copy.copy(heap.info)
    table = getattr(heap.info, "oop_table", None)
    if table:
        info.oop_table = {oop: new_of[id(o)] for oop, o in table.items() if id(o) in new_of}
    info.path = None
    listed = set()
    order = []              # memory order: the original's, then what it did not list
    for o in heap.objects + objects:
        n = new_of.get(id(o))
        if n is not None and id(n) not in listed:
            listed.add(id(n))
            order.append(n)
    if spur:
        table = {i: new_of[id(c)] for i, c in heap.class_table.items() if id(c) in new_of}
        chars = {code: new_of[id(c)] for code, c in heap._chars.items()}
        new = SpurHeap(get(id(heap.specials)), info, table, chars, objects=order)
    else:
        new = Heap(get(id(heap.specials)), info, objects=order)
    new.last_hash = heap.last_hash
    new.extra_roots = [get(id(r)) for r in heap.extra_roots if r.__class__ is SqObject]
    return new


def _confine_files(space, interp, files) -> None:
    """The copy's files: none open (the original's handles are invalid in it), the
    original's images protected, and its policy's sandbox form (an overlay for the host's
    files: what the copy writes never reaches them)."""
    if interp is not None:
        files.protected_paths |= interp.files.protected_paths
        files.protected_ids |= interp.files.protected_ids
        files.policy = interp.files.policy.for_copy()
    else:
        if space.info.path:
            files.protect(space.info.path)
        files.policy = FilePolicy.host().for_copy()


def copy_space(space, space_class=None):
    """An independent copy of `space` (of `space_class`, default the space's own class),
    in the same VM as the original."""
    control.park(space)
    interp = getattr(space, "_interpreter", None)
    heap = copy_heap(space.heap)
    cls = space_class or type(space)
    vm = getattr(space, "vm", None)
    new = cls(heap, None)
    new._sources = space.sources.copy()     # the copy reads the original's .sources/.changes
    _confine_files(space, interp, control.interpreter(new).files)
    if interp is not None and interp.started and interp.ctx is None:
        # the original is idle (no runnable process): so is the copy
        control._set_idle(new, control.interpreter(new))
    for name in ("cpu_share", "memory_limit"):
        if hasattr(space, name):
            setattr(new, name, getattr(space, name))
    if hasattr(new, "name"):
        new.name = "copy of %s" % (getattr(space, "name", None) or "a space")
    if vm is not None and hasattr(vm, "add"):
        vm.add(new)
    return new
