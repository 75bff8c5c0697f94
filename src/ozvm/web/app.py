"""The workbench's web application (Starlette): pages collected from web/pages/*.py.

`create_app(worker, token=None)` answers the ASGI app. Every module of `ozvm.web.pages`
contributes `ROUTES` (a list of Starlette routes) and may contribute `NAV`
([(order, title, path)]: entries of the navigation bar); see docs/workbench.md.
"""
from __future__ import annotations

import html
import importlib
import os
import pkgutil
import secrets

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ..errors import CompileError, GuestError, MembraneError, OzError
from .common import BadRequest, PayloadTooLarge
from .worker import WorkerBusy, WorkerStopped
from .workbench import Forbidden, NotFound

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BODY = 2 * 1024 * 1024      # bytes a request may post (a chunk file to file in is the largest)
TOKEN_COOKIE = "oz_token"


def page_modules() -> list:
    """Every module of ozvm.web.pages, by name."""
    from . import pages
    return [importlib.import_module("ozvm.web.pages." + info.name)
            for info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda i: i.name)]


def create_app(worker, token=None, max_body: int = MAX_BODY):
    """The ASGI app serving the workbench whose VM thread is `worker`. With `token`, every
    request must carry it (`?token=...` once; a cookie afterwards)."""
    routes, nav = [], []
    for module in page_modules():
        routes.extend(getattr(module, "ROUTES", []))
        nav.extend(getattr(module, "NAV", []))
    routes.append(Mount("/static", app=StaticFiles(directory=os.path.join(HERE, "static")),
                        name="static"))
    handlers = {HTTPException: _http_error, OzError: _error, Exception: _error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.worker = worker
    app.state.nav = [(title, path) for _, title, path in sorted(nav)]
    app.state.templates = Jinja2Templates(directory=os.path.join(HERE, "templates"))
    app.state.token_query = ""
    wrapped = _Limits(app, max_body)
    if token:
        wrapped = _Token(wrapped, token)
    wrapped.state = app.state        # tests and `oz serve` reach the worker through it
    return wrapped


# --- errors: a clear 4xx with the message, as HTML or JSON ------------------------------

def _status_of(e: Exception) -> int:
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, Forbidden):
        return 403
    if isinstance(e, PayloadTooLarge):
        return 413
    if isinstance(e, (WorkerBusy, WorkerStopped)):
        return 503
    if isinstance(e, (BadRequest, CompileError, MembraneError, GuestError, OzError)):
        return 400 if not isinstance(e, GuestError) else 422
    return 500


def wants_json(request) -> bool:
    return (request.url.path.startswith("/api/")
            or "application/json" in request.headers.get("accept", ""))


def error_response(request, status: int, message: str, extra=None):
    if wants_json(request):
        body = {"error": message}
        body.update(extra or {})
        return JSONResponse(body, status_code=status)
    try:
        from .common import render
        return render(request, "error.html", status_code=status, title="Error %d" % status,
                      status=status, message=message, extra=extra or {})
    except Exception:       # the error page itself failed: plain text still answers
        return HTMLResponse("<h1>Error %d</h1><pre>%s</pre>" % (status, html.escape(message)),
                            status_code=status)


async def _http_error(request, exc):
    return error_response(request, exc.status_code, exc.detail or "error")


async def _error(request, exc):
    status = _status_of(exc)
    message = str(exc) or type(exc).__name__
    if status == 500:
        message = "internal error (%s): %s" % (type(exc).__name__, message)
    extra = {}
    if isinstance(exc, CompileError):
        extra = {"line": exc.line, "column": exc.column, "reason": exc.reason}
    if isinstance(exc, GuestError) and exc.stack:
        extra = {"stack": list(exc.stack)[:30]}
    return error_response(request, status, message, extra)


# --- middleware: body size, token --------------------------------------------------------

class _Limits:
    """Refuse a body past `max_body` bytes with 413, declared or streamed."""

    def __init__(self, app, max_body):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                if declared is None or declared > self.max_body:
                    return await _plain(send, 413, "the request's body is larger than %d bytes"
                                        % self.max_body)
        seen = [0]
        limit = self.max_body

        async def limited():
            message = await receive()
            if message["type"] == "http.request":
                seen[0] += len(message.get("body", b""))
                if seen[0] > limit:
                    raise PayloadTooLarge("the request's body is larger than %d bytes" % limit)
            return message

        return await self.app(scope, limited, send)


class _Token:
    """Every request carries the token: `?token=` (then remembered in a cookie) or the cookie."""

    def __init__(self, app, token):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        from urllib.parse import parse_qs
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = (query.get("token") or [None])[0]
        cookie = None
        for key, value in scope.get("headers", []):
            if key == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    k, _, v = part.strip().partition("=")
                    if k == TOKEN_COOKIE:
                        cookie = v
        ok = any(t is not None and secrets.compare_digest(t, self.token) for t in (given, cookie))
        if not ok:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008})
            return await _plain(send, 403, "this workbench needs its token: open the URL "
                                "`oz serve` printed")
        if given is not None and cookie != self.token:
            async def with_cookie(message):
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", ("%s=%s; Path=/; HttpOnly; SameSite=Strict"
                                                    % (TOKEN_COOKIE, self.token)).encode()))
                    message = dict(message, headers=headers)
                await send(message)
            return await self.app(scope, receive, with_cookie)
        return await self.app(scope, receive, send)


async def _plain(send, status: int, text: str):
    response = PlainTextResponse(text, status_code=status)
    await response({"type": "http"}, None, send)


def new_token() -> str:
    return secrets.token_urlsafe(18)
