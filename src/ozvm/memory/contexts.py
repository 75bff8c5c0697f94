"""V3 contexts, compiled-method decoding and the kernel field indices the VM fixes.

A context is a real guest object (class MethodContext or, in pre-closure images,
BlockContext) whose fields are

    0 sender (BlockContext: caller)   1 pc   2 stackp
    3 method (BlockContext: nargs)    4 closureOrNil / receiverMap (BlockContext: startpc)
    5 receiver (BlockContext: home)   6... arguments, temporaries, then the stack

pc is the 1-based byte index of the next bytecode counted from the start of the
method object, so the first bytecode is at 4 * (numLiterals + 1) + 1; stackp is the
number of used slots after the 6 fixed fields. Inside the interpreter, pc is a 0-based
index into the method's bytes and sp the list index of the top of the stack
(sp = stackp + 5), so stored pc = pc + offset with offset = 4 * len(method.ptrs) + 1.
"""
from __future__ import annotations

from .objects import (
    FMT_METHOD, SqObject, method_large_frame, method_num_args, method_num_temps, method_primitive,
)

# Context fields
SENDER, PC, STACKP, METHOD, CLOSURE, RECEIVER, TEMP0 = 0, 1, 2, 3, 4, 5, 6
# BlockContext (pre-closure images)
CALLER, NARGS, STARTPC, HOME = 0, 3, 4, 5
# BlockClosure
OUTER_CONTEXT, CLOSURE_STARTPC, CLOSURE_NUMARGS, CLOSURE_COPIED0 = 0, 1, 2, 3
# Processes and friends
NEXT_LINK, SUSPENDED_CONTEXT, PRIORITY, MY_LIST = 0, 1, 2, 3
FIRST_LINK, LAST_LINK, EXCESS_SIGNALS = 0, 1, 2
PROCESS_LISTS, ACTIVE_PROCESS = 0, 1
# Association, Message, MethodDictionary
VALUE = 1
MESSAGE_SELECTOR, MESSAGE_ARGS, MESSAGE_LOOKUP_CLASS = 0, 1, 2
MDICT_ARRAY, MDICT_SELECTOR0 = 1, 2

SMALL_FRAME = 16
LARGE_FRAME = 56
MIN_SMALLINT = -0x40000000
MAX_SMALLINT = 0x3FFFFFFF


def decode_method(meth: SqObject, nil) -> tuple:
    """The interpreter's view of a compiled method, cached in `meth.cache`:

    (method, primitive, bytes, pc offset, numTemps, nil filler, numArgs, frame size)

    The filler fills a fresh context after receiver and arguments."""
    info = meth.cache
    if info is not None and info[0] is meth:
        return info
    header = meth.ptrs[0]
    nargs = method_num_args(header)
    ntemps = method_num_temps(header)
    size = LARGE_FRAME if method_large_frame(header) else SMALL_FRAME
    if ntemps + 4 > size:       # the C VM trusts the compiler; be safe
        size = max(LARGE_FRAME, ntemps + 16)
    prim = method_primitive(header)
    info = (meth, prim, meth.bytes, 4 * len(meth.ptrs) + 1, ntemps,
            [nil] * (size - nargs), nargs, size)
    meth.cache = info
    return info


def is_method(obj) -> bool:
    return obj.__class__ is SqObject and obj.fmt == FMT_METHOD


def method_of_context(ctx: SqObject) -> SqObject:
    """The compiled method a context runs (a BlockContext runs its home's method)."""
    meth = ctx.ptrs[METHOD]
    if meth.__class__ is int:
        meth = ctx.ptrs[HOME].ptrs[METHOD]
    return meth


def home_of_context(ctx: SqObject) -> SqObject:
    """A BlockContext's home (pre-closure images); any other context is its own home
    for temporaries."""
    if ctx.ptrs[METHOD].__class__ is int:
        return ctx.ptrs[HOME]
    return ctx


def pc_offset(meth: SqObject) -> int:
    return 4 * len(meth.ptrs) + 1
