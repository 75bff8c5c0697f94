"""What the live tools (process browser, debugger, live screen, emergency kernel) keep
between requests, on the workbench (worker thread only): process ids by space, the input
feeders of the live screens, the emergency kernels and their failures.

    live = live_state(wb)
    pid = live.process_id(sid, mirror)          # 'p3': stable while the workbench runs
    mirror = live.process(wb, sid, pid)         # NotFound for an unknown id
"""
from __future__ import annotations

from ..space.browser_input import InputFeeder
from .workbench import NotFound


class LiveState:
    def __init__(self):
        self._ids = {}              # sid -> {pid: process object}
        self._by_obj = {}           # sid -> {id(process object): (object, pid)}
        self._next = 1
        self.interrupted = {}       # sid -> {pid}: suspended by the process browser's interrupt
        self.kept = {}              # sid -> {pid}: processes the tools acted on, listed even
                                    # when nothing in the guest reaches them (suspended, ended)
        self.feeders = {}           # sid -> InputFeeder of its live screen
        self.kernels = {}           # sid -> EmergencyKernel (oz serve --emergency)
        self.failures = {}          # sid -> (pid, Failure) of the kernel's last takeover
        self.kernel_runs = {}       # sid -> the kernel's run state: 'running', 'quit', ...

    def forget_space(self, sid) -> None:
        for table in (self._ids, self._by_obj, self.interrupted, self.kept, self.feeders, self.kernels,
                      self.failures, self.kernel_runs):
            table.pop(sid, None)

    def process_id(self, sid: str, mirror) -> str:
        obj = mirror.obj
        found = self._by_obj.setdefault(sid, {}).get(id(obj))
        if found is not None and found[0] is obj:
            return found[1]
        pid = "p%d" % self._next
        self._next += 1
        self._ids.setdefault(sid, {})[pid] = obj
        self._by_obj[sid][id(obj)] = (obj, pid)
        return pid

    def process(self, wb, sid: str, pid: str):
        space = wb.space(sid)
        obj = self._ids.get(sid, {}).get(pid)
        if obj is None:
            raise NotFound("no process with id %r in space %s" % (pid, sid))
        return space.mirror_on(obj)

    def keep(self, sid: str, pid: str) -> None:
        self.kept.setdefault(sid, set()).add(pid)

    def kept_processes(self, wb, sid: str) -> list:
        """Mirrors on the processes kept for space `sid`, by id order."""
        pids = sorted(self.kept.get(sid, ()), key=lambda p: int(p[1:]))
        return [self.process(wb, sid, pid) for pid in pids]

    def feeder(self, sid: str) -> InputFeeder:
        found = self.feeders.get(sid)
        if found is None:
            found = self.feeders[sid] = InputFeeder()
        return found


def live_state(wb) -> LiveState:
    """The workbench's LiveState (made on first use); spaces unloaded since are forgotten."""
    live = getattr(wb, "live", None)
    if live is None:
        live = wb.live = LiveState()
    for sid in list(live.feeders) + list(live._ids) + list(live.kernels):
        if sid not in wb.ids:
            live.forget_space(sid)
    return live
