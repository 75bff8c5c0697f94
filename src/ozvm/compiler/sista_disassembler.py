"""Decoding of the Sista V1 bytecode set (the alternate set of Spur images: Pharo 6 and
later), into the same `Instr`s as the V3 decoder (compiler/disassembler.py), so that the
printing, the decompiler and the browsing tools read both sets alike.

A method uses this set when its header says so (`family.method_alternate_bytecodes`,
a negative header in Spur). Prefix bytecodes 224 (extA, unsigned: extA * 256 + byte) and
225 (extB: the first one signed, later ones append unsigned bytes) extend the next
bytecode; an `Instr` covers its prefixes (its pc is the first prefix's).

Operation names beyond the V3 ones (disassembler.py lists those; literal indices 0-based):
    pushInteger n (232), pushChar code (233), pushThisProcess (82 with extB 1),
    blockReturnNil (93), nop (95), trap (217), directedSuperSend (literal, argument count:
    235 with extB >= 64, the class on the stack), pushFullClosure (literal index, copied
    count, flags: 1 ignore the outer context, 2 receiver on the stack),
    inlinePrimitive n (248 with its m bit), pushRemoteInst / storeRemoteInst /
    popRemoteInst (index, temp: 251-253 with the s bit: a field of the object in a temp),
    jumpNotInstanceOf (literal, target) (254).
pushClosure (250, a closure inside the method as in V3) keeps V3's operands (copied, args,
block size); its extensions may make it longer.

Facts: the class comment of Pharo's/Squeak's EncoderForSistaV1 (the bytecode table) and
VMMaker's StackInterpreter (extension arithmetic).
"""
from __future__ import annotations

from .disassembler import SPECIAL_NARGS, BytecodeError, Instr
from .disassembler import decode as v3_decode

EXT_A = 224
EXT_B = 225
# bytecodes 96-127: special selectors 0-31 (120, blockCopy:'s slot, is unassigned)
FIRST_SPECIAL = 96
_PUSH_1 = {76: ("pushSelf",), 77: ("pushConst", "true"), 78: ("pushConst", "false"),
           79: ("pushConst", "nil"), 80: ("pushConst", 0), 81: ("pushConst", 1),
           83: ("dup",), 88: ("returnSelf",), 89: ("returnConst", "true"),
           90: ("returnConst", "false"), 91: ("returnConst", "nil"), 92: ("returnTop",),
           93: ("blockReturnNil",), 95: ("nop",), 216: ("pop",), 217: ("trap",)}
_TWO = {226: "pushRcvr", 227: "pushLitVar", 228: "pushLit", 229: "pushTemp", 240: "popRcvr",
        241: "popLitVar", 242: "popTemp", 243: "storeRcvr", 244: "storeLitVar", 245: "storeTemp"}
_EXTENDED_BY_A = (226, 227, 228, 240, 241, 243, 244)       # the index grows by extA * 256
_REMOTE = {251: ("pushRemote", "pushRemoteInst"), 252: ("storeRemote", "storeRemoteInst"),
           253: ("popRemote", "popRemoteInst")}


def decode_one(code, pc: int) -> Instr:
    """The instruction at `pc`, with its extension prefixes."""
    start = pc
    ext_a = ext_b = 0
    n_b = 0
    b = code[pc]
    while b == EXT_A or b == EXT_B:
        byte = code[pc + 1]
        if b == EXT_A:
            ext_a = (ext_a << 8) + byte
        else:
            ext_b = byte - 256 if n_b == 0 and byte > 127 else (ext_b << 8) + byte
            n_b += 1
        pc += 2
        b = code[pc]
    if b < 224:
        nxt = pc + 1
        if b < 16:
            return Instr(start, nxt, "pushRcvr", b)
        if b < 32:
            return Instr(start, nxt, "pushLitVar", b - 16)
        if b < 64:
            return Instr(start, nxt, "pushLit", b - 32)
        if b < 76:
            return Instr(start, nxt, "pushTemp", b - 64)
        if b == 82:
            if ext_b == 1:
                return Instr(start, nxt, "pushThisProcess")
            return Instr(start, nxt, "pushThisContext")
        simple = _PUSH_1.get(b)
        if simple is not None:
            return Instr(start, nxt, *simple)
        if b == 94:
            if ext_a:
                raise BytecodeError("block return from an enclosing block (extA %d) at pc %d"
                                    % (ext_a, start))
            return Instr(start, nxt, "blockReturn")
        if 96 <= b < 128:
            i = b - FIRST_SPECIAL
            if b == 120:
                raise BytecodeError("unassigned bytecode 120 at pc %d" % start)
            return Instr(start, nxt, "sendSpecial", i, SPECIAL_NARGS[i])
        if b < 176:
            return Instr(start, nxt, "send", b & 15, (b - 128) >> 4)
        if b < 184:
            return Instr(start, nxt, "jump", nxt + (b & 7) + 1)
        if b < 192:
            return Instr(start, nxt, "jumpTrue", nxt + (b & 7) + 1)
        if b < 200:
            return Instr(start, nxt, "jumpFalse", nxt + (b & 7) + 1)
        if b < 208:
            return Instr(start, nxt, "popRcvr", b - 200)
        if b < 216:
            return Instr(start, nxt, "popTemp", b - 208)
        raise BytecodeError("unassigned bytecode %d at pc %d" % (b, start))
    if b < 248:
        b2 = code[pc + 1]
        nxt = pc + 2
        op = _TWO.get(b)
        if op is not None:
            return Instr(start, nxt, op, b2 + (ext_a << 8 if b in _EXTENDED_BY_A else 0))
        if b == 231:
            if b2 & 128:
                return Instr(start, nxt, "consArray", b2 & 127)
            return Instr(start, nxt, "pushNewArray", b2)
        if b == 232:
            return Instr(start, nxt, "pushInteger", b2 + (ext_b << 8))
        if b == 233:
            return Instr(start, nxt, "pushChar", b2 + (ext_b << 8))
        if b == 234:
            return Instr(start, nxt, "send", (b2 >> 3) + (ext_a << 5), (b2 & 7) + (ext_b << 3))
        if b == 235:
            if ext_b >= 64:
                return Instr(start, nxt, "directedSuperSend", (b2 >> 3) + (ext_a << 5),
                             (b2 & 7) + ((ext_b & 63) << 3))
            return Instr(start, nxt, "superSend", (b2 >> 3) + (ext_a << 5), (b2 & 7) + (ext_b << 3))
        if b == 237:
            return Instr(start, nxt, "jump", nxt + b2 + (ext_b << 8))
        if b == 238 or b == 239:
            return Instr(start, nxt, "jumpTrue" if b == 238 else "jumpFalse", nxt + b2 + (ext_b << 8))
        raise BytecodeError("unassigned bytecode %d at pc %d" % (b, start))
    b2 = code[pc + 1]
    b3 = code[pc + 2]
    nxt = pc + 3
    if b == 248:
        n = b2 + ((b3 & 31) << 8)
        if b3 & 128:
            return Instr(start, nxt, "inlinePrimitive", n)
        return Instr(start, nxt, "callPrimitive", n)
    if b == 249:
        flags = (1 if b3 & 64 else 0) | (2 if b3 & 128 else 0)
        return Instr(start, nxt, "pushFullClosure", b2 + (ext_a << 8), b3 & 63, flags)
    if b == 250:
        nargs = (b2 & 7) + (ext_a % 16) * 8
        ncopied = ((b2 >> 3) & 7) + (ext_a // 16) * 8
        return Instr(start, nxt, "pushClosure", ncopied, nargs, b3 + (ext_b << 8))
    if b in _REMOTE:
        plain, inst = _REMOTE[b]
        return Instr(start, nxt, inst if b3 & 128 else plain, b2, b3 & 127)
    if b == 254:
        return Instr(start, nxt, "jumpNotInstanceOf", b2 + (ext_a << 8), nxt + b3 + (ext_b << 8))
    raise BytecodeError("unassigned bytecode %d at pc %d" % (b, start))


def decode(code, start: int = 0, end: int = None) -> list:
    """The instructions from `start` up to `end` (default: the end of the bytecodes, found
    by following the control flow: the trailer is never decoded), as V3's decode finds them."""
    return v3_decode(code, start, end, decode_one)


def decode_tolerant(code, closures: bool = True) -> list:
    """Every instruction of `code` (bytecodes without trailer), never raising: an unassigned
    bytecode is op 'unknown' (arg: the bytecode), one cut short by the end 'truncated'."""
    out = []
    n = len(code)
    pc = 0
    while pc < n:
        try:
            ins = decode_one(code, pc)
        except IndexError:
            out.append(Instr(pc, n, "truncated", code[pc]))
            break
        except BytecodeError:
            b = code[pc]
            size = 1 if b < 224 else (2 if b < 248 else 3)
            ins = Instr(pc, min(pc + size, n), "unknown", b)
        out.append(ins)
        pc = ins.next
    return out


def special_send_bytecode(index: int) -> int:
    """The bytecode that sends special selector `index` (0-31)."""
    return FIRST_SPECIAL + index
