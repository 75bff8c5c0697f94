"""The inspector: any guest object through mirrors. Fields by name, indexed slots by pages,
the guest's own printString (computed in the guest in quanta under a short timeout, filled
in after the page is shown), drill down and back (the trail of objects in the URL), and an
expression evaluated with the inspected object as receiver.
"""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.routing import Route

from ...errors import CompileError, GuestError, OzError
from ...memory.objects import SqObject
from ...space import control
from ...space.class_mirrors import MethodMirror
from ..common import (BadRequest, form_of, int_param, json, on_vm, on_vm_until_stopped, param,
                      redirect, render)
from ..worker import Interrupted
from ..workbench import NotFound

NAV = [(30, "Inspector", "/inspect")]

PAGE_SIZE = 100                # indexed slots a page shows
PRINT_BYTECODES = 3000000       # the guest's printString gets that much work (~1-3 s)...
PRINT_TIMEOUT_MS = 30000.0      # ... and never longer than that on a loaded machine
PRINT_LIMIT = 5000             # characters of a printString shown
EVALUATE_BYTECODES = 50000000   # an evaluation's budget of guest work (~10 s of CPython), then
                                # it gives up, the same on any machine; the page's interrupt
                                # button (or leaving the page) ends it sooner
QUANTUM_MS = 20.0              # a stepped job's quantum: the worker takes turns that often
TRAIL_LIMIT = 30


def value_cell(wb, sid, space, mirror) -> dict:
    """How a field shows: its host-side description and, for a heap object, its handle."""
    obj = mirror.obj
    cell = {"text": mirror.describe(), "oid": None}
    if obj.__class__ is SqObject:
        cell["oid"] = wb.handle(sid, obj)
    return cell


def roots(wb, sid: str) -> list:
    """Where to start: the well-known objects of the space."""
    space = wb.space(sid)
    out = [("nil", space.nil), ("true", space.true), ("false", space.false),
           ("the special objects array", space.specials)]
    smalltalk = space.globals_dictionary()
    if smalltalk is not None:
        out.append(("Smalltalk", smalltalk))
    try:
        out.append(("Processor", space.scheduler().obj))
        out.append(("the active process", space.active_process().obj))
    except OzError:
        pass
    return [{"label": label, "oid": wb.handle(sid, obj), "text": space.describe(obj)}
            for label, obj in out]


def inspect_state(wb, sid: str, oid: str, page: int) -> dict:
    """Everything the inspector page shows of object `oid` (indexed slots: page `page`)."""
    space = wb.space(sid)
    obj = wb.object(sid, oid)
    mirror = space.mirror_on(obj)
    cls = space.class_of(obj)
    state = {"sid": sid, "oid": oid, "space_name": space.name or sid,
             "describe": mirror.describe(), "class_name": space.layout.class_name_of(cls),
             "class_oid": wb.handle(sid, cls), "hash": mirror.identity_hash(),
             "named": [], "indexed": [], "indexed_kind": None, "size": 0, "page": page,
             "pages": 1, "text": None, "method": None}
    if isinstance(mirror, MethodMirror):
        lits = mirror.literals()
        state["method"] = {"header": mirror.header_description(),
                           "bytecodes": mirror.disassembly()}
        state["indexed_kind"] = "literals"
        state["size"] = len(lits)
        first = (page - 1) * PAGE_SIZE
        state["indexed"] = [(first + i + 1, value_cell(wb, sid, space, m))
                            for i, m in enumerate(lits[first:first + PAGE_SIZE])]
    else:
        names = mirror.inst_var_names()
        for i in range(mirror.fixed_size()):
            name = names[i] if i < len(names) else "field %d" % (i + 1)
            state["named"].append((name, value_cell(wb, sid, space, mirror.inst_var_at(i + 1))))
        size = mirror.variable_size()
        state["size"] = size
        first = (page - 1) * PAGE_SIZE
        last = min(size, first + PAGE_SIZE)
        if obj.ptrs is not None:
            state["indexed_kind"] = "pointers"
            state["indexed"] = [(i, value_cell(wb, sid, space, mirror.at(i)))
                                for i in range(first + 1, last + 1)]
        elif size:
            state["indexed_kind"] = "words" if obj.words is not None else "bytes"
            state["indexed"] = [(i, {"text": str(mirror.at(i)), "oid": None})
                                for i in range(first + 1, last + 1)]
            if obj.bytes is not None:
                state["text"] = bytes(obj.bytes[:PRINT_LIMIT]).decode("latin-1")
    state["pages"] = max(1, (state["size"] + PAGE_SIZE - 1) // PAGE_SIZE)
    if page > state["pages"]:
        raise NotFound("%s has no page %d of indexed slots (%d pages)"
                       % (state["describe"], page, state["pages"]))
    return state


def _evaluation(wb, sid, oid, source, timeout_ms, max_bytecodes=None):
    """A stepped job: `source` with the object as receiver, in quanta; answers the result."""
    space = wb.space(sid)
    obj = wb.object(sid, oid)
    result = yield from control.evaluation_steps(space, source, timeout_ms, QUANTUM_MS, receiver=obj,
                                                 max_bytecodes=max_bytecodes)
    return result


def print_string(wb, sid, oid):
    """A stepped job: the guest's `printString` of the object (its own code, in quanta)."""
    result = yield from _evaluation(wb, sid, oid, "self printString", PRINT_TIMEOUT_MS,
                                    PRINT_BYTECODES)
    space = wb.space(sid)
    mirror = space.mirror_on(result)
    if result.__class__ is not SqObject or result.bytes is None:
        return "(printString answered %s, not a String)" % mirror.describe()
    text = bytes(result.bytes[:PRINT_LIMIT]).decode("latin-1")
    return text + ("…" if len(result.bytes) > PRINT_LIMIT else "")


def evaluate(wb, sid, oid, source):
    """A stepped job: `source` with the object as `self`, within EVALUATE_BYTECODES of the
    space's work while it is under way; no wall-clock limit (the page interrupts it)."""
    result = yield from _evaluation(wb, sid, oid, source, None, EVALUATE_BYTECODES)
    if result.__class__ is SqObject:
        return wb.handle(sid, result)
    return None if result is None else ("int", result)


# --- pages ------------------------------------------------------------------------------

def inspect_url(sid, oid, trail=(), **q) -> str:
    q = {k: v for k, v in q.items() if v}
    if trail:
        q["trail"] = ",".join(trail[-TRAIL_LIMIT:])
    return "/inspect/%s/%s%s" % (sid, oid, ("?" + urlencode(q)) if q else "")


def _trail(request) -> list:
    text = request.query_params.get("trail") or ""
    return [t for t in text.split(",") if t][-TRAIL_LIMIT:]


async def inspect_first(request):
    ids = await on_vm(request, lambda wb: [i for i, _ in wb.spaces()])
    if not ids:
        return render(request, "message.html", title="Inspector",
                      message="No space is loaded: load an image on the Spaces page.")
    return redirect(request, "/inspect/%s" % ids[0])


async def inspect_roots(request):
    sid = request.path_params["sid"]
    rows = await on_vm(request, roots, sid)
    name = await on_vm(request, lambda wb: wb.space(sid).name or sid)
    return render(request, "inspector_roots.html", title="Inspector", sid=sid, rows=rows,
                  space_name=name, url=inspect_url)


async def _inspector(request, status_code=200, error=None, source=""):
    sid, oid = request.path_params["sid"], request.path_params["oid"]
    page = int_param(request.query_params, "page", 1, 1)
    state = await on_vm(request, inspect_state, sid, oid, page)
    trail = _trail(request)
    crumbs = await on_vm(request, lambda wb: [(t, wb.space(sid).describe(wb.object(sid, t)))
                                              for t in trail if wb.has_object(sid, t)])
    return render(request, "inspector.html", status_code=status_code,
                  title="Inspect %s" % state["describe"][:40], o=state, trail=trail, crumbs=crumbs,
                  url=inspect_url, error=error, source=source, budget="{:,}".format(EVALUATE_BYTECODES),
                  message=request.query_params.get("message"))


async def inspect_page(request):
    return await _inspector(request)


async def print_json(request):
    sid, oid = request.path_params["sid"], request.path_params["oid"]
    try:
        text = await on_vm(request, print_string, sid, oid, stepped=True,
                           timeout=PRINT_TIMEOUT_MS / 1000.0 + 10)
    except (GuestError, CompileError) as e:
        return json({"error": "printString failed in the guest: %s"
                              % (str(e).splitlines()[0] if str(e) else type(e).__name__)},
                    status_code=422)
    return json({"text": text})


async def evaluate_page(request):
    sid, oid = request.path_params["sid"], request.path_params["oid"]
    values = await form_of(request)
    source = param(values, "source")
    if not source.strip():
        raise BadRequest("give an expression to evaluate")
    try:
        answer = await on_vm_until_stopped(request, evaluate, sid, oid, source,
                                           key=values.get("job") or None,
                                           label="evaluate in %s" % sid)
    except Interrupted as e:
        return await _inspector(request, 422, {"message": "the evaluation was stopped: %s" % e,
                                               "stack": []}, source)
    except CompileError as e:
        return await _inspector(request, 400, {"message": str(e), "line": e.line,
                                               "column": e.column, "stack": []}, source)
    except GuestError as e:
        return await _inspector(request, 422, {"message": str(e).splitlines()[0],
                                               "stack": list(e.stack or [])[:30]}, source)
    trail = _trail(request) + ([oid] if oid != "nil" else [])
    if isinstance(answer, tuple):
        return redirect(request, inspect_url(sid, oid, _trail(request),
                                             message="answered %d" % answer[1]))
    return redirect(request, inspect_url(sid, answer, trail, message="the answer of: " + source[:60]))


ROUTES = [
    Route("/inspect", inspect_first),
    Route("/inspect/{sid}", inspect_roots),
    Route("/inspect/{sid}/{oid}", inspect_page),
    Route("/inspect/{sid}/{oid}/evaluate", evaluate_page, methods=["POST"]),
    Route("/api/inspect/{sid}/{oid}/print", print_json),
]
