"""Garbage collection and object enumeration of one heap, as a V3 VM has them.

Python frees the objects themselves; what a collection decides is what the guest sees:

* `heap.objects` (memory order: the image file's objects, then every object made since)
  keeps garbage until a collection takes it out, as a real VM's heap does, so
  `someObject`/`nextObject` and `someInstance`/`nextInstance` enumerate what a real VM
  would: after a full collection exactly the reachable objects, in memory order, then the
  objects made since.
* A full collection (`collect`, primitives 130 and 131) marks from the roots (the special
  objects array, the heap's extra roots and the running interpreter's active context up to
  its stack pointer; every other context up to its stackp). The indexable fields of a
  weak object (format 4) are not traced: those that refer to objects left unmarked become
  nil, and the caller signals the finalization semaphore when any did. Reachable objects
  that were not listed (contexts, which the interpreter does not list, see below) are
  listed after the others.
* Young collections, every YOUNG_SPACE allocations as the C VM's incremental ones (or
  YOUNG_BYTES charged to the space's account, so that big garbage is freed soon), take
  the young objects (made since the last tenuring) that nothing refers to any more out of
  the list; weak fields stay as they are. CPython: an object the list alone refers to
  (its reference count), newest first; young survivors are tenured once more than
  TENURE_AT of them are left. Elsewhere (PyPy), and on CPython once tenured garbage makes
  the list much longer than the live size, a mark from the roots that traces weak fields
  too, at most once per live size of allocations.

Contexts are listed when made (Heap.new_context) and reused by the interpreter when they
return and nothing else refers to them, as a real VM recycles them from a free list that
every collection empties: so the contexts a real VM shows after a collection (those still
reachable, then those made since) are the ones listed here.
"""
from __future__ import annotations

import sys

from . import specials as S
from .objects import FMT_IMMEDIATE, SqObject

YOUNG_SPACE = 4000          # allocations between two young collections (the C VM's default)
YOUNG_BYTES = 4 << 20       # or bytes charged (heap.allocated), so big garbage goes soon
TENURE_AT = 2000            # young survivors past which they are tenured (the C VM's default)
MARK_AGAIN = 500000         # a young collection marks when the list passes 2 * live + this

_refcount = getattr(sys, "getrefcount", None)   # CPython; None on PyPy


class Collector:
    """The garbage collector and enumeration index of one heap (`heap.gc`)."""

    def __init__(self, heap):
        self.heap = heap
        # set by the running interpreter: called as a collection starts, it drops the
        # contexts it keeps for reuse (as the C VM does) and answers (active context,
        # index of its stack top) or (None, 0)
        self.prepare = None
        self.live = len(heap.objects)
        self.young_start = self.live
        self.young_limit = self.live + YOUNG_SPACE
        self.young_bytes = heap.allocated + YOUNG_BYTES
        self.counts = [0, 0]        # [full, incremental or young] collections
        self._positions: dict = {}  # id(obj) -> index in heap.objects, for objects[:_indexed]
        self._indexed = 0
        self.unlisted = False       # contexts were made unlisted since the last mark

    def unlisted_context(self, cost: int) -> None:
        """A context was made without being listed (see Heap.new_context): it brings no
        young collection nearer (it is nothing such a collection could drop)."""
        self.young_bytes += cost
        self.unlisted = True

    def list_contexts(self) -> None:
        """List the contexts made unlisted that are reachable (a mark from the roots, weak
        fields traced, contexts up to their stack pointer), after the listed objects: when
        an enumeration starts, or is asked about an unlisted object."""
        if not self.unlisted:
            return
        self.unlisted = False
        heap = self.heap
        sp = heap.specials.ptrs
        mctx, bctx = sp[S.CLASS_METHOD_CONTEXT], sp[S.CLASS_BLOCK_CONTEXT]
        listed = set(map(id, heap.objects))
        heap.objects.extend(o for o in self.mark(False, frames=True)[0]
                            if (o.cls is mctx or o.cls is bctx) and id(o) not in listed)

    # --- marking ----------------------------------------------------------------------
    def mark(self, weak: bool = True, frames=None) -> tuple:
        """(reachable objects, weak objects among them, ids of the reachable objects) from
        the roots, as Heap.trace walks them. `weak`: as a collector sees the heap (weak
        indexable fields not traced, contexts only up to their stack pointer); otherwise
        every field is traced. `frames` (default: `weak`): contexts only up to their stack
        pointer."""
        if frames is None:
            frames = weak
        heap = self.heap
        active_ctx, active_sp = None, 0
        if self.prepare is not None:
            active_ctx, active_sp = self.prepare()
        roots = [heap.specials] + list(heap.extra_roots)
        if active_ctx is not None:
            roots.append(active_ctx)
        return heap.trace(roots, weak, frames, active_ctx, active_sp)

    # --- collections ------------------------------------------------------------------
    def collect(self, incremental: bool = False) -> int:
        """A full collection: unreachable objects leave the list, weak fields referring
        to them become nil. Answers how many weak fields were cleared. `incremental`:
        the image asked for an incremental one (counted as such)."""
        heap = self.heap
        reachable, weak_objects, marked = self.mark(True)
        nil = heap.nil
        cleared = 0
        for w in weak_objects:
            p = w.ptrs
            for i in range(heap.family.class_inst_size(w.cls.ptrs[2]), len(p)):
                x = p[i]
                if x.__class__ is SqObject and id(x) not in marked:
                    p[i] = nil
                    cleared += 1
        self._keep(marked, reachable)
        self.counts[1 if incremental else 0] += 1
        return cleared

    def young_collection(self) -> None:
        """Drop the objects made since the last collection that nothing refers to any
        more (see the module docstring); weak fields are left alone."""
        heap = self.heap
        objects = heap.objects
        self.counts[1] += 1
        if _refcount is None or len(objects) > 2 * self.live + MARK_AGAIN:
            reachable, _, marked = self.mark(False, frames=True)
            self._keep(marked, reachable)
            # a mark costs the live size: at most one per live size of allocation
            self.young_limit = len(heap.objects) + max(YOUNG_SPACE, self.live)
            self.young_bytes = heap.allocated + max(YOUNG_BYTES, 100 * self.live)
            return
        if self.prepare is not None:
            self.prepare()
        start = self.young_start
        self._forget_positions(start)
        young = objects[start:]
        del objects[start:]
        count = _refcount
        # an object the list alone refers to: held here by `young`, `o` and the argument;
        # newest first, so an object made earlier and held only by it goes too
        for i in range(len(young) - 1, -1, -1):
            o = young[i]
            if count(o) <= 3:
                young[i] = None
        o = None
        objects.extend([o for o in young if o is not None])
        if len(objects) - start > TENURE_AT:
            self.young_start = len(objects)
        self.young_limit = len(objects) + YOUNG_SPACE
        self.young_bytes = heap.allocated + YOUNG_BYTES

    def _keep(self, marked: set, reachable: list) -> None:
        """The list becomes its marked objects in their order, then the reachable
        objects it lacked."""
        heap = self.heap
        kept = []
        for o in heap.objects:
            if id(o) in marked:
                kept.append(o)
            elif o.cache.__class__ is int:
                o.cache = None      # a context no longer listed (see Heap.new_context)
        if len(kept) < len(reachable):
            listed = set(map(id, kept))
            kept.extend(o for o in reachable if id(o) not in listed and o.fmt != FMT_IMMEDIATE)
        heap.objects = kept
        self._positions = {}
        self._indexed = 0
        self.unlisted = False
        self.live = self.young_start = len(kept)
        self.young_limit = self.live + YOUNG_SPACE
        self.young_bytes = heap.allocated + YOUNG_BYTES

    # --- enumeration --------------------------------------------------------------------
    def _forget_positions(self, start: int) -> None:
        if self._indexed > start:
            pop = self._positions.pop
            for o in self.heap.objects[start:self._indexed]:
                pop(id(o), None)
            self._indexed = start

    def index_of(self, obj):
        """The position of `obj` in memory order, or None if it is not listed."""
        objects = self.heap.objects
        i = self._positions.get(id(obj))
        if i is None and self._indexed < len(objects):
            positions = self._positions
            for j in range(self._indexed, len(objects)):
                positions[id(objects[j])] = j
            self._indexed = len(objects)
            i = positions.get(id(obj))
        if i is not None and i < len(objects) and objects[i] is obj:
            return i
        return None

    def first_object(self):
        self.list_contexts()
        objects = self.heap.objects
        return objects[0] if objects else None

    def object_after(self, obj):
        """The next object in memory order (None after the last one or for an unlisted
        object)."""
        i = self.index_of(obj)
        if i is None and self.unlisted:
            self.list_contexts()
            i = self.index_of(obj)
        objects = self.heap.objects
        if i is None or i + 1 >= len(objects):
            return None
        return objects[i + 1]

    def first_instance(self, cls):
        sp = self.heap.specials.ptrs
        if cls is sp[S.CLASS_METHOD_CONTEXT] or cls is sp[S.CLASS_BLOCK_CONTEXT]:
            self.list_contexts()
        for o in self.heap.objects:
            if o.cls is cls:
                return o
        return None

    def instance_after(self, obj):
        """The next instance of obj's class in memory order (None if none, or if `obj`
        is not listed)."""
        i = self.index_of(obj)
        if i is None and self.unlisted:
            self.list_contexts()
            i = self.index_of(obj)
        if i is None:
            return None
        cls = obj.cls
        objects = self.heap.objects
        for j in range(i + 1, len(objects)):
            if objects[j].cls is cls:
                return objects[j]
        return None

    def live_bytes(self) -> int:
        """Bytes the listed objects take in an image of the heap's kind (after a full
        collection: the live objects)."""
        return self.heap.bytes_of(self.heap.objects)
