"""Evaluating expressions in a bootstrapped kernel space from the host.

The kernel has no compiler of its own: the host compiles the expression with ozvm's
compiler as a DoIt method of UndefinedObject and the guest runs it on nil with
`Object>>withArgs:executeMethod:` (primitive 188), in a fresh guest process (see
space/execution.py). Errors come back as the answer of the guest's own handler, as in
the startup script: `print_string` answers 'ERROR: description' for an unhandled Error.
"""
from __future__ import annotations

from ..compiler.api import compile_doit
from ..errors import GuestError
from ..space.execution import run_send


def evaluate(space, source: str, timeout: float | None = 600.0):
    """The guest object `source` evaluates to (nil is self)."""
    method = compile_doit(space, source)
    return run_send(space, space.nil, "withArgs:executeMethod:",
                    [space.heap.new_array([]), method], timeout)


def print_string(space, source: str, timeout: float | None = 600.0) -> str:
    """The printString of the value of `source`, or 'ERROR: ' and the description of the
    Error it signals, as a Python str."""
    wrapped = ("[[%s\n] value printString] on: Error do: [:error | 'ERROR: ' , error description]"
               % source)
    result = evaluate(space, wrapped, timeout)
    if result.__class__ is int or result.bytes is None:
        raise GuestError("printString did not answer a String")
    return result.bytes.decode("latin-1")
