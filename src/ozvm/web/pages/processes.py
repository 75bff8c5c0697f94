"""The process browser: every process of every space with its state and priority, live
(the page polls /api/processes); interrupt (suspend a running process, even one at the
image's top priority: the worker regains control between quanta), suspend, resume,
terminate, and a debugger on any stopped process."""
from __future__ import annotations

from starlette.routing import Route

from ...errors import GuestError
from ...space import control
from ..common import BadRequest, json, on_vm, render
from ..live import live_state, process, process_id

NAV = [(40, "Processes", "/processes")]

ACTIONS = ("interrupt", "suspend", "resume", "terminate")
TERMINATE_TIMEOUT = 60.0


def process_row(wb, sid, mirror) -> dict:
    """What the process browser shows of one process (on the worker)."""
    live = live_state(wb)
    space = mirror.space
    pid = process_id(wb, sid, mirror)
    ctx = mirror.obj.ptrs[control.SUSPENDED_CONTEXT]
    alive = ctx is not space.nil or mirror.is_active()
    state = mirror.state() if alive else "terminated"
    where = control.describe_stack(space, ctx, 3) if ctx is not space.nil else []
    err = control.process_error(mirror)
    failure = live.failures.get(sid)
    if failure is not None and failure[0] == pid:
        err = err or failure[1]
    return {"space": sid, "pid": pid, "name": mirror.name(), "priority": mirror.priority(),
            "state": state, "active": mirror.is_active(), "where": where,
            "error": None if err is None else (getattr(err, "message", None) or str(err)).splitlines()[0],
            "interrupted": pid in live.interrupted.get(sid, ()),
            "stopped": state in ("suspended",) and alive}


def process_rows(wb, only=None) -> list:
    out = []
    for sid, space in wb.spaces():
        if only is not None and sid != only:
            continue
        control.park(space)
        listed = space.processes()
        seen = set(id(m.obj) for m in listed)
        # a suspended or terminated process the tools acted on may be reached by nothing in
        # the guest (no list, no semaphore holds it): it is still shown
        listed += [m for m in live_state(wb).kept_processes(wb, sid) if id(m.obj) not in seen]
        for mirror in listed:
            out.append(process_row(wb, sid, mirror))
    return out


def _act(wb, sid, pid, action):
    live = live_state(wb)
    mirror = process(wb, sid, pid)
    live.keep(sid, pid)
    if action in ("interrupt", "suspend"):
        control.suspend(mirror)
        if action == "interrupt":
            live.interrupted.setdefault(sid, set()).add(pid)
    elif action == "resume":
        live.interrupted.get(sid, set()).discard(pid)
        from ...space import debugger
        debugger.proceed(mirror)
    elif action == "terminate":
        from ...space import debugger
        live.interrupted.get(sid, set()).discard(pid)
        try:
            debugger.terminate(mirror)
        except GuestError:
            if mirror.obj.ptrs[control.SUSPENDED_CONTEXT] is not mirror.space.nil:
                control.terminate(mirror)       # its own terminate failed: the host ends it
    return process_row(wb, sid, mirror)


async def processes_page(request):
    return render(request, "processes.html", title="Processes",
                  space=request.query_params.get("space"))


async def processes_json(request):
    only = request.query_params.get("space") or None
    return json({"processes": await on_vm(request, process_rows, only)})


async def process_action(request):
    p = request.path_params
    action = p["action"]
    if action not in ACTIONS:
        raise BadRequest("unknown action %r (%s)" % (action, ", ".join(ACTIONS)))
    row = await on_vm(request, _act, p["sid"], p["pid"], action, timeout=TERMINATE_TIMEOUT)
    return json({"process": row})


ROUTES = [
    Route("/processes", processes_page),
    Route("/api/processes", processes_json),
    Route("/api/processes/{sid}/{pid}/{action}", process_action, methods=["POST"]),
]
