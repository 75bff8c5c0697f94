"""The diff page: two spaces compared class by class, method by method (space/diff.py),
with the source diff of each changed method. The comparison is a stepped job: the worker
answers other pages between its steps, and its progress is among the worker's tasks
(`/api/tasks`, shown by the page while it waits)."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.routing import Route

from ...space.diff import DiffEntry, SpaceDiff, diff_steps
from ..common import BadRequest, on_vm, render

NAV = [(50, "Diff", "/diff")]

DIFF_TIMEOUT = 300.0       # the page waits that long for a diff (other pages are answered meanwhile)
INLINE_SOURCES = 60        # changed methods whose source diff the page shows inline


def diff_state(wb, a: str, b: str):
    """A stepped job: the diff in steps of some classes (yielding its progress), then the
    source diffs of the first changed methods, one a step; answers what the page shows."""
    space_a, space_b = wb.space(a), wb.space(b)
    diff = yield from diff_steps(space_a, space_b)
    groups = {}
    order = []
    shown = 0
    for e in diff.entries:
        owner = e.name.split(">>", 1)[0] if e.kind == "method" else e.name
        key = (e.kind if e.kind == "global" else "class", owner.replace(" class", ""))
        if key not in groups:
            groups[key] = []
            order.append(key)
        row = {"mark": e.mark, "kind": e.kind, "name": e.name, "detail": e.detail,
               "text": str(e), "lines": None}
        if e.kind == "method" and shown < INLINE_SOURCES:
            yield
            row["lines"] = diff.source_diff(e)
            shown += 1
        groups[key].append(row)
    return {"a": a, "b": b, "a_name": space_a.name or a, "b_name": space_b.name or b,
            "count": len(diff.entries), "groups": [(k[1], k[0], groups[k]) for k in order],
            "methods": len(diff.methods())}


def method_diff(wb, a: str, b: str, name: str) -> list:
    space_a, space_b = wb.space(a), wb.space(b)
    if ">>" not in name:
        raise BadRequest("a method is named Class>>selector, not %r" % name)
    return SpaceDiff(space_a, space_b, []).source_diff(DiffEntry("~", "method", name))


def line_kind(line: str) -> str:
    if line.startswith("+++") or line.startswith("---"):
        return "diff-file"
    if line.startswith("@@"):
        return "diff-hunk"
    if line.startswith("+"):
        return "diff-add"
    if line.startswith("-"):
        return "diff-del"
    return ""


async def diff_page(request):
    ids = await on_vm(request, lambda wb: [(i, s.name or i) for i, s in wb.spaces()])
    a = request.query_params.get("a")
    b = request.query_params.get("b")
    state = None
    if a or b:
        if not (a and b):
            raise BadRequest("name two spaces to compare: a and b")
        state = await on_vm(request, diff_state, a, b, timeout=DIFF_TIMEOUT, stepped=True,
                            label="diff %s %s" % (a, b))
    return render(request, "diff.html", title="Diff", spaces=ids, d=state, line_class=line_kind,
                  a=a or (ids[0][0] if ids else ""), b=b or (ids[1][0] if len(ids) > 1 else ""),
                  urlencode=urlencode)


async def method_diff_page(request):
    q = request.query_params
    for key in ("a", "b", "name"):
        if not q.get(key):
            raise BadRequest("the parameter %r is missing" % key)
    lines = await on_vm(request, method_diff, q["a"], q["b"], q["name"], timeout=DIFF_TIMEOUT)
    return render(request, "diff_method.html", title="Diff %s" % q["name"], lines=lines,
                  name=q["name"], line_class=line_kind)


ROUTES = [
    Route("/diff", diff_page),
    Route("/diff/method", method_diff_page),
]
