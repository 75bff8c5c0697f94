"""The full block closure primitives of Spur images with the Sista V1 bytecode set
(VMMaker's primitiveFullClosureValue 207, primitiveFullClosureValueWithArgs 208,
primitiveFullClosureValueNoContextSwitch 209; SqueakJS has the same three numbers).

A FullBlockClosure's fields: 0 outer context (nil for a clean block), 1 its CompiledBlock,
2 numArgs, 3 receiver, then the copied values. The primitive fails when the argument
count is not the closure's (208: when the argument is not an Array of that size), or when
field 1 is not compiled code; otherwise the closure runs in a new context whose sender is
the caller.
"""
from __future__ import annotations

from ..memory.contexts import CLOSURE, decode_method
from ..memory.objects import FMT_METHOD, SqObject
from .base import raw_primitive


def _full_closure(obj):
    if obj.__class__ is not SqObject or obj.ptrs is None or len(obj.ptrs) < 4:
        return None
    block = obj.ptrs[1]
    if block.__class__ is not SqObject or block.fmt != FMT_METHOD:
        return None
    return obj


def _activate(interp, clo, argc, args) -> None:
    """VMMaker's activateNewFullClosure: a context whose method is the CompiledBlock, pc at
    its first bytecode, the arguments then the copied values then nil temps (stackp: all
    its temps), made at the interpreter's one activation point."""
    interp.sp -= argc + 1
    interp.store_registers()
    info = decode_method(clo.ptrs[1], interp.heap)
    ctx = interp.activate_frame(interp.ctx, info, clo.ptrs[3], list(args) + clo.ptrs[4:])
    ctx.ptrs[CLOSURE] = clo
    interp.fetch(ctx)


@raw_primitive(207, 209)     # value, value:..., valueNoContextSwitch(:)
def prim_full_closure_value(interp, argc):
    clo = _full_closure(interp.stack[interp.sp - argc])
    if clo is None or clo.ptrs[2] != argc:
        return False
    _activate(interp, clo, argc, interp.stack[interp.sp - argc + 1:interp.sp + 1])
    return True


@raw_primitive(208)         # valueWithArguments:
def prim_full_closure_value_with_arguments(interp, argc):
    if argc != 1:
        return False
    clo = _full_closure(interp.stack[interp.sp - 1])
    args = interp.stack[interp.sp]
    if clo is None or args.__class__ is not SqObject or args.cls is not interp.array_class \
            or clo.ptrs[2] != len(args.ptrs):
        return False
    _activate(interp, clo, 1, list(args.ptrs))
    return True
