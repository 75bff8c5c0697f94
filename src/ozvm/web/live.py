"""What the live tools (process browser, debugger, live screen, emergency kernel) keep
between requests, on the workbench (worker thread only): the processes they acted on, the
input feeders of the live screens, the emergency kernels and their failures. A process is
named in URLs by the workbench's object handle (`wb.handle`, as the inspector names any
object), so its id also opens it in the inspector.

    pid = process_id(wb, sid, mirror)           # 'o12'
    mirror = process(wb, sid, pid)              # NotFound for an unknown id or no Process
    live = live_state(wb)
"""
from __future__ import annotations

from ..memory.objects import SqObject
from ..space.browser_input import InputFeeder
from .workbench import NotFound


class LiveState:
    def __init__(self):
        self.interrupted = {}       # sid -> {pid}: suspended by the process browser's interrupt
        self.kept = {}              # sid -> {pid}: processes the tools acted on, listed even
                                    # when nothing in the guest reaches them (suspended, ended)
        self.feeders = {}           # sid -> InputFeeder of its live screen
        self.kernels = {}           # sid -> EmergencyKernel (oz serve --emergency)
        self.failures = {}          # sid -> (pid, Failure) of the kernel's last takeover
        self.kernel_runs = {}       # sid -> the kernel's run state: 'running', 'quit', ...

    def forget_space(self, sid) -> None:
        for table in (self.interrupted, self.kept, self.feeders, self.kernels,
                      self.failures, self.kernel_runs):
            table.pop(sid, None)

    def keep(self, sid: str, pid: str) -> None:
        self.kept.setdefault(sid, set()).add(pid)

    def kept_processes(self, wb, sid: str) -> list:
        """Mirrors on the processes kept for space `sid` (those whose handle is still known),
        by id order."""
        out = []
        for pid in sorted(self.kept.get(sid, ()), key=lambda p: int(p[1:])):
            try:
                out.append(process(wb, sid, pid))
            except NotFound:
                self.kept[sid].discard(pid)
        return out

    def feeder(self, sid: str) -> InputFeeder:
        found = self.feeders.get(sid)
        if found is None:
            found = self.feeders[sid] = InputFeeder()
        return found


def process_id(wb, sid: str, mirror) -> str:
    """The id naming a process (a ProcessMirror) of space `sid` in URLs."""
    return wb.handle(sid, mirror.obj)


def process(wb, sid: str, pid: str):
    """The ProcessMirror a process id names; NotFound when it names no Process."""
    from ..memory import specials as S
    space = wb.space(sid)
    obj = wb.object(sid, pid)
    process_class = space.special(S.CLASS_PROCESS)
    if obj.__class__ is not SqObject or not space.inherits(obj.cls, process_class):
        raise NotFound("no process with id %r in space %s" % (pid, sid))
    return space.mirror_on(obj)


def live_state(wb) -> LiveState:
    """The workbench's LiveState (made on first use); spaces unloaded since are forgotten."""
    live = getattr(wb, "live", None)
    if live is None:
        live = wb.live = LiveState()
    for sid in list(live.feeders) + list(live.kept) + list(live.kernels):
        if sid not in wb.ids:
            live.forget_space(sid)
    return live
