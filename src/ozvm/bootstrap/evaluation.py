"""Evaluating expressions in a bootstrapped kernel space from the host.

The kernel has no compiler of its own: the host compiles the expression with ozvm's
compiler as a DoIt method of UndefinedObject and the guest runs it on nil with
`Object>>withArgs:executeMethod:` (primitive 188), in a fresh guest process (see
space/execution.py). An unhandled Error reaches `SystemDictionary>>reportError:context:`,
which the host traps: `evaluate` raises GuestError with the error's description and the
guest stack; `print_string` answers 'ERROR: description' instead, as the startup script
writes it.
"""
from __future__ import annotations

from ..compiler.api import compile_doit
from ..errors import GuestError, GuestTimeout
from ..space.execution import interpreter_for, run_send, stack_of

_HOOKED = "_kernel_error_hook"


def trap_unhandled_errors(space) -> None:
    """Make the guest's report of an unhandled error end the host's run with a GuestError."""
    interp = interpreter_for(space)
    if getattr(interp, _HOOKED, False):
        return
    cls = space.class_named("SystemDictionary")
    selector = space.symbol_named("reportError:context:")
    method = None
    if cls is not None and selector is not None:
        keys = cls.ptrs[1].ptrs[2:]
        if selector in keys:
            method = cls.ptrs[1].ptrs[1].ptrs[keys.index(selector)]
    if method is None:
        raise GuestError("this space is not a bootstrapped kernel (no SystemDictionary>>reportError:context:)")

    def report(interp, argc, meth):
        stack, sp = interp.stack, interp.sp
        label, ctx = stack[sp - 1], stack[sp]
        text = label.bytes.decode("latin-1") if label.__class__ is not int and label.bytes is not None else "an error"
        interp.guest_error = GuestError(text, stack_of(space, ctx) if ctx is not space.nil else [])
        interp.pop_push(argc + 1, interp.nil)
        interp.request_stop("error")
        return True

    interp.add_hook(method, report)
    setattr(interp, _HOOKED, True)


def evaluate(space, source: str, timeout: float | None = 600.0):
    """The guest object `source` evaluates to (nil is self); GuestError for an unhandled error."""
    trap_unhandled_errors(space)
    method = compile_doit(space, source)
    return run_send(space, space.nil, "withArgs:executeMethod:",
                    [space.heap.new_array([]), method], timeout)


def print_string(space, source: str, timeout: float | None = 600.0) -> str:
    """The printString of the value of `source`, or 'ERROR: ' and the description of the
    Error it signals (evaluating or printing), as a Python str."""
    try:
        value = evaluate(space, source, timeout)
        string = run_send(space, value, "printString", (), timeout)
    except GuestTimeout:
        raise
    except GuestError as e:
        return "ERROR: " + e.message
    if string.__class__ is int or string.bytes is None:
        raise GuestError("printString did not answer a String")
    return string.bytes.decode("latin-1")
