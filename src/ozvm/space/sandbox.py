"""Sandboxes: an independent deep copy of a space (seed: fork of an object space).

`copy_space(space)` parks the space (its active process's context saved), copies every
object reachable from its roots into new Python objects (classes, methods, symbols, the
scheduler and the suspended contexts included), and answers a new space on that graph,
added to the same VM. No object is shared: side effects in the copy (a class removed,
Object>>printString redefined, memory filled) leave the original untouched, and the copy
has no image path of its own (`info.path` is None: a save must name its file), so nothing it
does can write the original file; `Smalltalk imageName` (primitive 121) answers in it what it
answers in the original, as in any copy of a running image. Its files are its own:
no file is open in it, the original's images stay protected, and its file policy is the
original's made for a sandbox (FilePolicy.for_copy: an overlay in a fresh temporary folder
instead of the host's files, so what the copy writes, deletes or renames never reaches
them; deny and read-only stay as they are).

A copy is made in three parts, so that a host running the space on one thread (the
workbench's VM worker) holds that thread only for the first:

    snap = snapshot_space(space)   on the space's thread: parked, the contents of every
                                   object recorded (class, hash, format, flags, and a copy
                                   of its fields): the space as it is at that moment
    run_steps(snap.copy_steps())   on any thread, while the space runs on: the new objects
                                   made from the record alone (the original objects only
                                   name identities), then the new space, its interpreter
                                   and its confined files; each step yields its progress
    snap.adopt()                   on the space's thread: the new space added to the VM

The copy is the space as it was when the snapshot was taken, whatever ran meanwhile. A
save made so (`snap.heap_steps()`, then the image of `snap.heap` written, with
`snap.sources`' .changes) writes the space as it was at its snapshot.

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

BUILD_STEP = 5000       # objects made per step of `build_steps` (its progress)


class HeapSnapshot:
    """The contents of every object of a heap at one moment, and the heap's own state;
    `build` makes an independent heap of them on any thread."""

    def __init__(self, heap):
        objects = heap.all_objects()
        self.objects = objects      # the originals: identities only, never read again
        # one record per object: (class, hash, format, flags, fields): the fields' own copy
        self.records = [(o.cls, o.hash, o.fmt, o.flags,
                         None if o.ptrs is None else o.ptrs[:],
                         None if o.bytes is None else bytearray(o.bytes),
                         None if o.words is None else o.words[:]) for o in objects]
        self.spur = isinstance(heap, SpurHeap)
        self.immediates = []        # Spur: (immediate, class, hash, ptrs, words), immutable
        if self.spur:
            found = {}
            for c in heap._chars.values():
                found[id(c)] = c
            for record in self.records:
                ptrs = record[4]
                if ptrs is not None:
                    for p in ptrs:
                        if p.__class__ is SqObject and p.fmt == FMT_IMMEDIATE:
                            found[id(p)] = p
            self.immediates = [(o, o.cls, o.hash, None if o.ptrs is None else list(o.ptrs),
                                None if o.words is None else list(o.words))
                               for o in found.values()]
            self.class_table = dict(heap.class_table)
            self.chars = dict(heap._chars)
        self.info = _copy.copy(heap.info)
        table = getattr(heap.info, "oop_table", None)
        if table:
            self.info.oop_table = dict(table)
        self.memory_order = list(heap.objects)
        self.specials = heap.specials
        self.last_hash = heap.last_hash
        self.extra_roots = [r for r in heap.extra_roots if r.__class__ is SqObject]
        self.total = len(objects)           # the steps' progress: two passes over them

    def build(self) -> Heap:
        """The new heap (every step of `build_steps` at once)."""
        return run_steps(self.build_steps())

    def build_steps(self):
        """A generator making the new heap from the record, yielding its progress (objects
        done, total: half an object per pass over them) every BUILD_STEP objects of each
        pass; its return value is the heap. It reads nothing
        of the original heap but identities, so it may run while the original runs."""
        records, objects = self.records, self.objects
        new_of = {}
        make = SqObject.__new__
        news = []
        count = len(objects)
        total = self.total
        for i, (o, r) in enumerate(zip(objects, records)):
            n = make(SqObject)
            n.hash = r[1]
            n.fmt = r[2]
            n.flags = r[3]              # read-only and pinned stay so in the copy
            n.cache = None
            new_of[id(o)] = n
            news.append(n)
            if i % BUILD_STEP == BUILD_STEP - 1:
                yield ((i + 1) // 2, total)
        for o, cls, hsh, ptrs, words in self.immediates:
            if id(o) not in new_of:
                new_of[id(o)] = SqObject(None, FMT_IMMEDIATE, hsh, ptrs=ptrs, words=words)
        get = new_of.__getitem__
        for o, cls, hsh, ptrs, words in self.immediates:
            new_of[id(o)].cls = get(id(cls))
        for i, (n, r) in enumerate(zip(news, records)):
            n.cls = get(id(r[0]))
            ptrs = r[4]
            n.ptrs = None if ptrs is None else [get(id(p)) if p.__class__ is SqObject else p
                                                for p in ptrs]
            n.bytes = r[5]
            n.words = r[6]
            if i % BUILD_STEP == BUILD_STEP - 1:
                yield ((count + i + 1) // 2, total)
        info = self.info
        if info.oop_table:
            info.oop_table = {oop: new_of[id(o)] for oop, o in info.oop_table.items()
                              if id(o) in new_of}
        listed = set()
        order = []              # memory order: the original's, then what it did not list
        for o in self.memory_order + objects:
            n = new_of.get(id(o))
            if n is not None and id(n) not in listed:
                listed.add(id(n))
                order.append(n)
        if self.spur:
            table = {i: new_of[id(c)] for i, c in self.class_table.items() if id(c) in new_of}
            chars = {code: new_of[id(c)] for code, c in self.chars.items()}
            new = SpurHeap(get(id(self.specials)), info, table, chars, objects=order)
        else:
            new = Heap(get(id(self.specials)), info, objects=order)
        new.last_hash = self.last_hash
        new.extra_roots = [get(id(r)) for r in self.extra_roots]
        self.records = self.objects = self.memory_order = None     # the record is spent
        return new


def copy_heap(heap) -> Heap:
    """A deep copy of the object graph of `heap` (everything reachable from its roots).
    A Spur heap's copy is a Spur heap: its class table and immediates (Characters, one
    per code point, and SmallFloat64s) are the copy's own. The copy has no image path."""
    heap = HeapSnapshot(heap).build()
    heap.info.path = None
    return heap


class SpaceSnapshot:
    """A space as it was at one moment (`snapshot_space`): its heap's record, the source
    it logged, whether it was idle, what its copy's files and settings start from.
    `heap_steps` builds `heap` from it, `copy_steps` also the copy's space (`space`), on
    any thread; `adopt` adds that space to the original's VM, on the VM's thread."""

    def __init__(self, space, space_class=None):
        control.park(space)
        interp = getattr(space, "_interpreter", None)
        self.record = HeapSnapshot(space.heap)
        self.heap = None
        self.space = None
        self.space_class = space_class or type(space)
        self.sources = space.sources.copy()     # a copy reads the original's .sources/.changes
        self.idle = interp is not None and interp.started and interp.ctx is None
        self.protected = None
        if interp is not None:
            files = interp.files
            self.protected = (set(files.protected_paths), set(files.protected_ids), files.policy)
        self.path = space.info.path
        # what imageName answers in the original (its interpreter's, changed by imageName:
        # or a snapshot), else its file
        self.image_name = getattr(interp, "image_path", None) or self.path
        self.settings = {name: getattr(space, name) for name in ("cpu_share", "memory_limit")
                         if hasattr(space, name)}
        self.name = getattr(space, "name", None)
        self.vm = getattr(space, "vm", None)

    @property
    def total(self) -> int:
        """What the steps' progress counts to."""
        return self.record.total

    def heap_steps(self):
        """`HeapSnapshot.build_steps` into `self.heap` (the image path kept, for a save)."""
        self.heap = yield from self.record.build_steps()
        return self.heap

    def save_steps(self, path: str, little_endian=None, protect=()):
        """`heap_steps`, then the image of that heap written at `path` with its `.changes`
        as `ObjectSpace.save` writes them (atomically, never over a file in `protect` nor
        over the original's image)."""
        from .objectspace import write_space
        heap = yield from self.heap_steps()
        write_space(heap, self.sources, path, little_endian, protect)

    def copy_steps(self):
        """`heap_steps`, then the copy: a new space of `space_class` on that heap (no image
        path), its interpreter made, its files confined; not yet in any VM (`adopt`)."""
        heap = yield from self.heap_steps()
        heap.info.path = None
        new = self.space_class(heap, None)
        new._sources = self.sources
        interp = control.interpreter(new)
        interp.image_path = self.image_name
        _confine_files(self, interp.files)
        if self.idle:
            # the original was idle (no runnable process): so is the copy
            control._set_idle(new, control.interpreter(new))
        for name, value in self.settings.items():
            setattr(new, name, value)
        if hasattr(new, "name"):
            new.name = "copy of %s" % (self.name or "a space")
        self.space = new
        return new

    def adopt(self):
        """The copy made by `copy_steps`, added to the original's VM (on its thread)."""
        if self.space is None:
            run_steps(self.copy_steps())
        if self.vm is not None and hasattr(self.vm, "add"):
            self.vm.add(self.space)
        return self.space


def run_steps(steps):
    """Run a generator of steps to its end; its return value."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def snapshot_space(space, space_class=None) -> SpaceSnapshot:
    """The space as it is now, on the thread that runs it (see the module's comment)."""
    return SpaceSnapshot(space, space_class)


def _confine_files(snap, files) -> None:
    """The copy's files: none open (the original's handles are invalid in it), the
    original's images protected, and its policy's sandbox form (an overlay for the host's
    files: what the copy writes never reaches them)."""
    if snap.protected is not None:
        paths, ids, policy = snap.protected
        files.protected_paths |= paths
        files.protected_ids |= ids
        files.policy = policy.for_copy()
    else:
        if snap.path:
            files.protect(snap.path)
        files.policy = FilePolicy.host().for_copy()


def copy_space(space, space_class=None):
    """An independent copy of `space` (of `space_class`, default the space's own class),
    in the same VM as the original."""
    return snapshot_space(space, space_class).adopt()
