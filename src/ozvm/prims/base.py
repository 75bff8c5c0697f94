"""The primitive calling convention and the primitive tables.

A primitive is a function ``f(interp, argc) -> bool``. When it is called, the receiver
and the `argc` arguments are the top ``argc + 1`` slots of the active context's stack:

    interp.stack   the list of the active context's fields (it *is* ``interp.ctx.ptrs``)
    interp.sp      the index in ``interp.stack`` of the top of the stack (the last argument)

    receiver        = interp.stack[interp.sp - argc]
    argument i (0-) = interp.stack[interp.sp - argc + 1 + i]

On success a primitive pops the receiver and arguments, pushes its result
(``interp.pop_push(argc + 1, result)``) and answers True. On failure it leaves the stack
exactly as it found it and answers False; the interpreter then runs the method's
Smalltalk code (the image's fallback), as the C VM does. Primitives that change the
active context (block evaluation, perform, process switches) do so through the
interpreter's methods and answer True.

Most primitives are *simple*: a function ``g(interp, receiver, *args) -> result`` that
raises PrimitiveFailed to fail; `primitive()` wraps it into the convention above.

Numbered primitives live in PRIMITIVES (index -> function); named primitives
(``<primitive: 'name' module: 'Module'>``, dispatched by primitive 117) in NAMED
((module, name) -> function; module '' for the VM's own). Each module of this package
registers its primitives when imported; `load_all()` imports them all.
"""
from __future__ import annotations

PRIMITIVES: dict = {}
NAMED: dict = {}


def running_primitive(index):
    """The function of numbered primitive `index`, or None when ozvm has none or it exists
    only to fail (values.register_failing): a send of a method with such a primitive runs
    the method, as after a failure."""
    f = PRIMITIVES.get(index)
    return None if f is None or getattr(f, "always_fails", False) else f


class PrimitiveFailed(Exception):
    """Raised by a simple primitive to fail (the method's fallback code then runs)."""


def simple_primitive(fn, argc=None):
    """Wrap a simple function g(interp, receiver, *args) into the stack convention. Sent
    with a number of arguments g does not take (or other than `argc`), it fails."""
    code = fn.__code__
    most = float("inf") if code.co_flags & 0x04 else code.co_argcount - 2
    least = code.co_argcount - 2 - len(fn.__defaults__ or ())

    def prim(interp, n):
        if (argc is not None and n != argc) or not least <= n <= most:
            return False
        stack = interp.stack
        sp = interp.sp
        try:
            result = fn(interp, *stack[sp - n:sp + 1])
        except PrimitiveFailed:
            return False
        interp.pop_push(n + 1, result)
        return True
    prim.__name__ = fn.__name__
    prim.__doc__ = fn.__doc__
    prim.simple = fn
    return prim


def primitive(*indices, argc=None):
    """Register a simple primitive under numbered `indices` (optionally checking argc)."""
    def register(fn):
        prim = simple_primitive(fn, argc)
        for i in indices:
            PRIMITIVES[i] = prim
        return fn
    return register


def raw_primitive(*indices):
    """Register a primitive that follows the stack convention itself."""
    def register(fn):
        for i in indices:
            PRIMITIVES[i] = fn
        return fn
    return register


def named_primitive(module: str, name: str, argc=None, raw=False):
    """Register a named primitive (simple unless raw=True)."""
    def register(fn):
        NAMED[(module, name)] = fn if raw else simple_primitive(fn, argc)
        return fn
    return register


def load_all() -> None:
    """Import every primitive module so that the tables are complete."""
    import importlib
    import pkgutil
    from . import __path__ as here
    for info in pkgutil.iter_modules(here):
        if info.name != "base":
            importlib.import_module(__package__ + "." + info.name)
