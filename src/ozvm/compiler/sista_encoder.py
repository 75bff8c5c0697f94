"""The bytes of the Sista V1 bytecode set (Spur images, the alternate set of the method
header) for the code generator (compiler/codegen.py), beside compiler/v3_encoder.py.

Blocks are full blocks: each is a CompiledBlock of its own (its literals, its bytecodes,
the enclosing method or block as its last literal), made by pushFullClosure (249) from a
literal of the enclosing code. The method and its blocks have headers with the alternate
bytecode set bit (the sign of the header SmallInteger).

Encoding choices, as Pharo's OpalEncoderForSistaV1 makes them: SmallIntegers -32768..32767
and Characters 0..32767 are pushed by pushInteger/pushChar (no literal); an index, argument
count or distance beyond a bytecode's own bits takes extA/extB prefixes (224/225); a
forward jump or branch of 1-8 bytes is one byte, 9-255 two, farther four (with extB); a
backward jump is always extB + jump (four bytes). Closures of clean blocks get no outer
context only when asked (`clean_blocks`).
"""
from __future__ import annotations

from ..errors import CompileError
from ..memory.objects import make_spur_method_header
from .literals import Char

PSEUDO_PUSH = {"self": 76, "super": 76, "true": 77, "false": 78, "nil": 79, "thisContext": 82}
PSEUDO_RETURN = {"self": 88, "true": 89, "false": 90, "nil": 91}
SHORT_INT = (-32768, 32767)
MAX_CHAR = 32767            # extB is signed: pushChar reaches 0..32767
CALL_PRIMITIVE = 248
PUSH_FULL_CLOSURE = 249


def _ext_a(e, value):
    if value:
        if value > 255:
            _ext_a(e, value >> 8)
        e.add(224, value & 255)


def _ext_b_signed(e, value):
    """extB for a signed `value` in -128..127 (one prefix)."""
    e.add(225, value & 255)


class SistaEncoder:
    name = "SistaV1"
    full_blocks = True
    max_literals = 32767        # 15 bits of the Spur header
    jump_back_size = 4

    def __init__(self, family, clean_blocks: bool = False):
        if not family.is_spur:
            raise CompileError("the Sista V1 bytecode set exists only in Spur images")
        self.family = family
        # closures of clean blocks without outer context (pushFullClosure's ignoreOuterContext
        # bit); off by default, as Pharo 8's compiler: SqueakJS's interpreter fails on the bit
        self.clean_blocks = clean_blocks

    # --- constants -----------------------------------------------------------------
    def push_inline_constant(self, e, value) -> bool:
        if value is None or value is True or value is False:
            e.add({None: 79, True: 77, False: 78}[value])
            return True
        if value.__class__ is int and SHORT_INT[0] <= value <= SHORT_INT[1]:
            if value == 0 or value == 1:
                e.add(80 + value)
            else:
                if not 0 <= value <= 255:
                    _ext_b_signed(e, value >> 8)
                e.add(232, value & 255)
            return True
        if value.__class__ is Char and ord(value) <= MAX_CHAR:
            code = ord(value)
            if code > 255:
                e.add(225, code >> 8)
            e.add(233, code & 255)
            return True
        return False

    def needs_literal(self, value) -> bool:
        if value.__class__ is int:
            return not SHORT_INT[0] <= value <= SHORT_INT[1]
        if value.__class__ is Char:
            return ord(value) > MAX_CHAR
        return True

    # --- pushes and stores -----------------------------------------------------------
    def push_literal(self, e, index):
        if index < 32:
            e.add(32 + index)
        else:
            _ext_a(e, index >> 8)
            e.add(228, index & 255)

    def push_litvar(self, e, index):
        if index < 16:
            e.add(16 + index)
        else:
            _ext_a(e, index >> 8)
            e.add(227, index & 255)

    def push_temp(self, e, i):
        if i < 12:
            e.add(64 + i)
        else:
            e.add(229, i)

    def push_inst(self, e, i, long=False):
        """(`long`: the V3 set's married-context form; Sista V1 has none, and the code
        generator asks for it only for V3 code.)"""
        if i < 16:
            e.add(i)
        else:
            _ext_a(e, i >> 8)
            e.add(226, i & 255)

    def push_pseudo(self, e, name):
        e.add(PSEUDO_PUSH[name])

    def push_remote(self, e, index, vector_temp):
        e.add(251, index, vector_temp)

    def store_remote(self, e, index, vector_temp, pop):
        e.add(253 if pop else 252, index, vector_temp)

    def store_temp(self, e, i, pop):
        if pop and i < 8:
            e.add(208 + i)
        else:
            e.add(242 if pop else 245, i)

    def store_inst(self, e, i, pop, long=False):
        if pop and i < 8:
            e.add(200 + i)
        else:
            _ext_a(e, i >> 8)
            e.add(240 if pop else 243, i & 255)

    def store_litvar(self, e, i, pop):
        _ext_a(e, i >> 8)
        e.add(241 if pop else 244, i & 255)

    def pop(self, e):
        e.add(216)

    def dup(self, e):
        e.add(83)

    def new_array(self, e, n):
        e.add(231, n)

    def cons_array(self, e, n):
        if n > 127:
            raise CompileError("brace array of more than 127 elements")
        e.add(231, 0x80 | n)

    # --- sends -------------------------------------------------------------------------
    def special_send(self, e, index):
        if index == 24:
            raise CompileError("special selector 24 has no bytecode in the Sista V1 set")
        e.add(96 + index)

    def send(self, e, index, nargs, is_super):
        if not is_super and index < 16 and nargs < 3:
            e.add(128 + nargs * 16 + index)
            return
        _ext_a(e, index >> 5)
        if nargs > 7:
            if nargs >> 3 > 63:
                raise CompileError("a send with %d arguments" % nargs)
            e.add(225, nargs >> 3)
        e.add(235 if is_super else 234, ((index & 31) << 3) | (nargs & 7))

    def directed_super_send(self, e, index, nargs):
        """A super send whose lookup starts above the class on top of the stack (pushed
        after the arguments): how a full block sends to super (its last literal is its
        outer code, not the class binding)."""
        _ext_a(e, index >> 5)
        if nargs >> 3 > 63:
            raise CompileError("a send with %d arguments" % nargs)
        e.add(225, 64 + (nargs >> 3), 235, ((index & 31) << 3) | (nargs & 7))

    # --- returns -----------------------------------------------------------------------
    def return_pseudo(self, e, name):
        e.add(PSEUDO_RETURN[name])

    def return_top(self, e):
        e.add(92)

    def block_return(self, e):
        e.add(94)

    # --- jumps -------------------------------------------------------------------------
    @staticmethod
    def jump_size(dist):
        if dist == 0:
            return 0
        if 1 <= dist <= 8:
            return 1
        return 2 if 0 <= dist <= 255 else 4

    def _long(self, e, opcode, dist):
        if not -32768 <= dist <= 32767:
            raise CompileError("jump of %d bytes is too long" % dist)
        if not 0 <= dist <= 255:
            _ext_b_signed(e, dist >> 8)
        e.add(opcode, dist & 255)

    def jump(self, e, dist):
        if dist == 0:
            return
        if 1 <= dist <= 8:
            e.add(175 + dist)
        else:
            self._long(e, 237, dist)

    def branch(self, e, on_true, dist):
        if dist == 0:
            e.add(216)      # a branch over nothing is a pop
            return
        if dist < 0:
            raise CompileError("backward conditional jump")
        if 1 <= dist <= 8:
            e.add((183 if on_true else 191) + dist)
        else:
            self._long(e, 238 if on_true else 239, dist)

    def jump_back(self, e, start):
        dist = start - (len(e.code) + self.jump_back_size)
        if dist < -32768:
            raise CompileError("loop of %d bytes is too long" % -dist)
        e.add(225, (dist >> 8) & 255, 237, dist & 255)

    # --- blocks ------------------------------------------------------------------------
    def full_closure(self, e, index, ncopied, ignore_outer):
        if ncopied > 63:
            raise CompileError("a block refers to %d variables of its outer scopes, at most 63"
                               % ncopied)
        _ext_a(e, index >> 8)
        e.add(PUSH_FULL_CLOSURE, index & 255, ncopied | (64 if ignore_outer else 0))

    # --- the method ------------------------------------------------------------------
    def prologue(self, primitive) -> bytes:
        if not primitive:
            return b""
        return bytes((CALL_PRIMITIVE, primitive & 0xFF, primitive >> 8))

    def header(self, nargs, ntemps, nliterals, primitive, large) -> int:
        return make_spur_method_header(nargs, ntemps, nliterals, bool(primitive), large, True,
                                       self.family.small_int_min)
