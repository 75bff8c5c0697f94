"""The workbench's state: one VM and its spaces, each with a short id the pages use.

Owned by the VM worker thread (worker.py): only jobs running there touch it.
"""
from __future__ import annotations

import collections
import functools
import os

from ..errors import OzError
from ..space import control
from ..vm import VM


class NotFound(OzError):
    """An id in a request names nothing (a space, an object, a class, a method)."""


class Forbidden(OzError):
    """The workbench's file policy refuses what a page asked for (a load, a save)."""


DEFAULT_RUN_SHARE = 0.5        # the CPU share a space gets when run continuously
STOPPING_REASONS = ("quit", "memory", "stopped")   # a continuous run ends on these


def read_space(vm, path: str):
    """The space of the image at `path` for `vm`, not yet one of its spaces (VM.read)."""
    return vm.read(path)


class ObjectHandles:
    """Guest objects of one space named by short ids, the most recently used `limit` kept
    (the host holds them; the guest does not see the table)."""

    def __init__(self, limit: int = 20000):
        self.limit = limit
        self._by_id = collections.OrderedDict()      # 'o1' -> object
        self._ids = {}                               # id(object) -> 'o1'
        self._next = 1

    def id_of(self, obj) -> str:
        oid = self._ids.get(id(obj))
        if oid is not None and self._by_id.get(oid) is obj:
            self._by_id.move_to_end(oid)
            return oid
        oid = "o%d" % self._next
        self._next += 1
        self._by_id[oid] = obj
        self._ids[id(obj)] = oid
        while len(self._by_id) > self.limit:
            old, gone = self._by_id.popitem(last=False)
            if self._ids.get(id(gone)) == old:
                del self._ids[id(gone)]
        return oid

    def get(self, oid: str):
        return self._by_id.get(oid)


class Workbench:
    """The VM, its spaces by id, and what the pages keep between requests (objects the
    inspector shows, by space: `handles`)."""

    def __init__(self, vm=None, files: str = "host"):
        from ..tools.common import file_policy
        self.files = files
        self.file_policy = file_policy(files)      # what the pages' loads and saves may reach
        self.vm = vm or VM(file_policy=lambda: file_policy(files))   # and the guests' own files
        self.ids: dict = {}          # id -> space
        self._next = 1
        self.handles: dict = {}      # space id -> ObjectHandles: guest objects pages name
        self.last_run: dict = {}     # space id -> figures of the last slice it ran in
        self.stopped_reason: dict = {}   # space id -> why its continuous run stopped
        self.guest_errors: dict = {}     # space id -> the last error of a guest process it ran

    # --- spaces ----------------------------------------------------------------------
    def add(self, space, name=None) -> str:
        sid = "s%d" % self._next
        self._next += 1
        self.ids[sid] = space
        if name:
            space.name = name
        if space.vm is not self.vm:
            self.vm.add(space)
        return sid

    def check_path(self, path: str, write: bool) -> None:
        """Forbidden unless the workbench's file policy (`oz serve --files`) lets a page
        read (load) or write (save) `path`."""
        from ..prims.file_policy import Denied, OverlayPolicy
        if write and isinstance(self.file_policy, OverlayPolicy):
            raise Forbidden("the workbench's files are an overlay (--files %s): saving an image "
                            "on the host is refused" % self.files)
        try:
            self.file_policy.reach(os.fsencode(os.path.abspath(path)), write)
        except Denied as e:
            raise Forbidden("the workbench's file policy (--files %s) refuses to %s %s: %s"
                            % (self.files, "write" if write else "read", path, e.reason)) from None

    def load(self, path: str) -> str:
        """Load the image at `path` as a new space; its id."""
        return self.adopt(self.reader(path)(), path)

    def reader(self, path: str):
        """A function reading the image at `path` into a space not yet in the workbench
        (Forbidden, NotFound now when the policy refuses it or there is no file). The
        function touches no space: it may run on another thread than the worker, which
        goes on meanwhile; `adopt` adds what it answered."""
        self.check_path(path, write=False)
        if not os.path.isfile(path):
            raise NotFound("no image file at %s" % path)
        return functools.partial(read_space, self.vm, path)

    def adopt(self, space, path: str) -> str:
        """Add a space `reader` made to the VM and the workbench; its id."""
        self.vm.adopt(space)
        return self.add(space, os.path.basename(path))

    def space(self, sid: str):
        found = self.ids.get(sid)
        if found is None:
            raise NotFound("no space with id %r" % (sid,))
        return found

    def id_of(self, space) -> str:
        for sid, s in self.ids.items():
            if s is space:
                return sid
        raise NotFound("the space is not in the workbench")

    def unload(self, sid: str) -> None:
        space = self.space(sid)
        del self.ids[sid]
        self.handles.pop(sid, None)
        self.last_run.pop(sid, None)
        self.stopped_reason.pop(sid, None)
        self.guest_errors.pop(sid, None)
        space.discard()

    def spaces(self) -> list:
        """[(id, space)] in the order they were added."""
        return sorted(self.ids.items(), key=lambda item: int(item[0][1:]))

    # --- objects the pages name (the inspector's, a debugger's) -----------------------------
    def handle(self, sid: str, obj) -> str:
        """A short id ('o12') naming guest object `obj` of space `sid` in URLs."""
        handles = self.handles.get(sid)
        if handles is None:
            self.space(sid)
            handles = self.handles[sid] = ObjectHandles()
        return handles.id_of(obj)

    def object(self, sid: str, oid: str):
        """The guest object a handle names ('nil' names nil); NotFound for an unknown (or
        forgotten) one."""
        space = self.space(sid)
        if oid == "nil":
            return space.nil
        handles = self.handles.get(sid)
        obj = handles.get(oid) if handles is not None else None
        if obj is None:
            raise NotFound("no object %r in space %s (unknown, or forgotten: open it again "
                           "from the inspector)" % (oid, sid))
        return obj

    def has_object(self, sid: str, oid: str) -> bool:
        handles = self.handles.get(sid)
        return oid == "nil" or (handles is not None and handles.get(oid) is not None)

    # --- running continuously ------------------------------------------------------------
    def running_spaces(self) -> list:
        return [s for s in self.ids.values() if getattr(s, "cpu_share", None)]

    def start(self, sid: str, share=None) -> None:
        space = self.space(sid)
        others = sum(s.cpu_share for s in self.running_spaces() if s is not space)
        share = DEFAULT_RUN_SHARE if share is None else float(share)
        if not 0.0 < share <= 1.0:
            raise OzError("a CPU share is a fraction in (0, 1], not %g" % share)
        if others + share > 1.0 + 1e-9:
            raise OzError("the running spaces already have %.2f of the CPU: %.2f more is "
                          "past 1" % (others, share))
        self.stopped_reason.pop(sid, None)
        space.cpu_share = share

    def stop(self, sid: str, reason=None) -> None:
        self.space(sid).cpu_share = None
        if reason:
            self.stopped_reason[sid] = reason

    def stop_all(self, reason: str) -> None:
        for sid, space in self.ids.items():
            if getattr(space, "cpu_share", None):
                self.stop(sid, reason)

    def run_slice(self, seconds: float) -> None:
        """Give the running spaces their CPU shares for `seconds` (VM.run); a space whose
        guest has nothing left to run, quit or failed stops running."""
        if not self.running_spaces():
            return
        stats = self.vm.run(seconds=seconds)
        for space, figures in stats.items():
            sid = self.id_of(space)
            self.last_run[sid] = figures
            err = getattr(space, "last_error", None)
            failed = control.failed_processes(space)
            if failed:                  # a failing guest process is suspended; the others go on
                self.guest_errors[sid] = str(failed[-1][1]).splitlines()[0]
            ends = [r for r in figures["reasons"] if r in STOPPING_REASONS]
            if ends:
                self.stop(sid, ends[0] + (": %s" % str(err).splitlines()[0] if err is not None else ""))

    def shutdown(self) -> None:
        for sid in list(self.ids):
            try:
                self.unload(sid)
            except OzError:
                pass
