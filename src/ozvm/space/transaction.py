"""Changes as a transaction: `with space.transaction(): ...` undoes, when the block raises,
every change the block made to the space, through the membrane or by guest code it ran.

On entry the space is parked (its running process saved in its context, as for a copy) and
the contents of every object of the heap are recorded: class, hash, format and fields.
Leaving normally keeps everything; leaving by an exception puts every recorded object back
as it was (objects made inside become unreachable again), with the heap's hash generator,
the interpreter's scheduling state, the space's indexes and method caches and the source
logged for the `.changes`, then lets the exception go on. Identity is kept: a host mirror on
an object taken before the transaction still names the same, restored, object.

What lies outside the space cannot be undone and is not: host files written by guest code
(the space's file policy governs those), text already printed.
"""
from __future__ import annotations

from . import control


class Transaction:
    """A context manager over one space; `space.transaction()` makes one."""

    def __init__(self, space):
        self.space = space
        self._saved = None
        self._state = None

    def __enter__(self) -> "Transaction":
        space = self.space
        control.park(space)
        heap = space.heap
        interp = getattr(space, "_interpreter", None)
        self._saved = [(o, o.cls, o.hash, o.fmt,
                        None if o.ptrs is None else o.ptrs[:],
                        None if o.bytes is None else bytes(o.bytes),
                        None if o.words is None else o.words[:])
                       for o in heap.all_objects()]
        sources = space._sources
        self._state = {
            "last_hash": heap.last_hash,
            "extra_roots": list(heap.extra_roots),
            "idle_active": getattr(space, "_idle_active", None),
            "interp": None if interp is None else (
                interp.started, interp.next_wakeup, list(interp.pending_signals),
                interp.interrupt_pending),
            "sources": None if sources is None else len(sources.added),
        }
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        if kind is not None:
            self.rollback()
        self._saved = self._state = None
        return False

    def rollback(self) -> None:
        """Put every recorded object and the space's state back as they were on entry."""
        space = self.space
        control.park(space)
        for (o, cls, hsh, fmt, ptrs, data, words) in self._saved:
            o.cls = cls
            o.hash = hsh
            o.fmt = fmt
            o.ptrs = ptrs
            o.bytes = None if data is None else bytearray(data)
            o.words = words
            o.cache = None                # decoded methods and method-cache entries
        state = self._state
        heap = space.heap
        heap.last_hash = state["last_hash"]
        heap.extra_roots[:] = state["extra_roots"]
        heap.refresh_specials()
        if hasattr(space, "_idle_active"):
            space._idle_active = state["idle_active"]
        interp = getattr(space, "_interpreter", None)
        if interp is not None:
            interp.cached_selectors = []
            interp.drop_free_contexts()
            interp.ctx = interp.stack = None
            if state["interp"] is None:
                interp.started = False
            else:
                (interp.started, interp.next_wakeup, interp.pending_signals,
                 interp.interrupt_pending) = state["interp"]
            interp.refresh_specials()
        if state["sources"] is None:
            space._sources = None         # made inside: read again from the files on demand
        else:
            del space._sources.added[state["sources"]:]
        space.invalidate_indexes()
        if hasattr(space, "_method_names"):
            del space._method_names
