"""Decoding of V3 bytecodes (Squeak/Pharo before Sista) into instructions, and their printing.

`decode(code, start, end)` answers a list of `Instr`: the bytecode's pc (0-based index into
the bytecodes), the pc of the next instruction, an operation name and its operands; the
decompiler reads methods through it. `decode_tolerant(code, closures)` decodes damaged
methods too (ops 'unknown' and 'truncated'). `format_lines(code, literals, describe, ...)`
prints instructions for people, pcs as the image counts them: the one formatter behind the
mirrors' disassembly (`oz browse`), `oz compile` and `disassemble(space, method)`.

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


def special_send_bytecode(index: int) -> int:
    """The bytecode that sends special selector `index` (0-31)."""
    return 176 + index


_ENDS = ("returnSelf", "returnConst", "returnTop", "blockReturn", "blockReturnNil")


def decode(code, start: int = 0, end: int = None, one=decode_one) -> list:
    """The instructions from `start` up to `end` (default: the end of the bytecodes, found
    by following the control flow: the method's trailer is never decoded). `one` decodes
    one instruction: V3's by default, Sista V1's for compiler/sista_disassembler.py (whose
    jumpNotInstanceOf jumps to its second operand, and blockReturnNil ends as a return)."""
    out = []
    pc = start
    if end is None:
        reach = start          # the furthest pc some jump or block may reach
        while True:
            ins = one(code, pc)
            out.append(ins)
            pc = ins.next
            op = ins.op
            if op in ("jump", "jumpFalse", "jumpTrue"):
                reach = max(reach, ins.arg)
            elif op == "jumpNotInstanceOf":
                reach = max(reach, ins.arg2)
            elif op == "pushClosure":
                reach = max(reach, pc + ins.arg3)
            if pc > reach and (op in _ENDS or (op == "jump" and ins.arg < pc)):
                return out
            if pc >= len(code):
                raise BytecodeError("bytecodes run off the end of the method")
    while pc < end:
        ins = one(code, pc)
        out.append(ins)
        pc = ins.next
    return out


def decode_tolerant(code, closures: bool = True) -> list:
    """Every instruction of `code` (bytecodes without trailer), in order, never raising: a
    bytecode the V3 set does not define (or, with `closures` false, one of the closure
    bytecodes 138-143 of a pre-closure image) is op 'unknown' (arg: the bytecode), one cut
    short by the end of the code op 'truncated'. For browsing damaged methods."""
    out = []
    n = len(code)
    pc = 0
    while pc < n:
        b = code[pc]
        if not closures and 138 <= b <= 143:
            ins = Instr(pc, pc + 1, "unknown", b)
        else:
            try:
                ins = decode_one(code, pc)
            except IndexError:
                out.append(Instr(pc, n, "truncated", b))
                break
            except BytecodeError:     # 126, 127, or an extended store into a literal constant
                ins = Instr(pc, pc + (2 if 128 <= b <= 130 else 1), "unknown", b)
        out.append(ins)
        pc = ins.next
    return out


def bytecode_set(alternate: bool):
    """The decoding module (its `decode`, `decode_tolerant`) of a method's bytecode set:
    this one, or compiler/sista_disassembler.py for a method whose header selects the
    alternate set (`family.method_alternate_bytecodes`)."""
    if alternate:
        from . import sista_disassembler
        return sista_disassembler
    import sys
    return sys.modules[__name__]


def method_bytecode_set(family, method):
    """`bytecode_set` of a guest compiled method (or CompiledBlock) of a heap of `family`."""
    return bytecode_set(family.method_alternate_bytecodes(method.ptrs[0]))


# --- printing for people -------------------------------------------------------------

# default names of the 32 special selectors (an image's own table wins when given)
SPECIAL_SELECTORS = ("+", "-", "<", ">", "<=", ">=", "=", "~=", "*", "/", "\\\\", "@",
                     "bitShift:", "//", "bitAnd:", "bitOr:", "at:", "at:put:", "size", "next",
                     "nextPut:", "atEnd", "==", "class", "blockCopy:", "value", "value:", "do:",
                     "new", "new:", "x", "y")
_ACCESS = {"push": "push", "store": "store", "pop": "pop store"}
_FIELD_OPS = dict((k + "Rcvr", v) for k, v in _ACCESS.items())
_TEMP_OPS = dict((k + "Temp", v) for k, v in _ACCESS.items())
_GLOBAL_OPS = dict((k + "LitVar", v) for k, v in _ACCESS.items())
_REMOTE_OPS = dict((k + "Remote", v) for k, v in _ACCESS.items())
_JUMPS = {"jump": "jump", "jumpFalse": "jump if false", "jumpTrue": "jump if true"}
_SISTA_PLAIN = {"pushThisProcess": "push this process", "blockReturnNil": "block return nil",
                "nop": "nop", "trap": "trap"}
_REMOTE_INST_OPS = dict((k + "RemoteInst", v) for k, v in _ACCESS.items())
_PLAIN = {"pushSelf": "push self", "returnSelf": "return self", "returnTop": "return top",
          "blockReturn": "block return top", "pop": "pop", "dup": "dup",
          "pushThisContext": "push this context"}


def special_selector_name(index: int, names=None) -> str:
    """Selector of special send `index` (0-31): from the image's table `names` when it has one."""
    if names and index < len(names) and names[index]:
        return names[index]
    return SPECIAL_SELECTORS[index]


def instruction_text(ins: Instr, literals, describe, pc_base: int = 1, temp_names=None,
                     inst_var_names=None, special_names=None) -> str:
    """One instruction as readable text. `literals` are the method's literals and
    `describe(literal)` / `describe(literal, True)` print one as a constant / as a variable
    (an association: its key); jump targets are shown as pcs counted from `pc_base` (the pc
    of the first bytecode); `temp_names`, `inst_var_names` and `special_names` (the image's
    32 special selectors) name what they can."""
    op = ins.op
    arg = ins.arg

    def lit(k, variable=False):
        if 0 <= k < len(literals):
            return describe(literals[k], True) if variable else describe(literals[k])
        return "<literal %d missing>" % k

    if op in _PLAIN:
        return _PLAIN[op]
    if op in _TEMP_OPS:
        if temp_names and arg < len(temp_names):
            return "%s %s (temp %d)" % (_TEMP_OPS[op], temp_names[arg], arg)
        return "%s temp %d" % (_TEMP_OPS[op], arg)
    if op in _FIELD_OPS:
        if inst_var_names and arg < len(inst_var_names):
            return "%s %s (field %d)" % (_FIELD_OPS[op], inst_var_names[arg], arg)
        return "%s field %d" % (_FIELD_OPS[op], arg)
    if op in _GLOBAL_OPS:
        return "%s global %s" % (_GLOBAL_OPS[op], lit(arg, True))
    if op == "pushLit":
        return "push const %s" % lit(arg)
    if op in ("pushConst", "returnConst"):
        return "%s %s" % ("push" if op == "pushConst" else "return", arg)
    if op in ("send", "superSend"):
        sel = lit(arg)
        if sel.startswith("#"):
            sel = sel[1:]
        return "%s %s (%d arg%s)" % ("send" if op == "send" else "super send", sel, ins.arg2,
                                     "" if ins.arg2 == 1 else "s")
    if op == "sendSpecial":
        return "send %s (special %d)" % (special_selector_name(arg, special_names), arg)
    if op in _JUMPS:
        return "%s to %d" % (_JUMPS[op], arg + pc_base)
    if op == "pushNewArray":
        return "push new array of size %d" % arg
    if op == "consArray":
        return "pop into new array of size %d" % arg
    if op in _REMOTE_OPS:
        return "%s temp in vector %d of vector in temp %d" % (_REMOTE_OPS[op], arg, ins.arg2)
    if op == "pushClosure":
        return "push closure (%d args, %d copied) through %d" % (ins.arg2, arg,
                                                               ins.next + ins.arg3 + pc_base)
    if op == "callPrimitive":
        return "call primitive %d" % arg
    # the Sista V1 set's own instructions (compiler/sista_disassembler.py)
    if op in _SISTA_PLAIN:
        return _SISTA_PLAIN[op]
    if op == "pushInteger":
        return "push %d" % arg
    if op == "pushChar":
        return "push $%s" % chr(arg) if 32 < arg < 127 else "push Character value: %d" % arg
    if op == "directedSuperSend":
        return "directed super send %s (%d args)" % (lit(arg).lstrip("#"), ins.arg2)
    if op == "pushFullClosure":
        return "push full closure %s (%d copied%s%s)" % (
            lit(arg), ins.arg2, ", no outer context" if ins.arg3 & 1 else "",
            ", receiver on the stack" if ins.arg3 & 2 else "")
    if op == "inlinePrimitive":
        return "inline primitive %d" % arg
    if op in _REMOTE_INST_OPS:
        return "%s field %d of the object in temp %d" % (_REMOTE_INST_OPS[op], arg, ins.arg2)
    if op == "jumpNotInstanceOf":
        return "jump to %d if not an instance of %s" % (ins.arg2 + pc_base, lit(arg))
    return "%s bytecode %d" % (op, arg)       # 'unknown', 'truncated'


def format_lines(code, literals, describe, instructions=None, pc_base: int = None,
                 closures: bool = True, temp_names=None, inst_var_names=None,
                 special_names=None) -> list:
    """Lines 'pc  bytes  text' for `instructions` (default: `decode_tolerant(code, closures)`),
    pcs as the image counts them: 1-based, counting the header and literal frame, so the
    first bytecode is at `pc_base` = 4 * (number of literals + 1) + 1 (the default) and the
    pc a context shows can be found in the listing. See `instruction_text` for the rest."""
    if pc_base is None:
        pc_base = 4 * (len(literals) + 1) + 1
    if instructions is None:
        instructions = decode_tolerant(code, closures)
    lines = []
    for ins in instructions:
        raw = " ".join("%02x" % c for c in code[ins.pc:ins.next])
        text = instruction_text(ins, literals, describe, pc_base, temp_names, inst_var_names,
                                special_names)
        lines.append("%5d  %-12s %s" % (ins.pc + pc_base, raw, text))
    return lines


def disassemble(space, method) -> list:
    """`format_lines` of a guest CompiledMethod, its literals printed as source (decoded
    strictly, following the control flow to the last return; none for a quick method)."""
    from .decompiler import literal_source, special_selectors
    if 256 <= space.heap.family.method_primitive(method) <= 519 and not space.heap.family.is_spur:
        return []           # a quick method: the primitive number says it all, no bytecodes

    def describe(obj, variable=False):
        try:
            return literal_source(space, obj, binding=variable)
        except OzError:
            if obj.__class__ is not int and obj.bytes is not None and obj.ptrs is not None:
                return space.describe(obj)      # compiled code: a full block's CompiledBlock
            return "<unprintable literal>"

    family = space.heap.family
    return format_lines(method.bytes, method.ptrs[1:], describe,
                        method_bytecode_set(family, method).decode(method.bytes),
                        pc_base=family.pc_offset(method),
                        special_names=[name for name, _ in special_selectors(space)])
