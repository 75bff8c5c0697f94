"""The bytes of the V3 bytecode set (Squeak's blue-book set, the 6504/6505 closure bytecodes
138-143; callPrimitive 139 in Spur images) for the code generator (compiler/codegen.py).

The code generator walks the parse tree and keeps the operand stack depth; it asks its
encoder (this one, or compiler/sista_encoder.py's) for the bytes of each instruction, how
long a jump will be, and what a method's header and first bytecodes are. Every method
appends to an `Emitter` (codegen.py) and never touches the depth.
"""
from __future__ import annotations

from ..errors import CompileError

QUICK_CONSTANTS = {-1: 116, 0: 117, 1: 118, 2: 119}
PSEUDO_PUSH = {"self": 112, "super": 112, "true": 113, "false": 114, "nil": 115, "thisContext": 137}
PSEUDO_RETURN = {"self": 120, "true": 121, "false": 122, "nil": 123}


class V3Encoder:
    name = "V3"
    full_blocks = False         # blocks are closures inside their method's bytecodes
    max_literals = 256          # the V3 header's 8 bits (more than a Spur header's sends reach)
    jump_back_size = 2          # a backward jump is always the 2-byte long jump

    def __init__(self, family):
        self.family = family

    # --- constants -----------------------------------------------------------------
    def push_inline_constant(self, e, value) -> bool:
        """Push `value` (an int, nil, true or false) without a literal slot when the set can:
        True when done."""
        if value is None or value is True or value is False:
            e.add({None: 115, True: 113, False: 114}[value])
            return True
        if value.__class__ is int and value in QUICK_CONSTANTS:
            e.add(QUICK_CONSTANTS[value])
            return True
        return False

    def needs_literal(self, value) -> bool:
        """Whether a literal constant takes a slot of the literal frame."""
        return not (value.__class__ is int and value in QUICK_CONSTANTS)

    # --- pushes and stores -----------------------------------------------------------
    def push_literal(self, e, index):
        if index < 32:
            e.add(32 + index)
        elif index < 64:
            e.add(128, 0x80 | index)
        else:
            e.add(132, 0x60, index)

    def push_litvar(self, e, index):
        if index < 32:
            e.add(64 + index)
        elif index < 64:
            e.add(128, 0xC0 | index)
        else:
            e.add(132, 0x80, index)

    def push_temp(self, e, i):
        if i < 16:
            e.add(16 + i)
        else:
            e.add(128, 0x40 | i)

    def push_inst(self, e, i, long=False):
        """`long`: the long form whatever `i` (Squeak 5 and Opal reach the context class's
        fields so: the bytecodes the VM checks for married contexts)."""
        if long:
            e.add(132, 0x40, i)
        elif i < 16:
            e.add(i)
        elif i < 64:
            e.add(128, i)
        else:
            e.add(132, 0x40, i)

    def push_pseudo(self, e, name):
        e.add(PSEUDO_PUSH[name])

    def push_remote(self, e, index, vector_temp):
        e.add(140, index, vector_temp)

    def store_remote(self, e, index, vector_temp, pop):
        e.add(142 if pop else 141, index, vector_temp)

    def store_temp(self, e, i, pop):
        if pop and i < 8:
            e.add(104 + i)
        else:
            e.add(130 if pop else 129, 0x40 | i)

    def store_inst(self, e, i, pop, long=False):
        if long:
            e.add(132, 0xC0 if pop else 0xA0, i)
        elif pop and i < 8:
            e.add(96 + i)
        elif i < 64:
            e.add(130 if pop else 129, i)
        else:
            e.add(132, 0xC0 if pop else 0xA0, i)

    def store_litvar(self, e, i, pop):
        if i < 64:
            e.add(130 if pop else 129, 0xC0 | i)
        elif pop:
            e.add(132, 0xE0, i, 135)
        else:
            e.add(132, 0xE0, i)

    def pop(self, e):
        e.add(135)

    def dup(self, e):
        e.add(136)

    def new_array(self, e, n):
        e.add(138, n)

    def cons_array(self, e, n):
        if n > 127:
            raise CompileError("brace array of more than 127 elements")
        e.add(138, 0x80 | n)

    # --- sends -------------------------------------------------------------------------
    def special_send(self, e, index):
        e.add(176 + index)

    def send(self, e, index, nargs, is_super):
        if not is_super and index < 16 and nargs < 3:
            e.add(208 + nargs * 16 + index)
        elif index < 32 and nargs < 8:
            e.add(133 if is_super else 131, nargs * 32 + index)
        elif not is_super and index < 64 and nargs < 4:
            e.add(134, nargs * 64 + index)
        else:
            e.add(132, nargs + (32 if is_super else 0), index)

    # --- returns -----------------------------------------------------------------------
    def return_pseudo(self, e, name):
        e.add(PSEUDO_RETURN[name])

    def return_top(self, e):
        e.add(124)

    def block_return(self, e):
        e.add(125)

    # --- jumps -------------------------------------------------------------------------
    @staticmethod
    def jump_size(dist):
        if dist == 0:
            return 0
        return 1 if 1 <= dist <= 8 else 2

    def jump(self, e, dist):
        if dist == 0:
            return
        if 1 <= dist <= 8:
            e.add(143 + dist)
        else:
            if not -1024 <= dist <= 1023:
                raise CompileError("jump of %d bytes is too long" % dist)
            e.add(160 + (dist >> 8) + 4, dist & 255)

    def branch(self, e, on_true, dist):
        if dist == 0:
            e.add(135)      # a branch over nothing is a pop
            return
        if not on_true and 1 <= dist <= 8:
            e.add(151 + dist)
            return
        if not 0 <= dist <= 1023:
            raise CompileError("conditional jump of %d bytes is too long" % dist)
        e.add((168 if on_true else 172) + (dist >> 8), dist & 255)

    def jump_back(self, e, start):
        """A jump to `start` (an offset in e.code) from the end of e.code."""
        dist = start - (len(e.code) + self.jump_back_size)
        if dist < -1024:
            raise CompileError("loop of %d bytes is too long" % -dist)
        e.add(160 + (dist >> 8) + 4, dist & 255)

    # --- blocks ------------------------------------------------------------------------
    def closure(self, e, ncopied, nargs, size):
        """The closure bytecode before a block body of `size` bytes (6504/6505, Spur)."""
        if size > 65535:
            raise CompileError("block body too long")
        e.add(143, (ncopied << 4) | nargs, size >> 8, size & 255)

    # --- the method ------------------------------------------------------------------
    def prologue(self, primitive) -> bytes:
        """The bytecodes a method with `primitive` starts with (Spur: callPrimitive)."""
        return self.family.method_prologue(primitive)

    def header(self, nargs, ntemps, nliterals, primitive, large) -> int:
        return self.family.make_method_header(nargs, ntemps, nliterals, primitive, large)
