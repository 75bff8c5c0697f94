"""The code browser: Smalltalk's four panes (categories, classes, protocols, methods), the
method's source (the image's .sources/.changes, else decompiled), bytecodes, the class
definition and hierarchy, senders/implementors/references, search; accept an edited method
(compiled by ozvm into the guest; a compile error shown at its line and column); file in a
chunk file.

Everything here is read through space/browsing.py, space/fileout.py and the compiler API.
"""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.routing import Route

from ...errors import CompileError, OzError
from ...space.browsing import UNCLASSIFIED
from ...space.fileout import definition, method_text
from ...space.filein import FileInError
from ..common import BadRequest, form_of, on_vm, param, redirect, render
from ..workbench import NotFound

NAV = [(20, "Browser", "/browse")]

ALL = "-- all --"
NO_CATEGORY = "-- no category --"
SEARCH_LIMIT = 300          # rows a search or a query shows at most
ACCEPT_TIMEOUT = 60.0
FILEIN_TIMEOUT = 300.0


# --- what the panes show (on the VM worker) ---------------------------------------------

def class_mirror(space, name: str, side: str = "instance"):
    """The ClassMirror of class `name` (its metaclass for side 'class'); NotFound if none."""
    cls = space.class_named(name)
    if cls is None or name.endswith(" class"):
        raise NotFound("no class named %r in this space" % name)
    mirror = space.mirror_on(cls)
    return mirror.class_side() if side == "class" else mirror


def system_categories(space) -> dict:
    """{category: [class names]} of every class (those no category lists under NO_CATEGORY)."""
    out = {}
    layout = space.layout
    for cls in space.classes():
        name = layout.class_name_of(cls)
        out.setdefault(space.system_category_of(name) or NO_CATEGORY, []).append(name)
    return out


def method_view(space, cls, selector: str) -> dict:
    """Source (and where it came from), bytecodes and header of cls>>selector."""
    method = cls.compiled_method_at(selector)
    if method is None:
        raise NotFound("%s has no method #%s" % (cls.name(), selector))
    source = space.method_source(method)
    origin = "source" if source is not None else "decompiled"
    if source is None:
        try:
            source = method_text(space, cls, selector)
        except OzError as e:
            source, origin = "", "the decompiler failed: %s" % e
    return {"source": source.replace("\r\n", "\n").replace("\r", "\n"), "origin": origin,
            "bytecodes": method.disassembly(), "header": method.header_description(),
            "literals": [l.describe() for l in method.literals()]}


def browse_state(wb, sid: str, q: dict) -> dict:
    """Everything the browser page shows for the query `q` (cat, cls, side, prot, sel, view)."""
    space = wb.space(sid)
    cats = system_categories(space)
    cls_name = q.get("cls") or ""
    side = "class" if q.get("side") == "class" else "instance"
    cat = q.get("cat") or ""
    state = {"sid": sid, "space_name": space.name or sid, "side": side, "cls": cls_name,
             "prot": q.get("prot") or "", "sel": q.get("sel") or "", "view": q.get("view") or "source",
             "categories": sorted(cats), "classes": [], "protocols": [], "selectors": [],
             "method": None, "definition": None, "hierarchy": None, "comment": None,
             "spaces": [(i, s.name or i) for i, s in wb.spaces()]}
    cls = None
    if cls_name:
        cls = class_mirror(space, cls_name, side)
        if not cat:
            cat = space.system_category_of(cls_name) or NO_CATEGORY
    state["cat"] = cat
    if cat:
        if cat not in cats:
            raise NotFound("no class category %r in this space" % cat)
        state["classes"] = sorted(cats[cat])
    if cls is None:
        return state
    protocols = cls.method_categories()
    state["protocols"] = [p for p, _ in protocols]
    prot = state["prot"]
    sel = state["sel"]
    if sel and not prot:
        prot = next((p for p, sels in protocols if sel in sels), UNCLASSIFIED)
        state["prot"] = prot
    if prot == ALL or not prot:
        state["selectors"] = sorted(s for _, sels in protocols for s in sels)
    else:
        found = [sels for p, sels in protocols if p == prot]
        if not found:                   # a new protocol: its first method is written here
            state["protocols"].append(prot)
        state["selectors"] = sorted(found[0]) if found else []
    inst = cls.instance_side()
    state["definition"] = definition(inst) + (
        "\n\n%s class\n\tinstanceVariableNames: '%s'" % (inst.name(), " ".join(
            inst.class_side().instance_variable_names())))
    state["format"] = "%s, %d named fields, %d instances" % (
        inst.format_description(), inst.inst_size(), inst.instance_count()) \
        if state["view"] == "definition" else None
    if state["view"] == "hierarchy":
        state["hierarchy"] = [(depth, c.name()) for depth, c in space.hierarchy(cls)]
    if sel:
        state["method"] = method_view(space, cls, sel)
    return state


def _refs(refs) -> list:
    out = []
    for r in refs[:SEARCH_LIMIT]:
        side = "class" if r.class_name.endswith(" class") else "instance"
        out.append({"label": str(r), "cls": r.class_name[:-6] if side == "class" else r.class_name,
                    "side": side, "sel": r.selector})
    return out


def query(wb, sid: str, kind: str, name: str) -> dict:
    space = wb.space(sid)
    if kind == "senders":
        refs = space.senders(name)
    elif kind == "implementors":
        refs = space.implementors(name)
    elif kind == "references":
        refs = space.references_to(name)
    else:
        raise BadRequest("a query is senders, implementors or references, not %r" % kind)
    return {"kind": kind, "name": name, "count": len(refs), "refs": _refs(refs),
            "space_name": space.name or sid, "sid": sid}


def search(wb, sid: str, text: str) -> dict:
    """Classes whose name, and selectors whose name, contain `text` (case ignored)."""
    from ...space.browsing import all_methods
    space = wb.space(sid)
    needle = text.lower()
    names = [space.layout.class_name_of(c) for c in space.classes()]
    classes = [n for n in names if needle in n.lower()]
    selectors = sorted({s for _, s, _ in all_methods(space) if needle in s.lower()})
    return {"text": text, "classes": classes[:SEARCH_LIMIT], "class_count": len(classes),
            "selectors": selectors[:SEARCH_LIMIT], "selector_count": len(selectors),
            "space_name": space.name or sid, "sid": sid}


def accept(wb, sid: str, cls_name: str, side: str, protocol: str, source: str) -> str:
    """Compile `source` into the class (ozvm's compiler), classified under `protocol`;
    answer its selector. CompileError (line, column) when the source is wrong."""
    space = wb.space(sid)
    cls = class_mirror(space, cls_name, side)
    category = protocol if protocol and protocol != ALL else UNCLASSIFIED
    method = space.install(cls, source.replace("\r\n", "\n"), category)
    return space.mirror_on(method).selector() or "?"


def file_in(wb, sid: str, name: str, text: str):
    space = wb.space(sid)
    result = space.filein([name], {name: text})
    return {"summary": result.summary(), "classes": result.classes, "methods": result.methods}


# --- pages --------------------------------------------------------------------------------

def browse_url(sid, **q) -> str:
    q = {k: v for k, v in q.items() if v}
    return "/browse/%s%s" % (sid, ("?" + urlencode(q)) if q else "")


async def browse_first(request):
    ids = await on_vm(request, lambda wb: [i for i, _ in wb.spaces()])
    if not ids:
        return render(request, "message.html", title="Browser",
                      message="No space is loaded: load an image on the Spaces page.")
    return redirect(request, browse_url(ids[0]))


async def browse(request):
    sid = request.path_params["sid"]
    state = await on_vm(request, browse_state, sid, dict(request.query_params))
    return render(request, "browser.html", title="Browser: %s" % state["space_name"], s=state,
                  url=browse_url, message=request.query_params.get("message"),
                  error=None, edited=None)


async def accept_page(request):
    sid = request.path_params["sid"]
    values = await form_of(request)
    cls_name = param(values, "cls")
    side = values.get("side") or "instance"
    prot = values.get("prot") or ""
    source = param(values, "source")
    try:
        selector = await on_vm(request, accept, sid, cls_name, side, prot, source,
                               timeout=ACCEPT_TIMEOUT)
    except CompileError as e:
        q = {"cls": cls_name, "side": side, "prot": prot, "sel": values.get("sel") or ""}
        state = await on_vm(request, browse_state, sid, q)
        return render(request, "browser.html", status_code=400, title="Browser: compile error",
                      s=state, url=browse_url, message=None, edited=source,
                      error={"message": str(e), "line": e.line, "column": e.column,
                             "reason": e.reason})
    return redirect(request, browse_url(sid, cls=cls_name, side=side if side == "class" else "",
                                        prot=prot if prot != ALL else "", sel=selector,
                                        message="accepted %s>>%s" % (cls_name, selector)))


async def query_page(request):
    sid = request.path_params["sid"]
    kind = request.path_params["kind"]
    name = param(request.query_params, "name").strip()
    if not name:
        raise BadRequest("give a selector or a variable name")
    result = await on_vm(request, query, sid, kind, name)
    return render(request, "query.html", title="%s of %s" % (kind, name), r=result, url=browse_url)


async def search_page(request):
    sid = request.path_params["sid"]
    text = param(request.query_params, "q").strip()
    if not text:
        raise BadRequest("give some text to search for")
    result = await on_vm(request, search, sid, text)
    return render(request, "search.html", title="Search %s" % text, r=result, url=browse_url)


async def filein_page(request):
    sid = request.path_params["sid"]
    name = await on_vm(request, lambda wb: wb.space(sid).name or sid)
    return render(request, "filein.html", title="File in", sid=sid, space_name=name,
                  result=None, error=None, text="", name="pasted.st")


async def filein_post(request):
    sid = request.path_params["sid"]
    values = await form_of(request)
    text = param(values, "text")
    name = (values.get("name") or "pasted.st").strip() or "pasted.st"
    space_name = await on_vm(request, lambda wb: wb.space(sid).name or sid)
    try:
        result = await on_vm(request, file_in, sid, name, text.replace("\r\n", "\n"),
                             timeout=FILEIN_TIMEOUT)
    except FileInError as e:
        return render(request, "filein.html", status_code=400, title="File in: error", sid=sid,
                      space_name=space_name, result=None, text=text, name=name,
                      error={"message": str(e), "line": e.line, "column": e.column})
    return render(request, "filein.html", title="File in", sid=sid, space_name=space_name,
                  result=result, error=None, text="", name=name)


ROUTES = [
    Route("/browse", browse_first),
    Route("/browse/{sid}", browse),
    Route("/browse/{sid}/accept", accept_page, methods=["POST"]),
    Route("/browse/{sid}/query/{kind}", query_page),
    Route("/browse/{sid}/search", search_page),
    Route("/filein/{sid}", filein_page),
    Route("/filein/{sid}", filein_post, methods=["POST"]),
]
