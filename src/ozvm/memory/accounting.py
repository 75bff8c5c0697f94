"""Memory accounting of one space: what its objects cost the host, its limit, its peak,
and the low-space signal (seed: the object memory's free space; the C VM's
sufficientSpaceToAllocate and lowSpaceThreshold).

Every object a space makes is *charged* by the heap's allocation helpers (Heap.instantiate,
new_method, new_float, new_string, new_array, new_bytes, new_object, copy_of) and by the
interpreter where it makes contexts itself: `heap.allocated` grows by the object's
footprint, the bytes it takes in this host (CPython 3.11, 64-bit: an object header, a list
of pointers, a bytearray or a list of words; see `footprint`). Nothing is refunded when an
object becomes garbage (Python frees it unseen), so `heap.allocated` only grows; what the
space really holds is found by a *measure*: a walk over every object reachable from its
roots (the interpreter's active context included), done only when the estimate says the
space may be near its limit, and at most once per limit/32 bytes of allocation.

Big objects (BIG_OBJECT bytes and more) are also tracked one by one with a weak reference
that refunds them when Python frees them, so a loop making and dropping big objects does
not need a measure, and a space holding big objects is known exactly without one.

The estimate of what a space uses is
    in_use = measured (at the last measure) + small objects charged since
             + big objects charged since that are still alive
An allocation is checked *before* the object is made whenever the estimate plus the new
object's cost passes `heap.alarm` (set from the limit after each check). Past the space's
low-space mark (its limit less the image's lowSpaceThreshold, primitive 125, or less a
sixteenth of the limit) the image gets its own low-space signal, once (`on_low_space`: the
interpreter signals the lowSpaceSemaphore, as the C VM does). Past the limit the running
guest is stopped (`on_exhausted`: the interpreter stops with 'memory'), and a big allocation
(REFUSABLE bytes and more) is refused before it is made (MemoryLimitError: a primitive
making it fails, as the C VM's primitives fail when memory is short; the host's own calls
get the error). See docs/memory.md.
"""
from __future__ import annotations

import gc
import os
import weakref

from ..errors import OzError
from .host_collector import REFCOUNTED, keep_out_of_young

# What one object costs in the host (bytes): the SqObject (8 slots and the GC header), a
# list (header and 8 bytes a slot), a bytearray (header and a byte a byte); words are
# Python ints in a list: 8 bytes a slot plus, on average, a few for the int objects.
OBJECT_BYTES = 96
LIST_BYTES = 56
BYTEARRAY_BYTES = 57
SLOT_BYTES = 8
WORD_BYTES = 12
CONTEXT_BYTES = OBJECT_BYTES + LIST_BYTES     # plus SLOT_BYTES a field

BIG_OBJECT = 1 << 18        # objects this big are tracked one by one (weak references)
REFUSABLE = 1 << 16         # allocations this big are refused (not made) past the limit
PACE = 1 << 22             # bytes of allocation between two early heartbeats (on_pace)
# a V3 image's objects take about this many times their size in the file in this host (the
# first estimate of a space's use, before its first measure; and what an image must fit)
HOST_BYTES_PER_IMAGE_BYTE = 5
# the whole process's backstop (the interpreter stops a guest past it; no image bigger is read)
HOST_MEMORY_LIMIT = int(os.environ.get("OZ_MEMORY_LIMIT", 2 * 1024 ** 3))


class MemoryLimitError(OzError):
    """An allocation that would take a space past its memory limit was refused."""


def image_fits(data_size: int, limit) -> None:
    """Refuse (MemoryLimitError) an image whose object memory of `data_size` bytes would
    take more than `limit` bytes in this host by the first estimate (or more than the
    process's backstop, for no limit): checked before the file's object memory is read."""
    limit = limit or HOST_MEMORY_LIMIT
    need = HOST_BYTES_PER_IMAGE_BYTE * data_size
    if need > limit:
        raise MemoryLimitError(
            "memory limit: the image's object memory of %d KB would take about %d KB in this "
            "host, more than the limit of %d KB" % (data_size >> 10, need >> 10, limit >> 10))


def footprint(obj) -> int:
    """The bytes `obj` takes in the host (as the heap charges it)."""
    n = OBJECT_BYTES
    if obj.ptrs is not None:
        n += LIST_BYTES + SLOT_BYTES * len(obj.ptrs)
    if obj.bytes is not None:
        n += BYTEARRAY_BYTES + len(obj.bytes)
    if obj.words is not None:
        n += LIST_BYTES + WORD_BYTES * len(obj.words)
    return n


def cost_of(pointers: int = -1, nbytes: int = -1, words: int = -1) -> int:
    """The footprint of an object to be made with that many pointer fields, bytes and
    words (-1: none of that kind)."""
    n = OBJECT_BYTES
    if pointers >= 0:
        n += LIST_BYTES + SLOT_BYTES * pointers
    if nbytes >= 0:
        n += BYTEARRAY_BYTES + nbytes
    if words >= 0:
        n += LIST_BYTES + WORD_BYTES * words
    return n


POINT_COST = cost_of(pointers=2)    # a Point, as the interpreter and the tier make for @


class MemoryAccount:
    """The memory figures and the limit of one heap (one space)."""

    def __init__(self, heap, limit=None):
        self.heap = heap
        self.limit = None
        self.peak = 0
        info = getattr(heap, "info", None)
        # bytes reachable at the last measure; before the first one, a guess from the
        # image's size (a V3 image's objects take about five times as much in the host)
        self.measured = HOST_BYTES_PER_IMAGE_BYTE * (getattr(info, "data_size", 0) or 0)
        self.exact = False           # whether a measure was made
        self.mark = 0                # heap.allocated at the last measure
        self.measures = 0            # how many measures (walks) were made
        self.big_since = 0           # live big objects charged since the last measure
        self.big_charged = 0         # all big objects charged since the last measure
        self._big: dict = {}         # id(obj) -> (weak ref, cost, measure number)
        self.low_space_threshold = 0  # primitive 125 (bytes); 0: no signal
        self.low_space_signals = 0
        self.low_space_armed = True  # the signal is given when the mark is passed
        self.stops = 0               # times the guest was stopped (or refused) at its limit
        self.extra_roots = None      # f() -> objects to count beyond the heap's roots
        self.on_low_space = None     # f(): give the image its low-space signal
        self.on_exhausted = None     # f(message): stop the running guest
        self.on_pace = None          # f(): much was allocated, time for a heartbeat
        self.set_limit(limit)

    # --- figures -------------------------------------------------------------------------
    def in_use(self) -> int:
        """Bytes the space holds (estimate: exact at a measure, garbage since counted)."""
        heap = self.heap
        small = heap.allocated - self.mark - self.big_charged
        return self.measured + small + self.big_since

    def figures(self) -> dict:
        """{'in_use', 'peak', 'limit', 'allocated', 'measures', 'low_space_signals',
        'stops'}: bytes in use (an estimate, see above), the most seen, the limit (or
        None), bytes charged in all, and how often it measured, signalled, stopped."""
        used = self.in_use()
        self.peak = max(self.peak, used)
        return {"in_use": used, "peak": self.peak, "limit": self.limit,
                "allocated": self.heap.allocated, "measures": self.measures,
                "low_space_signals": self.low_space_signals, "stops": self.stops}

    def set_low_space_threshold(self, nbytes: int) -> None:
        """Primitive 125 (signalAtBytesLeft:): signal the image when fewer bytes are left."""
        self.low_space_threshold = max(0, nbytes)
        self.low_space_armed = True
        self._rearm(self.in_use())

    def bytes_left(self, default_limit: int) -> int:
        """What the image may still allocate (its limit, or `default_limit`, less what it
        holds): the answer of bytesLeft and of the garbage collection primitives."""
        limit = self.limit if self.limit else default_limit
        return max(0, limit - self.in_use())

    def measure(self) -> int:
        """Walk the space (every reachable object, the running context included) and
        answer the bytes it holds; the estimate starts again from there."""
        heap = self.heap
        roots = self.extra_roots() if self.extra_roots is not None else ()
        total = 0
        for obj in heap.all_objects(roots):
            total += footprint(obj)
        self.measured = total
        self.mark = heap.allocated
        self.big_since = 0
        self.big_charged = 0
        self.measures += 1
        self.exact = True
        self.peak = max(self.peak, total)
        self._rearm(total)
        return total

    # --- the limit ------------------------------------------------------------------------
    def set_limit(self, limit) -> None:
        if limit is not None and (limit.__class__ is not int or limit <= 0):
            raise OzError("a memory limit is a positive number of bytes, not %r" % (limit,))
        self.limit = limit
        self._rearm(self.in_use())

    def _rearm(self, used: int) -> None:
        """Set the heap's alarm: the next allocation that takes the estimate near the
        limit (or the low-space mark) is checked before it is made; and at the latest
        after PACE bytes, for the running interpreter's heartbeat (big allocations take
        time: a guest making them in a loop must not keep the host waiting)."""
        heap = self.heap
        if not self.limit:
            heap.alarm = heap.allocated + PACE
            return
        room = (self.low_space_mark() if self.low_space_armed else self.limit) - used
        heap.alarm = heap.allocated + min(max(room, self.limit >> 5), PACE)

    def charge_big(self, obj, cost: int) -> None:
        """Track a big object just made (its cost was charged): refunded when freed."""
        key = id(obj)
        generation = self.measures
        self.big_since += cost
        self.big_charged += cost

        def freed(_ref, self=self, key=key, cost=cost, generation=generation):
            entry = self._big.pop(key, None)
            if entry is not None and generation == self.measures:
                self.big_since -= cost
        try:
            self._big[key] = (weakref.ref(obj, freed), cost, generation)
        except TypeError:           # an object without weak references: counted as held
            pass
        # a big list: no young collection of Python's may walk its fields inside a quantum
        # (a space holding thirty 1,000,000-field Arrays cost 0.5 s there)
        keep_out_of_young(obj)

    def swapped(self, a, b) -> None:
        """`a` and `b` exchanged their bodies (become:): a tracked big body moves."""
        ea = self._big.pop(id(a), None)
        eb = self._big.pop(id(b), None)
        for entry, other in ((ea, b), (eb, a)):
            if entry is not None and entry[2] == self.measures:
                self.big_since -= entry[1]
                self.big_charged -= entry[1]
                self.charge_big(other, entry[1])

    def low_space_mark(self) -> int:
        """Bytes in use past which the image gets its low-space signal: its limit less
        the image's lowSpaceThreshold (primitive 125), or less a sixteenth of the limit
        for an image that set none."""
        margin = self.low_space_threshold or (self.limit >> 4)
        return self.limit - margin

    def check(self, cost: int = 0) -> None:
        """The estimate passed the alarm (an allocation of `cost` bytes is about to be
        made, or was made, for cost 0). Measure if needed; past the low-space mark give
        the image its low-space signal (once); past the limit stop the guest and refuse
        a big allocation."""
        if self.on_pace is not None:
            self.on_pace()
        limit = self.limit
        if not limit:
            self._rearm(0)
            return
        used = self.in_use()
        mark = self.low_space_mark()
        if used + cost > (mark if self.low_space_armed else limit):
            # near the mark or the limit: measure, unless the estimate is exact enough
            # (big objects are known exactly; small ones made since the last measure,
            # which may be garbage, are less than limit/32; before the first measure the
            # estimate starts from the image's size)
            small = self.heap.allocated - self.mark - self.big_charged
            if small > (limit >> 5):
                used = self.measure()
            elif self.big_since and not REFCOUNTED:
                gc.collect()            # PyPy: refund the big objects that are garbage
                used = self.in_use()
        if used + cost > mark and self.low_space_armed:
            self.low_space_armed = False      # as the C VM: once, until the image sets it again
            self.low_space_threshold = 0
            self._low_space()
        elif used + cost <= mark and not self.low_space_armed and not self.low_space_threshold:
            self.low_space_armed = True       # ozvm's own mark: again next time
        if used + cost <= limit:
            self.peak = max(self.peak, used + cost)
            self._rearm(used)
            return
        self.stops += 1
        message = ("memory limit: the space holds %d KB and needs %d KB more, past its "
                   "limit of %d KB" % (used >> 10, (cost + 1023) >> 10, limit >> 10))
        if self.on_exhausted is not None:
            self.on_exhausted(message + "; the guest was stopped")
        self.heap.alarm = self.heap.allocated + min(limit >> 5, PACE)
        if cost >= REFUSABLE:
            raise MemoryLimitError(message)

    def _low_space(self) -> bool:
        """Give the image its low-space signal; answer whether there was one to give."""
        if self.on_low_space is None or not self.on_low_space():
            return False
        self.low_space_signals += 1
        return True
