"""The VM: several images loaded as object spaces in one running process (seed: Oz VM,
primitiveLoadImage), one of them running at a time.

    vm = VM()
    a = vm.load("squeak2.2-mini.image")       # a GuestSpace (an ObjectSpace with control)
    b = vm.load("pharocandle.image")
    a.transfer_control(quantum_ms=20)         # -> 'quantum' / 'idle' / 'quit' / 'error' ...
    a.cpu_share = 0.3; b.cpu_share = 0.5
    vm.run(seconds=5)                         # round robin giving each busy space its share
    VM(file_policy=FilePolicy.deny)           # each loaded space's file policy (default: host)

Each space has its own heap (special objects array, nil/true/false, scheduler, symbol
table), its own interpreter, and its own method cache (kept in its own selectors). The
VM holds which space is *current*: switching (`switch_to`) is the seed's context switch:
the running space's active process is put to sleep with its context saved (it stays its
active process), the other space's special objects become the ones in use, and its active
process is awakened at the next transfer of control.
"""
from __future__ import annotations

import os
import time

from .errors import OzError
from .memory.objects import FMT_METHOD, SqObject
from .space import control, sandbox
from .space.objectspace import ObjectSpace


def host_value_in(obj, lo: int, hi: int) -> str | None:
    """Where `obj` (a guest object) holds something that is not a guest value (a SqObject
    or an exact int of the SmallInteger range lo..hi; a method's header an exact int; bytes
    a bytearray; words exact unsigned ints), described; None when it holds none."""
    if obj.cls.__class__ is not SqObject:
        return "its class (a host %s)" % type(obj.cls).__name__
    ptrs = obj.ptrs
    if ptrs is not None:
        if ptrs.__class__ is not list:
            return "its fields (a host %s)" % type(ptrs).__name__
        first = 1 if obj.fmt == FMT_METHOD else 0
        if first and ptrs and ptrs[0].__class__ is not int:
            return "its method header (a host %s)" % type(ptrs[0]).__name__
        for i in range(first, len(ptrs)):
            v = ptrs[i]
            if v.__class__ is SqObject:
                continue
            if v.__class__ is int and lo <= v <= hi:
                continue
            return "field %d (a host %s)" % (i + 1, type(v).__name__)
    if obj.bytes is not None and obj.bytes.__class__ is not bytearray:
        return "its bytes (a host %s)" % type(obj.bytes).__name__
    words = obj.words
    if words is not None:
        if words.__class__ is not list and words.__class__.__name__ != "array":
            return "its words (a host %s)" % type(words).__name__
        for i, w in enumerate(words):
            if w.__class__ is not int or not 0 <= w < 1 << 64:
                return "word %d (a host %s)" % (i + 1, type(w).__name__)
    return None


class GuestSpace(ObjectSpace):
    """An object space under the host's execution control (see space/control.py and
    space/sandbox.py)."""

    def __init__(self, heap, vm=None):
        super().__init__(heap, vm)
        self.cpu_share = None           # fraction of wall time under VM.run (None: not scheduled)
        if vm is not None and getattr(vm, "memory_limit", None):
            self.memory_limit = vm.memory_limit
        self.cpu_time = 0.0             # seconds spent in transfers of control
        self.last_transfer = None
        self.last_error = None
        self.name = None

    # --- memory ----------------------------------------------------------------------
    @property
    def memory_limit(self):
        """Bytes the space's objects may take in the host (None: no limit): past it the
        image gets its low-space signal, then the guest is stopped ('memory'); a big
        allocation that does not fit is refused before it is made
        (memory/accounting.py). A VM gives each space it loads its own default."""
        return self.heap.account.limit

    @memory_limit.setter
    def memory_limit(self, limit) -> None:
        self.heap.account.set_limit(limit)

    def memory_figures(self) -> dict:
        """{'in_use', 'peak', 'limit', 'allocated', ...}: the space's memory as the host
        counts it (bytes in this process; in_use measured exactly when `exact`)."""
        return self.heap.account.figures()

    # --- control -------------------------------------------------------------------
    def transfer_control(self, quantum_ms=None, bytecodes=None) -> str:
        return control.transfer_control(self, quantum_ms=quantum_ms, bytecodes=bytecodes)

    def create_process(self, source: str, priority=None, start: bool = True):
        return control.create_process(self, source, priority=priority, start=start)

    def active_process(self):
        """The active process (a ProcessMirror); its context is saved while the space is parked."""
        control.park(self)
        return self.scheduler().active_process()

    def process_stack(self, process=None, limit: int = 50) -> list:
        return control.process_stack(process or self.active_process(), limit)

    def evaluate(self, source: str, timeout: float | None = 600.0, timeout_ms=None):
        """Without timeout_ms: the guest's own compiler in a set-aside process (as
        ObjectSpace.evaluate). With timeout_ms: a guest process made by the host, run in
        quanta, terminated when the time is up (control.evaluate). Answers a mirror on the
        result."""
        if timeout_ms is None:
            control.park(self)
            return super().evaluate(source, timeout)
        return self.mirror_on(control.evaluate(self, source, timeout_ms=timeout_ms))

    def print_string(self, source: str, timeout: float | None = 600.0, timeout_ms=None) -> str:
        if timeout_ms is None:
            control.park(self)
            return super().print_string(source, timeout)
        result = control.evaluate(self, "(" + source + ") printString", timeout_ms=timeout_ms)
        return self.to_local(result)

    # --- sandbox -------------------------------------------------------------------
    def copy(self) -> "GuestSpace":
        """An independent deep copy of this space (see space/sandbox.py)."""
        return sandbox.copy_space(self, GuestSpace)

    def discard(self) -> None:
        """Take the space out of its VM; its files are closed (an overlay's own temporary
        folder is removed)."""
        if self.vm is not None:
            self.vm.remove(self)
        interp = getattr(self, "_interpreter", None)
        if interp is not None:
            interp.files.close()

    def __repr__(self):
        return "<GuestSpace %s>" % (self.name or self.info.path or id(self))


DEFAULT_SPACE_MEMORY_LIMIT = int(os.environ.get("OZ_SPACE_MEMORY_LIMIT", 1024 ** 3))


class VM:
    """Several object spaces in one VM; one is current (installed) at a time.
    `memory_limit`: the limit each space it loads starts with (bytes; None: none).
    `file_policy`: makes the file policy of each space it loads (prims/file_policy.py;
    None: the host's files as a real VM has them, the VM's images protected)."""

    def __init__(self, memory_limit=DEFAULT_SPACE_MEMORY_LIMIT, file_policy=None):
        self.memory_limit = memory_limit
        self.spaces: list = []
        self.current = None
        self.switches = 0
        self.file_policy = file_policy

    def load(self, path: str) -> GuestSpace:
        """Load an image as a new space (the file is only read)."""
        return self.adopt(self.read(path))

    def read(self, path: str) -> GuestSpace:
        """The space of the image at `path`, not yet one of this VM's spaces (`adopt` makes
        it one). It reads the file and touches nothing the VM runs, so a host may call it
        on another thread than the one running the VM (`oz serve` reads images so)."""
        from .image.formats import read_image
        space = GuestSpace(read_image(path, self.memory_limit), self)
        space.name = path
        return space

    def adopt(self, space) -> GuestSpace:
        """Make a space `read` answered one of this VM's spaces (its file policy the VM's)."""
        self.spaces.append(space)
        if self.file_policy is not None:
            space.file_policy = self.file_policy()
        return space

    def add(self, space) -> None:
        space.vm = self
        if space not in self.spaces:
            self.spaces.append(space)

    def remove(self, space) -> None:
        if self.current is space:
            control.park(space)
            self.current = None
        self.spaces = [s for s in self.spaces if s is not space]
        space.vm = None

    def switch_to(self, space) -> None:
        """The seed's context switch: park the current space (its active process keeps its
        context saved, still active), install `space` (unparked by the transfer)."""
        if space is self.current:
            return
        if space.vm is not self:
            raise OzError("%r does not belong to this VM" % (space,))
        if self.current is not None:
            control.park(self.current)
        self.current = space
        self.switches += 1

    # --- CPU shares ----------------------------------------------------------------
    def run(self, seconds: float = None, slice_ms: float = 10.0, bytecodes: int = None,
            slice_bytecodes: int = 20000) -> dict:
        """Give each space with a cpu_share its fraction of the CPU for `seconds` of wall
        time (round robin: the space furthest behind its share runs next, for at most
        `slice_ms`; when every space is ahead, the host sleeps).

        With `bytecodes` instead: the same round robin on a clock that counts work, not
        time: the clock advances by the bytecodes the spaces run (and, where every space
        is ahead of its share, by the host's idle turns, as the wall clock would while
        the host sleeps), a slice is at most `slice_bytecodes`. Its figures depend only
        on the guests' code, never on the machine's load.

        Answers {space: {'seconds', 'bytecodes', 'share', 'reasons', 'transfers'}}:
        'share' is the space's part of the clock (wall time, or bytecodes)."""
        if (seconds is None) == (bytecodes is None):
            raise OzError("vm.run takes seconds or bytecodes (one of them)")
        clock = _WallClock(slice_ms / 1000.0) if bytecodes is None else _WorkClock(slice_bytecodes)
        return self._share_out(clock, seconds if bytecodes is None else bytecodes)

    def _share_out(self, clock, length) -> dict:
        spaces = [s for s in self.spaces if getattr(s, "cpu_share", None)]
        total = sum(s.cpu_share for s in spaces)
        if total > 1.0 + 1e-9:
            raise OzError("the CPU shares add up to %.2f, more than 1" % total)
        stats = {s: {"seconds": 0.0, "bytecodes": 0, "reasons": {}, "transfers": 0, "used": 0.0}
                 for s in spaces}
        resting = {}            # space -> when to try again (it had nothing to run)
        start = clock.now()
        end = start + length
        tolerance = clock.slice / 20.0
        while True:
            now = clock.now()
            if now >= end or not spaces:
                break
            elapsed = now - start
            best, behind = None, 0.0
            for s in spaces:
                if resting.get(s, start - 1) > now:
                    continue
                lag = s.cpu_share * elapsed - stats[s]["used"]
                if best is None or lag > behind:
                    best, behind = s, lag
            if best is None:
                clock.sleep(max(0.0, min(min(resting.values()) - now, end - now)))
                continue
            if behind <= tolerance:
                # everyone has had its share so far: wait until the first falls behind
                wait = min((stats[s]["used"] - s.cpu_share * elapsed) / s.cpu_share
                           for s in spaces if resting.get(s, start - 1) <= now)
                clock.sleep(max(tolerance, min(wait, end - now, clock.slice)))
                continue
            quantum = min(clock.slice, behind + clock.slice / 10.0, end - now)
            t = time.perf_counter()
            reason, used = clock.transfer(best, quantum)
            st = stats[best]
            st["seconds"] += time.perf_counter() - t
            st["used"] += used
            st["bytecodes"] += best.last_transfer.bytecodes
            st["transfers"] += 1
            st["reasons"][reason] = st["reasons"].get(reason, 0) + 1
            if reason != "quantum":
                # nothing to run now (idle, quit, error...): do not spin on it for a slice
                resting[best] = clock.now() + clock.slice
        length = clock.now() - start
        for s in spaces:
            st = stats[s]
            st["share"] = st.pop("used") / length if length else 0.0
            st["wall"] = length if isinstance(clock, _WallClock) else None
        return stats

    # --- isolation -----------------------------------------------------------------
    def check_isolation(self) -> None:
        """Walk every space's object graph (active contexts included): no object may be
        reached from two spaces; and no per-space host state (interpreter, file table,
        open file descriptor, overlay folder) may belong to two spaces. Raises OzError
        naming the first shared object or resource."""
        holder = {}
        for s in self.spaces:
            interp = getattr(s, "_interpreter", None)
            if interp is None:
                continue
            keys = [("interpreter", id(interp)), ("file table", id(interp.files)),
                    ("file session", interp.files.session)]
            for key in keys + interp.files.resources():
                other = holder.setdefault(key, s)
                if other is not s:
                    raise OzError("a %s (%s) belongs to two spaces: %r and %r"
                                  % (key[0], key[1], other, s))
        owner = {}
        for s in self.spaces:
            control.park(s)
            lo, hi = s.heap.family.small_int_min, s.heap.family.small_int_max
            for obj in s.heap.all_objects():
                other = owner.setdefault(id(obj), s)
                if other is not s:
                    raise OzError("an object (%s) is reachable from two spaces: %r and %r"
                                  % (s.describe(obj), other, s))
                slot = host_value_in(obj, lo, hi)
                if slot is not None:
                    raise OzError("a host value is stored in a guest object of %r: %s of %s"
                                  % (s, slot, s.describe(obj)))


class _WallClock:
    """VM.run's clock in seconds of wall time: a transfer lasts a quantum of time."""

    def __init__(self, slice_seconds: float):
        self.slice = slice_seconds

    @staticmethod
    def now() -> float:
        return time.perf_counter()

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)

    @staticmethod
    def transfer(space, seconds: float):
        t = time.perf_counter()
        reason = space.transfer_control(quantum_ms=seconds * 1000.0)
        return reason, time.perf_counter() - t


class _WorkClock:
    """VM.run's clock in bytecodes: a transfer lasts a quantum of bytecodes, and the
    clock advances by the bytecodes run (and by the host's idle turns)."""

    def __init__(self, slice_bytecodes: int):
        self.slice = slice_bytecodes
        self.ticks = 0

    def now(self) -> int:
        return self.ticks

    def sleep(self, ticks) -> None:
        self.ticks += max(1, int(ticks))

    def transfer(self, space, ticks):
        reason = space.transfer_control(bytecodes=max(1, int(ticks)))
        used = space.last_transfer.bytecodes
        self.ticks += used
        return reason, used
