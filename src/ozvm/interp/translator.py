"""The translation tier's code generator: a V3 compiled method (Squeak 6502 bytecodes plus
the 6504/6505 closure bytecodes) becomes one Python function specialised for it.

`translate(jit, meth, info)` answers ``run(ctx, caller, depth, st, n)`` or None (the method
then always runs in the interpreter). ``run`` executes the context `ctx` of this method (or
of one of its blocks) from the pc and stack pointer stored in it (`st` < 0), or from its
first bytecode (`st` 0: a context just made by a send); `caller` is the context of the
translated Python frame that sent the message (None when the tier's driver started it),
`depth` the number of translated frames nested in Python below it, `n` the heartbeat budget
(bytecodes; what is left goes back in `jit.left`). It answers the value returned to
`caller`, or a marker of jit.py; see docs/jit.md.

Shape of the generated code: a state machine over basic blocks in pc order,

    while True:
        if st == 0:  ...; st = 7          # falls into the next block
        if st == 7:  ...; st = 3; continue    # a backward jump

Every block starts with the whole stack in the context's fields ("canonical": what the
interpreter would see); inside a block stack slots live in Python locals or are folded
into the expressions that use them (constants, temps, instance variables), and are written
back before anything that can look at the context: sends, primitives, allocations,
thisContext, returns and block exits. Block boundaries are the only places where the
tier is entered besides a method's first bytecode: jump targets, the bytecode after a
conditional jump, every send and backward jump (where the interpreter checks for
interrupts) and every return point after a send, so a context suspended by a process
switch or a heartbeat is resumed in translated code where it stopped.
"""
from __future__ import annotations

import types

from ..memory.accounting import POINT_COST
from ..memory.objects import SqObject
from ..prims.base import running_primitive

# kinds of the regions of a method's bytes: the method itself, a closure's body (temps
# in its own context), a pre-closure block's body (temps in its home context)
METHOD, CLOSURE, BLOCK = 0, 1, 2

CONST_NAMES = {0x71: "true", 0x72: "false", 0x73: "nil", 0x74: "(-1)", 0x75: "(0)", 0x76: "(1)", 0x77: "(2)"}


def is_int_const(expr) -> bool:
    return expr.startswith("(") and expr.strip("()").lstrip("-").isdigit()

RETURN_NAMES = {0x78: "rcvr", 0x79: "true", 0x7A: "false", 0x7B: "nil"}
SWITCH_SPECIALS = (0xC9, 0xCA)          # value, value: (the interpreter checks interrupts there)
# special selectors sent through the SPECIAL helper (which may activate a method)
HELPER_SPECIALS = (0xC3, 0xC4, 0xC5, 0xC8, 0xC9, 0xCA, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF)
# ... of which these are plain sends (no special treatment in the interpreter either)
SITE_SPECIALS = (0xC3, 0xC4, 0xC5, 0xCB, 0xCC, 0xCD, 0xCE, 0xCF)
FUSED = "fused"         # Gen.instr: a comparison emitted together with the jump after it


COMPILED_KEPT = 4000        # code objects kept by source (Jit.compiled)
# special selectors whose slow path sends through an inline cache of its own (the others,
# arithmetic and comparisons, through the helper: a site at every one of their slow paths
# would add more source than it saves; see docs/jit.md)
SLOW_SITES = (0xB6, 0xB7, 0xBB, 0xC0, 0xC1, 0xC2)


class Untranslatable(Exception):
    """The method keeps running in the interpreter (an irregular stack, a bytecode the
    tier leaves to the interpreter)."""


class Instr:
    __slots__ = ("pc", "size", "op", "a", "b", "c", "target", "next", "switch")

    def __init__(self, pc, size, op, a=None, b=None, c=None, target=None):
        self.pc = pc
        self.size = size
        self.op = op
        self.a = a
        self.b = b
        self.c = c
        self.target = target
        self.next = pc + size
        self.switch = False        # a send or backward jump: interrupts are checked before it


def decode(code, pc, has_closures, spur=False) -> Instr:
    """One V3 instruction at `pc` (raises Untranslatable for what the tier leaves alone)."""
    b = code[pc]
    if b < 0x10:
        return Instr(pc, 1, "push_ivar", b)
    if b < 0x20:
        return Instr(pc, 1, "push_temp", b - 0x10)
    if b < 0x40:
        return Instr(pc, 1, "push_lit", b - 0x20)
    if b < 0x60:
        return Instr(pc, 1, "push_litvar", b - 0x40)
    if b < 0x68:
        return Instr(pc, 1, "store_ivar", b - 0x60, True)
    if b < 0x70:
        return Instr(pc, 1, "store_temp", b - 0x68, True)
    if b == 0x70:
        return Instr(pc, 1, "push_const", "rcvr")
    if b < 0x78:
        return Instr(pc, 1, "push_const", CONST_NAMES[b])
    if b < 0x7C:
        return Instr(pc, 1, "return", RETURN_NAMES[b], False)
    if b == 0x7C:
        return Instr(pc, 1, "return", None, False)
    if b == 0x7D:
        return Instr(pc, 1, "return", None, True)
    if b < 0x80:
        raise Untranslatable("invalid bytecode %d" % b)
    if b <= 0x82:
        c = code[pc + 1]
        kind = c >> 6
        i = c & 63
        if b == 0x80:
            return Instr(pc, 2, ("push_ivar", "push_temp", "push_lit", "push_litvar")[kind], i)
        if kind == 2:
            raise Untranslatable("invalid extended store")
        return Instr(pc, 2, ("store_ivar", "store_temp", None, "store_litvar")[kind], i, b == 0x82)
    if b == 0x83:
        c = code[pc + 1]
        return Instr(pc, 2, "send", c & 31, c >> 5, False)
    if b == 0x84:
        c = code[pc + 1]
        i = code[pc + 2]
        kind = c >> 5
        if kind < 2:
            return Instr(pc, 3, "send", i, c & 31, kind == 1)
        if kind == 2:
            return Instr(pc, 3, "push_ivar", i)
        if kind == 3:
            return Instr(pc, 3, "push_lit", i)
        if kind == 4:
            return Instr(pc, 3, "push_litvar", i)
        if kind == 5:
            return Instr(pc, 3, "store_ivar", i, False)
        if kind == 6:
            return Instr(pc, 3, "store_ivar", i, True)
        return Instr(pc, 3, "store_litvar", i, False)
    if b == 0x85:
        c = code[pc + 1]
        return Instr(pc, 2, "send", c & 31, c >> 5, True)
    if b == 0x86:
        c = code[pc + 1]
        return Instr(pc, 2, "send", c & 63, c >> 6, False)
    if b == 0x87:
        return Instr(pc, 1, "pop")
    if b == 0x88:
        return Instr(pc, 1, "dup")
    if b == 0x89:
        return Instr(pc, 1, "this_context")
    if b < 0x90:
        if b == 0x8B and spur:
            return Instr(pc, 3, "nop")      # callPrimitive: the primitive failed or is absent
        if not has_closures or b == 0x8B:
            raise Untranslatable("bytecode %d" % b)
        if b == 0x8A:
            c = code[pc + 1]
            return Instr(pc, 2, "new_array", c & 127, c > 127)
        if b == 0x8C:
            return Instr(pc, 3, "push_remote", code[pc + 1], code[pc + 2])
        if b == 0x8D or b == 0x8E:
            return Instr(pc, 3, "store_remote", code[pc + 1], code[pc + 2], b == 0x8E)
        c = code[pc + 1]
        size = code[pc + 2] * 256 + code[pc + 3]
        ins = Instr(pc, 4, "closure", c & 15, c >> 4, size)
        ins.target = pc + 4 + size
        return ins
    if b < 0x98:
        return Instr(pc, 1, "jump", target=pc + 1 + b - 0x8F)
    if b < 0xA0:
        return Instr(pc, 1, "jump_false", target=pc + 1 + b - 0x97)
    if b < 0xA8:
        return Instr(pc, 2, "jump", target=pc + 2 + (b - 0xA4) * 256 + code[pc + 1])
    if b < 0xAC:
        return Instr(pc, 2, "jump_true", target=pc + 2 + (b - 0xA8) * 256 + code[pc + 1])
    if b < 0xB0:
        return Instr(pc, 2, "jump_false", target=pc + 2 + (b - 0xAC) * 256 + code[pc + 1])
    if b < 0xD0:
        return Instr(pc, 1, "special", b)
    return Instr(pc, 1, "send", b & 15, (b >> 4) - 13, False)


class Plan:
    """The analysed method: instructions reachable from its entries, the stack depth
    (stackp) and region kind before each, the block leaders."""

    def __init__(self):
        self.instrs = {}        # pc -> Instr
        self.depth = {}         # pc -> stackp before the instruction
        self.kind = {}          # pc -> METHOD / CLOSURE / BLOCK
        self.leaders = set()
        self.entries = {}       # pc -> stackp at which the tier may enter
        self.has_blocks = False
        self.sites = 0          # sends with an inline cache (counted by the code generator)


def analyse(code, ntemps, frame, lits, specsel_argc, has_closures, literal_int, spur=False) -> Plan:
    """Follow the control flow from the method's start and from every block body; every
    pc must be reached with one stack depth."""
    plan = Plan()
    work = [(0, ntemps, METHOD)]
    plan.entries[0] = ntemps
    plan.leaders.add(0)
    end = len(code)
    limit = frame        # stackp may not pass the context's frame (fields after the 6 fixed)

    def reach(pc, depth, kind, leader=False):
        if not 0 <= pc < end:
            raise Untranslatable("a jump out of the method")
        if leader:
            plan.leaders.add(pc)
        old = plan.depth.get(pc)
        if old is None:
            plan.depth[pc] = depth
            plan.kind[pc] = kind
            work.append((pc, depth, kind))
        elif old != depth or plan.kind[pc] != kind:
            raise Untranslatable("pc %d reached with two stack depths" % pc)

    plan.depth[0] = ntemps
    plan.kind[0] = METHOD
    prev_of = {}
    while work:
        pc, depth, kind = work.pop()
        while True:
            ins = decode(code, pc, has_closures, spur)
            if ins.next > end:
                raise Untranslatable("an instruction runs past the end")
            plan.instrs[pc] = ins
            op = ins.op
            d = depth
            helper = False
            if op == "nop":
                pass
            elif op in ("push_ivar", "push_temp", "push_lit", "push_litvar", "push_const", "dup",
                      "this_context", "push_remote"):
                d += 1
            elif op in ("store_ivar", "store_temp", "store_litvar", "store_remote"):
                if ins.b if op != "store_remote" else ins.c:
                    d -= 1
            elif op == "pop":
                d -= 1
            elif op == "send":
                d -= ins.b
                ins.switch = True
                helper = True
            elif op == "special":
                argc = specsel_argc[(ins.a - 0xB0)]
                d -= argc
                if ins.a in SWITCH_SPECIALS:
                    ins.switch = True
                if ins.a in HELPER_SPECIALS:
                    helper = True
                if ins.a == 0xC8:
                    # blockCopy: a pre-closure block whose body starts after the next
                    # (2-byte) jump, entered with its arguments on its own stack
                    nargs = literal_int(prev_of.get(pc))
                    if nargs is None:
                        raise Untranslatable("blockCopy: without a constant argument count")
                    plan.has_blocks = True
                    start = pc + 3
                    plan.entries[start] = nargs
                    reach(start, nargs, BLOCK, True)
            elif op == "new_array":
                d += 1 - (ins.a if ins.b else 0)
            elif op == "closure":
                d += 1 - ins.b
                start = pc + 4
                plan.entries[start] = ins.a + ins.b
                reach(start, ins.a + ins.b, CLOSURE, True)
            if d < 0 or d > limit:
                raise Untranslatable("stack out of the frame at pc %d" % pc)
            if op == "return":
                break
            if op == "jump":
                if ins.target <= pc:
                    ins.switch = True
                    plan.leaders.add(pc)
                reach(ins.target, d, kind, True)
                break
            if op == "closure":
                reach(ins.target, d, kind, True)
                break
            if op in ("jump_true", "jump_false"):
                d -= 1
                if d < 0:
                    raise Untranslatable("empty stack")
                reach(ins.target, d, kind, True)
                reach(ins.next, d, kind, True)
                break
            if ins.switch:
                plan.leaders.add(pc)
            if helper:
                # the return point: entered when the callee's frame was given up
                plan.entries[ins.next] = d
                reach(ins.next, d, kind, True)
                break
            nxt = ins.next
            prev_of[nxt] = ins
            if nxt in plan.depth:
                reach(nxt, d, kind)
                plan.leaders.add(nxt)
                break
            if nxt >= end:
                raise Untranslatable("falls off the end")
            plan.depth[nxt] = d
            plan.kind[nxt] = kind
            pc = nxt
            depth = d
    # a block is entered at its leaders only: any leader is an entry too (a context
    # stopped there by a heartbeat, a debugger, a deoptimisation)
    for pc in plan.leaders:
        plan.entries.setdefault(pc, plan.depth[pc])
    return plan


# --- code generation ----------------------------------------------------------------------

class Sym:
    """A stack slot during code generation: where its value is."""
    __slots__ = ("kind", "expr")

    def __init__(self, kind, expr):
        self.kind = kind       # 'slot' (in the context), 'const', 'local', 'lazy' (a read of memory)
        self.expr = expr


class Gen:
    def __init__(self, plan, off, specsel_argc, recycle=False, lits=None, specsel=None):
        self.plan = plan
        self.lits = lits            # the method's literals and the special selectors: what
        self.specsel = specsel      # their caches say a site will make (site_kinds)
        self.sites = 0         # sends with an inline cache (jit.Site)
        self.recycle = recycle
        self.off = off
        self.specsel_argc = specsel_argc
        self.out = []
        self.ind = 2
        self.stack = []        # Sym per depth 1..top
        self.pending = 0       # bytecodes run since the budget was last charged
        self.kind = METHOD
        self.tmp = 0

    # --- output --------------------------------------------------------------------------
    def emit(self, line):
        self.out.append("    " * self.ind + line)

    def fresh(self, base="t"):
        self.tmp += 1
        return "%s%d" % (base, self.tmp)

    # --- the symbolic stack -------------------------------------------------------------------
    def top_index(self):
        return len(self.stack) + 5

    def slot_expr(self, depth):
        return "p[%d]" % (depth + 5)

    def start_block(self, depth, kind):
        self.stack = [Sym("slot", self.slot_expr(d)) for d in range(1, depth + 1)]
        self.pending = 0
        self.kind = kind

    def push(self, kind, expr):
        self.stack.append(Sym(kind, expr))

    def pop_expr(self):
        s = self.stack.pop()
        return s.expr

    def flush_one(self, depth):
        s = self.stack[depth - 1]
        if s.kind != "slot":
            self.emit("%s = %s" % (self.slot_expr(depth), s.expr))
            s.kind = "slot"
            s.expr = self.slot_expr(depth)

    def flush(self):
        """Write every stack slot into the context (the canonical state)."""
        for depth in range(1, len(self.stack) + 1):
            self.flush_one(depth)

    def flush_keep(self):
        """Write every stack slot into the context but keep using the locals and constants
        (for a slow path in one branch of an inline fast path)."""
        for depth, s in enumerate(self.stack, 1):
            if s.kind != "slot":
                self.emit("%s = %s" % (self.slot_expr(depth), s.expr))

    def settle(self):
        """Make every lazy read a local (before a store or a call-out changes memory)."""
        for depth, s in enumerate(self.stack, 1):
            if s.kind == "lazy":
                name = "s%d" % depth
                self.emit("%s = %s" % (name, s.expr))
                s.kind = "local"
                s.expr = name

    def to_local(self, depth):
        s = self.stack[depth - 1]
        if s.kind in ("lazy", "slot"):
            name = "s%d" % depth
            self.emit("%s = %s" % (name, s.expr))
            s.kind = "local"
            s.expr = name
        return s.expr

    def temp_ref(self, i):
        """The temp i; in a context holding its own temps, a closure's temps pushed by its
        code are stack slots too: that slot is written back first."""
        if self.kind != BLOCK and i + 1 <= len(self.stack):
            self.flush_one(i + 1)
        return "temps[%d]" % (i + 6)

    def charge(self):
        if self.pending:
            self.emit("n -= %d" % self.pending)
            self.pending = 0

    def stored_pc(self, pc):
        return pc + self.off

    # --- blocks ----------------------------------------------------------------------------------
    def goto(self, target, here):
        """End the block: to `target` (a loop back edge continues the dispatch loop)."""
        self.flush()
        self.charge()
        self.emit("st = %d" % target)
        if target <= here:
            self.emit("continue")

    def gen(self):
        plan = self.plan
        pcs = sorted(plan.depth)
        i = 0
        while i < len(pcs):
            pc = pcs[i]
            self.ind = 2
            self.emit("if st == %d:" % pc)
            self.ind = 3
            self.start_block(plan.depth[pc], plan.kind[pc])
            ended = False
            while True:
                ins = plan.instrs[pc]
                ended = self.instr(ins)
                i += 1
                if ended is FUSED:      # the conditional jump after it was emitted with it
                    i += 1
                if ended or i >= len(pcs):
                    break
                nxt = pcs[i]
                if nxt != ins.next:
                    raise Untranslatable("a gap after pc %d" % pc)
                if nxt in plan.leaders:
                    self.flush()
                    self.charge()
                    self.emit("st = %d" % nxt)
                    break
                pc = nxt
            if not ended and i >= len(pcs):
                raise Untranslatable("falls off the end")
        self.ind = 2
        self.emit("raise VMError('translated code lost its place at %d' % st)")
        return self.out

    # --- instructions -----------------------------------------------------------------------
    def instr(self, ins) -> bool:
        """Emit one instruction; True when it ends the block."""
        op = ins.op
        self.pending += 0 if ins.switch else 1
        if op == "push_ivar":
            self.push("lazy", "rcvr.ptrs[%d]" % ins.a)
        elif op == "push_temp":
            self.push("lazy", self.temp_ref(ins.a))
        elif op == "push_lit":
            self.push("lazy", "lits[%d]" % (ins.a + 1))
        elif op == "push_litvar":
            self.push("lazy", "lits[%d].ptrs[1]" % (ins.a + 1))
        elif op == "push_const":
            self.push("const", ins.a)
        elif op == "dup":
            s = self.stack[-1]
            if s.kind == "slot" or s.kind == "lazy":
                self.to_local(len(self.stack))
            self.push(s.kind, s.expr)
        elif op == "pop":
            self.stack.pop()
        elif op == "nop":
            pass
        elif op in ("store_ivar", "store_temp", "store_litvar", "store_remote"):
            self.settle()
            if op == "store_ivar":
                dest = "rcvr.ptrs[%d]" % ins.a
                pop = ins.b
            elif op == "store_temp":
                dest = self.temp_ref(ins.a)
                pop = ins.b
            elif op == "store_litvar":
                dest = "lits[%d].ptrs[1]" % (ins.a + 1)
                pop = ins.b
            else:
                dest = "%s.ptrs[%d]" % (self.temp_ref(ins.b), ins.a)
                pop = ins.c
            if op == "store_ivar" or op == "store_litvar":
                # a read-only object (Spur) refuses the store: #attemptToAssign:withIndex:,
                # as the interpreter sends it (the stack is then deeper than the plan's)
                target = "rcvr" if op == "store_ivar" else "lits[%d]" % (ins.a + 1)
                self.emit("if %s.flags & 1:" % target)
                self.ind += 1
                self.flush_keep()
                self.emit("ASSIGN(ctx, p, %d, %s, %d, %s, %d, n - %d)" % (
                    self.top_index(), target, ins.a if op == "store_ivar" else 1,
                    "True" if pop else "False", self.stored_pc(ins.next), self.pending))
                self.ind -= 1
            self.emit("%s = %s" % (dest, self.stack[-1].expr))
            if op == "store_temp" and self.kind != BLOCK and ins.a + 1 <= len(self.stack):
                # the temp is this very stack slot (or one below): it holds the value now
                s = self.stack[ins.a]
                s.kind, s.expr = "slot", self.slot_expr(ins.a + 1)
            if pop:
                self.stack.pop()
        elif op == "push_remote":
            self.push("lazy", "%s.ptrs[%d]" % (self.temp_ref(ins.b), ins.a))
        elif op == "this_context":
            self.settle()
            self.flush()
            self.emit("p[1] = %d" % self.stored_pc(ins.next))
            self.emit("p[2] = %d" % len(self.stack))
            self.push("const", "ctx")
        elif op == "return":
            self.ret(ins)
            return True
        elif op == "jump":
            if ins.switch:
                self.flush()
                self.check_beat(ins)
                self.pending = 1
            self.goto(ins.target, ins.pc)
            return True
        elif op in ("jump_true", "jump_false"):
            self.cond_jump(ins, self.pop_expr(), None)
            return True
        elif op == "send":
            # a super send's site is looked up from the method class's superclass (its
            # case's class), a constant of the site but for a become: of the class
            self.site_send(ins, "lits[%d]" % (ins.a + 1), ins.b, None, ins.a + 1,
                           "lits[-1].ptrs[1].ptrs[0]" if ins.c else None)
            return True
        elif op == "special":
            return self.special(ins)
        elif op == "new_array":
            self.settle()
            self.flush()
            self.emit("v = NEWARRAY(ctx, p, %d, %d, %d, %d)" % (
                self.top_index(), ins.a, 1 if ins.b else 0, self.stored_pc(ins.next)))
            if ins.b:
                del self.stack[len(self.stack) - ins.a:]
            name = "s%d" % (len(self.stack) + 1)
            self.emit("%s = v" % name)
            self.push("local", name)
        elif op == "closure":
            self.settle()
            self.flush()
            self.emit("v = CLOSURE(ctx, p, %d, %d, %d, %d)" % (
                self.top_index(), ins.a, ins.b, self.stored_pc(ins.pc + 4)))
            if ins.b:
                del self.stack[len(self.stack) - ins.b:]
            self.push("local", "v")
            self.goto(ins.target, ins.pc)
            return True
        else:
            raise Untranslatable(op)
        return False

    def check_beat(self, ins):
        """At a send or backward jump: charge the budget; when it is spent, the heartbeat
        runs with the context stopped before this instruction (stack written back)."""
        self.charge()
        self.emit("if n <= 0:")
        self.emit("    n = BEAT(ctx, p, %d, %d, n)" % (self.top_index(), self.stored_pc(ins.pc)))

    def send(self, ins, call, argc):
        """A send through a helper that may activate a method: the context is canonical,
        the result comes back into the return point's slot."""
        self.settle()
        self.flush()
        if ins.switch:
            self.check_beat(ins)
            self.emit("J.left = n - 1")
        else:
            self.charge()
            self.emit("J.left = n")
        self.emit("v = " + call)
        self.emit("n = J.left")
        self.emit("if v is UNW:")           # the guest's control went on elsewhere (jit.UNWOUND)
        self.emit("    return v")
        del self.stack[len(self.stack) - argc:]
        self.emit("%s = v" % self.slot_expr(len(self.stack)))
        self.stack[-1] = Sym("slot", self.slot_expr(len(self.stack)))
        self.emit("st = %d" % ins.next)
        return True

    def site_send(self, ins, sel, argc, miss=None, which=0, lookup=None, block=False):
        """A send with an inline cache of its own (site_code). The context is canonical
        before the send, as for every send. `sel` is the selector's expression, `argc` its
        argument count, `miss` the helper's call (%s: the site) when not the send helper,
        `lookup` the expression of the class a super send looks the method up from,
        `block` for value/value: (site_block)."""
        self.settle()
        self.flush()
        if ins.switch:
            self.check_beat(ins)            # the send is counted as it is made
            count = " - 1"
        else:
            self.charge()                   # (a special selector: counted already)
            count = ""
        rdepth = len(self.stack) - argc
        self.emit("rc = %s" % self.slot_expr(rdepth))
        args = [self.slot_expr(rdepth + k) for k in range(1, argc + 1)]
        top = self.top_index()
        if miss is None:
            miss = "SEND(ctx, p, %d, %d, %s, %d, depth, %%s%s)" % (
                top, argc, sel, self.stored_pc(ins.next), "" if lookup is None else ", k_")
        self.site_code(ins, sel, argc, rdepth, "rc", args, count, "v", miss, which, lookup, block)
        del self.stack[len(self.stack) - argc:]
        self.emit("%s = v" % self.slot_expr(len(self.stack)))
        self.stack[-1] = Sym("slot", self.slot_expr(len(self.stack)))
        self.emit("st = %d" % ins.next)

    def site_kinds(self, which) -> str:
        """What a site of the selector `which` (k > 0: literal k; -2i-1: special selector
        i) may make, from the selector's method cache (filled by the interpreter's sends
        before the method got hot): 't' a call of a translated method, 'p' a primitive,
        'q' a quick primitive. All three when unknown (an empty cache: a method translated
        at its first activation)."""
        sel = None
        if which > 0 and self.lits is not None and which < len(self.lits):
            sel = self.lits[which]
        elif which < 0 and self.specsel is not None and -which - 1 < len(self.specsel):
            sel = self.specsel[-which - 1]
        d = getattr(sel, "cache", None)
        if d.__class__ is not dict or not d:
            return "tpq"
        kinds = ""
        for e in d.values():
            prim = e[1]
            if prim > 0 and not 255 < prim < 520 and running_primitive(prim) is None:
                prim = 0            # (a primitive ozvm lacks or that always fails: the method runs)
            k = "t" if prim == 0 else "q" if 255 < prim < 520 else "p" if prim > 0 else ""
            if k not in kinds:
                kinds += k
        return kinds

    def site_code(self, ins, sel, argc, rdepth, rc, args, count, res, miss, which=0, lookup=None,
                  block=False):
        """The send of `sel` to the receiver `rc` (a local) with `args` (expressions), all
        written into the context at depth `rdepth` and above, through an inline cache of
        its own (a jit.Site, `icN` in the code, with a case per receiver class: the local
        `ic` is the receiver class's case, or NOIC, which fails): when the selector's cache
        and the method's decoded form are those the case recorded, a translated method is
        called from here (a new MethodContext made by the interpreter's activation point,
        the callee's function called directly), a primitive is called from here as the
        interpreter calls it (registers set; a failure activates the method through the
        helper), a quick primitive answering an instance variable is read here; else the
        helper's call `miss` (%s: the site), which fills the cache. The result goes into
        the local `res`; `count` charges the send. Only the ways the selector's cache
        says the site may take are in its code (site_kinds); another goes to the helper.
        A super send's cases are found by the class `lookup` (an expression), not by the
        receiver's class. A `block` site (value, value:) runs a BlockContext's translation
        itself (site_block)."""
        top = rdepth + argc + 5
        stored = self.stored_pc(ins.next)
        stackp = rdepth - 1
        site = "ic%d" % self.sites
        self.sites += 1
        kinds = self.site_kinds(which)
        # the site's entry for the receiver's class (its first, else one of `more`), then
        # that entry's checks
        if lookup is None:
            lookup = "%s.cls if %s.__class__ is SqObject else SI" % (rc, rc)
        self.emit("ic = %s if (k_ := %s) is %s.k else %s.more.get(k_, NOIC)" % (site, lookup, site, site))
        self.emit("q = ic.q if %s.cache is ic.d and ic.m.cache is ic.e and depth < MAXD else -9" % sel)
        branches = []
        if block:
            branches.append(("k_ is BCC and (bp := %s.ptrs)[3] == %d and bp[0] is nil and depth < MAXD "
                             "and (fr := FNS.get(hm := bp[5].ptrs[3])) is not None and fr[0] is hm.cache "
                             "and (bf := fr[1]) is not None" % (rc, argc), self.site_block))
        if "t" in kinds:
            branches.append(("q == -1", self.site_call))
        if "p" in kinds:
            branches.append(("q == -2", self.site_primitive))
        if "q" in kinds:
            branches.append(("q >= 0", self.site_field))
            branches.append(("-5 < q < -2", self.site_constant))
        for k, (test, emit) in enumerate(branches):
            self.emit(("if %s:" if k == 0 else "elif %s:") % test)
            self.ind += 1
            emit(ins, "ic", argc, args, rc, top, stored, stackp, count, res)
            self.ind -= 1
        if branches:
            self.emit("else:")
            self.ind += 1
        self.emit("J.left = n%s" % count)
        self.emit("%s = %s" % (res, miss % site))
        self.emit("n = J.left")
        if branches:
            self.ind -= 1
        self.emit("if %s is UNW:" % res)       # the guest's control went on elsewhere (jit.UNWOUND)
        self.emit("    return %s" % res)

    def site_call(self, ins, site, argc, args, rc, top, stored, stackp, count, res):
        """site_code's call of a translated method."""
        self.emit("p[1] = %d" % stored)
        self.emit("p[2] = %d" % stackp)
        act = "ACT(ctx, %s.e, %s, %s)" % (site, rc, "[%s]" % ", ".join(args) if argc else "()")
        if self.recycle:
            # CPython: a dead context of the method's size reused from the free list the
            # site recorded, its fields set as the activation point (activate_frame) sets
            # them: sender, pc, stackp, method, closure, receiver, arguments, the temps' nils
            self.emit("fl = %s.free" % site)
            self.emit("if fl:")
            self.emit("    x = fl.pop()")
            self.emit("    xp = x.ptrs")
            self.emit("    i_ = %s.e" % site)
            for k, a in enumerate(["ctx", "i_[3]", "i_[4]", "i_[0]", "nil", rc] + args):
                self.emit("    xp[%d] = %s" % (k, a))
            self.emit("    if i_[4] > %d:" % argc)
            self.emit("        xp[%d:i_[4] + 6] = i_[5][:i_[4] - %d]" % (6 + argc, argc))
            self.emit("else:")
            self.emit("    x = " + act)
        else:
            self.emit("x = " + act)
        self.emit("%s = %s.f(x, ctx, depth + 1, 0, n%s)" % (res, site, count))
        self.emit("if %s is UNW:" % res)
        # a return the callee's translation did not make itself: taken here when it came
        # back to this context, else UNW again (below)
        self.emit("    %s = LANDED(ctx, p, %d, %d)" % (res, stored, stackp))
        self.emit("elif p[1] != %d or p[2] != %d:" % (stored, stackp))
        self.emit("    %s = RETURNED(ctx, p, %s, %d, %d)" % (res, res, stored, stackp))
        if self.recycle:
            # CPython: a returned context nothing refers to is reused, as the interpreter does
            # (the free list read before the call: the entry may be filled again meanwhile)
            self.emit("elif fl is not None and len(fl) < 32 and "
                      "RC(x) == (3 if x.cache == id_(x) else 2) + (I.ctx is x):")
            self.emit("    fl.append(x)")
        self.emit("n = J.left")

    def site_block(self, ins, site, argc, args, rc, top, stored, stackp, count, res):
        """site_code's run of a BlockContext (`bp` its fields) whose home method has a
        translation (`bf`), as primitive 81 and the interpreter start it, without a
        lookup (the send helper's `special` does the same for the rest)."""
        if argc:
            self.emit("bp[6] = %s" % args[0])
        self.emit("p[1] = %d" % stored)
        self.emit("p[2] = %d" % stackp)
        self.emit("bp[0] = ctx")
        self.emit("bp[1] = bp[4]")
        self.emit("bp[2] = %d" % argc)
        self.emit("%s = bf(%s, ctx, depth + 1, -1, n%s)" % (res, rc, count))
        self.emit("if %s is UNW or %s is NOENTRY or p[1] != %d or p[2] != %d or I.stop_reason:" % (
            res, res, stored, stackp))
        self.emit("    %s = BLOCKDONE(%s, ctx, p, %s, %d, %d, depth)" % (res, rc, res, stored, stackp))
        self.emit("n = J.left")

    def site_primitive(self, ins, site, argc, args, rc, top, stored, stackp, count, res):
        """site_code's call of a primitive, as the interpreter's send calls it."""
        # the interpreter's registers as its send sets them for a primitive
        self.emit("I.ctx = ctx")
        self.emit("I.stack = p")
        self.emit("I.sp = %d" % top)
        self.emit("I.pc = %d" % ins.next)
        self.emit("I.new_method = %s.m" % site)
        self.emit("try:")
        self.emit("    ok = %s.f(I, %d)" % (site, argc))
        self.emit("except PRIMERRORS as e_:")
        self.emit("    ok = PRIMERROR(ctx, p, %d, %d, %s.e, e_)" % (top, argc, site))
        self.emit("if ok and I.ctx is ctx and I.sp == %d and not I.stop_reason:" % (top - argc))
        self.emit("    %s = p[%d]" % (res, top - argc))
        if count:
            self.emit("    n -= 1")
        self.emit("else:")
        self.emit("    J.left = n%s" % count)
        self.emit("    %s = PRIMDONE(ctx, p, %d, %d, %s.e, ok, %d, %s, depth)" % (
            res, top, argc, site, stored, rc))
        self.emit("    n = J.left")

    def site_field(self, ins, site, argc, args, rc, top, stored, stackp, count, res):
        """site_code's quick primitive answering an instance variable."""
        self.emit("%s = %s.ptrs[q]" % (res, rc))
        if count:
            self.emit("n -= 1")

    def site_constant(self, ins, site, argc, args, rc, top, stored, stackp, count, res):
        """site_code's quick primitive answering a constant or the receiver."""
        self.emit("%s = %s.f if q == -3 else %s" % (res, site, rc))
        if count:
            self.emit("n -= 1")

    def ret(self, ins):
        what = ins.a
        self.settle()
        value = self.stack[-1].expr if what is None else what
        if what is None and self.stack[-1].kind == "slot":
            self.emit("v = %s" % value)
            value = "v"
        self.charge()
        self.emit("J.left = n")
        local = ins.b or self.kind == METHOD
        if local:
            # to the sender (a method) or the caller (a block): nothing in between
            self.emit("s = p[0]")
            self.emit("if s is caller and s.ptrs[1] is not nil:")
            self.emit("    p[0] = nil")
            self.emit("    p[1] = nil")
            self.emit("    return %s" % value)
        self.flush()
        self.emit("return RET(ctx, p, %d, %d, %s, %s, caller)" % (
            self.top_index(), self.stored_pc(ins.next), value, "True" if ins.b else "False"))

    def cond_jump(self, ins, value, truth):
        """A conditional jump on guest `value` (or on Python boolean expression `truth`,
        from a comparison fused with it)."""
        self.settle()
        jump_if = ins.op == "jump_true"
        if truth is None:
            v = value
            if not v.isidentifier():
                self.emit("v = %s" % v)
                v = "v"
        self.flush()
        self.charge()
        if truth is None:
            self.emit("if %s is %s:" % (v, "true" if jump_if else "false"))
            self.emit("    st = %d" % ins.target)
            self.emit("elif %s is %s:" % (v, "false" if jump_if else "true"))
            self.emit("    st = %d" % ins.next)
            self.emit("else:")
            self.emit("    DEOPT(ctx, p, %d, %d, %s, n + 1)" % (
                self.top_index() + 1, self.stored_pc(ins.pc), v))
        else:
            self.emit("st = %d if %s%s else %d" % (
                ins.target, "" if jump_if else "not ", truth, ins.next))

    # --- special selectors -----------------------------------------------------------------------
    def special(self, ins) -> bool:
        b = ins.a
        argc = self.specsel_argc[b - 0xB0]
        if b in SITE_SPECIALS:
            # next, nextPut:, atEnd, do:, new, new:, x, y: sends with an inline cache
            self.site_send(ins, "SS%d" % (b - 0xB0), argc, None, -2 * (b - 0xB0) - 1)
            return True
        if b in SWITCH_SPECIALS:
            # value, value: to anything but a block: sends with an inline cache; a
            # BlockContext with a translation run from the site (site_block); other blocks
            # through the helper (which runs them without a lookup, as the interpreter does)
            self.site_send(ins, "SS%d" % (b - 0xB0), argc, "SPECIAL(ctx, p, %d, %d, %d, depth, %%s)" % (
                self.top_index(), b, self.stored_pc(ins.next)), -2 * (b - 0xB0) - 1, block=True)
            return True
        if b == 0xC8 and len(self.stack) >= 2 and self.stack[-2].expr == "ctx" \
                and is_int_const(self.stack[-1].expr):
            # thisContext blockCopy: N (as the compiler makes every block): primitive 80's
            # BlockContext made by the helper, no send
            nargs = int(self.stack[-1].expr.strip("()"))
            self.settle()
            self.flush()
            self.charge()
            self.emit("v = BLOCKCOPY(ctx, p, %d, %d, %d)" % (
                self.top_index(), self.stored_pc(ins.next), nargs))
            del self.stack[-2:]
            name = "s%d" % (len(self.stack) + 1)
            self.emit("%s = v" % name)
            self.push("local", name)
            return False
        if b in HELPER_SPECIALS:
            # blockCopy: (other than thisContext's): the helper (which runs it without a
            # lookup where the interpreter does)
            return self.send(ins, "SPECIAL(ctx, p, %d, %d, %d, depth)" % (
                self.top_index(), b, self.stored_pc(ins.next)), argc)
        if b == 0xC7:                                       # class
            self.settle()
            a = self.to_local(len(self.stack))
            self.stack.pop()
            name = "s%d" % (len(self.stack) + 1)
            self.emit("%s = %s.cls if %s.__class__ is SqObject else SI" % (name, a, a))
            self.push("local", name)
            return False
        if b == 0xC6:                                       # ==
            self.settle()
            c = self.to_local(len(self.stack))
            a = self.to_local(len(self.stack) - 1)
            del self.stack[-2:]
            if is_int_const(c):
                a, c = c, a
            if is_int_const(a):
                test = "(%s.__class__ is int_ and %s == %s)" % (c, c, a)
            else:
                test = "(%s is %s or (%s.__class__ is int_ and %s == %s))" % (a, c, a, a, c)
            return self.result_or_jump(ins, test, None)
        # arithmetic, comparisons, at:, at:put:, size: inline fast paths, else the helper
        self.settle()
        depth = len(self.stack)
        names = [self.to_local(depth - k) for k in range(argc, -1, -1)]
        del self.stack[len(self.stack) - argc - 1:]
        res = "s%d" % (len(self.stack) + 1)
        slow = ins          # the slow path: slow_path
        if b == 0xC2:                                       # size
            a = names[0]
            fast = ("%s.__class__ is SqObject and %s.fmt == 2 and (d := SEL_SIZE.cache) "
                    "and (e := d.get(%s.cls)) is not None and e[1] == 62" % (a, a, a))
            return self.fast_or_slow(ins, fast, "len(%s.ptrs)" % a, slow, res, names)
        if b == 0xC0:                                       # at:
            a, c = names
            fast = ("%s.__class__ is SqObject and %s.fmt == 2 and %s.__class__ is int_ "
                    "and 0 < %s <= len(%s.ptrs) and (d := SEL_AT.cache) "
                    "and (e := d.get(%s.cls)) is not None and e[1] == 60" % (a, a, c, c, a, a))
            return self.fast_or_slow(ins, fast, "%s.ptrs[%s - 1]" % (a, c), slow, res, names)
        if b == 0xC1:                                       # at:put:
            a, c, v = names
            fast = ("%s.__class__ is SqObject and %s.fmt == 2 and %s.__class__ is int_ "
                    "and 0 < %s <= len(%s.ptrs) and not %s.flags & 1 and (d := SEL_ATPUT.cache) "
                    "and (e := d.get(%s.cls)) is not None and e[1] == 61" % (a, a, c, c, a, a, a))
            self.charge()
            self.emit("if %s:" % fast)
            self.emit("    %s.ptrs[%s - 1] = %s" % (a, c, v))
            self.emit("    %s = %s" % (res, v))
            self.emit("else:")
            self.ind += 1
            self.slow_path(names, slow, res)
            self.ind -= 1
            self.push("local", res)
            return False
        a, c = names
        ints = " and ".join("%s.__class__ is int_" % x for x in (a, c) if not is_int_const(x)) or "True"
        if 0xB2 <= b <= 0xB7:
            cmp_op = {0xB2: "<", 0xB3: ">", 0xB4: "<=", 0xB5: ">=", 0xB6: "==", 0xB7: "!="}[b]
            return self.result_or_jump(ins, "%s %s %s" % (a, cmp_op, c), (ints, names, slow))
        if b == 0xB0 or b == 0xB1 or b == 0xB8:
            expr = "%s %s %s" % (a, {0xB0: "+", 0xB1: "-", 0xB8: "*"}[b], c)
            fast = "%s and MINI <= (r := %s) <= MAXI" % (ints, expr)
        elif b == 0xB9:                                     # /  (exact quotients only)
            fast = "%s and %s != 0 and %s %% %s == 0 and MINI <= (r := %s // %s) <= MAXI" % (
                ints, c, a, c, a, c)
        elif b == 0xBA:                                     # \\
            fast = "%s and %s != 0 and MINI <= (r := %s %% %s) <= MAXI" % (ints, c, a, c)
        elif b == 0xBD:                                     # //
            fast = "%s and %s != 0 and MINI <= (r := %s // %s) <= MAXI" % (ints, c, a, c)
        elif b == 0xBE:
            fast = "%s and MINI <= (r := %s & %s) <= MAXI" % (ints, a, c)
        elif b == 0xBF:
            fast = "%s and MINI <= (r := %s | %s) <= MAXI" % (ints, a, c)
        elif b == 0xBB:                                     # @
            return self.make_point(ins, ints, names, res)
        elif b == 0xBC:                                     # bitShift:
            fast = ("%s and MINI <= (r := (%s << %s if 0 <= %s < 31 else (%s >> -%s if -32 < %s < 0 "
                    "else (-1 if %s < 0 else 0) if %s < 0 else MAXI + 1))) <= MAXI" % (
                        ints, a, c, c, a, c, c, a, c))
        else:
            raise Untranslatable("special %d" % b)
        return self.fast_or_slow(ins, fast, "r", slow, res, names)

    def make_point(self, ins, ints, names, res):
        """x @ y: a Point made here when both are SmallIntegers, as the interpreter makes
        it (the stack below written back first, the registers set: the collector's roots
        if the allocation collects); else the message, through an inline cache."""
        a, c = names
        self.charge()
        self.emit("if %s:" % ints)
        self.ind += 1
        self.flush_keep()
        self.emit("I.ctx = ctx")
        self.emit("I.stack = p")
        self.emit("I.sp = %d" % self.top_index())
        self.emit("H.allocated += PCOST")
        self.emit("%s = H.allocate(PC, 1, [%s, %s])" % (res, a, c))
        self.ind -= 1
        self.emit("else:")
        self.ind += 1
        self.slow_path(names, ins, res)
        self.ind -= 1
        self.push("local", res)
        return False

    def slow_path(self, names, ins, res):
        """In the else branch of a fast path for the special selector `ins`: the operands
        and everything below written back, the send made through an inline cache of its
        own (site_code) or the helper (which may run a whole method)."""
        self.flush_keep()
        base = len(self.stack)
        for k, name in enumerate(names):
            self.emit("%s = %s" % (self.slot_expr(base + 1 + k), name))
        b = ins.a
        if is_int_const(names[0]) or b not in SLOW_SITES:
            # a SmallInteger receiver, arithmetic, comparisons: the Float bytecodes or the
            # helper (no cache)
            self.emit("J.left = n")
            self.emit("%s = ARITH(ctx, p, %d, %d, %d, depth, None)" % (
                res, base + len(names) + 5, b, self.stored_pc(ins.next)))
            self.emit("n = J.left")
            self.emit("if %s is UNW:" % res)
            self.emit("    return %s" % res)
            return
        self.site_code(ins, "SS%d" % (b - 0xB0), len(names) - 1, base + 1, names[0], names[1:], "",
                       res, "ARITH(ctx, p, %d, %d, %d, depth, %%s)" % (
                           base + len(names) + 5, b, self.stored_pc(ins.next)), -2 * (b - 0xB0) - 1)

    def fast_or_slow(self, ins, fast, value, slow, res, names):
        self.charge()           # (the slow path's send: a callee's budget is what is left)
        self.emit("if %s:" % fast)
        self.emit("    %s = %s" % (res, value))
        self.emit("else:")
        self.ind += 1
        self.slow_path(names, slow, res)
        self.ind -= 1
        self.push("local", res)
        return False

    def result_or_jump(self, ins, test, arith):
        """A comparison: fused with a conditional jump right after it (not a block
        start), else a true/false pushed."""
        plan = self.plan
        nxt = plan.instrs.get(ins.next)
        fuse = (nxt is not None and nxt.op in ("jump_true", "jump_false")
                and ins.next not in plan.leaders)
        if arith is None:
            if fuse:
                self.pending += 1
                self.cond_jump(nxt, None, "(%s)" % test)
                return FUSED
            name = "s%d" % (len(self.stack) + 1)
            self.emit("%s = true if %s else false" % (name, test))
            self.push("local", name)
            return False
        ints, names, slow = arith
        name = "s%d" % (len(self.stack) + 1)
        if fuse:
            # the interpreter counts a SmallInteger comparison and the jump-if-false after
            # it as one bytecode: so does this code (the heartbeats come at the same place)
            one = nxt.op == "jump_false"
            self.charge()
            self.emit("if %s:" % ints)
            self.emit("    t = %s" % test)
            self.emit("else:")
            self.ind += 1
            self.slow_path(names, slow, "v")
            self.emit("t = TRUTH(ctx, p, %d, %d, v, n)" % (self.top_index() + 1, self.stored_pc(ins.next)))
            if one:
                self.emit("n -= 1")
            self.ind -= 1
            self.pending += 0 if one else 1
            self.cond_jump(nxt, None, "t")
            return FUSED
        return self.fast_or_slow(ins, ints, "true if %s else false" % test, slow, name, names)


# --- the function -------------------------------------------------------------------------------

# The translation is a module-level function of a namespace of its own, whose globals are
# its constants (the tier, the interpreter, the method's literals, the helpers, the send
# sites): PyPy's JIT folds global reads into constants and CPython caches them, and the
# frame holds only the real locals.
PROLOGUE = '''def run(ctx, caller, depth, st, n):
    p = ctx.ptrs
    if st < 0:
        st = p[1]
        if st.__class__ is not int_ or ENTRIES.get(st - %(off)d) != p[2]:
            return NOENTRY
        st -= %(off)d
'''

PROLOGUE_TEMPS = '''    temps = p
    rcvr = p[5]
'''

PROLOGUE_BLOCKS = '''    if p[3].__class__ is int_:
        temps = p[5].ptrs
        rcvr = temps[5]
    else:
        temps = p
        rcvr = p[5]
'''


def literal_int_of(lits):
    """The SmallInteger an instruction pushes as a constant, else None."""
    def literal_int(ins):
        if ins is None:
            return None
        if ins.op == "push_const" and is_int_const(ins.a):
            return int(ins.a.strip("()"))
        if ins.op == "push_lit" and ins.a + 1 < len(lits) and lits[ins.a + 1].__class__ is int:
            return lits[ins.a + 1]
        return None
    return literal_int


def source_of(meth, info, specsel, has_closures, spur=False, recycle=False, policy=None):
    """The Python source of the translation of `meth` (decoded as `info`) and its entries;
    raises Untranslatable (also when `policy(meth, plan, kinds)` says no: jit.py's
    pypy_worth_translating)."""
    code = info[2]
    lits = meth.ptrs
    argcs = [specsel[2 * k + 1] if 2 * k + 1 < len(specsel) else 0 for k in range(32)]
    if not all(a.__class__ is int and 0 <= a <= 2 for a in argcs):
        raise Untranslatable("unusual special selectors")
    plan = analyse(code, info[4], info[7], lits, argcs, has_closures, literal_int_of(lits), spur)
    gen = Gen(plan, info[3], argcs, recycle, lits, specsel)
    if policy is not None and not policy(meth, plan, gen.site_kinds):
        raise Untranslatable("left to the interpreter by the PyPy policy")
    body = gen.gen()
    src = PROLOGUE % {"off": info[3]}
    src += PROLOGUE_BLOCKS if plan.has_blocks else PROLOGUE_TEMPS
    src += "    while True:\n"
    src += "\n".join(body) + "\n"
    plan.sites = gen.sites
    return src, plan


def translate(jit, meth, info):
    """`run(ctx, caller, depth, st, n)` for `meth`, or None when it stays in the interpreter."""
    interp = jit.interp
    try:
        src, plan = source_of(meth, info, interp.special_selectors, interp.has_closures,
                              interp.heap.family.is_spur, jit.refcount is not None,
                              jit.admits if jit.policy is not None else None)
    except (Untranslatable, IndexError) as e:
        jit.note_untranslatable(meth, str(e))
        return None
    specsel = interp.special_selectors
    family = interp.heap.family
    from ..errors import VMError
    # a module's dictionary (PyPy's JIT treats a module's globals as constants, not a
    # plain dict's)
    namespace = types.ModuleType("ozvm_translation_%d" % meth.hash).__dict__
    namespace.update({
        "J": jit, "I": interp, "lits": meth.ptrs, "ENTRIES": plan.entries, "NOENTRY": jit.NOENTRY,
        "SEND": jit.send, "SPECIAL": jit.special, "ARITH": jit.arith,
        "RET": jit.ret, "BEAT": jit.beat, "DEOPT": jit.deopt, "TRUTH": jit.truth,
        "ASSIGN": jit.assign, "NEWARRAY": jit.new_array, "CLOSURE": jit.closure,
        "SqObject": SqObject, "VMError": VMError, "SEL_AT": specsel[32], "SEL_ATPUT": specsel[34],
        "SEL_SIZE": specsel[36], "SI": interp.smallint_class, "MINI": family.small_int_min,
        "MAXI": family.small_int_max, "UNW": jit.UNWOUND,
        "ACT": interp.activate_frame, "LANDED": jit.landed, "RETURNED": jit.returned,
        "PRIMERRORS": jit.prim_errors, "PRIMERROR": jit.primitive_error, "PRIMDONE": jit.primitive_done,
        "SPECSEL": specsel, "RC": jit.refcount, "MAXD": jit.max_depth, "nil": interp.nil, "true": interp.true,
        "false": interp.false, "int_": int, "id_": id, "NOIC": jit.NO_CASE,
        "BCC": interp.block_context_class, "FNS": jit.fns, "BLOCKDONE": jit.block_done,
        "BLOCKCOPY": jit.block_copy, "H": interp.heap, "PC": interp.point_class,
        "PCOST": POINT_COST,
    })
    for k in range(32):
        namespace["SS%d" % k] = specsel[2 * k]          # the special selectors
    for k, site in enumerate(jit.new_sites(plan.sites)):
        namespace["ic%d" % k] = site
    # methods of the same shape have the same source: compiled once (the code object has
    # no state; each translation runs it in its own namespace)
    code = jit.compiled.get(src)
    if code is None:
        code = compile(src, "<ozvm translation>", "exec")
        if len(jit.compiled) < COMPILED_KEPT:
            jit.compiled[src] = code
    exec(code, namespace)
    return namespace["run"]
