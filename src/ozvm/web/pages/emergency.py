"""`oz serve --emergency IMAGE`: the images run under the emergency kernel
(space/emergency.py); when one fails (an unhandled error reaching its debugger entry, an
error in its error handling, a runaway recursion, a VM error, a deadlock) the host takes
over before the image's own tools run, and the failing process opens in the debugger page.
Its proceed resumes the kernel's run: the same process goes on (after a fix and a
restart, say); terminate ends it and the image runs on with its other processes.

`EmergencyWorkbench` is the workbench of such a server: besides the spaces run with a CPU
share, it runs each kernel (in slices of the worker's run time) until it fails or the
image quits. /emergency shows the kernels and leads to the failing process."""
from __future__ import annotations

import time

from starlette.routing import Route

from ...errors import OzError
from ...space import control
from ...space.emergency import EmergencyKernel, Takeover
from ..common import json, on_vm, redirect, render
from ..live import live_state, process_id
from ..workbench import Workbench

NAV = [(45, "Emergency", "/emergency")]


class EmergencyWorkbench(Workbench):
    """A Workbench whose spaces run under emergency kernels (`oz serve --emergency`)."""

    def take_over(self) -> None:
        """Put every space loaded so far under an emergency kernel, running."""
        live = live_state(self)
        for sid, space in self.spaces():
            if sid not in live.kernels:
                live.kernels[sid] = EmergencyKernel(space)
                live.kernel_runs[sid] = "running"

    def _running_kernels(self) -> list:
        live = live_state(self)
        return [(sid, k) for sid, k in live.kernels.items() if live.kernel_runs.get(sid) == "running"
                and sid in self.ids]

    def running_spaces(self) -> list:
        return super().running_spaces() + [k.space for _, k in self._running_kernels()]

    def run_slice(self, seconds: float) -> None:
        if super().running_spaces():
            super().run_slice(seconds)
        kernels = self._running_kernels()
        if not kernels:
            return
        share = seconds / len(kernels)
        live = live_state(self)
        for sid, kernel in kernels:
            try:
                reason = kernel.run(deadline=time.monotonic() + share)
            except Takeover as t:
                pid = process_id(self, sid, t.process) if t.process is not None else None
                if pid is not None:
                    live.keep(sid, pid)
                live.failures[sid] = (pid, t.failure)
                live.kernel_runs[sid] = "failed"
                continue
            except OzError as e:            # the kernel itself cannot go on: stop its run
                live.kernel_runs[sid] = "stopped: %s" % str(e).splitlines()[0]
                continue
            if reason != "limit":
                live.kernel_runs[sid] = reason          # 'quit': the image ended


def resume_kernel(wb, sid, mirror) -> None:
    """Resume the kernel's run with `mirror` (a ProcessMirror, or None after a terminate)
    as the process that goes on."""
    live = live_state(wb)
    kernel = live.kernels[sid]
    control.park(kernel.space)
    if mirror is not None:
        kernel.select_process(mirror)
    live.failures.pop(sid, None)
    live.kernel_runs[sid] = "running"


def kernel_rows(wb) -> list:
    live = live_state(wb)
    rows = []
    for sid, kernel in sorted(live.kernels.items()):
        if sid not in wb.ids:
            continue
        failure = live.failures.get(sid)
        rows.append({"space": sid, "name": kernel.space.name or sid,
                     "state": live.kernel_runs.get(sid),
                     "failure": None if failure is None else failure[1].describe(),
                     "stack": [] if failure is None else list(failure[1].stack[:15]),
                     "debug": None if failure is None or failure[0] is None
                     else "/debug/%s/%s" % (sid, failure[0])})
    return rows


async def emergency_page(request):
    rows = await on_vm(request, kernel_rows)
    failed = [r for r in rows if r["debug"]]
    if failed and request.query_params.get("stay") is None:
        return redirect(request, failed[0]["debug"])
    return render(request, "emergency.html", title="Emergency", rows=rows)


async def emergency_json(request):
    return json({"kernels": await on_vm(request, kernel_rows)})


ROUTES = [
    Route("/emergency", emergency_page),
    Route("/api/emergency", emergency_json),
]
