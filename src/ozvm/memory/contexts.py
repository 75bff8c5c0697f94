"""Contexts, compiled-method decoding and the kernel field indices the VM fixes (the same
in V3 and Spur images; what differs, the method header and word size, comes from the
heap's family).

A context is a real guest object (class MethodContext or, in pre-closure images,
BlockContext) whose fields are

    0 sender (BlockContext: caller)   1 pc   2 stackp
    3 method (BlockContext: nargs)    4 closureOrNil / receiverMap (BlockContext: startpc)
    5 receiver (BlockContext: home)   6... arguments, temporaries, then the stack

pc is the 1-based byte index of the next bytecode counted from the start of the
method object, so the first bytecode is at W * (numLiterals + 1) + 1 (W: the word size,
4 in V3 and Spur 32, 8 in Spur 64); stackp is the number of used slots after the 6 fixed
fields. Inside the interpreter, pc is a 0-based index into the method's bytes and sp the
list index of the top of the stack (sp = stackp + 5), so stored pc = pc + offset with
offset = W * len(method.ptrs) + 1.
"""
from __future__ import annotations

import os
import sys

from .objects import FMT_METHOD, SqObject

# The interpreter reuses a returned MethodContext that nothing else refers to, as the C VM
# does; it needs reference counts (CPython). OZ_NO_RECYCLE=1 turns it off (as on PyPy).
REUSE_CONTEXTS = hasattr(sys, "getrefcount") and os.environ.get("OZ_NO_RECYCLE") is None

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


class AlternateCode(bytes):
    """What `decode_method` gives the V3 loop as the bytecodes of a method (or
    CompiledBlock) of the alternate set (Sista V1): as many 126s (unassigned in V3) as the
    method has bytes, so that the V3 loop stops at the first one it meets and hands the
    context over to interp/sista.py, which reads the method's own bytes."""


OTHER_SET_BYTE = 126


def decode_method(meth: SqObject, heap) -> tuple:
    """The interpreter's view of a compiled method of `heap`, cached in `meth.cache`:

    (method, primitive, bytes, pc offset, numTemps, nil filler, numArgs, frame size, tier)

(the bytes of an alternate-set method are an `AlternateCode`, not its own)
    The filler fills a fresh context after receiver and arguments. `tier` is the
    translation tier's cell for the method (interp/jit.py: its activation count, or
    that it is left to the interpreter), gone with the decoded form when the method is
    flushed."""
    info = meth.cache
    if info is not None and info[0] is meth:
        return info
    family = heap.family
    header = meth.ptrs[0]
    nargs = family.method_num_args(header)
    ntemps = family.method_num_temps(header)
    size = LARGE_FRAME if family.method_large_frame(header) else SMALL_FRAME
    if ntemps + 4 > size:       # the C VM trusts the compiler; be safe
        size = max(LARGE_FRAME, ntemps + 16)
    prim = family.method_primitive(meth)
    code = meth.bytes
    if family.method_alternate_bytecodes(header):
        code = AlternateCode(bytes((OTHER_SET_BYTE,)) * len(code))
    info = (meth, prim, code, family.pc_offset(meth), ntemps,
            [heap.nil] * (size - nargs), nargs, size, [None, 0])
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

