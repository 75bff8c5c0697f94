"""The live screen: a space's Display in a canvas, updated as the guest draws, with the
page's mouse and keyboard forwarded as the guest's input events; a screenshot button.

The page opens a WebSocket (/screen/{sid}/live). The server sends updates as binary
messages: a 4-byte big-endian length, a JSON header
    {"serial", "width", "height", "depth", "full", "rects": [[x, y, w, h, bytes]...],
     "bytecodes", "running"}
then the rectangles' PNGs one after the other (space/screen_updates.py: only what changed
since the last update, the whole screen first and when the Display changes). When the
guest's cursor (primitive 101, Screen.cursor) changed, the header has "cursor": its 16x16
RGBA pixels (base64) and hotspot, or null; the page makes it the canvas's mouse cursor. The page
draws an update, then answers {"type": "ack"}: the next update is made only then, so a slow
page is never flooded and a fast one gets as many frames as the VM draws. The next update is
a watch of the worker (worker.py): looked for after each of its turns; while a live screen is
open the spaces run in short slices (worker.LIVE_SLICE_SECONDS), so a frame leaves soon after
the guest drew it. Input events are
JSON text messages ({"type": "mousedown", "x", "y", "buttons", "shift", ...}: see
space/browser_input.py); {"type": "reset"} asks for the whole screen again. The guest gets
the events between its quanta, a change of the buttons after it looked at the mouse (so an
image that polls the mouse sees each press). The screen changes while the space runs: the page's
run button starts it continuously (the spaces page's run), stop stops it.
"""
from __future__ import annotations

import asyncio
import base64
import json as jsonlib
import struct

from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from ...errors import OzError
from ...space import execution
from ...space.screen import Screen
from ...space.screen_updates import ScreenUpdates
from ..common import json, on_vm, render
from ..live import live_state

NAV = [(60, "Screen", "/screen")]

FRAME_TIMEOUT = 30.0        # seconds a page's set-up or reset may wait for the VM worker
MAX_MESSAGE = 4096          # bytes of one input message


def screen_spaces(wb) -> list:
    """[(id, name, has a Display)] of the spaces."""
    out = []
    for sid, space in wb.spaces():
        try:
            screen = Screen(space)
            extent = "%dx%dx%d" % (screen.width, screen.height, screen.depth)
        except OzError as e:
            extent = None
            reason = str(e)
        else:
            reason = None
        out.append({"id": sid, "name": space.name or sid, "extent": extent, "reason": reason,
                    "running": bool(space.cpu_share) or live_state(wb).kernel_runs.get(sid) == "running"})
    return out


def _status(wb, sid) -> dict:
    space = wb.space(sid)
    live = live_state(wb)
    return {"running": bool(space.cpu_share) or live.kernel_runs.get(sid) == "running",
            "bytecodes": execution.interpreter_for(space).bytecodes,
            "stopped": wb.stopped_reason.get(sid)}


def _open(wb, sid):
    space = wb.space(sid)
    Screen(space)               # OzError now when the space has no Display to show
    return ScreenUpdates(space)


def _feed(wb, sid) -> int:
    """Post the page's waiting input events (space/browser_input.py) to the guest."""
    space = wb.space(sid)
    feeder = live_state(wb).feeder(sid)
    if not len(feeder):
        return 0
    device = space.input_device()
    # a press or release waits until the guest looked at the mouse since the previous one
    # (an image that polls it sees each; a run of the guest's other processes is not enough)
    return feeder.feed(device, turn=device.reads)


def _cursor(space):
    """The cursor the guest set (primitive 101: Screen.cursor), as the page draws it:
    (key, {"rgba": base64 of 16x16 RGBA, "hotspot": [x, y]}), or (None, None)."""
    shape = Screen(space).cursor
    if shape is None:
        return None, None
    key = (tuple(shape.bits), None if shape.mask is None else tuple(shape.mask), tuple(shape.offset))
    return key, {"rgba": base64.b64encode(shape.rgba()).decode("ascii"),
                 "hotspot": list(shape.hotspot)}


def _update(wb, sid, tracker, seen):
    """The next update for one page: (header, PNGs), or None when nothing changed (the
    screen, or the cursor: `seen` keeps what the page was last sent of it)."""
    _feed(wb, sid)
    update = tracker.update()
    key, cursor = _cursor(wb.space(sid))
    new_cursor = update.full or seen.get("cursor", "none yet") != key
    if not update.rects and not new_cursor:
        return None
    header = {"serial": update.serial, "width": update.width, "height": update.height,
              "depth": update.depth, "full": update.full,
              "rects": [[r.x, r.y, r.w, r.h, len(r.png)] for r in update.rects]}
    if new_cursor:
        seen["cursor"] = key
        header["cursor"] = cursor
    header.update(_status(wb, sid))
    return header, [r.png for r in update.rects]


def _extent(wb, sid):
    screen = Screen(wb.space(sid))
    return screen.width, screen.height


def encode_update(header, pngs) -> bytes:
    text = jsonlib.dumps(header).encode()
    return struct.pack(">I", len(text)) + text + b"".join(pngs)


async def live_socket(websocket):
    """The live screen's WebSocket (see the module doc)."""
    worker = websocket.app.state.worker
    sid = websocket.path_params["sid"]
    await websocket.accept()
    try:
        tracker = await worker.run(_open, sid, timeout=FRAME_TIMEOUT)
        width, height = await worker.run(_extent, sid, timeout=FRAME_TIMEOUT)
    except OzError as e:
        await websocket.send_text(jsonlib.dumps({"error": str(e)}))
        await websocket.close(code=1011)
        return
    acked = asyncio.Event()
    acked.set()
    seen = {}                   # what the page was sent of the cursor (touched on the worker)
    feeder = await worker.run(lambda wb: live_state(wb).feeder(sid), timeout=FRAME_TIMEOUT)

    async def receive():
        while True:
            text = await websocket.receive_text()
            if len(text) > MAX_MESSAGE:
                await websocket.send_text(jsonlib.dumps({"error": "an input message is at most %d bytes"
                                                                  % MAX_MESSAGE}))
                continue
            try:
                message = jsonlib.loads(text)
            except ValueError:
                await websocket.send_text(jsonlib.dumps({"error": "an input message is JSON"}))
                continue
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "ack":
                acked.set()
            elif kind == "reset":
                await worker.run(lambda wb: (tracker.reset(), seen.clear()), timeout=FRAME_TIMEOUT)
            else:
                try:
                    feeder.push(message, width, height)
                except OzError as e:
                    await websocket.send_text(jsonlib.dumps({"error": str(e)}))
                    continue
                worker.submit(_feed, sid)

    async def send():
        while True:
            await acked.wait()
            acked.clear()
            # looked for after each turn of the worker (a run slice), until something changed
            found = await worker.watching(_update, sid, tracker, seen)
            await websocket.send_bytes(encode_update(*found))

    tasks = [asyncio.ensure_future(receive()), asyncio.ensure_future(send())]
    worker.viewers += 1         # while the page is open, the worker runs the spaces in short slices
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = task.exception()
            if error is not None and not isinstance(error, WebSocketDisconnect):
                try:
                    await websocket.send_text(jsonlib.dumps({"error": str(error)}))
                    await websocket.close(code=1011)
                except Exception:           # noqa: BLE001 - the page went away meanwhile
                    pass
    finally:
        worker.viewers -= 1
        for task in tasks:
            task.cancel()


async def screen_index(request):
    return render(request, "screen.html", title="Screen", spaces=await on_vm(request, screen_spaces),
                  sid=None)


async def screen_page(request):
    sid = request.path_params["sid"]
    spaces = await on_vm(request, screen_spaces)
    chosen = [s for s in spaces if s["id"] == sid]
    if not chosen:
        await on_vm(request, lambda wb: wb.space(sid))       # NotFound: 404
    return render(request, "screen.html", title="Screen %s" % sid, spaces=spaces, sid=sid,
                  space=chosen[0])


async def screenshot(request):
    sid = request.path_params["sid"]
    png = await on_vm(request, lambda wb: Screen(wb.space(sid)).png(), timeout=FRAME_TIMEOUT)
    return Response(png, media_type="image/png",
                    headers={"Content-Disposition": 'inline; filename="%s-screen.png"' % sid})


async def status(request):
    return json(await on_vm(request, _status, request.path_params["sid"]))


ROUTES = [
    Route("/screen", screen_index),
    Route("/screen/{sid}", screen_page),
    Route("/screen/{sid}/screenshot.png", screenshot),
    Route("/api/screen/{sid}", status),
    WebSocketRoute("/screen/{sid}/live", live_socket),
]
