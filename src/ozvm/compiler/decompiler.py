"""The decompiler: a guest CompiledMethod back to readable Smalltalk source.

The shared images have no sources file, so this is how people read their methods.
`decompile(space, method, cls=None, selector=None)` answers the method's source: the
selector pattern, the primitive, the temporaries, then the statements.

How it works (the idea of Squeak's Decompiler): the bytecodes are executed symbolically
with a stack of expression trees; sends, stores and pops build the statements. The control
structures the compiler inlines are recognised from their jump patterns:
    cond jumpFalse/jumpTrue T ... [jump E] T: ... E:     ifTrue:/ifFalse:[ifFalse:/ifTrue:],
                                                           and:, or:
    S: cond jumpFalse/jumpTrue X ... jump S X:             whileTrue:/whileFalse: (and unary)
    S: body jump S                                         repeat
    [limit :=] i := init. S: i <= limit jumpFalse X ... i := i + step. jump S X:   to:do:
    expr dup pushNil == jumpFalse/jumpTrue T pop ... T:   ifNil:/ifNotNil: for value
                                                           (Squeak 5, Opal)
Blocks are `thisContext blockCopy: n` followed by a jump over the body (format 6502; the
arguments are method temporaries stored by the first instructions of the body), or the
closure bytecode (format 6505; copied values and temp vectors are shown as the ordinary
temporaries of the scope that declares them), or pushFullClosure (Sista V1: the block's own
CompiledBlock, decompiled in place; a super send in it is a directed one).

Names: the image keeps no temporary names, so method arguments are arg1, arg2..., every
other temporary (block arguments included) t1, t2... (the conventions of Squeak's
Decompiler). Instance variables, globals, class variables and selectors keep their names.

Fidelity: the source recompiles to the same bytecodes and literal frame (tests/test_roundtrip.py)
because it follows what the images' compilers did:
- Squeak 2.2 emits the statement before a return for value when it `prefersValue`
  (anything but a message, or a conditional with two arms not both returning): a value
  left under a return is a statement (`leftovers`). Two-armed conditional statements are
  emitted for value then popped (both formats): a store followed by a pop ends an arm.
- `c ifTrue: [^ a]. rest` and `c ifTrue: [^ a] ifFalse: [rest]` have the same code; the
  literal frame tells them apart: literals are numbered in the order the compiler sizes
  the code (`size_order`: a message's selector first, the ifFalse: arm before the ifTrue:
  arm before the condition, a loop's body before its test).
- Format 6502 block arguments are method temporaries bound by name: a block argument read
  after its block, or named like a method temporary, is declared with the method's.
- Format 6505 images keep the selectors of inlined messages as unused literals: they choose
  between ifTrue:/ifFalse:/and:/or:/ifNil: forms, to:do: or a while loop, one or two arms.
- a to:do: whose limit is computed stores it in a hidden temporary allocated after the loop
  variable (just before it in the Spur images' compilers); the step is a literal; loops and
  one-armed conditionals answer nil for value.
"""
from __future__ import annotations

import math
import re

from ..errors import OzError
from ..memory import specials as S
from ..memory.objects import SqObject, float_of_words
from .disassembler import SPECIAL_SELECTORS, method_bytecode_set

NIL_FORMS = {"ifTrue:": "ifNil:", "ifFalse:": "ifNotNil:", "ifTrue:ifFalse:": "ifNil:ifNotNil:",
             "ifFalse:ifTrue:": "ifNotNil:ifNil:"}
TWO_ARMED = ("ifTrue:ifFalse:", "ifFalse:ifTrue:", "ifNil:ifNotNil:", "ifNotNil:ifNil:")
SHORT_TO_LONG = {"ifNil:": "ifTrue:ifFalse:", "ifNotNil:": "ifFalse:ifTrue:"}
SWAPPED = {"ifTrue:ifFalse:": "ifFalse:ifTrue:", "ifFalse:ifTrue:": "ifTrue:ifFalse:"}
LOOP_SELECTORS = ("whileTrue:", "whileFalse:", "whileTrue", "whileFalse", "to:do:", "to:by:do:")
QUICK_CONSTANTS = {256: "self", 257: "true", 258: "false", 259: "nil", 260: "-1", 261: "0",
                   262: "1", 263: "2"}


class DecompileError(OzError):
    """A compiled method whose bytecodes do not follow the patterns the compilers emit."""


# --- source of literals ---------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEYWORDS = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*:)+$")
_BINARY = re.compile(r"^[-+*/\\~<>=@%|&?!,]+$")


def is_selector_text(name: str) -> bool:
    return bool(_IDENT.match(name) or _KEYWORDS.match(name) or _BINARY.match(name))


def string_source(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def symbol_source(name: str, in_array: bool = False) -> str:
    if is_selector_text(name) and "_" not in name:    # `_` assigns in Squeak 2.2
        return "#" + name
    return "#" + string_source(name)


def float_source(value: float) -> str:
    if math.isnan(value):
        raise DecompileError("a Float NaN has no literal syntax")
    if math.isinf(value):
        # no literal syntax either, but a decimal literal too large rounds to it
        return "1.0e309" if value > 0 else "-1.0e309"
    text = repr(value)
    mantissa, _, exp = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exp:
        return "%se%d" % (mantissa, int(exp))
    return mantissa


def _text(obj) -> str:
    return obj.bytes.decode("latin-1")


def literal_source(space, obj, binding: bool = False, in_array: bool = False) -> str:
    """Smalltalk source for a literal object (as it appears in a method's literal frame).
    With `binding`, an association prints as its key (a global or class variable)."""
    if obj.__class__ is int:
        return str(obj)
    if obj is space.nil:
        return "nil"
    if obj is space.true:
        return "true"
    if obj is space.false:
        return "false"
    sp = space.heap.specials.ptrs
    cls = obj.cls
    if cls is space.symbol_class():
        return symbol_source(_text(obj), in_array)
    if cls is sp[S.CLASS_STRING]:
        return string_source(_text(obj))
    if cls is sp[S.CLASS_CHARACTER]:
        return "$" + chr(obj.ptrs[0])
    if cls is sp[S.CLASS_FLOAT] or (obj.fmt == 7 and obj.words is not None):     # 7: SmallFloat64
        return float_source(float_of_words(obj.words))
    if cls is sp[S.CLASS_LARGE_POSITIVE_INTEGER]:
        return str(int.from_bytes(obj.bytes, "little"))
    if cls is space.large_negative_integer_class():
        return str(-int.from_bytes(obj.bytes, "little"))
    if cls is sp[S.CLASS_ARRAY]:
        return "#(" + " ".join(literal_source(space, x, in_array=True) for x in obj.ptrs) + ")"
    if cls is sp[S.CLASS_BYTE_ARRAY]:
        return "#[" + " ".join(str(b) for b in obj.bytes) + "]"
    if binding and obj.ptrs is not None and len(obj.ptrs) >= 2:
        key = obj.ptrs[0]
        if key.__class__ is SqObject and key.bytes is not None:
            return _text(key)
    raise DecompileError("a %s is not a literal" % space.layout.class_name_of(cls))


def special_selectors(space) -> list:
    """[(selector, argument count)] of the 32 special selectors of this image."""
    arr = space.special(S.SPECIAL_SELECTORS)
    out = []
    for i, default in enumerate(SPECIAL_SELECTORS):
        name = default
        if arr is not space.nil and 2 * i < len(arr.ptrs):
            sel = arr.ptrs[2 * i]
            if sel.__class__ is SqObject and sel.bytes is not None:
                name = _text(sel)
        out.append((name, selector_arity(name)))
    return out


def selector_arity(sel: str) -> int:
    if _BINARY.match(sel):
        return 1
    return sel.count(":")


# --- expression trees ------------------------------------------------------------
# precedence levels: 0 primary, 1 unary, 2 binary, 3 keyword, 4 cascade, 5 assignment

class Node:
    level = 0

    def is_lit(self, text=None):
        return False


class Var(Node):
    __slots__ = ("_name", "ref", "namer")

    def __init__(self, name, ref=None, namer=None):
        self._name = name
        self.ref = ref        # ('temp', index) / ('arg', i) / ('inst', i) / ('lit', i)
        self.namer = namer    # temporaries are named t1, t2... in the order the source shows them

    @property
    def name(self):
        if self._name is None:
            self._name = self.namer()
        return self._name

    def src(self, ind):
        return self.name


class Lit(Node):
    __slots__ = ("text", "index")

    def __init__(self, text, index=None):
        self.text = text
        self.index = index      # the literal frame index it comes from, if any

    def is_lit(self, text=None):
        return text is None or self.text == text

    def src(self, ind):
        return self.text


class TempVector(Node):
    """The value of a temp holding a temp vector (6505), as copied into closures."""
    __slots__ = ("vector",)

    def __init__(self, vector):
        self.vector = vector

    def src(self, ind):
        raise DecompileError("a temp vector is used as a value")


class Send(Node):
    __slots__ = ("rcv", "sel", "args", "level", "full", "index")

    def __init__(self, rcv, sel, args, full=None, index=None):
        self.rcv = rcv
        self.sel = sel
        self.args = args
        self.index = index    # the literal frame index of the selector (not a special send)
        self.full = full      # for an inlined conditional: (selector, args) of its long form
        self.level = 3 if sel.endswith(":") else (2 if _BINARY.match(sel) else 1)

    def src(self, ind):
        return self.rcv_src(ind) + " " + self.msg_src(ind)

    def rcv_src(self, ind):
        return wrap(self.rcv, 2 if self.level > 1 else 1, ind)

    def msg_src(self, ind):
        if self.level == 1:
            return self.sel
        if self.level == 2:
            return self.sel + " " + wrap(self.args[0], 1, ind)
        parts = self.sel.split(":")[:-1]
        return " ".join("%s: %s" % (k, wrap(a, 2, ind)) for k, a in zip(parts, self.args))


class Cascade(Node):
    __slots__ = ("rcv", "parts", "done")
    level = 4

    def __init__(self, rcv):
        self.rcv = rcv
        self.parts = []       # Sends whose receiver is the CascadeReceiver
        self.done = False

    def src(self, ind):
        first = self.parts[0]
        head = wrap(self.rcv, 2 if first.level > 1 else 1, ind)
        return head + " " + "; ".join(p.msg_src(ind) for p in self.parts)


class CascadeReceiver(Node):
    __slots__ = ("cascade",)

    def __init__(self, cascade):
        self.cascade = cascade


class Assign(Node):
    __slots__ = ("var", "value", "popped")
    level = 5

    def __init__(self, var, value):
        self.var = var
        self.value = value
        self.popped = False     # a store then a pop: the value of a conditional's arm

    def src(self, ind):
        return self.var.name + " := " + wrap(self.value, 5, ind)


class Return(Node):
    __slots__ = ("value",)
    level = 6

    def __init__(self, value):
        self.value = value

    def src(self, ind):
        return "^ " + wrap(self.value, 5, ind)


class Brace(Node):
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def src(self, ind):
        return "{" + ". ".join(wrap(x, 5, ind) for x in self.items) + "}"


class Block(Node):
    """A block: a real one (closure or BlockContext) or the argument of an inlined message."""
    __slots__ = ("args", "temps", "stmts", "real")

    def __init__(self, args, temps, stmts, real=None):
        self.args = args
        self.temps = temps
        self.stmts = stmts
        self.real = real        # a real block: the literal index of its argument count, or -1

    def src(self, ind):
        head = "".join(":%s " % a.name for a in self.args)
        if self.args:
            head += "| "
        if self.temps:
            head += "| " + " ".join(t.name for t in self.temps) + " | "
        stmts = self.stmts
        if len(stmts) == 1 and stmts[0].is_lit("nil") and not self.args and not self.temps:
            return "[]"
        if not stmts:
            return "[" + head.rstrip() + "]"
        lines = [s.src(ind + 1) for s in stmts]
        if len(lines) == 1 and "\n" not in lines[0] and len(lines[0]) + len(head) < 70:
            return "[" + head + lines[0] + "]"
        pad = "\n" + "\t" * (ind + 1)
        return "[" + head.rstrip() + pad + ("." + pad).join(lines) + "]"


def wrap(node, level, ind):
    text = node.src(ind)
    if node.level > level:
        return "(" + text + ")"
    return text


# --- scopes -----------------------------------------------------------------------

class _SuperClass(Node):
    """The class a full block pushes before a directed super send (Sista V1)."""


class Scope:
    """The temporaries of the method or of one closure: index -> variable."""

    def __init__(self, parent, names):
        self.parent = parent
        self.names = names          # index -> Var, or Vector for a temp holding a temp vector


class Vector:
    """A temp vector (6505): the remote temporaries of one scope."""

    def __init__(self, names):
        self.names = names


# --- the decompiler ------------------------------------------------------------------

class MethodDecompiler:

    def __init__(self, space, method, cls, selector):
        self.space = space
        self.method = method
        self.cls = cls
        self.selector = selector
        header = method.ptrs[0]
        self.lits = method.ptrs[1:]
        family = space.heap.family
        self.nargs = family.method_num_args(header)
        self.ntemps = family.method_num_temps(header)
        self.prim = family.method_primitive(method)
        self.specials = special_selectors(space)
        self.inst_names = space.layout.all_inst_var_names(cls) if cls is not None else []
        self.closures = space.info.has_closures
        self.limit_before_var = family.is_spur
        self.temp_counter = 0
        self.hints = frozenset()

    # --- names --------------------------------------------------------------------
    def new_temp(self):
        return Var(None, None, self.next_name)

    def next_name(self):
        self.temp_counter += 1
        return "t%d" % self.temp_counter

    def lit(self, i):
        if i >= len(self.lits):
            raise DecompileError("literal %d out of range" % i)
        return self.lits[i]

    def lit_node(self, i):
        obj = self.lit(i)
        return Lit(literal_source(self.space, obj), i)

    def lit_var(self, i):
        obj = self.lit(i)
        if obj.__class__ is not SqObject or obj.ptrs is None or len(obj.ptrs) < 2:
            raise DecompileError("literal %d is no variable binding" % i)
        key = obj.ptrs[0]
        if key.__class__ is SqObject and key.bytes is not None:
            return Var(_text(key), ("lit", i))
        raise DecompileError("literal variable %d has no name" % i)

    def inst_var(self, i):
        if i < len(self.inst_names):
            return Var(self.inst_names[i], ("inst", i))
        raise DecompileError("instance variable %d out of range" % i)

    def sel_text(self, i):
        obj = self.lit(i)
        if obj.__class__ is SqObject and obj.bytes is not None:
            return _text(obj)
        raise DecompileError("literal %d is not a selector" % i)

    # --- top level ------------------------------------------------------------------
    def run(self) -> str:
        sel = self.selector
        if sel is None:
            raise DecompileError("the method's selector is unknown")
        if selector_arity(sel) != self.nargs:
            raise DecompileError("selector %s does not take %d arguments" % (sel, self.nargs))
        arg_names = ["arg%d" % (i + 1) for i in range(self.nargs)]
        prim = self.prim
        body_lines = []
        temps = []
        self.stmts = None
        if 256 <= prim <= 519:
            if prim in QUICK_CONSTANTS:
                body_lines = ["^ " + QUICK_CONSTANTS[prim]]
            else:
                body_lines = ["^ " + self.inst_var(prim - 264).name]
        else:
            self.enter_code(self.method, 2)
            names = {}
            for i in range(self.nargs):
                names[i] = Var(arg_names[i], ("arg", i))
            scope = Scope(None, names)
            self.scope = scope
            self.block_args = set()
            self.hidden = set()
            self.uses = {}
            stack = []
            stmts = []
            first = 0
            self.error_temp = None
            if self.instrs[0].op == "callPrimitive" and len(self.instrs) > 1:
                first = 1       # Spur: the primitive's number is in this first bytecode
            ins0 = self.instrs[first]
            if prim and ins0.op == "storeTemp" and ins0.arg == self.ntemps - 1 >= self.nargs:
                # `<primitive: n error: code>`: the VM pushes the failure code, stored here
                self.error_temp = self.temp(ins0.arg)
                self.hidden.add(id(self.error_temp))
                first += 1
            self.seq(first, len(self.instrs), stack, stmts)
            if len(stack) == 1 and isinstance(stack[0], Send) and stack[0].sel.startswith("caseOf:"):
                # `^ r caseOf: {...} otherwise: [...]` whose arms all return: its own return
                # is dead code, after the method's last reachable bytecode
                stmts.append(Return(stack.pop()))
            if stack:
                raise DecompileError("values left on the stack at the end of the method")
            stmts = self.polish(stmts, top=True)
            if (len(stmts) > 1 and isinstance(stmts[-1], Return) and isinstance(stmts[-1].value, Var)
                    and stmts[-1].value._name == "self" and self.instrs[-1].op == "returnSelf"):
                stmts.pop()
            self.stmts = stmts
        lines = [self.pattern(arg_names)]
        if prim and not 256 <= prim <= 519:
            lines.append("\t" + self.primitive_source())
        if self.stmts is not None:
            temps = self.method_temps(self.scope)
            body_lines = [s.src(1) for s in self.stmts]
        if temps:
            lines.append("\t| " + " ".join(temps) + " |")
        lines.extend("\t" + b for b in self._dotted(body_lines))
        return "\n".join(lines)

    def enter_code(self, code, reserved):
        """Read the instructions of `code` (the method, or a full block's CompiledBlock:
        Sista V1), whose literal frame ends with `reserved` literals that are no constants
        (a method's selector and class binding, a block's outer code)."""
        self.lits = code.ptrs[1:]
        self.instrs = method_bytecode_set(self.space.heap.family, code).decode(code.bytes)
        self.index = {ins.pc: k for k, ins in enumerate(self.instrs)}
        self.loops = {}
        for k, ins in enumerate(self.instrs):
            if ins.op == "jump" and ins.arg <= ins.pc:
                self.loops.setdefault(ins.arg, []).append(k)
        self.active = set()
        self.hints = self.inlined_selector_hints(reserved)

    def inlined_selector_hints(self, reserved=2):
        """Selectors in the literal frame that no bytecode uses (format 6505 images keep
        those of the inlined messages there); empty for 6502."""
        if not self.closures:
            return frozenset()
        used = set()
        for ins in self.instrs:
            if ins.op in ("send", "superSend", "pushLit"):
                used.add(ins.arg)
        out = set()
        lits = self.lits
        for i, lit in enumerate(lits[:-reserved]):
            if i not in used and lit.__class__ is SqObject and lit.cls is self.space.symbol_class():
                out.add(_text(lit))
        return frozenset(out)

    @staticmethod
    def fold_value(stmts):
        """Statements whose last one is a value: `loop. nil` and `c ifTrue: [^ x]. nil` are
        how a loop and a one-armed conditional answer their value (nil): show them alone."""
        if len(stmts) >= 2 and stmts[-1].is_lit("nil") and isinstance(stmts[-2], Send):
            prev = stmts[-2]
            if prev.sel in LOOP_SELECTORS or (
                    prev.full is not None and len(prev.args) == 1 and prev.args[0].stmts
                    and ends_in_return(prev.args[0].stmts)):
                return stmts[:-1]
        return stmts

    @staticmethod
    def _dotted(lines):
        return [l + ("." if i < len(lines) - 1 else "") for i, l in enumerate(lines)]

    def pattern(self, arg_names):
        sel = self.selector
        if self.nargs == 0:
            return sel
        if _BINARY.match(sel):
            return "%s %s" % (sel, arg_names[0])
        parts = sel.split(":")[:-1]
        return " ".join("%s: %s" % (k, a) for k, a in zip(parts, arg_names))

    def primitive_source(self):
        if self.prim == 117 and self.lits:
            spec = self.lits[0]
            sp = self.space
            if spec.__class__ is SqObject and spec.ptrs is not None and len(spec.ptrs) >= 2:
                mod, fn = spec.ptrs[0], spec.ptrs[1]
                if fn.__class__ is SqObject and fn.bytes is not None:
                    error = getattr(self, "error_temp", None)
                    tail = " error: %s>" % error.name if error is not None else ">"
                    if mod is sp.nil:
                        return "<primitive: %s%s" % (string_source(_text(fn)), tail)
                    return "<primitive: %s module: %s%s" % (string_source(_text(fn)),
                                                           string_source(_text(mod)), tail)
        if getattr(self, "error_temp", None) is not None:
            return "<primitive: %d error: %s>" % (self.prim, self.error_temp.name)
        return "<primitive: %d>" % self.prim

    def method_temps(self, scope):
        """Names of the method's temporaries (not block arguments or hidden ones)."""
        if not self.closures:
            return [v.name for v in self.old_method_temps(scope)]
        return [v.name for v in self.scope_temps(scope, self.nargs, self.ntemps)]

    def old_method_temps(self, scope):
        """Format 6502: every temporary is the method's, and a block argument is bound by
        name to the method temporary of that name (Squeak 2.2's encoder), so blocks can
        share an argument and a block argument can be read after its block (an `out`
        argument). Declare the temporaries that are not block arguments, those read outside
        their blocks, and every one below them, so that the declaration order gives each
        its index; the others are bound by the blocks in the order the source shows them."""
        shared = self.shared_block_args()
        needed = -1
        for i in range(self.nargs, self.ntemps):
            v = scope.names.get(i)
            if v is None or (id(v) not in self.block_args and id(v) not in self.hidden) \
                    or id(v) in shared:
                needed = i
        out = []
        for i in range(self.nargs, needed + 1):
            v = scope.names.get(i)
            if v is None:
                v = self.temp(i, scope)
            if id(v) not in self.hidden:
                out.append(v)
        return out

    def shared_block_args(self):
        """ids of the block arguments used outside the blocks that declare them."""
        shared = set()
        block_args = self.block_args

        def visit(node, bound):
            cls = node.__class__
            if cls is Var:
                if node.ref is not None and node.ref[0] == "temp" and id(node) in block_args \
                        and id(node) not in bound:
                    shared.add(id(node))
            elif cls is Block:
                inner = bound | set(id(a) for a in node.args)
                for x in node.stmts:
                    visit(x, inner)
            elif cls is Assign:
                visit(node.var, bound)
                visit(node.value, bound)
            elif cls is Return:
                visit(node.value, bound)
            elif cls is Cascade:
                visit(node.rcv, bound)
                for p in node.parts:
                    for a in p.args:
                        visit(a, bound)
            elif cls is Brace:
                for x in node.items:
                    visit(x, bound)
            elif cls is Send:
                visit(node.rcv, bound)
                for a in node.args:
                    visit(a, bound)

        for st in self.stmts:
            visit(st, frozenset())
        return shared

    def scope_temps(self, scope, first, end):
        """The temporaries a scope declares, in index order (a temp vector stands for its
        remote temporaries; block arguments and the hidden limits of to:do: are left out;
        temporaries no bytecode uses are declared all the same)."""
        out = []
        for i in range(first, end):
            v = scope.names.get(i)
            if v is None:
                v = self.temp(i, scope)
            if isinstance(v, Vector):
                out.extend(v.names)
            elif id(v) not in self.block_args and id(v) not in self.hidden:
                out.append(v)
        return out

    # --- temporaries --------------------------------------------------------------------
    def temp(self, i, scope=None):
        scope = scope or self.scope
        v = scope.names.get(i)
        if v is None:
            if scope.parent is None and not self.nargs <= i < self.ntemps:
                raise DecompileError("temporary %d out of range" % i)
            v = self.new_temp()
            v.ref = ("temp", i)
            scope.names[i] = v
        return v

    def remote(self, index, vec_temp):
        vec = self.scope.names.get(vec_temp)
        if not isinstance(vec, Vector):
            raise DecompileError("temp %d is not a temp vector" % vec_temp)
        if index >= len(vec.names):
            raise DecompileError("remote temp %d outside its vector" % index)
        return vec.names[index]

    # --- sequences --------------------------------------------------------------------
    def seq(self, i, end, stack, stmts, exit_pc=None):
        """Decompile instructions i..end-1 into `stmts`, using `stack`. With `exit_pc`,
        stop at a conditional jump to it (a loop's test) and answer its index."""
        instrs = self.instrs
        while i < end:
            ins = instrs[i]
            heads = self.loops.get(ins.pc)
            if heads:
                j = self._pick_loop(heads, i, end)
                if j is not None:
                    i = self.loop(i, j, stack, stmts)
                    continue
            op = ins.op
            if op == "pushTemp":
                v = self.scope.names.get(ins.arg) if self.closures else None
                if isinstance(v, Vector):
                    stack.append(TempVector(v))
                else:
                    stack.append(self.temp(ins.arg))
            elif op == "pushRcvr":
                stack.append(self.inst_var(ins.arg))
            elif op == "pushLit":
                stack.append(self.lit_node(ins.arg))
            elif op == "pushLitVar":
                if i + 1 < end and instrs[i + 1].op == "directedSuperSend":
                    stack.append(_SuperClass())     # the class a full block's super send starts above
                else:
                    stack.append(self.lit_var(ins.arg))
            elif op == "pushInteger":
                stack.append(Lit(str(ins.arg)))
            elif op == "pushChar":
                stack.append(Lit("$" + chr(ins.arg) if ins.arg < 256 else "(Character value: %d)" % ins.arg))
            elif op == "nop":
                pass
            elif op == "pushSelf":
                stack.append(Var("self"))
            elif op == "pushConst":
                stack.append(Lit(str(ins.arg)))
            elif op == "pushThisContext":
                stack.append(Var("thisContext"))
            elif op in ("storeTemp", "popTemp", "storeRcvr", "popRcvr", "storeLitVar",
                        "popLitVar", "storeRemote", "popRemote"):
                if op == "popTemp" and stack and isinstance(stack[-1], _NewArray):
                    self.make_vector(ins.arg, stack.pop().size)
                    i += 1
                    continue
                if op.endswith("Temp"):
                    var = self.temp(ins.arg)
                elif op.endswith("Rcvr"):
                    var = self.inst_var(ins.arg)
                elif op.endswith("LitVar"):
                    var = self.lit_var(ins.arg)
                else:
                    var = self.remote(ins.arg, ins.arg2)
                value = self.pop(stack)
                node = Assign(var, value)
                if op.startswith("pop"):
                    stmts.append(node)
                else:
                    stack.append(node)
            elif op == "pop":
                value = self.pop(stack)
                if isinstance(value, Send) and isinstance(value.rcv, CascadeReceiver):
                    value.rcv.cascade.parts.append(value)
                else:
                    if isinstance(value, Assign):
                        value.popped = True
                    elif (not self.closures and isinstance(value, Send) and value.full is not None
                          and value.sel == "ifTrue:ifFalse:" and i + 1 < end
                          and instrs[i + 1].op in ("returnTop", "returnSelf", "returnConst")
                          and self.one_case(value.rcv, *[x.stmts for x in value.args])):
                        # Squeak 2.2 keeps a two-armed conditional statement before a return
                        # on the stack: popped, it is a caseOf: of one case
                        value = self.one_case(value.rcv, *[x.stmts for x in value.args])[0]
                    elif (isinstance(value, Send) and value.full is not None
                          and value.sel in ("ifTrue:", "ifFalse:")):
                        # Squeak's compilers emit a two-armed conditional statement for
                        # value then pop it; a one-armed one they emit for effect
                        value.sel, value.args = value.full
                    stmts.append(value)
            elif op == "dup" and self.case_key_end(i + 1, True) is not None:
                i = self.case_form(i, end, stack)
                continue
            elif op == "dup" and self.is_nil_value_form(i):
                i = self.nil_value_form(i, end, stack)
                continue
            elif op == "dup":
                top = self.pop(stack)
                if isinstance(top, Cascade) and not top.done:
                    casc = top
                else:
                    casc = Cascade(top)
                stack.append(casc)
                stack.append(CascadeReceiver(casc))
            elif op in ("send", "superSend", "sendSpecial", "directedSuperSend"):
                if op == "directedSuperSend":
                    if not (stack and isinstance(stack[-1], _SuperClass)):
                        raise DecompileError("directed super send without its class at pc %d" % ins.pc)
                    stack.pop()
                    op = "superSend"
                if op == "sendSpecial":
                    sel, nargs = self.specials[ins.arg]
                else:
                    sel, nargs = self.sel_text(ins.arg), ins.arg2
                if sel == "blockCopy:" and op == "sendSpecial" and not self.closures \
                        and stack and stack[-1].__class__ is Lit and len(stack) >= 2 \
                        and isinstance(stack[-2], Var) and stack[-2]._name == "thisContext":
                    i = self.old_block(i, stack)
                    continue
                if len(stack) < nargs + 1:
                    raise DecompileError("stack underflow at pc %d" % ins.pc)
                args = stack[len(stack) - nargs:]
                del stack[len(stack) - nargs:]
                rcv = stack.pop()
                if op == "superSend":
                    if not (isinstance(rcv, Var) and rcv._name == "self"):
                        raise DecompileError("super send to something else than self")
                    rcv = Var("super")
                stack.append(self.send(rcv, sel, args, None if op == "sendSpecial" else ins.arg))
            elif op == "returnTop":
                value = self.pop(stack)
                self.leftovers(stack, stmts)
                if value.is_lit("nil") and stmts:
                    # `^ [..] whileTrue` answers the nil pushed after the loop
                    folded = self.fold_value(stmts + [value])
                    if len(folded) == len(stmts):
                        value = stmts.pop()
                stmts.append(Return(value))
            elif op == "returnSelf":
                self.leftovers(stack, stmts)
                stmts.append(Return(Var("self")))
            elif op == "returnConst":
                self.leftovers(stack, stmts)
                stmts.append(Return(Lit(str(ins.arg))))
            elif op == "blockReturn":
                value = self.pop(stack)
                stmts.append(_BlockValue(value))
            elif op == "blockReturnNil":
                stmts.append(_BlockValue(Lit("nil")))
            elif op == "pushFullClosure":
                self.full_closure(ins, stack)
            elif op in ("jumpFalse", "jumpTrue"):
                if exit_pc is not None and ins.arg == exit_pc:
                    return i
                i = self.conditional(i, end, stack, stmts)
                continue
            elif op == "jump":
                raise DecompileError("unexpected jump at pc %d" % ins.pc)
            elif op == "pushClosure":
                i = self.closure(i, stack)
                continue
            elif op == "pushNewArray":
                if ins.arg == 0:
                    stack.append(Brace([]))
                else:
                    stack.append(_NewArray(ins.arg))
            elif op == "consArray":
                n = ins.arg
                if len(stack) < n:
                    raise DecompileError("stack underflow at pc %d" % ins.pc)
                items = stack[len(stack) - n:]
                del stack[len(stack) - n:]
                stack.append(Brace(items))
            elif op == "pushRemote":
                stack.append(self.remote(ins.arg, ins.arg2))
            else:
                raise DecompileError("cannot decompile %s at pc %d" % (op, ins.pc))
            i += 1
        return None

    def leftovers(self, stack, stmts):
        """Squeak 2.2's compiler emits the statement before a return for value when it
        `prefersValue` (an assignment, or ifTrue:ifFalse:/ifFalse:ifTrue: that does not
        return in both arms): the return discards it. It is a statement all the same."""
        if self.closures or not stack:
            return
        if len(stack) > 1:
            raise DecompileError("several values left before a return")
        node = stack[-1]
        if isinstance(node, Send):
            full = node.full
            if full is None or full[0] not in ("ifTrue:ifFalse:", "ifFalse:ifTrue:"):
                # `c ifTrue: [^ x] ifFalse: [...]` for value: no jump after the returning arm,
                # so the else arm looked like the statements after a one-armed conditional
                for q in range(len(stmts) - 1, -1, -1):
                    prev = stmts[q]
                    if (isinstance(prev, Send) and prev.full is not None and len(prev.args) == 1
                            and not prev.full[1][1].stmts and prev.args[0].stmts
                            and ends_in_return(prev.args[0].stmts)):
                        other = Block([], [], stmts[q + 1:] + [stack.pop()])
                        prev.sel, prev.args = prev.full[0], [prev.args[0], other]
                        prev.full = (prev.sel, prev.args)
                        del stmts[q + 1:]
                        return
                raise DecompileError("a message value is left on the stack before a return")
            node.sel, node.args = full
        elif isinstance(node, (CascadeReceiver, TempVector, _NewArray)):
            raise DecompileError("a value is left on the stack before a return")
        stmts.append(stack.pop())

    def pop(self, stack):
        if not stack:
            raise DecompileError("stack underflow")
        v = stack.pop()
        if isinstance(v, _NewArray):
            raise DecompileError("a new array is used as a value")
        return v

    def send(self, rcv, sel, args, index=None):
        if isinstance(rcv, Cascade):
            if rcv.done:
                return Send(rcv, sel, args, None, index)
            part = Send(CascadeReceiver(rcv), sel, args, None, index)
            rcv.parts.append(part)
            rcv.done = True
            return rcv
        return Send(rcv, sel, args, None, index)

    def make_vector(self, temp_index, size):
        names = [self.new_temp() for _ in range(size)]
        vec = Vector(names)
        self.scope.names[temp_index] = vec

    # --- blocks ---------------------------------------------------------------------
    def old_block(self, i, stack):
        """`thisContext blockCopy: n` then a jump over the body (format 6502)."""
        nargs_node = stack.pop()
        stack.pop()
        try:
            nargs = int(nargs_node.text)
        except ValueError:
            raise DecompileError("blockCopy: with a non-integer argument")
        jump = self.instrs[i + 1]
        if jump.op != "jump" or jump.arg <= jump.pc:
            raise DecompileError("blockCopy: is not followed by a jump over the block")
        end = self.index.get(jump.arg)
        if end is None:
            raise DecompileError("block ends inside an instruction")
        k = i + 2
        args = []
        for _ in range(nargs):
            ins = self.instrs[k]
            if ins.op != "popTemp":
                raise DecompileError("block argument not stored at pc %d" % ins.pc)
            args.append(self.temp(ins.arg))
            k += 1
        args.reverse()
        for a in args:
            self.block_args.add(id(a))
        stmts = self.block_body(k, end, [])
        real = nargs_node.index if nargs_node.index is not None else -1
        stack.append(Block(args, [], stmts, real))
        return end

    def block_body(self, k, end, stack):
        stmts = []
        self.seq(k, end, stack, stmts)
        if stack:
            raise DecompileError("block leaves values on its stack")
        if stmts and isinstance(stmts[-1], _BlockValue):
            stmts[-1] = stmts[-1].value
            return self.fold_value(stmts)
        if not (stmts and isinstance(stmts[-1], Return)):
            raise DecompileError("block does not end with a return")
        return stmts

    def closure(self, i, stack):
        ins = self.instrs[i]
        ncopied, nargs, size = ins.arg, ins.arg2, ins.arg3
        start = ins.next
        end_pc = start + size
        end = self.index.get(end_pc, len(self.instrs) if end_pc >= self.instrs[-1].next else None)
        if end is None:
            raise DecompileError("closure ends inside an instruction")
        if len(stack) < ncopied:
            raise DecompileError("closure copies more values than the stack holds")
        copied = stack[len(stack) - ncopied:]
        del stack[len(stack) - ncopied:]
        outer = self.scope
        names, args = self.block_names(nargs, copied)
        scope = Scope(outer, names)
        self.scope = scope
        try:
            local_stack = []
            k = i + 1
            # the block's own temporaries are the nils its first bytecodes push: they are
            # what stays on its stack under the value it answers
            stmts = []
            self.seq(k, end, local_stack, stmts)
        finally:
            self.scope = outer
        value = None
        if stmts and isinstance(stmts[-1], _BlockValue):
            value = stmts.pop().value
        elif not (stmts and isinstance(stmts[-1], Return)):
            raise DecompileError("closure does not end with a return")
        nlocal = len(local_stack)
        for x in local_stack:
            if not x.is_lit("nil"):
                raise DecompileError("closure leaves values on its stack")
        # temps of the block: indices nargs+ncopied .. +nlocal-1 (and temp vector slots)
        base = nargs + ncopied
        if any(i >= base + nlocal for i in scope.names):
            raise DecompileError("closure uses a temporary it does not have")
        temps = self.scope_temps(scope, base, base + nlocal)
        # the nils pushed for the temps may have been consumed as statements' values: fine
        if value is not None:
            stmts.append(value)
            stmts = self.fold_value(stmts)
        stack.append(Block(args, temps, stmts))
        return end

    def full_closure(self, ins, stack):
        """pushFullClosure (Sista V1): the block is the CompiledBlock of the literal, its
        context args, copied values, then temps (nil from the start: none pushed)."""
        block = self.lit(ins.arg)
        if block.__class__ is not SqObject or block.fmt != 12:
            raise DecompileError("pushFullClosure of a literal that is no CompiledBlock")
        ncopied = ins.arg2
        family = self.space.heap.family
        nargs = family.method_num_args(block.ptrs[0])
        ntemps = family.method_num_temps(block.ptrs[0])
        if len(stack) < ncopied:
            raise DecompileError("closure copies more values than the stack holds")
        copied = stack[len(stack) - ncopied:]
        del stack[len(stack) - ncopied:]
        outer = self.scope
        names, args = self.block_names(nargs, copied)
        saved = (self.lits, self.instrs, self.index, self.loops, self.active, self.hints)
        scope = Scope(outer, names)
        self.scope = scope
        try:
            self.enter_code(block, 1)
            local_stack = []
            stmts = []
            self.seq(0, len(self.instrs), local_stack, stmts)
        finally:
            self.scope = outer
            self.lits, self.instrs, self.index, self.loops, self.active, self.hints = saved
        if local_stack:
            raise DecompileError("full block leaves values on its stack")
        value = None
        if stmts and isinstance(stmts[-1], _BlockValue):
            value = stmts.pop().value
        elif not (stmts and isinstance(stmts[-1], Return)):
            raise DecompileError("full block does not end with a return")
        if any(i >= ntemps for i in scope.names):
            raise DecompileError("full block uses a temporary it does not have")
        temps = self.scope_temps(scope, nargs + ncopied, ntemps)
        if value is not None:
            stmts.append(value)
            stmts = self.fold_value(stmts)
        stack.append(Block(args, temps, stmts))

    def block_names(self, nargs, copied):
        """{index: variable} of a closure's arguments and copied values, and the arguments."""
        names = {}
        args = []
        for a in range(nargs):
            v = self.new_temp()
            v.ref = ("temp", a)         # a variable an inner closure may copy
            names[a] = v
            args.append(v)
            self.block_args.add(id(v))
        for c, node in enumerate(copied):
            if isinstance(node, TempVector):
                names[nargs + c] = node.vector
            elif isinstance(node, Var) and (node.ref is not None or id(node) in self.block_args):
                names[nargs + c] = node     # a temp, or an enclosing block's argument
            else:
                raise DecompileError("closure copies a value that is no variable")
        return names, args

    # --- control structures ------------------------------------------------------------
    def _pick_loop(self, heads, i, end):
        best = None
        for j in heads:
            if j not in self.active and i < j < end and (best is None or j > best):
                best = j
        return best

    def loop(self, h, j, stack, stmts):
        self.active.add(j)
        back = self.instrs[j]
        exit_pc = back.next
        cond_stmts = []
        cstack = []
        c = self.seq(h, j, cstack, cond_stmts, exit_pc)
        if c is None:
            # repeat
            if cstack:
                raise DecompileError("repeat loop leaves values on the stack")
            stmts.append(Send(Block([], [], cond_stmts), "repeat", []))
            return j + 1
        cond = self.pop(cstack)
        if cstack:
            raise DecompileError("loop test leaves values on the stack")
        jump = self.instrs[c]
        body = []
        bstack = []
        self.seq(c + 1, j, bstack, body)
        if bstack:
            raise DecompileError("loop body leaves values on the stack")
        sel = "whileTrue" if jump.op == "jumpFalse" else "whileFalse"
        node = self.to_do(cond_stmts, cond, sel, body, stmts)
        if node is None:
            cblock = Block([], [], cond_stmts + [cond])
            if body or (sel + ":" in self.hints and sel not in self.hints):
                node = Send(cblock, sel + ":", [Block([], [], body)])
            else:
                node = Send(cblock, sel, [])
        stmts.append(node)
        return j + 1

    def to_do(self, cond_stmts, cond, sel, body, stmts):
        if cond_stmts or sel != "whileTrue" or not stmts or not body:
            return None
        if self.hints and "to:do:" not in self.hints and "to:by:do:" not in self.hints:
            return None
        if not (isinstance(cond, Send) and cond.sel in ("<=", ">=") and isinstance(cond.rcv, Var)
                and cond.rcv.ref and cond.rcv.ref[0] == "temp"):
            return None
        var = cond.rcv
        init = stmts[-1]
        if not (isinstance(init, Assign) and init.var is var):
            return None
        inc = body[-1]
        if isinstance(inc, Assign) and inc.popped:
            return None     # a store then a pop: the value of a conditional's arm, not the step
        if not (isinstance(inc, Assign) and inc.var is var and isinstance(inc.value, Send)
                and inc.value.sel == "+" and inc.value.rcv is var
                and isinstance(inc.value.args[0], Lit)):
            return None
        step = inc.value.args[0]
        try:
            step_value = float(step.text)
        except ValueError:
            return None
        if step_value == 0 or (step_value > 0) != (cond.sel == "<="):
            return None
        limit = cond.args[0]
        n = 1
        # the hidden limit temp: allocated after the variable by the earlier closure
        # compiler, just before it by Squeak 5's and Opal (the Spur images)
        hidden_slot = (limit.ref[1] == var.ref[1] - 1 if self.limit_before_var
                       else limit.ref[1] > var.ref[1]) if isinstance(limit, Var) and limit.ref else False
        if (isinstance(limit, Var) and limit.ref and limit.ref[0] == "temp" and len(stmts) >= 2
                and isinstance(stmts[-2], Assign) and stmts[-2].var is limit
                and hidden_slot and id(limit) not in self.block_args):
            n = 2
            limit_expr = stmts[-2].value
            self.hidden.add(id(limit))
        else:
            limit_expr = limit
        del stmts[len(stmts) - n:]
        self.block_args.add(id(var))
        block = Block([var], [], body[:-1])
        if step.text == "1" and ("to:do:" in self.hints or "to:by:do:" not in self.hints):
            return Send(init.value, "to:do:", [limit_expr, block])
        return Send(init.value, "to:by:do:", [limit_expr, step, block])

    def case_key_end(self, k, dup):
        """From instruction k, the first of a caseOf: key, the index of the `=` send that
        ends it: `= jumpFalse` forward (then a pop when the case had a dup, i.e. is not
        the last one); else None. The key is followed on a model of the stack: it never
        consumes the value under it (the receiver's copy, which a cascade would consume)
        and leaves one value on it for `=`."""
        ins = self.instrs
        n = len(ins) - (3 if dup else 2)
        depth = 1           # the value compared, under the key
        while k < n:
            x = ins[k]
            op = x.op
            if op == "sendSpecial" and self.specials[x.arg][0] == "=" and depth == 2:
                j = ins[k + 1]
                if j.op == "jumpFalse" and j.arg > j.pc and (not dup or ins[k + 2].op == "pop"):
                    return k
                return None
            if op in ("send", "sendSpecial", "superSend"):
                nargs = self.specials[x.arg][1] if op == "sendSpecial" else x.arg2
                if depth < nargs + 2:
                    return None
                depth -= nargs
            elif op == "consArray":
                if depth < x.arg + 1:
                    return None
                depth += 1 - x.arg
            elif op == "dup" or (op.startswith("push") and op not in ("pushClosure", "pushFullClosure")):
                if op == "dup" and depth < 2:
                    return None
                depth += 1
            elif op == "pop" or op.startswith("pop"):
                if depth < 2:
                    return None
                depth -= 1
            elif op.startswith("store"):
                if depth < 2:
                    return None
            elif op != "nop":
                return None
            k += 1
        return None

    def case_form(self, i, end, stack):
        """`r caseOf: {[k1] -> [a1]. ...} otherwise: [o]` inlined (Squeak's and Opal's
        compilers): r, then for each case but the last `dup k = jumpFalse N; pop a jump E`,
        for the last `k = jumpFalse N; a jump E`, then o up to E (`self caseError` for
        caseOf:). An arm that returns has no jump. Answers the index of E."""
        rcv = self.pop(stack)
        ins = self.instrs
        pairs = []
        exit_index = None
        k = i
        while True:
            dup = ins[k].op == "dup"
            start = k + 1 if dup else k
            j = self.case_key_end(start, dup)
            if j is None:
                raise DecompileError("caseOf: case without its key test at pc %d" % ins[k].pc)
            key_stack, key_stmts = [], []
            self.seq(start, j, key_stack, key_stmts)
            if len(key_stack) != 1:
                raise DecompileError("caseOf: key at pc %d is no single value" % ins[start].pc)
            t = self.index.get(ins[j + 1].arg)
            if t is None or t > end:
                raise DecompileError("caseOf: jump at pc %d leaves its sequence" % ins[j + 1].pc)
            arm_start = j + 3 if dup else j + 2
            prev = ins[t - 1]
            arm_end = t
            if t - 1 >= arm_start and prev.op == "jump" and prev.arg > prev.pc:
                e = self.index.get(prev.arg)
                if e is None or e > end or (exit_index is not None and e != exit_index):
                    raise DecompileError("caseOf: arm at pc %d jumps elsewhere" % prev.pc)
                exit_index = e
                arm_end = t - 1
            arm_stack, arm = [], []
            self.seq(arm_start, arm_end, arm_stack, arm)
            if len(arm_stack) > 1 or (arm_end == t and (arm_stack or not ends_in_return(arm))) \
                    or (arm_end < t and len(arm_stack) != 1):
                raise DecompileError("caseOf: arm at pc %d answers no value" % ins[arm_start].pc)
            pairs.append(Send(Block([], [], key_stmts + key_stack), "->",
                              [Block([], [], self.fold_value(arm + arm_stack))]))
            k = t
            if not dup:
                break
        other_end = exit_index
        caseerror = (k + 1 < len(ins) and ins[k].op == "pushSelf" and ins[k + 1].op == "send"
                     and ins[k + 1].arg2 == 0 and self.sel_text(ins[k + 1].arg) == "caseError")
        if other_end is None:
            # every arm returns: the otherwise arm is `self caseError`, or ends in a return
            other_end = k + 2 if caseerror else next(
                (q + 1 for q in range(k, end) if ins[q].op in ("returnTop", "returnSelf", "returnConst")), None)
            if other_end is None:
                raise DecompileError("caseOf: at pc %d: every arm returns, its end is unknown" % ins[i].pc)
        other_stack, other = [], []
        self.seq(k, other_end, other_stack, other)
        if len(other_stack) > 1 or (not other_stack and not ends_in_return(other)):
            raise DecompileError("caseOf: otherwise at pc %d answers no value" % ins[k].pc)
        brace = Brace(pairs)
        if caseerror and other_end == k + 2 and not ("caseOf:otherwise:" in self.hints
                                                     and "caseOf:" not in self.hints):
            stack.append(Send(rcv, "caseOf:", [brace], None, ins[k + 1].arg))
        else:
            stack.append(Send(rcv, "caseOf:otherwise:",
                              [brace, Block([], [], self.fold_value(other + other_stack))]))
        return other_end

    def is_nil_value_form(self, i) -> bool:
        """At a dup: `r dup pushNil == jumpTrue/jumpFalse T pop`, the value form of an
        inlined ifNil:/ifNotNil: (Squeak 5's and Opal's compilers)."""
        ins = self.instrs
        if i + 4 >= len(ins):
            return False
        a, b, j, p = ins[i + 1], ins[i + 2], ins[i + 3], ins[i + 4]
        return (a.op == "pushConst" and a.arg == "nil" and b.op == "sendSpecial"
                and self.specials[b.arg][0] == "==" and j.op in ("jumpTrue", "jumpFalse")
                and j.arg > j.pc and p.op == "pop")

    def nil_value_form(self, i, end, stack):
        """`r ifNil: [a]` (jumpFalse: the arm runs when r is nil) or `r ifNotNil: [a]`
        (jumpTrue) for value: the arm after the pop answers the value, r is the other one.
        Answers the index after the form."""
        rcv = self.pop(stack)
        j = self.instrs[i + 3]
        t = self.index.get(j.arg)
        if t is None or t > end:
            raise DecompileError("conditional jump at pc %d leaves its sequence" % j.pc)
        arm_stack, arm = [], []
        self.seq(i + 5, t, arm_stack, arm)
        if len(arm_stack) > 1 or (not arm_stack and not ends_in_return(arm)):
            raise DecompileError("ifNil: arm at pc %d answers no value" % j.pc)
        sel = "ifNil:" if j.op == "jumpFalse" else "ifNotNil:"
        stack.append(Send(rcv, sel, [Block([], [], self.fold_value(arm + arm_stack))]))
        return t

    def conditional(self, i, end, stack, stmts):
        ins = self.instrs[i]
        cond = self.pop(stack)
        t = self.index.get(ins.arg)
        if t is None or t > end:
            raise DecompileError("conditional jump at pc %d leaves its sequence" % ins.pc)
        prev = self.instrs[t - 1]
        positive = ins.op == "jumpFalse"       # the first branch runs when cond is true
        if prev.op == "jump" and prev.arg > prev.pc and t - 1 > i:
            e = self.index.get(prev.arg)
            if e is None or e > end:
                raise DecompileError("jump at pc %d leaves its sequence" % prev.pc)
            then_stack, then = [], []
            self.seq(i + 1, t - 1, then_stack, then)
            else_stack, other = [], []
            self.seq(t, e, else_stack, other)
            self.finish_if(cond, positive, then, then_stack, other, else_stack, stack, stmts)
            return e
        then_stack, then = [], []
        self.seq(i + 1, t, then_stack, then)
        if then_stack:
            raise DecompileError("one-armed conditional leaves a value at pc %d" % ins.pc)
        sel = "ifTrue:" if positive else "ifFalse:"
        full = ("ifTrue:ifFalse:" if positive else "ifFalse:ifTrue:", [Block([], [], then), Block([], [], [])])
        stmts.append(Send(cond, sel, [full[1][0]], full))
        return t

    def finish_if(self, cond, positive, then, then_stack, other, else_stack, stack, stmts):
        then_returns = bool(then) and isinstance(then[-1], Return) and not then_stack
        else_returns = bool(other) and isinstance(other[-1], Return) and not else_stack
        then_value = len(then_stack) == 1
        else_value = len(else_stack) == 1
        if len(then_stack) > 1 or len(else_stack) > 1:
            raise DecompileError("conditional branch leaves several values")
        long_sel = "ifTrue:ifFalse:" if positive else "ifFalse:ifTrue:"
        if (then_value or then_returns) and (else_value or else_returns) and (then_value or else_value):
            a = self.fold_value(then + then_stack)
            b = self.fold_value(other + else_stack)
            full = (long_sel, [Block([], [], a), Block([], [], b)])
            stack.append(self.short_if(cond, positive, then, then_stack, other, else_stack, full))
            return
        if then_stack or else_stack:
            raise DecompileError("conditional branches disagree about their value")
        full = (long_sel, [Block([], [], then), Block([], [], other)])
        if not other:
            stmts.append(Send(cond, "ifTrue:" if positive else "ifFalse:", [Block([], [], then)], full))
        elif not then:
            stmts.append(Send(cond, "ifFalse:" if positive else "ifTrue:", [Block([], [], other)], full))
        else:
            stmts.append(Send(cond, long_sel, full[1], full))

    def short_if(self, cond, positive, then, then_stack, other, else_stack, full):
        """The shortest source of a conditional that answers a value (or, when the literal
        frame names the inlined selectors, the form the source used)."""
        then_value = len(then_stack) == 1
        else_value = len(else_stack) == 1
        a, b = full[1][0].stmts, full[1][1].stmts
        forms = []
        if positive and else_value and not other and else_stack[0].is_lit("false") and then_value:
            forms.append(Send(cond, "and:", [Block([], [], a)], full))
        if positive and then_value and not then and then_stack[0].is_lit("true") and else_value:
            forms.append(Send(cond, "or:", [Block([], [], b)], full))
        if else_value and not other and else_stack[0].is_lit("nil"):
            forms.append(Send(cond, "ifTrue:" if positive else "ifFalse:", [Block([], [], a)], full))
        if then_value and not then and then_stack[0].is_lit("nil"):
            forms.append(Send(cond, "ifFalse:" if positive else "ifTrue:", [Block([], [], b)], full))
        forms.append(Send(cond, full[0], full[1], full))
        if self.hints and then_value and else_value and positive:
            forms.extend(self.one_case(cond, a, b))
        elif not self.closures and then_value and else_value and positive:
            # Squeak 2.2 keeps no inlined selectors: a one-case caseOf: and the conditional
            # differ only in the order their literals were numbered (the key after the arms)
            cases = self.one_case(cond, a, b)
            if cases and _inversions(cases[0]) < _inversions(forms[0]):
                return cases[0]
        if self.hints:
            for f in forms:
                if f.sel in self.hints or self.nil_form(f) in self.hints:
                    return f
        return forms[0]

    @staticmethod
    def one_case(cond, a, b):
        """`r caseOf: {[k] -> [a]} otherwise: [b]` has the code of `r = k ifTrue: [a]
        ifFalse: [b]`: its forms (caseOf: when b is `self caseError`), none if cond is no `=`."""
        if not (isinstance(cond, Send) and cond.sel == "=" and cond.index is None):
            return []
        case = Brace([Send(Block([], [], [cond.args[0]]), "->", [Block([], [], a)])])
        forms = []
        if (len(b) == 1 and isinstance(b[0], Send) and b[0].sel == "caseError" and not b[0].args
                and isinstance(b[0].rcv, Var) and b[0].rcv._name == "self"):
            forms.append(Send(cond.rcv, "caseOf:", [case], None, b[0].index))
        forms.append(Send(cond.rcv, "caseOf:otherwise:", [case, Block([], [], b)]))
        return forms

    @staticmethod
    def nil_test(node):
        """X for a send `X == nil`, else None."""
        if isinstance(node, Send) and node.sel == "==" and node.args[0].is_lit("nil"):
            return node.rcv
        return None

    def nil_form(self, send):
        """The ifNil: family selector `send` (an inlined conditional) would be, if its
        condition is `X == nil`."""
        if self.nil_test(send.rcv) is None:
            return None
        return NIL_FORMS.get(send.sel)

    # --- using the literal frame's record of inlined selectors (6505) -------------------
    def polish(self, stmts, top=False):
        """Rewrite a statement list and everything inside it so that the inlined messages
        are those the literal frame names (the compiler of format 6505 images keeps the
        selectors of the messages it inlines as unused literals)."""
        if not self.closures:
            return self.polish_by_literal_order(stmts, top)
        if not self.hints:
            return stmts
        hints = self.hints
        for q in range(len(stmts) - 2, -1, -1):
            node = stmts[q]
            if not (isinstance(node, Send) and node.full is not None and len(node.args) == 1
                    and ends_in_return(node.args[0].stmts)
                    and node.sel in ("ifTrue:", "ifFalse:")):
                continue
            two = node.full[0]
            if self.nil_test(node.rcv) is not None:
                merge = ((NIL_FORMS[two] in hints or NIL_FORMS[SWAPPED[two]] in hints)
                         and NIL_FORMS[node.sel] not in hints)
            else:
                merge = two in hints and node.sel not in hints
            if merge:
                other = Block([], [], stmts[q + 1:])
                node.sel, node.args = two, [node.args[0], other]
                node.full = (two, node.args)
                del stmts[q + 1:]
        for node in stmts:
            self.polish_node(node)
        if top:
            self.use_all_hints(stmts)
            self.polish_by_literal_order(stmts, True)
        return stmts

    def use_all_hints(self, stmts):
        """When the literal frame names a two-armed conditional the source does not show
        yet, one of the one-armed conditionals whose arm returns was written with two arms
        (the code is the same): take the innermost one whose rest is a single return."""
        used = set()
        candidates = []

        def walk(lst, depth):
            for q, node in enumerate(lst):
                visit(node, depth)
                if (q < len(lst) - 1 and isinstance(node, Send) and node.full is not None
                        and len(node.args) == 1 and node.sel in ("ifTrue:", "ifFalse:", "ifNil:", "ifNotNil:")
                        and ends_in_return(node.args[0].stmts)):
                    candidates.append((len(lst) - q == 2 and isinstance(lst[-1], Return), depth, lst, q))

        def visit(node, depth):
            if isinstance(node, Block):
                walk(node.stmts, depth + 1)
            elif isinstance(node, (Assign, Return)):
                visit(node.value, depth)
            elif isinstance(node, Cascade):
                visit(node.rcv, depth)
                for p in node.parts:
                    for a in p.args:
                        visit(a, depth)
            elif isinstance(node, Brace):
                for x in node.items:
                    visit(x, depth)
            elif isinstance(node, Send):
                used.add(node.sel)
                visit(node.rcv, depth)
                for a in node.args:
                    visit(a, depth)

        walk(stmts, 0)
        for two in ("ifTrue:ifFalse:", "ifFalse:ifTrue:", "ifNil:ifNotNil:", "ifNotNil:ifNil:"):
            if two not in self.hints or two in used:
                continue
            self.top_stmts = stmts
            ranked = []
            for rank, (_, _, lst, q) in enumerate(sorted(candidates, key=lambda c: (c[0], c[1]),
                                                         reverse=True)):
                if q >= len(lst) - 1:
                    continue
                # the sizing order (literal numbering) tells best which one had two arms
                gain = self._disorder(lst, q, len(lst) - 1) - self._disorder(lst, q, None)
                ranked.append((gain, rank, lst, q))
            for _, _, lst, q in sorted(ranked, key=lambda r: (r[0], r[1])):
                node = lst[q]
                if q >= len(lst) - 1 or node.full is None or len(node.args) != 1:
                    continue
                if node.sel in ("ifNil:", "ifNotNil:"):
                    ok = two == NIL_FORMS[SHORT_TO_LONG[node.sel]]
                    rcv = node.rcv
                elif two == node.full[0]:
                    ok, rcv = True, node.rcv
                else:
                    rcv = self.nil_test(node.rcv)
                    ok = rcv is not None and two == NIL_FORMS[node.full[0]]
                if not ok:
                    continue
                node.args = [node.args[0], Block([], [], lst[q + 1:])]
                del lst[q + 1:]
                node.rcv, node.sel = rcv, two
                node.full = (node.full[0], node.args)
                used.add(two)
                break

    def polish_by_literal_order(self, stmts, top):
        """Format 6502: `c ifTrue: [^ a]. rest` and `c ifTrue: [^ a] ifFalse: [rest]` have
        the same code; tell them apart (second_arm_extent)."""
        if top:
            self.top_stmts = stmts
        for q in range(len(stmts) - 2, -1, -1):
            node = stmts[q]
            if not (isinstance(node, Send) and node.full is not None and len(node.args) == 1
                    and node.sel in ("ifTrue:", "ifFalse:", "ifNil:", "ifNotNil:")
                    and ends_in_return(node.args[0].stmts)):
                continue
            two = node.full[0]
            if node.sel in ("ifNil:", "ifNotNil:"):
                two = NIL_FORMS[two]
            if self.closures and two not in self.hints:
                continue
            end = self.second_arm_extent(stmts, q)
            if end is not None:
                node.sel, node.args = two, [node.args[0], Block([], [], stmts[q + 1:end + 1])]
                node.full = (node.full[0], node.args)
                del stmts[q + 1:end + 1]
        for node in stmts:
            for block in blocks_in(node):
                self.polish_by_literal_order(block.stmts, False)
        return stmts

    def second_arm_extent(self, stmts, q):
        """For the one-armed conditional stmts[q] whose arm returns, the index of the last
        statement of its second arm if the source had one, else None. Squeak 2.2 emits a
        two-armed conditional statement for value then pops it, so a store then a pop ends
        a second arm; else the literal frame decides: the compilers number literals in the
        order they size the code (see size_order), so of the ways to read the statements,
        take the one whose numbering agrees best with the literal frame."""
        options = []
        for j in range(q + 1, len(stmts)):
            st = stmts[j]
            if isinstance(st, Assign) and st.popped:
                if j == q + 1 or self._disorder(stmts, q, j) <= self._disorder(stmts, q, None):
                    return j
                return None
            if value_statement(st) or (j == len(stmts) - 1 and isinstance(st, Return)):
                options.append(j)
        if not options:
            return None
        flat = self._disorder(stmts, q, None)
        best, score = None, None
        for j in options:
            # among equals, a second arm that returns too (`ifFalse: [... ^ x]`), else the shortest
            key = (self._disorder(stmts, q, j), 0 if isinstance(stmts[j], Return) else 1, j)
            if key[0] < flat and (score is None or key < score):
                best, score = j, key
        return best

    def _disorder(self, stmts, q, end):
        """How many pairs of literals the sizing order of the whole method numbers the
        other way round from its literal frame, reading stmts[q] with a second arm made of
        stmts[q + 1 .. end] (end None: as it is)."""
        node = stmts[q]
        saved = (node.sel, node.args, node.full, list(stmts))
        if end is not None:
            node.args = [node.args[0], Block([], [], stmts[q + 1:end + 1])]
            node.full = (node.full[0], node.args)
            del stmts[q + 1:end + 1]
        order = []
        for st in self.top_stmts:
            size_order(st, order)
        node.sel, node.args, node.full = saved[:3]
        stmts[:] = saved[3]
        return _count_inversions(order)

    def polish_node(self, node):
        if isinstance(node, Block):
            self.polish(node.stmts)
            return
        if isinstance(node, (Assign, Return)):
            self.polish_node(node.value)
            return
        if isinstance(node, Cascade):
            self.polish_node(node.rcv)
            for p in node.parts:
                for a in p.args:
                    self.polish_node(a)
            return
        if isinstance(node, Brace):
            for x in node.items:
                self.polish_node(x)
            return
        if not isinstance(node, Send):
            return
        self.polish_node(node.rcv)
        for a in node.args:
            self.polish_node(a)
        if node.full is None:
            return
        x = self.nil_test(node.rcv)
        if x is None:
            return
        sel = NIL_FORMS.get(node.sel)
        if sel in self.hints:
            node.rcv, node.sel = x, sel
        elif node.sel in SWAPPED and NIL_FORMS[SWAPPED[node.sel]] in self.hints:
            node.rcv, node.sel, node.args = x, NIL_FORMS[SWAPPED[node.sel]], node.args[::-1]
        elif (node.sel in ("ifTrue:ifFalse:", "ifFalse:ifTrue:") and "ifNil:" in self.hints):
            nil_arm, other = node.args if node.sel == "ifTrue:ifFalse:" else node.args[::-1]
            if len(other.stmts) == 1 and isinstance(other.stmts[0], Var) and other.stmts[0] is x:
                node.rcv, node.sel, node.args = x, "ifNil:", [nil_arm]


def ends_in_return(stmts):
    """Whether the last statement of `stmts` returns (a return, or a conditional with two
    arms that both end in a return)."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, Return):
        return True
    return (isinstance(last, Send) and last.full is not None and len(last.args) == 2
            and last.sel in TWO_ARMED
            and all(isinstance(a, Block) and ends_in_return(a.stmts) for a in last.args))


def value_statement(node):
    """Whether Squeak 2.2 could have emitted `node` for value and then popped it (the last
    statement of an arm of a two-armed conditional statement)."""
    if isinstance(node, Assign):
        return node.popped
    if isinstance(node, Send):
        return node.full is None and node.sel not in LOOP_SELECTORS or (
            node.full is not None and len(node.args) == 2)
    return not isinstance(node, Return)


def children(node):
    """The nodes directly inside `node`."""
    cls = node.__class__
    if cls is Send:
        return [node.rcv] + list(node.args)
    if cls is Block:
        return node.stmts
    if cls is Assign:
        return [node.var, node.value]
    if cls is Return:
        return [node.value]
    if cls is Cascade:
        out = [node.rcv]
        for p in node.parts:
            out.extend(p.args)
        return out
    if cls is Brace:
        return node.items
    return []


def size_order(node, out):
    """Append to `out` the literal frame indices `node` refers to, in the order Squeak 2.2's
    compiler sizes the code (and so numbers the literals): a message's selector before its
    receiver and arguments; a conditional's ifFalse: arm, then its ifTrue: arm, then the
    condition (a one-armed conditional for effect: its arm then the condition); a loop's
    body before its test; to:do: its start, a computed limit, the body, the step, a
    constant limit; an assignment's value before its variable."""
    cls = node.__class__
    if cls is Var:
        if node.ref is not None and node.ref[0] == "lit":
            out.append(node.ref[1])
    elif cls is Lit:
        if node.index is not None:
            out.append(node.index)
    elif cls is Send:
        sel = node.sel
        if node.full is not None:
            first, second = node.full[1]
            true_arm, false_arm = (first, second) if node.full[0] == "ifTrue:ifFalse:" else (second, first)
            rcv = node.rcv
            if true_arm.stmts and false_arm.stmts:
                size_order(false_arm, out)
                size_order(true_arm, out)
            else:
                size_order(true_arm if true_arm.stmts else false_arm, out)
            if rcv is not None:
                size_order(rcv, out)
            return
        if sel in ("caseOf:", "caseOf:otherwise:") and isinstance(node.args[0], Brace):
            # the otherwise arm (or the caseError send), the cases last to first (arm,
            # then key), then the receiver
            if len(node.args) == 2:
                size_order(node.args[1], out)
            elif node.index is not None:
                out.append(node.index)
            for case in reversed(node.args[0].items):
                size_order(case.args[0], out)
                size_order(case.rcv, out)
            size_order(node.rcv, out)
            return
        if sel in ("whileTrue:", "whileFalse:") and isinstance(node.rcv, Block) and node.rcv.real is None:
            size_order(node.args[0], out)
            size_order(node.rcv, out)
            return
        if sel in ("whileTrue", "whileFalse") and isinstance(node.rcv, Block) and node.rcv.real is None:
            size_order(node.rcv, out)
            return
        if sel in ("to:do:", "to:by:do:") and isinstance(node.args[-1], Block) and node.args[-1].real is None:
            limit = node.args[0]
            simple = limit.__class__ in (Lit, Var)
            size_order(node.rcv, out)
            if not simple:
                size_order(limit, out)
            size_order(node.args[-1], out)
            if len(node.args) == 3:
                size_order(node.args[1], out)
            if simple:
                size_order(limit, out)
            return
        if node.index is not None:
            out.append(node.index)
        size_order(node.rcv, out)
        for a in node.args:
            size_order(a, out)
    elif cls is Cascade:
        size_order(node.rcv, out)
        for p in node.parts:
            if p.index is not None:
                out.append(p.index)
            for a in p.args:
                size_order(a, out)
    elif cls is Assign:
        size_order(node.value, out)
        size_order(node.var, out)
    elif cls is Block:
        if node.real is not None and node.real >= 0:
            out.append(node.real)
        for st in node.stmts:
            size_order(st, out)
    else:
        for child in children(node):
            size_order(child, out)


def _inversions(node) -> int:
    """How many pairs of `node`'s literals its sizing order numbers the other way round from
    their literal frame indices (0 for the form the compiler sized)."""
    order = []
    size_order(node, order)
    return _count_inversions(order)


def _count_inversions(order) -> int:
    """Pairs of literal indices out of order in `order`, each index counted where first met."""
    seen = []
    known = set()
    for i in order:
        if i not in known:
            known.add(i)
            seen.append(i)
    return sum(1 for a in range(len(seen)) for b in range(a + 1, len(seen)) if seen[a] > seen[b])


def blocks_in(node):
    """The blocks in `node` that are not inside another block of it."""
    if node.__class__ is Block:
        return [node]
    out = []
    for child in children(node):
        out.extend(blocks_in(child))
    return out


class _BlockValue(Node):
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _NewArray(Node):
    __slots__ = ("size",)

    def __init__(self, size):
        self.size = size


# --- finding a method's class and selector -------------------------------------------------

def method_dictionary_items(space, cls):
    """[(selector text, method)] of a class's method dictionary."""
    md = cls.ptrs[1]
    if md is space.nil or md.ptrs is None or len(md.ptrs) < 2:
        return []
    values = md.ptrs[1]
    out = []
    if values is space.nil or values.ptrs is None:
        return out
    for key, m in zip(md.ptrs[2:], values.ptrs):
        if key is not space.nil and m.__class__ is SqObject and m.fmt == 12 and key.bytes is not None:
            out.append((_text(key), m))
    return out


def find_method(space, method, cls=None):
    """(class, selector) under which `method` is installed (searching `cls` first)."""
    candidates = [cls] if cls is not None else []
    if cls is None:
        for c in space.classes():
            candidates.append(c)
            candidates.append(c.cls)
    for c in candidates:
        for sel, m in method_dictionary_items(space, c):
            if m is method:
                return c, sel
    return cls, None


def decompile(space, method, cls=None, selector=None) -> str:
    """The Smalltalk source of a guest CompiledMethod (see the module docstring)."""
    if method.__class__ is not SqObject or method.fmt != 12:
        raise DecompileError("not a compiled method")
    if cls is None or selector is None:
        found_cls, found_sel = find_method(space, method, cls)
        cls = cls or found_cls
        selector = selector or found_sel
    try:
        return MethodDecompiler(space, method, cls, selector).run()
    except OzError:
        raise
    except (IndexError, KeyError, AttributeError, ValueError, TypeError, RecursionError) as e:
        # bytecodes no compiler emits (a damaged or hand-made method)
        raise DecompileError("cannot decompile %s: %s: %s" % (selector, type(e).__name__, e))


def method_temp_names(space, method, cls=None, selector=None) -> dict:
    """The names the decompiled source gives a method's own frame slots: {slot: name} for its
    arguments and temporaries (0-based, as in the context), {(slot, i): name} for the
    temporaries kept in the temp vector in that slot (6505). Empty when it does not
    decompile; slots the source never shows are left out. (A debugger's names for a frame.)"""
    if method.__class__ is not SqObject or method.fmt != 12:
        return {}
    if cls is None or selector is None:
        found_cls, found_sel = find_method(space, method, cls)
        cls = cls or found_cls
        selector = selector or found_sel
    dec = MethodDecompiler(space, method, cls, selector)
    try:
        dec.run()
    except (OzError, IndexError, KeyError, AttributeError, ValueError, TypeError, RecursionError):
        return {}
    out = {}
    for i, v in dec.scope.names.items():
        if isinstance(v, Var) and v._name is not None:
            out[i] = v._name
        elif isinstance(v, Vector):
            for k, rv in enumerate(v.names):
                if isinstance(rv, Var) and rv._name is not None:
                    out[(i, k)] = rv._name
    return out
