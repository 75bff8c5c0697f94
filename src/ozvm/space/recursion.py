"""Recursive guest errors, detected and stopped instead of spinning until a timeout.

Three shapes, each stopping the failing process with a GuestRecursionError (errors.py) whose
`kind` says which and whose `process` is the ProcessMirror (set where the process survives
the stop: transfers of control, debugger runs):

    'nested'    an error raised while the image's own error handling runs: an error entry
                (`error:`, `doesNotUnderstand:`) activated while a frame of the image's
                debugger entry (execution.error_entries, when the host does not trap it)
                is on the stack (the debugger itself fails), or with NESTED_LIMIT error entries already on the stack (a
                handler failing in its turn, again and again);
    'repeated'  the same unhandled error (same label, same frames and pcs) reaching the
                image's debugger entry REPEAT_LIMIT times in a row (a debugger entry that
                returns, then the failing send is resent...);
    'depth'     the stack grows past Interpreter.max_stack_depth contexts (checked by the
                interpreter at its heartbeat, interp/interpreter.py).

The watch is hooks on the image's error entries, installed with the space's interpreter
(execution.install_host_hooks); while the host traps the debugger entries (the default), an
unhandled error stops at the first one and only the nesting of handled errors is watched;
when the guest handles its errors itself (`oz run`: execution.let_guest_handle_errors) the
debugger entries are watched too. A hook answers False: the error method runs on when
nothing recurses; on a detection the run stops right after the entry's activation, so the
process is left at the start of the error method that recursed.
"""
from __future__ import annotations

from ..errors import GuestRecursionError
from ..memory.objects import SqObject

NESTED_LIMIT = 20       # error entries on one stack
REPEAT_LIMIT = 5        # the same unhandled error in a row
WALK_LIMIT = 100000     # frames looked at per check

# the methods where an error starts (before any handler or debugger runs)
SIGNAL_ENTRIES = (("Object", "error:"), ("Object", "doesNotUnderstand:"),
                  ("PCObject", "error:"), ("PCObject", "doesNotUnderstand:"))


def watch(space, interp, guest_handles: bool = False) -> None:
    """Install the hooks (again, after the debugger entries changed hands)."""
    from .execution import _find_method, error_entries
    state = getattr(interp, "_recursion", None)
    if state is None:
        state = interp._recursion = {"signals": [], "entries": [], "last": None, "count": 0}
    for meth in state["entries"]:
        if interp.hooks.get(meth) is not None and getattr(interp.hooks[meth], "_recursion", False):
            interp.remove_hook(meth)
    state["entries"] = [m for m, _, _ in error_entries(space)]
    if not state["signals"]:
        for class_name, selector in SIGNAL_ENTRIES:
            meth = _find_method(space, class_name, selector)
            if meth is not None and meth not in interp.hooks:
                interp.add_hook(meth, _signal_hook(space, state))
                state["signals"].append(meth)
    if guest_handles:
        for meth, label_at, context_at in error_entries(space):
            if meth not in interp.hooks:
                interp.add_hook(meth, _entry_hook(space, state, label_at, context_at))


def _flagged(f):
    f._recursion = True
    return f


def _stop(space, interp, err) -> bool:
    err.context = interp.ctx
    interp.guest_error = err
    interp.request_stop("error")
    return False                # the entry is activated; the run stops right after


def _signal_hook(space, state):
    """At an error entry: stop when the image's debugger entry, or too many error entries,
    are already on the stack."""
    def hook(interp, argc, meth):
        # entries the host traps are the host's business (an emergency kernel's pass)
        traps = getattr(interp, "error_traps", ())
        entries = [e for e in state["entries"] if not any(e is t for t in traps)]
        signals = state["signals"]
        nil = interp.nil
        c = interp.ctx
        nested = 0
        n = 0
        while c is not nil and c.__class__ is SqObject and n < WALK_LIMIT:
            m = c.ptrs[3]
            if m.__class__ is not int:
                if any(m is e for e in entries):
                    return _stop(space, interp, GuestRecursionError(
                        "recursive error: %s while the image's error handling runs (in %s)"
                        % (_what(space, interp, argc, meth), _name(space, m)), kind="nested"))
                if any(m is s for s in signals):
                    nested += 1
                    if nested >= NESTED_LIMIT:
                        return _stop(space, interp, GuestRecursionError(
                            "recursive error: %s with %d errors already being handled on the "
                            "stack" % (_what(space, interp, argc, meth), nested), kind="nested"))
            c = c.ptrs[0]
            n += 1
        return False
    return _flagged(hook)


def _entry_hook(space, state, label_at, context_at):
    """At the image's debugger entry (the guest handles its errors): stop when the same
    unhandled error comes back REPEAT_LIMIT times in a row."""
    def hook(interp, argc, meth):
        stack, sp = interp.stack, interp.sp
        label, ctx = stack[sp - argc + label_at], stack[sp - argc + context_at]
        text = _text(label)
        sig = (text, _signature(interp, ctx))
        if sig == state["last"]:
            state["count"] += 1
        else:
            state["last"], state["count"] = sig, 1
        if state["count"] >= REPEAT_LIMIT:
            state["last"], state["count"] = None, 0
            return _stop(space, interp, GuestRecursionError(
                "recursive error: '%s' signalled %d times in a row at the same place"
                % (text, REPEAT_LIMIT), kind="repeated"))
        return False
    return _flagged(hook)


def _signature(interp, ctx, depth: int = 4) -> tuple:
    out = []
    nil = interp.nil
    while ctx is not nil and ctx.__class__ is SqObject and len(out) < depth:
        out.append((id(ctx.ptrs[3]), ctx.ptrs[1]))
        ctx = ctx.ptrs[0]
    return tuple(out)


def _text(obj) -> str:
    if obj.__class__ is SqObject and obj.bytes is not None and obj.ptrs is None:
        return obj.bytes.decode("latin-1")
    return "an error"


def _what(space, interp, argc, meth) -> str:
    """'error: 'label'' or 'doesNotUnderstand: #foo' from the entry's argument."""
    arg = interp.stack[interp.sp]
    sel = _name(space, meth).split(">>")[-1]
    if arg.__class__ is SqObject and arg.bytes is not None and arg.ptrs is None:
        return "%s '%s'" % (sel, _text(arg))
    if arg.__class__ is SqObject and arg.ptrs:
        first = arg.ptrs[0]
        if first.__class__ is SqObject and first.bytes is not None:
            return "%s #%s" % (sel, _text(first))
    return sel


def _name(space, meth) -> str:
    from .execution import method_name
    return method_name(space, meth)
