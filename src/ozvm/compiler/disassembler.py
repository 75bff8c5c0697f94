"""Decoding of V3 bytecodes (Squeak/Pharo before Sista) into instructions.

`decode(code, start, end)` answers a list of `Instr`: the bytecode's pc, the pc of the next
instruction, an operation name and its operands. The decompiler reads methods through it,
and `disassemble(space, method)` prints a method's bytecodes for people (the mirrors' and the
browser's disassembly).

Operation names and operands (literal indices are 0-based, after the header):
    pushRcvr i, pushTemp i, pushLit i, pushLitVar i, pushSelf, pushConst key,
    pushThisContext, storeRcvr i, popRcvr i, storeTemp i, popTemp i, storeLitVar i,
    popLitVar i, returnSelf, returnConst key, returnTop, blockReturn, pop, dup,
    send (literal index, argument count), superSend (literal index, argument count),
    sendSpecial (special selector index 0-31, argument count),
    jump target, jumpFalse target, jumpTrue target,
    pushNewArray size, consArray size (pops `size` values into a new Array),
    pushRemote (index, vector temp), storeRemote (..), popRemote (..),
    pushClosure (copied count, argument count, block size), callPrimitive n.
`key` of a constant is one of 'true', 'false', 'nil', -1, 0, 1, 2.
"""
from __future__ import annotations

from ..errors import OzError


class BytecodeError(OzError):
    """A compiled method holds a bytecode that the V3 set does not define."""


class Instr:
    __slots__ = ("pc", "next", "op", "arg", "arg2", "arg3")

    def __init__(self, pc, next_pc, op, arg=None, arg2=None, arg3=None):
        self.pc = pc
        self.next = next_pc
        self.op = op
        self.arg = arg
        self.arg2 = arg2
        self.arg3 = arg3

    def operands(self):
        return tuple(x for x in (self.arg, self.arg2, self.arg3) if x is not None)

    def __repr__(self):
        return "<%d %s %r>" % (self.pc, self.op, self.operands())


CONSTANTS = ("true", "false", "nil", -1, 0, 1, 2)
# argument counts of the 32 special selectors (bytecodes 176-207), fixed by the V3 VM
SPECIAL_NARGS = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    # + - < > <= >= = ~= * / \\ @ bitShift: // bitAnd: bitOr:
                 1, 2, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0)    # at: at:put: size next nextPut: atEnd == class blockCopy: value value: do: new new: x y
_EXT_PUSH = ("pushRcvr", "pushTemp", "pushLit", "pushLitVar")
_EXT_STORE = ("storeRcvr", "storeTemp", None, "storeLitVar")
_EXT_POP = ("popRcvr", "popTemp", None, "popLitVar")
_DOUBLE = {2: "pushRcvr", 3: "pushLit", 4: "pushLitVar", 5: "storeRcvr", 6: "popRcvr",
           7: "storeLitVar"}


def decode_one(code, pc: int) -> Instr:
    """The instruction at `pc`."""
    b = code[pc]
    if b < 16:
        return Instr(pc, pc + 1, "pushRcvr", b)
    if b < 32:
        return Instr(pc, pc + 1, "pushTemp", b - 16)
    if b < 64:
        return Instr(pc, pc + 1, "pushLit", b - 32)
    if b < 96:
        return Instr(pc, pc + 1, "pushLitVar", b - 64)
    if b < 104:
        return Instr(pc, pc + 1, "popRcvr", b - 96)
    if b < 112:
        return Instr(pc, pc + 1, "popTemp", b - 104)
    if b == 112:
        return Instr(pc, pc + 1, "pushSelf")
    if b < 120:
        return Instr(pc, pc + 1, "pushConst", CONSTANTS[b - 113])
    if b == 120:
        return Instr(pc, pc + 1, "returnSelf")
    if b < 124:
        return Instr(pc, pc + 1, "returnConst", CONSTANTS[b - 121])
    if b == 124:
        return Instr(pc, pc + 1, "returnTop")
    if b == 125:
        return Instr(pc, pc + 1, "blockReturn")
    if b < 128:
        raise BytecodeError("unused bytecode %d at pc %d" % (b, pc))
    if b < 131:
        b2 = code[pc + 1]
        kind, index = b2 >> 6, b2 & 63
        op = (_EXT_PUSH, _EXT_STORE, _EXT_POP)[b - 128][kind]
        if op is None:
            raise BytecodeError("store into a literal constant at pc %d" % pc)
        return Instr(pc, pc + 2, op, index)
    if b == 131:
        b2 = code[pc + 1]
        return Instr(pc, pc + 2, "send", b2 & 31, b2 >> 5)
    if b == 132:
        b2, b3 = code[pc + 1], code[pc + 2]
        kind = b2 >> 5
        if kind == 0:
            return Instr(pc, pc + 3, "send", b3, b2 & 31)
        if kind == 1:
            return Instr(pc, pc + 3, "superSend", b3, b2 & 31)
        return Instr(pc, pc + 3, _DOUBLE[kind], b3)
    if b == 133:
        b2 = code[pc + 1]
        return Instr(pc, pc + 2, "superSend", b2 & 31, b2 >> 5)
    if b == 134:
        b2 = code[pc + 1]
        return Instr(pc, pc + 2, "send", b2 & 63, b2 >> 6)
    if b == 135:
        return Instr(pc, pc + 1, "pop")
    if b == 136:
        return Instr(pc, pc + 1, "dup")
    if b == 137:
        return Instr(pc, pc + 1, "pushThisContext")
    if b == 138:
        b2 = code[pc + 1]
        if b2 & 128:
            return Instr(pc, pc + 2, "consArray", b2 & 127)
        return Instr(pc, pc + 2, "pushNewArray", b2)
    if b == 139:
        return Instr(pc, pc + 3, "callPrimitive", code[pc + 1] + 256 * code[pc + 2])
    if b < 143:
        op = ("pushRemote", "storeRemote", "popRemote")[b - 140]
        return Instr(pc, pc + 3, op, code[pc + 1], code[pc + 2])
    if b == 143:
        b2 = code[pc + 1]
        size = code[pc + 2] * 256 + code[pc + 3]
        return Instr(pc, pc + 4, "pushClosure", b2 >> 4, b2 & 15, size)
    if b < 152:
        return Instr(pc, pc + 1, "jump", pc + 1 + (b - 143))
    if b < 160:
        return Instr(pc, pc + 1, "jumpFalse", pc + 1 + (b - 151))
    if b < 168:
        return Instr(pc, pc + 2, "jump", pc + 2 + (b - 164) * 256 + code[pc + 1])
    if b < 172:
        return Instr(pc, pc + 2, "jumpTrue", pc + 2 + (b & 3) * 256 + code[pc + 1])
    if b < 176:
        return Instr(pc, pc + 2, "jumpFalse", pc + 2 + (b & 3) * 256 + code[pc + 1])
    if b < 208:
        return Instr(pc, pc + 1, "sendSpecial", b - 176, SPECIAL_NARGS[b - 176])
    return Instr(pc, pc + 1, "send", b & 15, (b - 208) >> 4)


_ENDS = ("returnSelf", "returnConst", "returnTop", "blockReturn")


def decode(code, start: int = 0, end: int = None) -> list:
    """The instructions from `start` up to `end` (default: the end of the bytecodes, found
    by following the control flow: the method's trailer is never decoded)."""
    out = []
    pc = start
    if end is None:
        reach = start          # the furthest pc some jump or block may reach
        while True:
            ins = decode_one(code, pc)
            out.append(ins)
            pc = ins.next
            op = ins.op
            if op in ("jump", "jumpFalse", "jumpTrue"):
                reach = max(reach, ins.arg)
            elif op == "pushClosure":
                reach = max(reach, pc + ins.arg3)
            if pc > reach and (op in _ENDS or (op == "jump" and ins.arg < pc)):
                return out
            if pc >= len(code):
                raise BytecodeError("bytecodes run off the end of the method")
    while pc < end:
        ins = decode_one(code, pc)
        out.append(ins)
        pc = ins.next
    return out


def describe(ins: Instr, literal_text=None, special_text=None) -> str:
    """One instruction as text; `literal_text(i)` and `special_text(i)` name literals and
    special selectors (default: their indices)."""
    lit = literal_text or (lambda i: "lit%d" % i)
    op = ins.op
    if op in ("pushLit", "pushLitVar", "storeLitVar", "popLitVar"):
        return "%s %s" % (op, lit(ins.arg))
    if op in ("send", "superSend"):
        return "%s %s (%d args)" % (op, lit(ins.arg), ins.arg2)
    if op == "sendSpecial":
        return "send %s" % (special_text(ins.arg) if special_text else "special%d" % ins.arg)
    if op in ("jump", "jumpFalse", "jumpTrue"):
        return "%s %d" % (op, ins.arg)
    ops = ins.operands()
    return op if not ops else "%s %s" % (op, " ".join(str(x) for x in ops))


def disassemble(space, method) -> list:
    """Lines `pc <bytes> text` for every bytecode of a guest CompiledMethod."""
    from .decompiler import literal_source, special_selectors
    lits = method.ptrs[1:]
    specials = special_selectors(space)

    def lit_text(i):
        if i >= len(lits):
            return "<literal %d missing>" % i
        try:
            return literal_source(space, lits[i], binding=True)
        except OzError:
            return "<literal %d>" % i

    from ..memory.objects import method_primitive
    code = method.bytes
    lines = []
    if 256 <= method_primitive(method.ptrs[0]) <= 519:
        return lines          # a quick method: the primitive number says it all, no bytecodes
    for ins in decode(code):
        raw = " ".join("%02X" % code[p] for p in range(ins.pc, ins.next))
        lines.append("%4d <%s> %s" % (ins.pc, raw, describe(ins, lit_text, lambda i: specials[i][0])))
    return lines
