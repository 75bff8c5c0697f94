"""The VM: several images loaded as object spaces in one running process (seed: Oz VM,
primitiveLoadImage), one of them running at a time.

    vm = VM()
    a = vm.load("squeak2.2-mini.image")       # a GuestSpace (an ObjectSpace with control)
    b = vm.load("pharocandle.image")
    a.transfer_control(quantum_ms=20)         # -> 'quantum' / 'idle' / 'quit' / 'error' ...
    a.cpu_share = 0.3; b.cpu_share = 0.5
    vm.run(seconds=5)                         # round robin giving each busy space its share

Each space has its own heap (special objects array, nil/true/false, scheduler, symbol
table), its own interpreter, and its own method cache (kept in its own selectors). The
VM holds which space is *current*: switching (`switch_to`) is the seed's context switch:
the running space's active process is put to sleep with its context saved (it stays its
active process), the other space's special objects become the ones in use, and its active
process is awakened at the next transfer of control.
"""
from __future__ import annotations

import time

from .errors import OzError
from .space import control, sandbox
from .space.objectspace import ObjectSpace


class GuestSpace(ObjectSpace):
    """An object space under the host's execution control (see space/control.py and
    space/sandbox.py)."""

    def __init__(self, heap, vm=None):
        super().__init__(heap, vm)
        self.cpu_share = None           # fraction of wall time under VM.run (None: not scheduled)
        self.memory_limit = None        # bytes; the guest is stopped past it ('memory')
        self.cpu_time = 0.0             # seconds spent in transfers of control
        self.last_transfer = None
        self.last_error = None
        self.name = None

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
        quanta, terminated when the time is up (control.evaluate)."""
        if timeout_ms is None:
            control.park(self)
            return super().evaluate(source, timeout)
        return control.evaluate(self, source, timeout_ms=timeout_ms)

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


class VM:
    """Several object spaces in one VM; one is current (installed) at a time."""

    def __init__(self):
        self.spaces: list = []
        self.current = None
        self.switches = 0

    def load(self, path: str) -> GuestSpace:
        """Load an image as a new space (the file is only read)."""
        from .image.formats import read_image
        space = GuestSpace(read_image(path), self)
        space.name = path
        self.spaces.append(space)
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
    def run(self, seconds: float, slice_ms: float = 10.0) -> dict:
        """Give each space with a cpu_share its fraction of wall time for `seconds`
        (round robin: the space furthest behind its share runs next, for at most
        `slice_ms`; when every space is ahead, the host sleeps). Answers
        {space: {'seconds', 'bytecodes', 'share', 'reasons'}}."""
        spaces = [s for s in self.spaces if getattr(s, "cpu_share", None)]
        total = sum(s.cpu_share for s in spaces)
        if total > 1.0 + 1e-9:
            raise OzError("the CPU shares add up to %.2f, more than 1" % total)
        stats = {s: {"seconds": 0.0, "bytecodes": 0, "reasons": {}} for s in spaces}
        resting = {}            # space -> when to try again (it had nothing to run)
        start = time.perf_counter()
        end = start + seconds
        while True:
            now = time.perf_counter()
            if now >= end or not spaces:
                break
            elapsed = now - start
            best, behind = None, 0.0
            for s in spaces:
                if resting.get(s, 0.0) > now:
                    continue
                lag = s.cpu_share * elapsed - stats[s]["seconds"]
                if best is None or lag > behind:
                    best, behind = s, lag
            if best is None:
                time.sleep(max(0.0, min(min(resting.values()) - now, end - now)))
                continue
            if behind <= 0.0005:
                # everyone has had its share so far: wait until the first falls behind
                wait = min((stats[s]["seconds"] - s.cpu_share * elapsed) / s.cpu_share
                           for s in spaces if resting.get(s, 0.0) <= now)
                time.sleep(max(0.0005, min(wait, end - now, slice_ms / 1000.0)))
                continue
            quantum = min(slice_ms, behind * 1000.0 + 1.0, (end - now) * 1000.0)
            t = time.perf_counter()
            reason = best.transfer_control(quantum_ms=quantum)
            used = time.perf_counter() - t
            st = stats[best]
            st["seconds"] += used
            st["bytecodes"] += best.last_transfer.bytecodes
            st["reasons"][reason] = st["reasons"].get(reason, 0) + 1
            if reason != "quantum":
                # nothing to run now (idle, quit, error...): do not spin on it for a slice
                resting[best] = time.perf_counter() + slice_ms / 1000.0
        wall = time.perf_counter() - start
        for s in spaces:
            stats[s]["share"] = stats[s]["seconds"] / wall if wall else 0.0
            stats[s]["wall"] = wall
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
            for obj in s.heap.all_objects():
                other = owner.setdefault(id(obj), s)
                if other is not s:
                    raise OzError("an object (%s) is reachable from two spaces: %r and %r"
                                  % (s.describe(obj), other, s))
