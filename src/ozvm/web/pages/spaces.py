"""The spaces page: load and unload images, copy a space into a sandbox, save, memory,
CPU share, run for a quantum or continuously, stop."""
from __future__ import annotations

import os

from starlette.routing import Route

from ...errors import OzError
from ..common import (BadRequest, form_of, int_param, json, off_vm, off_vm_steps, on_vm, param,
                      redirect, render)

NAV = [(10, "Spaces", "/")]

LOAD_TIMEOUT = 300.0       # a snapshot of a big space on a busy worker: the page waits that long
QUANTUM_MS_MAX = 5000


def _format(space) -> str:
    info = space.info
    family = "Spur" if space.heap.family.is_spur else "V3"
    return "%s %d (%s-endian)" % (family, info.version, "little" if info.little_endian else "big")


def space_rows(wb) -> list:
    """What the spaces page shows of every space (on the VM worker)."""
    rows = []
    for sid, space in wb.spaces():
        figures = space.memory_figures()
        last = space.last_transfer
        run = wb.last_run.get(sid)
        rows.append({
            "id": sid, "name": space.name or sid, "path": space.info.path or "",
            "format": _format(space),
            "in_use": figures["in_use"], "peak": figures["peak"], "limit": figures["limit"],
            "cpu_share": space.cpu_share, "running": bool(space.cpu_share),
            "measured_share": None if run is None else run["share"],
            "cpu_time": space.cpu_time,
            "last": None if last is None else {"reason": last.reason, "bytecodes": last.bytecodes,
                                               "ms": round(last.seconds * 1e3, 1)},
            "last_error": wb.guest_errors.get(sid) or (
                None if space.last_error is None else str(space.last_error).splitlines()[0]),
            "stopped": wb.stopped_reason.get(sid),
            "policy": space.file_policy.describe(),
        })
    return rows


async def spaces_page(request):
    rows = await on_vm(request, space_rows)
    return render(request, "spaces.html", title="Spaces", rows=rows,
                  message=request.query_params.get("message"))


async def spaces_json(request):
    return json({"spaces": await on_vm(request, space_rows)})


async def load(request):
    path = param(await form_of(request), "path").strip()
    if not path:
        raise BadRequest("give the path of an image file to load")
    path = os.path.expanduser(path)
    read = await on_vm(request, lambda wb: wb.reader(path))       # the policy, the file
    space = await off_vm(read)          # parsed off the worker: the pages go on meanwhile
    sid = await on_vm(request, lambda wb: wb.adopt(space, path))
    return redirect(request, "/?message=loaded+%s+as+%s" % (os.path.basename(path), sid))


async def unload(request):
    sid = request.path_params["sid"]
    await on_vm(request, lambda wb: wb.unload(sid))
    return redirect(request, "/")


def _snapshot(wb, sid):
    """The space as it is now (on the worker: parked, its objects' contents recorded)."""
    from ...space.sandbox import snapshot_space
    space = wb.space(sid)
    return snapshot_space(space), space.name or sid


def _adopt_copy(wb, snap, name):
    space = snap.adopt()
    space.cpu_share = None          # a sandbox starts stopped, whether its original ran or not
    return wb.add(space, "sandbox of %s" % name)


async def copy(request):
    """A copy is the space at its snapshot (taken on the worker); its objects, space and
    interpreter are made off the worker (the space runs on, the pages answer, the progress
    is in /api/tasks), then it joins the workbench."""
    sid = request.path_params["sid"]
    snap, name = await on_vm(request, _snapshot, sid, timeout=LOAD_TIMEOUT)
    await off_vm_steps(request, snap.copy_steps(), label="copy %s" % sid)
    new = await on_vm(request, _adopt_copy, snap, name)
    return redirect(request, "/?message=copied+into+" + new)


def _save_snapshot(wb, sid, path):
    """The checks of a save (the file policy; never over an image of the workbench, a
    device, a FIFO), then the space's snapshot (on the worker)."""
    from ...image.files import check_target
    from ...space.sandbox import snapshot_space
    space = wb.space(sid)
    loaded = [s.info.path for _, s in wb.spaces() if s.info.path]
    wb.check_path(path, write=True)     # the workbench's file policy
    check_target(path, loaded)          # never over an image of the workbench
    return snapshot_space(space), loaded


def _written(snap, path, loaded):
    """Steps: the snapshot's image written at `path` (atomically; the checks made again at
    the write), then its size."""
    yield from snap.save_steps(path, protect=loaded)
    return os.path.getsize(path)


async def save(request):
    """A save writes the space as it was at its snapshot (taken on the worker); the image
    is made and written off the worker, its progress in /api/tasks."""
    sid = request.path_params["sid"]
    path = param(await form_of(request), "path").strip()
    if not path:
        raise BadRequest("give the path of the image file to write")
    path = os.path.expanduser(path)
    snap, loaded = await on_vm(request, _save_snapshot, sid, path, timeout=LOAD_TIMEOUT)
    size = await off_vm_steps(request, _written(snap, path, loaded), label="save %s" % sid)
    return redirect(request, "/?message=saved+%s+(%d+bytes)" % (os.path.basename(path), size))


def _quantum(wb, sid, ms):
    space = wb.space(sid)
    if space.cpu_share:
        raise OzError("the space is running continuously: stop it first")
    return space.transfer_control(quantum_ms=ms)


async def quantum(request):
    values = await form_of(request)
    ms = int_param(values, "ms", 100, 1, QUANTUM_MS_MAX)
    reason = await on_vm(request, _quantum, request.path_params["sid"], ms,
                         timeout=ms / 1000.0 + 10)
    return redirect(request, "/?message=quantum:+" + reason)


async def run(request):
    values = await form_of(request)
    share = values.get("share") or None
    try:
        share = None if share is None else float(share)
    except ValueError:
        raise BadRequest("a CPU share is a number in (0, 1]") from None
    sid = request.path_params["sid"]
    await on_vm(request, lambda wb: wb.start(sid, share))
    return redirect(request, "/")


async def stop(request):
    sid = request.path_params["sid"]
    await on_vm(request, lambda wb: wb.stop(sid))
    return redirect(request, "/")


async def interrupt_job(request):
    """POST /api/jobs/KEY/interrupt: end the job a page started under KEY (an evaluation)."""
    return json({"interrupted": request.app.state.worker.interrupt(request.path_params["key"])})


async def tasks_json(request):
    """The worker's long jobs under way and their progress (answered without the worker)."""
    return json({"tasks": request.app.state.worker.tasks()})


ROUTES = [
    Route("/", spaces_page),
    Route("/api/spaces", spaces_json),
    Route("/api/tasks", tasks_json),
    Route("/api/jobs/{key}/interrupt", interrupt_job, methods=["POST"]),
    Route("/spaces/load", load, methods=["POST"]),
    Route("/spaces/{sid}/unload", unload, methods=["POST"]),
    Route("/spaces/{sid}/copy", copy, methods=["POST"]),
    Route("/spaces/{sid}/save", save, methods=["POST"]),
    Route("/spaces/{sid}/quantum", quantum, methods=["POST"]),
    Route("/spaces/{sid}/run", run, methods=["POST"]),
    Route("/spaces/{sid}/stop", stop, methods=["POST"]),
]
