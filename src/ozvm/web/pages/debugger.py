"""The debugger page on a stopped process (space/debugger.py): its stack, the selected
frame's source with where it stands highlighted (space/frame_source.py), its receiver,
arguments and temporaries; step into / over / through, run to the end of the frame,
restart (with the method now installed), return a value, proceed, terminate, evaluate
in the frame's scope. Every operation is a POST answered by a redirect to the page
(the outcome in its message), so the page works without script.

With `oz serve --emergency`, a process the emergency kernel took over opens here; its
proceed resumes the kernel's run (space/emergency.py), `pass` lets the image's own error
handling run for the error, as without the emergency kernel."""
from __future__ import annotations

from urllib.parse import quote

from starlette.routing import Route

from ...errors import GuestError, OzError
from ...memory.objects import SqObject
from ...space import control, debugger
from ...space.frame_source import frame_source
from ..common import BadRequest, form_of, int_param, json, on_vm, redirect, render
from ..live import live_state, process

OPERATION_TIMEOUT = 120.0       # a step over a long send runs the guest that long at most
EVALUATE_TIMEOUT = 30.0         # seconds of guest time an evaluation in a frame may take
OPERATIONS = ("into", "over", "through", "run_to_end", "restart", "return", "proceed",
              "terminate", "evaluate", "pass")


def _frame_row(space, i, frame) -> dict:
    return {"index": i, "name": control.describe_stack(space, frame.obj, 1)[0],
            "pc": frame.pc(), "block": frame.is_block_context() or frame.closure() is not None}


def debug_view(wb, sid, pid, index) -> dict:
    """What the debugger page shows of process `pid`, frame `index` (on the worker)."""
    live = live_state(wb)
    mirror = process(wb, sid, pid)
    space = mirror.space
    control.park(space)
    alive = mirror.obj.ptrs[control.SUSPENDED_CONTEXT] is not space.nil
    state = mirror.state() if alive else "terminated"
    view = {"space": sid, "pid": pid, "state": state, "priority": mirror.priority(),
            "name": mirror.name(), "frames": [], "frame": None, "index": index,
            "stopped": state == "suspended" or (sid in live.failures and live.failures[sid][0] == pid),
            "error": None, "emergency": None}
    err = control.process_error(mirror)
    failure = live.failures.get(sid)
    if failure is not None and failure[0] == pid:
        view["emergency"] = failure[1].describe()
    if err is not None:
        view["error"] = err.message
    if not alive:
        return view
    frames = mirror.frames()
    view["frames"] = [_frame_row(space, i, f) for i, f in enumerate(frames)]
    if not 0 <= index < len(frames):
        raise BadRequest("no frame %d (the stack has frames 0 to %d)" % (index, len(frames) - 1))
    frame = frames[index]
    where = frame_source(frame, top=index == 0)
    receiver = frame.receiver()

    def cell(value):
        """How a value shows: described, with the inspector's handle of a heap object."""
        return {"value": space.describe(value),
                "oid": wb.handle(sid, value) if value.__class__ is SqObject else None}

    variables = []
    for name, holder, i in debugger.frame_variables(frame):
        variables.append(dict(cell(holder.obj.ptrs[holder.fixed() + i]), name=name))
    view["frame"] = dict(where.as_dict(), name=view["frames"][index]["name"],
                         receiver=cell(receiver.obj if receiver is not None else space.nil),
                         variables=variables,
                         stack=[space.describe(v.obj if hasattr(v, "obj") else v)
                                for v in frame.stack_values()])
    return view


def _operate(wb, sid, pid, op, index, source):
    """Run one debugger operation; answer (frame index to show, message)."""
    live = live_state(wb)
    mirror = process(wb, sid, pid)
    live.keep(sid, pid)
    space = mirror.space
    control.park(space)
    frames = mirror.frames()
    if op not in ("proceed", "terminate") and not 0 <= index < len(frames):
        raise BadRequest("no frame %d (the stack has frames 0 to %d)" % (index, len(frames) - 1))
    frame = frames[index] if 0 <= index < len(frames) else None
    kernel = live.kernels.get(sid)
    emergency = kernel is not None and sid in live.failures and live.failures[sid][0] == pid
    try:
        if op == "into":
            debugger.step_into(mirror, frame)
        elif op == "over":
            debugger.step_over(mirror, frame)
        elif op == "through":
            debugger.step_through(mirror, frame)
        elif op == "run_to_end":
            debugger.run_to_end(mirror, frame)
        elif op == "restart":
            debugger.restart(mirror, frame)
            return _index_of(mirror, frame), "restarted %s" % control.describe_stack(space, frame.obj, 1)[0]
        elif op == "return":
            if not source.strip():
                raise BadRequest("give the expression whose value the frame returns")
            value = debugger.evaluate_in(mirror, frame, source, timeout=EVALUATE_TIMEOUT)
            debugger.return_value(mirror, frame, value)
        elif op == "evaluate":
            if not source.strip():
                raise BadRequest("give an expression to evaluate")
            value = debugger.evaluate_in(mirror, frame, source, timeout=EVALUATE_TIMEOUT)
            return index, "%s  →  %s" % (source.strip(), _print(space, value))
        elif op == "proceed":
            live.interrupted.get(sid, set()).discard(pid)
            if emergency:
                from .emergency import resume_kernel
                resume_kernel(wb, sid, mirror)
                return 0, "resumed: the emergency kernel runs the image on"
            debugger.proceed(mirror)
            return 0, "proceeding"
        elif op == "pass":
            if not emergency:
                raise BadRequest("pass is for a process the emergency kernel took over")
            kernel.pass_to_image()
            from .emergency import resume_kernel
            resume_kernel(wb, sid, mirror)
            return 0, "passed: the image's own error handling runs"
        elif op == "terminate":
            live.interrupted.get(sid, set()).discard(pid)
            try:
                debugger.terminate(mirror)
            except GuestError as e:         # the image's own terminate failed: the host ended it
                return 0, "terminated by the host (the image's own terminate failed: %s)" % (
                    e.message.splitlines()[0] if e.message else type(e).__name__)
            if emergency:
                kernel.process = None
                from .emergency import resume_kernel
                resume_kernel(wb, sid, None)
            return 0, "terminated"
    except GuestError as e:
        return 0, "stopped: %s" % e.message
    except debugger.DebugError as e:
        return 0, str(e)
    return 0, "%s: now in %s" % (op.replace("_", " "), _where(mirror))


def _index_of(mirror, frame) -> int:
    for i, f in enumerate(mirror.frames()):
        if f.obj is frame.obj:
            return i
    return 0


def _where(mirror) -> str:
    ctx = mirror.obj.ptrs[control.SUSPENDED_CONTEXT]
    if ctx is mirror.space.nil:
        return "(no frame: the process has finished)"
    return control.describe_stack(mirror.space, ctx, 1)[0]


def _print(space, mirror) -> str:
    """The guest's printString of a result (run in the guest, briefly), else a description."""
    try:
        from ...space import execution
        text = execution.run_send(space, mirror.obj, "printString", [], timeout=EVALUATE_TIMEOUT,
                                  priority=control.priority_levels(space))
        if getattr(text, "bytes", None) is not None:
            return text.bytes.decode("latin-1")
    except OzError:
        pass
    return space.describe(mirror.obj)


async def debug_page(request):
    p = request.path_params
    index = int_param(request.query_params, "frame", 0, 0)
    view = await on_vm(request, debug_view, p["sid"], p["pid"], index)
    return render(request, "debugger.html", title="Debugger %s %s" % (p["sid"], p["pid"]), view=view,
                  message=request.query_params.get("message"))


async def debug_json(request):
    p = request.path_params
    index = int_param(request.query_params, "frame", 0, 0)
    return json(await on_vm(request, debug_view, p["sid"], p["pid"], index))


async def debug_operation(request):
    p = request.path_params
    op = p["op"]
    if op not in OPERATIONS:
        raise BadRequest("unknown debugger operation %r (%s)" % (op, ", ".join(OPERATIONS)))
    values = await form_of(request)
    index = int_param(values, "frame", 0, 0)
    source = values.get("source", "")
    shown, message = await on_vm(request, _operate, p["sid"], p["pid"], op, index, source,
                                 timeout=OPERATION_TIMEOUT)
    if request.url.path.startswith("/api/"):
        return json({"frame": shown, "message": message})
    return redirect(request, "/debug/%s/%s?frame=%d&message=%s" % (p["sid"], p["pid"], shown,
                                                                  quote(message[:500])))


ROUTES = [
    Route("/debug/{sid}/{pid}", debug_page),
    Route("/api/debug/{sid}/{pid}", debug_json),
    Route("/debug/{sid}/{pid}/{op}", debug_operation, methods=["POST"]),
    Route("/api/debug/{sid}/{pid}/{op}", debug_operation, methods=["POST"]),
]
