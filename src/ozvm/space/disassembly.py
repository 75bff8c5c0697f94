"""Decoding and printing the bytecodes of a V3 CompiledMethod (the Blue Book set, plus the
closure bytecodes 138-143 of 6504/6505 images).

`decode(code, has_closures)` answers `Instruction`s; `disassemble(...)` prints them with
their pc as the image counts it (1-based byte index counting the header and literal
frame: the first bytecode of a method with n literals is at pc 4 * (n + 1) + 1), so the
pc a ContextMirror shows can be found in the listing.

Knowing nothing of spaces, it is given the literals and a `describe` function that
prints one guest object, and the special selectors (from the special objects array).
"""
from __future__ import annotations

ARITH_SELECTORS = ["+", "-", "<", ">", "<=", ">=", "=", "~=", "*", "/", "\\\\", "@",
                   "bitShift:", "//", "bitAnd:", "bitOr:"]
SPECIAL_SELECTORS = ["at:", "at:put:", "size", "next", "nextPut:", "atEnd", "==", "class",
                     "blockCopy:", "value", "value:", "do:", "new", "new:", "x", "y"]
_ARGC = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
         1, 2, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0]
_CONSTANTS = {112: "self", 113: "true", 114: "false", 115: "nil", 116: "-1", 117: "0",
              118: "1", 119: "2"}
_RETURNS = {120: "self", 121: "true", 122: "false", 123: "nil"}


class Instruction:
    """One decoded bytecode.

    offset   0-based index into the method's bytecodes
    size     bytes it takes
    op       a short operation name (push_temp, send, jump_if_false, ...)
    arg      its main operand (an index, a jump target offset, a literal index...)
    extra    a second operand where there is one (argument count of a send, ...)
    """

    __slots__ = ("offset", "size", "op", "arg", "extra", "bytes")

    def __init__(self, offset, size, op, arg=None, extra=None, raw=b""):
        self.offset = offset
        self.size = size
        self.op = op
        self.arg = arg
        self.extra = extra
        self.bytes = raw

    def __repr__(self):
        return "<%d %s %r %r>" % (self.offset, self.op, self.arg, self.extra)


def decode(code, has_closures: bool = True) -> list:
    """Every instruction of `code` (a method's bytecodes), in order. Bytes after the
    end (trailers) decode as instructions too; an instruction cut short by the end of the
    code is answered as op 'truncated'."""
    out = []
    n = len(code)
    i = 0
    while i < n:
        b = code[i]
        size, op, arg, extra = _decode_one(code, i, b, has_closures)
        if i + size > n:
            out.append(Instruction(i, n - i, "truncated", b, None, bytes(code[i:n])))
            break
        out.append(Instruction(i, size, op, arg, extra, bytes(code[i:i + size])))
        i += size
    return out


def _byte(code, i):
    return code[i] if i < len(code) else 0


def _decode_one(code, i, b, closures):
    if b < 16:
        return 1, "push_inst_var", b, None
    if b < 32:
        return 1, "push_temp", b - 16, None
    if b < 64:
        return 1, "push_literal", b - 32, None
    if b < 96:
        return 1, "push_literal_variable", b - 64, None
    if b < 104:
        return 1, "pop_store_inst_var", b - 96, None
    if b < 112:
        return 1, "pop_store_temp", b - 104, None
    if b < 120:
        return 1, "push_constant", _CONSTANTS[b], None
    if b < 124:
        return 1, "return_constant", _RETURNS[b], None
    if b == 124:
        return 1, "return_top", None, None
    if b == 125:
        return 1, "block_return_top", None, None
    if b < 128:
        return 1, "unknown", b, None
    if b <= 130:
        d = _byte(code, i + 1)
        kind = ("inst_var", "temp", "literal", "literal_variable")[d >> 6]
        name = ("push_", "store_", "pop_store_")[b - 128] + kind
        return 2, name, d & 63, None
    if b == 131:
        d = _byte(code, i + 1)
        return 2, "send", d & 31, d >> 5
    if b == 132:
        d1, d2 = _byte(code, i + 1), _byte(code, i + 2)
        what = d1 >> 5
        if what == 0:
            return 3, "send", d2, d1 & 31
        if what == 1:
            return 3, "super_send", d2, d1 & 31
        return 3, ("", "", "push_inst_var", "push_literal", "push_literal_variable",
                   "store_inst_var", "pop_store_inst_var", "store_literal_variable")[what], d2, None
    if b == 133:
        d = _byte(code, i + 1)
        return 2, "super_send", d & 31, d >> 5
    if b == 134:
        d = _byte(code, i + 1)
        return 2, "send", d & 63, d >> 6
    if b == 135:
        return 1, "pop", None, None
    if b == 136:
        return 1, "dup", None, None
    if b == 137:
        return 1, "push_this_context", None, None
    if closures and b == 138:
        d = _byte(code, i + 1)
        return 2, ("pop_into_new_array" if d & 128 else "push_new_array"), d & 127, None
    if closures and 140 <= b <= 142:
        name = ("push_temp_in_vector", "store_temp_in_vector", "pop_store_temp_in_vector")[b - 140]
        return 3, name, _byte(code, i + 1), _byte(code, i + 2)
    if closures and b == 143:
        d = _byte(code, i + 1)
        size = (_byte(code, i + 2) << 8) | _byte(code, i + 3)
        # arg: (num args, num copied); extra: offset just after the block's code
        return 4, "push_closure", (d & 15, d >> 4), i + 4 + size
    if b < 144:
        return 1, "unknown", b, None
    if b < 152:
        return 1, "jump", i + 1 + (b - 143), None
    if b < 160:
        return 1, "jump_if_false", i + 1 + (b - 151), None
    if b < 168:
        d = _byte(code, i + 1)
        return 2, "jump", i + 2 + (b - 164) * 256 + d, None
    if b < 172:
        return 2, "jump_if_true", i + 2 + (b & 3) * 256 + _byte(code, i + 1), None
    if b < 176:
        return 2, "jump_if_false", i + 2 + (b & 3) * 256 + _byte(code, i + 1), None
    if b < 208:
        k = b - 176
        return 1, "special_send", k, _ARGC[k]
    return 1, "send", b & 15, (b - 208) >> 4


def special_selector_name(index: int, names=None) -> str:
    """Selector of special send `index` (0-31): from the image's table when given."""
    if names and index < len(names) and names[index]:
        return names[index]
    return (ARITH_SELECTORS + SPECIAL_SELECTORS)[index]


def format_instruction(ins: Instruction, literals, describe, temp_names=None,
                       inst_var_names=None, special_names=None) -> str:
    """A readable text for one instruction. `literals` are the method's literals (guest
    objects), `describe(obj)` prints one of them; `special_names` the 32 special selectors."""
    op, arg, extra = ins.op, ins.arg, ins.extra

    def lit(k):
        if 0 <= k < len(literals):
            return describe(literals[k])
        return "<literal %d missing>" % k

    def litvar(k):
        if 0 <= k < len(literals):
            return describe(literals[k], True)
        return "<literal %d missing>" % k

    def temp(k):
        if temp_names and k < len(temp_names):
            return "%s (temp %d)" % (temp_names[k], k)
        return "temp %d" % k

    def ivar(k):
        if inst_var_names and k < len(inst_var_names):
            return "%s (field %d)" % (inst_var_names[k], k)
        return "field %d" % k

    if op.endswith("inst_var"):
        return "%s %s" % (op[:-len("inst_var")].replace("_", " ").strip(), ivar(arg))
    if op.endswith("_temp"):
        return "%s %s" % (op[:-len("temp")].replace("_", " ").strip(), temp(arg))
    if op.endswith("literal_variable"):
        return "%s %s" % (op[:-len("literal_variable")].replace("_", " ").strip(), "global " + litvar(arg))
    if op.endswith("literal"):
        return "push literal %s" % lit(arg)
    if op in ("push_constant", "return_constant"):
        return "%s %s" % (op.split("_")[0], arg)
    if op == "send" or op == "super_send":
        sel = lit(arg)
        if sel.startswith("#"):
            sel = sel[1:]
        return "%s %s (%d arg%s)" % ("send" if op == "send" else "super send", sel, extra,
                                     "" if extra == 1 else "s")
    if op == "special_send":
        return "send %s (special %d)" % (special_selector_name(arg, special_names), arg)
    if op.startswith("jump"):
        return "%s to %d" % (op.replace("_", " "), arg)
    if op in ("push_new_array", "pop_into_new_array"):
        return "%s of size %d" % (op.replace("_", " "), arg)
    if op.endswith("temp_in_vector"):
        return "%s %d of vector in temp %d" % (op.replace("_", " "), arg, extra)
    if op == "push_closure":
        return "push closure (%d args, %d copied) through %d" % (arg[0], arg[1], extra)
    if op in ("unknown", "truncated"):
        return "%s bytecode %d" % (op, arg)
    return op.replace("_", " ")


def disassemble(literals, code, describe, has_closures=True, temp_names=None,
                inst_var_names=None, special_names=None, pc_base=1) -> list:
    """Lines 'pc  <bytes>  text' for every instruction. `pc_base` is the pc of the first
    bytecode (the image's convention: 4 * (number of literals + 1) + 1); jump targets are
    printed in the same numbering."""
    lines = []
    for ins in decode(code, has_closures):
        if ins.op.startswith("jump"):
            shown = Instruction(ins.offset, ins.size, ins.op, ins.arg + pc_base, ins.extra, ins.bytes)
        elif ins.op == "push_closure":
            shown = Instruction(ins.offset, ins.size, ins.op, ins.arg, ins.extra + pc_base, ins.bytes)
        else:
            shown = ins
        text = format_instruction(shown, literals, describe, temp_names, inst_var_names, special_names)
        lines.append("%5d  %-12s %s" % (ins.offset + pc_base, " ".join("%02x" % c for c in ins.bytes), text))
    return lines
