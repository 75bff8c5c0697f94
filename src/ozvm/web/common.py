"""What every page module of the workbench uses (see docs/workbench.md).

    await on_vm(request, fn, *args, timeout=...)   fn(workbench, *args) on the VM worker thread
    await off_vm(fn, *args)                        host work touching no space, on another thread
    await off_vm_steps(request, steps, label=...)  the same for a generator of steps, its progress in /api/tasks
    await on_vm_until_stopped(request, fn, *args, key=...)   long guest work: its budget, the page's interrupt
    render(request, "page.html", title=..., **values)   a page in the base template
    await form_of(request)                         the posted form (size-limited by the app)
    json(data)                                     a JSON answer
    BadRequest("message")                          a 400 with that message (HTML or JSON)

Routes under /api/ answer JSON (errors too: {"error": message}); the others answer HTML.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, RedirectResponse

from ..errors import OzError

PAGE_TIMEOUT = 10.0        # seconds a page waits for the VM worker before answering 503


class BadRequest(OzError):
    """The request itself is wrong (a missing or malformed parameter): 400."""


class PayloadTooLarge(OzError):
    """The request's body is past the server's limit: 413."""


def workbench_worker(request):
    return request.app.state.worker


async def on_vm(request, fn, *args, timeout: float = PAGE_TIMEOUT, stepped: bool = False,
                label=None):
    """Run `fn(workbench, *args)` on the VM worker thread and answer its result (a stepped
    job: `label` names it among the worker's tasks, with the progress it yields)."""
    return await request.app.state.worker.run(fn, *args, timeout=timeout, stepped=stepped,
                                              label=label)


JOB_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}\Z")
DISCONNECT_LOOK_SECONDS = 1.0  # how often a job without a time limit looks whether its page left


async def on_vm_until_stopped(request, fn, *args, key=None, label=None):
    """A stepped job `fn(workbench, *args)` with no time limit (its own budget of work ends
    it): it also ends when its page interrupts it (POST /api/jobs/KEY/interrupt, `key` a
    page's random name for it) or when the page's connection is gone (Interrupted)."""
    import asyncio
    import secrets
    worker = request.app.state.worker
    if key is not None and not JOB_KEY.match(key):
        raise BadRequest("a job key is 8 to 64 letters, digits, '-' or '_'")
    key = key or "auto-" + secrets.token_hex(8)
    job = asyncio.ensure_future(worker.run(fn, *args, timeout=None, stepped=True, key=key,
                                           label=label))
    while True:
        done, _ = await asyncio.wait([job], timeout=DISCONNECT_LOOK_SECONDS)
        if done:
            return job.result()
        if await request.is_disconnected():
            worker.interrupt(key, "the page went away")


async def off_vm(fn, *args):
    """Run `fn(*args)` on a thread of its own, neither the VM worker nor the event loop:
    host work that touches no space (reading an image file), so the worker and the pages
    go on meanwhile."""
    import asyncio
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def off_vm_steps(request, steps, label=None):
    """Run the generator `steps` to its end on a thread of its own (as `off_vm`) and answer
    its return value; a step that yields a pair (done, total) is its progress, listed by
    /api/tasks under `label` while it runs (as a stepped job's)."""
    worker = request.app.state.worker

    def run():
        task = worker.track(label)
        try:
            while True:
                try:
                    step = next(steps)
                except StopIteration as done:
                    return done.value
                if step.__class__ is tuple and len(step) == 2:
                    task.progress = step
        finally:
            worker.untrack(task)

    return await off_vm(run)


def render(request, template: str, status_code: int = 200, **values):
    """The page `template` (in web/templates/), which extends base.html."""
    values.setdefault("title", "ozvm")
    values["request"] = request
    values["nav"] = request.app.state.nav
    values["token_query"] = request.app.state.token_query
    return request.app.state.templates.TemplateResponse(request, template, values,
                                                        status_code=status_code)


def json(data, status_code: int = 200):
    return JSONResponse(data, status_code=status_code)


def redirect(request, path: str):
    """After a POST: see `path` (303)."""
    return RedirectResponse(path, status_code=303)


async def form_of(request) -> dict:
    """The posted form (application/x-www-form-urlencoded, as the pages post it; a file to
    upload is read into a field by the page's script) as {name: str}."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    body = await request.body()
    if body and kind not in ("", "application/x-www-form-urlencoded"):
        raise BadRequest("a form is posted as application/x-www-form-urlencoded, not %s" % kind)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the form is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def param(values, name: str, default=None, required: bool = True) -> str:
    """`values[name]` (a query or form dict); BadRequest when it is required and missing."""
    value = values.get(name, default)
    if value is None and required:
        raise BadRequest("the parameter %r is missing" % name)
    return value


def int_param(values, name: str, default=None, low=None, high=None) -> int:
    text = values.get(name)
    if text is None or text == "":
        if default is None:
            raise BadRequest("the parameter %r is missing" % name)
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadRequest("the parameter %r is not an integer: %r" % (name, text[:40])) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRequest("the parameter %r is out of range: %d" % (name, value))
    return value
