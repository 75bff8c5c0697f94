"""The translation tier's runtime: which methods are translated (translator.py makes the
code), the driver that runs translated contexts, and the helpers translated code calls
for everything beyond its inline fast paths.

Contexts stay real guest objects. A translated frame works on its context's fields (the
stack is written back before anything can look at it), and before every send its pc and
stackp are stored, as the interpreter does: every context of the guest's stack is at all
times exactly what the interpreter would have made of it. A send whose method is
translated calls that method's function (Python recursion: the callee's Python return is
the guest's return); a method that is not translated runs in the interpreter nested under
its translated caller (`nest`: the interpreter's loop until the callee returns). The Python
stack is given up (`Unwind`) whenever the guest's control flow leaves that discipline: a
process switch, a non-local return, a return to a changed sender, a heartbeat that stopped
the run or switched processes, recursion deeper than MAX_DEPTH. The contexts are consistent at that moment,
so the driver (or the interpreter) goes on with the active one; a translated context is
entered again at any block boundary (see translator.py). `Deopt` hands the active
context to the interpreter for at least one bytecode (a mustBeBoolean).

The tier counts bytecodes as the interpreter does (each bytecode once) and runs the
interpreter's heartbeat at the same bytecodes: the first send or backward jump after the
chunk's budget is spent. See docs/jit.md.
"""
from __future__ import annotations

import os
import sys

from ..memory.accounting import MemoryLimitError
from ..memory.contexts import REUSE_CONTEXTS, decode_method
from ..memory.objects import SqObject
from ..prims.base import PRIMITIVES, running_primitive
from ..prims.control import new_block_context
from . import translator

DEFAULT_THRESHOLD = 40      # activations of a method before it is translated (a heartbeat
                            # finding it running counts as half that)
# The default policy on CPython (OZ_JIT=on, or unset when the tier is on by default;
# docs/jit.md "When a method is translated"): a translation costs as much as interpreting the
# method's bytes a thousand times or more (compile() of its source: about 0.6 ms and 0.09 ms
# a byte), which code that runs for a while pays back and a program's start-up (code that
# runs once: Scratch's 115-120 translations before its first display update) does not. So
# the interpreter's first WARMUP bytecodes translate nothing by activations, only a method
# that WARMUP_SAMPLES heartbeats found running (a long loop); from then on a method is
# translated after DEFAULT_THRESHOLD activations (a heartbeat counting half that). A
# threshold given as a number (OZ_JIT=N) has no warm-up; PyPy neither (its own policy
# decides which hot methods are translated).
WARMUP = 1500000
WARMUP_SAMPLES = 10
SAMPLED = -1                # code_for's weight for a heartbeat's sample
PYPY = sys.implementation.name == "pypy"
# translated frames nested in Python before the stack is given up to the driver
MAX_DEPTH = 60 if PYPY else 40


# special selectors that loops send to methods as often as not (=, ~=; next, nextPut:,
# atEnd, do:, new, new:, x, y), unlike the arithmetic
SENT_SPECIALS = (0xB6, 0xB7) + translator.SITE_SPECIALS


RECURSION = "recursion"      # pypy_worth_translating's verdicts
LOOPS = "loops"


def pypy_worth_translating(meth, plan, kinds):
    """PyPy's translation policy (docs/jit.md, "The tier on PyPy"): PyPy's JIT traces the
    interpreter's one loop for all guest code at once, but every translation on its own,
    so a translation pays only where a few methods do the work. Translated: a recursion
    that sends nothing but itself (its selector's method cache holds it alone),
    primitives (`kinds(which)`, from the selector's method cache as the send sites read
    it) and arithmetic; a method with loops (backward jumps) whose innermost loops send
    nothing but primitives and arithmetic. Sends to other methods (`=` too), block calls
    and super sends there, and a method without loops, leave it to the interpreter.
    Answers RECURSION, LOOPS (the tier translates such a method only once it has run a
    long time in one activation: Jit.admits) or False."""
    lits = meth.ptrs

    def itself(ins):
        """A send of the method's own selector, whose method cache holds it alone."""
        d = getattr(lits[ins.a + 1], "cache", None) if ins.a + 1 < len(lits) else None
        return d.__class__ is dict and d and all(e[0] is meth for e in d.values())

    def calls_out(start, end, recursion):
        """Whether the bytes from `start` to `end` send to a method (other than this one
        when `recursion`), call a block or make a super send."""
        for pc in range(start, end):
            j = plan.instrs.get(pc)
            if j is None:
                continue
            if j.op == "send" and (j.c or "t" in kinds(j.a + 1) and not (recursion and itself(j))):
                return True
            if j.op == "special" and (j.a in translator.SWITCH_SPECIALS or (
                    j.a in SENT_SPECIALS and "t" in kinds(-2 * (j.a - 0xB0) - 1))):
                return True
        return False

    end = max(plan.instrs) + 1
    if any(ins.op == "send" and not ins.c and itself(ins) for ins in plan.instrs.values()):
        return False if calls_out(0, end, True) else RECURSION
    loops = [(ins.target, ins.pc) for ins in plan.instrs.values()
             if ins.op == "jump" and ins.target <= ins.pc]
    inner = [(a, b) for a, b in loops if not any(a <= c and d <= b and (c, d) != (a, b)
                                                 for c, d in loops)]
    return LOOPS if inner and not any(calls_out(a, b, False) for a, b in inner) else False


class Unwind(Exception):
    """The translated frames on the Python stack are given up: the interpreter's active
    context (consistent, as every context is) is what runs next."""


class Deopt(Unwind):
    """... and the interpreter runs it for at least one bytecode."""


class Site:
    """The inline cache of one send in translated code (translator.py's site_send), with a
    few cases, one a receiver class, as Cog's polymorphic inline caches. A case holds the
    receiver class `k` it was filled for, the selector's method cache `d` then, and the
    cache entry `e` of the method `m` found (the method's decoded form: valid while
    `m.cache` is `e`); what the site does with it, by `q`: call the method's translation
    `f` (TRANSLATED), call its primitive function `f` as the interpreter calls it
    (PRIMITIVE: a failure activates the method), or answer what a quick primitive answers:
    the instance variable `q` (q >= 0), the constant `f` (CONSTANT), the receiver (SELF);
    the free list for the method's context size (CPython). The site is its first case;
    `more` maps the other receiver classes seen to cases of their own (Site objects too),
    at most MORE of them: a site that meets yet another class is megamorphic and sends to
    it through the helper, as a miss. Every case is checked on every send (its class, the
    selector's cache, the method's decoded form): a flush of the selector (a new dict), of
    the method (a new decoded form) or of everything (both) makes the checks fail, and the
    send helper fills the case again (a new selector cache empties the other cases)."""
    __slots__ = ("k", "d", "m", "e", "f", "q", "free", "more")

    TRANSLATED = -1
    PRIMITIVE = -2
    CONSTANT = -3
    SELF = -4
    MORE = 5                # cases besides the first (six receiver classes, as Cog's PICs)

    def __init__(self):
        self.k = self.d = self.m = self.e = self.f = self.free = None
        self.q = -1
        self.more = NO_MORE

    def record(self, cls, d, e, f, q, interp) -> None:
        """Fill the case of `cls`: the first one when the site is empty, is for `cls` or
        was filled under another selector cache (the other cases are dropped), else one of
        `more` (none when the site has MORE of them already)."""
        case = self
        if self.k is not None and cls is not self.k:
            if self.d is not d:
                self.more = NO_MORE
            else:
                case = self.more.get(cls)
                if case is None:
                    if len(self.more) >= Site.MORE:
                        return
                    if self.more is NO_MORE:
                        self.more = {}
                    case = self.more[cls] = Site()
        elif self.d is not d:
            self.more = NO_MORE
        case.k = cls
        case.d = d
        case.m = e[0]
        case.e = e
        case.f = f
        case.q = q
        case.free = interp.free_contexts.get(e[7]) if REUSE_CONTEXTS else None

    def cases(self) -> list:
        """The filled cases, the first one first."""
        return ([self] if self.k is not None else []) + list(self.more.values())


NO_MORE: dict = {}          # a site's `more` while it has one case (never changed)
# what a site's lookup in `more` answers for a class it has no case for: a case whose
# selector cache is no selector's, so that its check fails at once
NO_CASE = Site()
NO_CASE.d = object()


class Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "<jit %s>" % self.name


# a decoded form's cell (Jit.code_for) for a method of loops the PyPy policy admits, waiting
# for a run long enough: found running at two heartbeats in a row in the same context
LONG = Marker("long run")
NOENTRY = Marker("no entry")       # run(): the context is not at one of its entries
ENTER = Marker("enter")            # the interpreter's loop: hand the new context to the tier
# the answer of a translated function or of a helper when the guest's control left the Python
# call discipline by a return the translation does not make itself (a ^ from a block, an
# unwind, a nested run ended past its caller): the interpreter's active context (consistent,
# its registers stored) runs next. A caller whose context is that one, waiting where it
# sent, takes the value pushed on it and goes on (`landed`); any other caller answers
# UNWOUND in turn, down to the driver, which takes the active context up. No exception
# passes through the translated frames (on PyPy an exception forces every JIT frame it
# passes through to be made a real Python frame).
UNWOUND = Marker("unwound")
NESTED = "nested"                  # the stop reason ending a nested run of the interpreter


# CPython keeps Python frames in chunks of memory of 16 KiB, mapped when the stack grows
# past one and unmapped as soon as the stack falls back below it: translated code, whose
# Python stack goes up and down with the guest's, maps and unmaps memory at every crossing
# of a boundary (230,000 times in one run of the compiler workload, 30-60% of its time,
# depending on where the Python stack stood when the run began). A run of the interpreter
# with the tier therefore starts in a frame of ROOM slots: it gets a chunk of twice its
# size, whose other half holds the frames above it (translated and nested ones) without
# any mapping. PyPy has no such chunks.
ROOM = 4200 if sys.implementation.name == "cpython" else 0
_room_call = []


def in_room(f, a, b):
    """f(a, b) called with ROOM slots of Python stack below it (on CPython)."""
    if not ROOM:
        return f(a, b)
    if not _room_call:
        # a function with ROOM local variables (never assigned: only its frame counts)
        src = "def call(f, a, b):\n    if f is None:\n        %s = None\n    return f(a, b)\n" % (
            " = ".join("r%d" % i for i in range(ROOM)))
        namespace: dict = {}
        exec(compile(src, "<ozvm stack room>", "exec"), namespace)
        _room_call.append(namespace["call"])
    return _room_call[0](f, a, b)


# The tier's setting when OZ_JIT is unset or empty (a value as OZ_JIT takes it): "on", the
# tier with its default policy on both VMs (docs/jit.md, "The default"); OZ_JIT, `oz
# --no-jit` and Interpreter.use_tier still choose either way.
DEFAULT_JIT = "on"

OFF_VALUES = ("0", "off", "no", "false")


def _environment() -> str:
    """OZ_JIT as set (lower case, stripped; '' when unset): the one reading of it."""
    return os.environ.get("OZ_JIT", "").strip().lower()


def setting(value=None):
    """The tier's setting: None (off), 0 (translate every method at its first activation)
    or a threshold. `value` as OZ_JIT takes it: '0', 'off', 'no', 'false' off; 'always'; a
    number (the threshold); '1', 'on' (or anything else) the default threshold; None: OZ_JIT's
    value, DEFAULT_JIT when it is unset or empty."""
    value = _environment() if value is None else value.strip().lower()
    value = value or DEFAULT_JIT
    if value in OFF_VALUES:
        return None
    if value == "always":
        return 0
    if value.isdigit() and int(value) > 1:
        return int(value)
    return DEFAULT_THRESHOLD


def warmup_for(threshold) -> int:
    """The interpreter's bytecodes without translations by activations (see WARMUP), for a
    threshold from `setting`."""
    return WARMUP if threshold == DEFAULT_THRESHOLD and not PYPY else 0


def interpreter_only() -> bool:
    """Whether OZ_JIT asks for the interpreter only (`oz --no-jit` sets it to 0): tools that
    run both themselves (oz bench) then run the interpreter alone."""
    return _environment() in OFF_VALUES


def force_interpreter_only() -> None:
    """`oz --no-jit`: every interpreter made from here on, in this process and in the
    processes it starts, runs without the tier."""
    os.environ["OZ_JIT"] = "0"


class Jit:
    """The tier of one interpreter."""

    NOENTRY = NOENTRY
    UNWOUND = UNWOUND
    NO_CASE = NO_CASE
    max_depth = MAX_DEPTH

    def __init__(self, interp, threshold=DEFAULT_THRESHOLD, warmup=0):
        from .interpreter import CHUNK, PRIM_BUGS       # (interpreter.py imports this module)
        self.chunk_size = CHUNK
        self.prim_bugs = PRIM_BUGS
        # what a primitive may raise besides a failure: a bug, or an allocation refused
        self.prim_errors = PRIM_BUGS + (MemoryLimitError, MemoryError)
        self.interp = interp
        self.threshold = threshold
        # until the interpreter has run `warmup` bytecodes, only a method found running by
        # WARMUP_SAMPLES heartbeats is translated (`sampled`: method -> heartbeats)
        self.warmup = warmup
        self.sampled: dict = {}
        # which hot methods are translated: all, except on PyPy (with a threshold)
        self.policy = pypy_worth_translating if PYPY and threshold else None
        self.fns: dict = {}          # method -> (its decoded info when translated, run or None)
        # a method's activations before translation are counted in its decoded form's cell
        # (contexts.decode_method: [mark, count]), valid while the mark is this token (a
        # new one forgets every count); a method left to the interpreter (the PyPy policy,
        # untranslatable) has the count None there: never asked about again
        self.token = Marker("counts")
        # PyPy's policy: the context the last heartbeat found running (its id), the last
        # method a heartbeat found running in the same context as the one before (a long
        # run: loops worth their crossings), whether admits() waits for one
        self.last_sampled = self.long_run = None
        self.deferred = False
        self.untranslatable: dict = {}   # method -> why (for docs and tests)
        self.left = self.chunk = 0   # the heartbeat budget (bytecodes) and its start
        self.limit = self.deadline = None
        # the special selectors the translations were made with (a change drops them all)
        self.specials = interp.special_selectors
        self.quick_values = (interp.true, interp.false, interp.nil, -1, 0, 1, 2)
        self.translated = 0
        # dead contexts are reused by reference count (CPython), as in the interpreter
        self.refcount = sys.getrefcount if REUSE_CONTEXTS else None
        self.free_small = interp.free_contexts_small
        self.free_large = interp.free_contexts_large
        self.unwinds = 0
        self.compiled: dict = {}     # translated source -> its code object (translator.py)
        # nested runs of the interpreter (nest): the context waiting in translated code for
        # the innermost one's result, the process it runs in, the depth of translated
        # frames below it
        self.barrier = self.process = None
        self.base = self.switches = 0
        self.nested = 0

    # --- which code ------------------------------------------------------------------------
    def note_untranslatable(self, meth, why) -> None:
        self.untranslatable[meth] = why

    def flush(self) -> None:
        """Forget every translation (the special objects changed)."""
        self.fns.clear()
        self.sampled.clear()
        self.token = Marker("counts")

    def code_for(self, meth, weight=1):
        """The translation of `meth` (a compiled method), made when it is hot; None when it
        runs in the interpreter. A translation is valid while the method's decoded form is
        the one it was made from: a flush of the method (116), a become: of it (the decoded
        form moves with the body) or a new method in its place (install) drop it."""
        rec = self.fns.get(meth)
        info = meth.cache
        if rec is not None and rec[0] is info:
            return rec[1]
        if meth.__class__ is not SqObject or meth.fmt != 12:
            return None
        if info is None or info[0] is not meth:
            info = decode_method(meth, self.interp.heap)
        cell = info[8]
        if cell[0] is not self.token:
            cell[0] = self.token
            cell[1] = 0
        elif cell[1] is None:
            return None                 # left to the interpreter
        elif cell[1] is LONG:
            if self.long_run is not meth:
                return None             # loops waiting for a long run
            cell[1] = self.threshold
        if self.threshold:
            if self.warmup and self.interp.bytecodes < self.warmup:
                # the start-up: counts begin again (a method at the threshold comes here
                # once in DEFAULT_THRESHOLD activations); a long loop is translated
                cell[1] = 0
                if weight != SAMPLED:
                    return None
                n = self.sampled[meth] = self.sampled.get(meth, 0) + 1
                if n < WARMUP_SAMPLES:
                    return None
            else:
                if weight == SAMPLED:
                    weight = max(1, self.threshold // 2)
                c = cell[1] = cell[1] + weight
                if c < self.threshold:
                    return None
        self.deferred = False
        fn = translator.translate(self, meth, info)
        if fn is not None:
            self.translated += 1
        elif self.deferred:
            cell[1] = LONG
            return None
        else:
            cell[1] = None
        self.fns[meth] = (info, fn)
        return fn

    def admits(self, meth, plan, kinds):
        """PyPy's policy as the tier applies it: a method of loops is translated once it
        has run long in one activation (a heartbeat found it running in the same context
        as the heartbeat before: its loops run at least a chunk's bytecodes a call), so
        that what its translation saves pays for the crossings between the interpreter
        and the translation (tens of microseconds on PyPy); until then it is marked LONG
        in its decoded form's cell (the interpreter's activations do not ask the tier)."""
        verdict = self.policy(meth, plan, kinds)
        if verdict == LOOPS and self.long_run is not meth:
            self.deferred = True
            return False
        return verdict

    @staticmethod
    def new_sites(n) -> list:
        return [Site() for _ in range(n)]

    # --- the driver ------------------------------------------------------------------------
    def budget(self, limit) -> int:
        """A fresh heartbeat budget (the interpreter's CHUNK, less near a bytecode limit)."""
        c = self.chunk_size
        if limit is not None and limit - self.interp.bytecodes < c:
            c = max(1, limit - self.interp.bytecodes)
        return c

    def fresh_chunk(self) -> int:
        self.chunk = self.left = c = self.budget(self.limit)
        return c

    def wants(self, ctx, sampled=False) -> bool:
        """Whether the tier has code for the method `ctx` runs (made when it is hot):
        counted as one activation, or at a heartbeat (`sampled`) as half the threshold (a
        long loop gets hot without being activated again)."""
        if ctx is self.barrier:
            return True         # run() ends the nested run
        if self.interp.exact:
            return False
        p = ctx.ptrs
        meth = p[3]
        if meth.__class__ is int:
            meth = p[5].ptrs[3]
        if sampled and self.policy is not None:
            # PyPy's policy: the same context at two heartbeats in a row is a long run
            if self.last_sampled == id(ctx):
                self.long_run = meth
            self.last_sampled = id(ctx)
        info = meth.cache
        if info is not None and info[0] is meth:
            cell = info[8]
            if cell[0] is self.token:
                # the method's count (or its mark: left to the interpreter) where the
                # interpreter looks already: no dictionary to ask
                c = cell[1]
                if c is None or c is LONG and self.long_run is not meth:
                    return False
                if c.__class__ is int and c + 1 < self.threshold and not sampled:
                    cell[1] = c + 1
                    return False
        rec = self.fns.get(meth)
        if rec is not None and rec[0] is info:
            return rec[1] is not None
        return self.code_for(meth, SAMPLED if sampled else 1) is not None

    def run(self, limit, deadline, budget, stored=False):
        """Run the active context and what follows in translated code while there is
        translated code for it, with `budget` bytecodes until the next heartbeat (the
        interpreter's chunk goes on here); answers the budget left (<= 0: the heartbeat is
        due at the next send or backward jump). The interpreter then re-reads its
        registers from self (`fetch` of the active context). `stored`: the active context's
        fields hold its registers already (a context the interpreter just activated)."""
        interp = self.interp
        if interp.special_selectors is not self.specials:
            self.flush()
            self.specials = interp.special_selectors
            self.quick_values = (interp.true, interp.false, interp.nil, -1, 0, 1, 2)
        self.smallint_class = interp.smallint_class     # (the special objects may change)
        self.limit = limit
        self.deadline = deadline
        self.chunk = self.left = budget
        # from here on a context's fields hold its registers whenever this driver has control
        if not stored:
            interp.store_registers()
        barrier = self.barrier
        fns = self.fns
        while True:
            ctx = interp.ctx
            if ctx is None or interp.stop_reason:
                break
            if barrier is not None and (ctx is barrier or barrier.ptrs[1] is interp.nil or (
                    interp.switches != self.switches
                    and interp.active_process() is not self.process)):
                # a nested run's caller was returned to (or returned itself, or another
                # process runs): the run ends, nest() goes on
                interp.stop_reason = NESTED
                break
            p = ctx.ptrs
            meth = p[3]
            if meth.__class__ is int:
                meth = p[5].ptrs[3]
            rec = fns.get(meth)
            if rec is not None and rec[0] is meth.cache:
                fn = rec[1]
            else:
                fn = self.code_for(meth, 0) if not self.threshold else None
            if fn is None:
                break
            interp.stack = p
            try:
                r = fn(ctx, None, self.base, -1, self.left)
            except Deopt:
                self.unwinds += 1
                break
            except Unwind:
                self.unwinds += 1
                continue
            if r is NOENTRY:
                break
            if self.refcount is not None and ctx.ptrs[1] is interp.nil:
                # the base frame's context returned (the interpreter's do_return): kept for
                # reuse as the interpreter's own return keeps it (held by this frame only)
                interp.keep_for_reuse(ctx, 1)
        interp.bytecodes += self.chunk - self.left
        if interp.ctx is not None:
            interp.fetch(interp.ctx)
        return self.left

    # --- registers -------------------------------------------------------------------------
    def registers(self, ctx, p, sp, stored) -> None:
        """The interpreter's registers for a call-out from translated code: `ctx` active,
        `sp` its top, `stored` its pc as stored in a context."""
        interp = self.interp
        interp.ctx = ctx
        interp.stack = p
        interp.sp = sp
        m = p[3]
        if m.__class__ is int:
            m = p[5].ptrs[3]
        interp.pc = stored - interp.word_size * len(m.ptrs) - 1

    def stop(self, ctx, p, v, stored, stackp):
        """After a call-out that asked the run to stop (or the heartbeat to come soon):
        the heartbeat comes at the next send or backward jump; any other reason gives the
        Python stack up with `v` pushed on `ctx`."""
        interp = self.interp
        if interp.stop_reason == "beat":
            interp.stop_reason = None
            self.chunk -= self.left
            self.left = 0
            return v
        p[stackp + 6] = v
        p[1] = stored
        p[2] = stackp + 1
        self.registers(ctx, p, stackp + 6, stored)
        raise Unwind

    # --- sends -------------------------------------------------------------------------------
    def send(self, ctx, p, sp, argc, sel, stored, depth, site=None, lookup=None):
        """Send `sel` to the receiver under the `argc` arguments at p[sp] from a frame at
        `depth` (a super send: the method is looked up from the class `lookup`); answers
        the result (the callee ran to its return) or gives the Python stack up. A cached
        method that is translated, a primitive or a quick primitive is recorded in the
        send's `site` (the inline cache of translated code, which makes such sends itself
        from then on), in the case of the receiver's class (of `lookup`)."""
        rcvr = p[sp - argc]
        d = sel.cache
        if d.__class__ is dict:
            if lookup is None:
                cls = rcvr.cls if rcvr.__class__ is SqObject else self.smallint_class
            else:
                cls = lookup
            e = d.get(cls)
            if e is not None:
                prim = e[1]
                f = None
                if 0 < prim < 256 or prim >= 520:
                    # a primitive ozvm lacks or that always fails: the method runs
                    f = running_primitive(prim)
                    if f is None:
                        prim = 0
                if not prim:
                    meth = e[0]
                    rec = self.fns.get(meth)
                    if rec is None or rec[0] is not e or rec[1] is None:
                        return self.activate(ctx, p, sp, argc, e, stored, rcvr, depth)
                    if site is not None:
                        site.record(cls, d, e, rec[1], -1, self.interp)
                    if depth >= MAX_DEPTH:
                        return self.activate(ctx, p, sp, argc, e, stored, rcvr, depth)
                    stackp = sp - argc - 6
                    p[1] = stored
                    p[2] = stackp
                    interp = self.interp
                    interp.ctx = ctx            # the collector's roots, if this allocation collects
                    interp.stack = p
                    interp.sp = sp
                    nctx = interp.activate_frame(ctx, e, rcvr, p[sp - argc + 1:sp + 1])
                    v = rec[1](nctx, ctx, depth + 1, 0, self.left)
                    if v is UNWOUND:
                        return self.landed(ctx, p, stored, stackp)
                    if p[1] != stored or p[2] != stackp or interp.stop_reason:
                        return self.returned(ctx, p, v, stored, stackp)
                    if self.refcount is not None:
                        self.recycle(nctx, e[7])
                    return v
                if 255 < prim < 520:                    # quick primitives
                    if prim == 256:
                        if site is not None:
                            site.record(cls, d, e, None, Site.SELF, self.interp)
                        return rcvr
                    if prim < 264:
                        v = self.quick_values[prim - 257]
                        if site is not None:
                            site.record(cls, d, e, v, Site.CONSTANT, self.interp)
                        return v
                    if site is not None:
                        site.record(cls, d, e, None, prim - 264, self.interp)
                    return rcvr.ptrs[prim - 264]
                if f is not None:
                    # a primitive, called as the interpreter calls it (execute)
                    if site is not None:
                        site.record(cls, d, e, f, Site.PRIMITIVE, self.interp)
                    interp = self.interp
                    self.registers(ctx, p, sp, stored)
                    interp.new_method = e[0]
                    try:
                        ok = f(interp, argc)
                    except self.prim_errors as x:
                        ok = self.primitive_error(ctx, p, sp, argc, e, x)
                    return self.primitive_done(ctx, p, sp, argc, e, ok, stored, rcvr, depth)
        return self.general(ctx, p, sp, argc, sel, stored, lookup, depth)

    def primitive_error(self, ctx, p, sp, argc, e, error):
        """A primitive called from translated code (with the interpreter's registers set
        as for `send`) raised `error`: a bug of ozvm (a VMError), or an allocation refused
        (the primitive fails, or the guest stops), as in the interpreter's `primitive`."""
        interp = self.interp
        if isinstance(error, self.prim_bugs):
            return interp.primitive_crashed(e[1], error, ctx, p, sp)
        return interp.allocation_refused(ctx, p, sp, e, argc, error)

    def primitive_done(self, ctx, p, sp, argc, e, ok, stored, rcvr, depth):
        """After the primitive of `e` sent with `argc` arguments under p[sp]: its result
        (or whatever it made active run to its return) when it succeeded, else the method
        activated, as the interpreter does."""
        interp = self.interp
        if ok:
            if interp.ctx is ctx and interp.sp == sp - argc and not interp.stop_reason:
                return p[sp - argc]
            return self.after_callout(ctx, p, sp - argc, stored, depth)
        interp.sp = sp
        return self.activate(ctx, p, sp, argc, e, stored, rcvr, depth)

    def recycle(self, nctx, size) -> None:
        """A context that has returned and that nothing refers to any more is kept for
        reuse (CPython: reference counts), as the interpreter does. Its references: the
        caller's, the argument, the heap's list when it is listed, the interpreter's
        register when a call-out of the context left it there."""
        if self.refcount(nctx) == (4 if nctx.cache == id(nctx) else 3) + (self.interp.ctx is nctx):
            if size == 16:
                if len(self.free_small) < 32:
                    self.free_small.append(nctx)
            elif size == 56 and len(self.free_large) < 32:
                self.free_large.append(nctx)

    def landed(self, ctx, p, stored, stackp):
        """A send of `ctx` (waiting at `stored` with `stackp`) answered UNWOUND: when the
        return that left the Python call discipline came back to `ctx` right there (the
        interpreter's active context, the value pushed), that value is the send's result;
        else UNWOUND again (the active context runs next, its frame further down)."""
        interp = self.interp
        if interp.ctx is not ctx or interp.sp != stackp + 6 or p[1] != stored:
            interp.store_registers()
            return UNWOUND
        if interp.stop_reason:
            return self.stop(ctx, p, p[stackp + 6], stored, stackp)
        return p[stackp + 6]

    def returned(self, ctx, p, v, stored, stackp):
        """A callee returned `v` to `ctx`, which was changed while it waited or must stop."""
        interp = self.interp
        if p[1] != stored or p[2] != stackp:
            # the sender was changed while it waited: resume it as the interpreter would
            sp = p[2] + 6
            p[sp] = v
            p[2] += 1
            interp.fetch(ctx)
            raise Unwind
        return self.stop(ctx, p, v, stored, stackp)

    def activate(self, ctx, p, sp, argc, e, stored, rcvr, depth):
        """A new MethodContext for the cached method `e` (as the interpreter makes it)."""
        interp = self.interp
        stackp = sp - argc - 6
        p[1] = stored
        p[2] = stackp
        interp.ctx = ctx
        interp.stack = p
        interp.sp = sp
        nctx = interp.activate_frame(ctx, e, rcvr, p[sp - argc + 1:sp + 1])
        v = self.call(nctx, nctx.ptrs, ctx, p, stored, stackp, depth)
        if self.refcount is not None and v is not UNWOUND:
            self.recycle(nctx, e[7])
        return v

    def call(self, nctx, np, ctx, p, stored, stackp, depth):
        """Run the new active context `nctx`, whose sender is `ctx` (waiting at `stored`
        with `stackp`, in a translated frame at `depth`), to its return."""
        interp = self.interp
        interp.ctx = nctx
        interp.stack = np
        meth = np[3]
        if meth.__class__ is int:
            meth = np[5].ptrs[3]
        rec = self.fns.get(meth)
        # a callee without translation (one activation more of its method) runs in the
        # interpreter, nested: translations are made for methods hot on their own
        fn = rec[1] if rec is not None and rec[0] is meth.cache else self.code_for(meth)
        if depth >= MAX_DEPTH:
            interp.fetch(nctx)
            if self.barrier is not None and self.base > MAX_DEPTH // 2:
                # a nested run that began deep would give its frames up again at every
                # deeper call: it ends, and a driver further down takes the callee up
                interp.stop_reason = NESTED
            raise Unwind
        if fn is None:
            return self.nest(nctx, ctx, p, stored, stackp, depth)
        v = fn(nctx, ctx, depth + 1, -1, self.left)
        if v is UNWOUND:
            return self.landed(ctx, p, stored, stackp)
        if v is NOENTRY:
            return self.nest(nctx, ctx, p, stored, stackp, depth)
        interp.ctx = ctx
        interp.stack = p
        if p[1] != stored or p[2] != stackp or interp.stop_reason:
            return self.returned(ctx, p, v, stored, stackp)
        return v

    def nest(self, nctx, ctx, p, stored, stackp, depth):
        """Run the new active context `nctx` in the interpreter, nested in this Python
        frame, until it returns to its sender `ctx` (waiting at `stored` with `stackp`, in a
        translated frame at `depth`): answers the result. The translated frames stay on the
        Python stack; the interpreter's loop hands methods with translations to run() as
        usual (base frames at depth + 1). The run ends early when the guest leaves that
        discipline (a return past `ctx`, another process: UNWOUND, the active context runs
        next; a stop: Unwind)."""
        interp = self.interp
        interp.bytecodes += self.chunk - self.left     # the loop counts its own bytecodes
        self.chunk = self.left
        saved = self.barrier, self.process, self.switches, self.base
        self.barrier = ctx
        self.process = interp.active_process()
        self.switches = interp.switches     # (run() asks for the process after a switch)
        self.base = depth + 1
        self.nested += 1
        try:
            reason = interp.run_nested(nctx, self.limit, self.deadline, self.left)
        finally:
            self.barrier, self.process, self.switches, self.base = saved
            # the loop and the runs it made counted their bytecodes; what is left of the
            # budget is in self.left (run() ended the nested run)
            self.chunk = self.left
        if reason != NESTED:
            interp.stop_reason = reason        # the driver below ends the run with it
            raise Unwind
        if interp.ctx is ctx and p[1] == stored and p[2] == stackp + 1:
            return p[stackp + 6]
        if interp.ctx is ctx:
            # changed while it waited: taken up from its fields (the loop's return into it
            # set only ctx, stack and sp)
            interp.fetch(ctx)
            raise Unwind
        if interp.ctx is None:
            raise Unwind
        return UNWOUND

    def general(self, ctx, p, sp, argc, sel, stored, lookup_class, depth):
        """The interpreter's general send (lookup, doesNotUnderstand:, primitives, hooks)."""
        interp = self.interp
        self.registers(ctx, p, sp, stored)
        interp.send(sel, argc, lookup_class)
        return self.after_callout(ctx, p, sp - argc, stored, depth)

    def after_callout(self, ctx, p, result_sp, stored, depth):
        """After the interpreter's send or a primitive: the result, or the activated
        context run to its return."""
        interp = self.interp
        if interp.ctx is ctx:
            if interp.sp != result_sp or interp.stack is not p:
                interp.store_registers()
                raise Unwind
            v = p[result_sp]
            if interp.stop_reason:
                return self.stop(ctx, p, v, stored, result_sp - 6)
            return v
        new = interp.ctx
        if new is None or (interp.stop_reason and interp.stop_reason != "beat"):
            raise Unwind
        np = new.ptrs
        if np[0] is ctx and p[1] == stored and p[2] == result_sp - 6:
            if interp.stop_reason:
                interp.stop_reason = None
                self.chunk -= self.left
                self.left = 0
            return self.call(new, np, ctx, p, stored, result_sp - 6, depth)
        raise Unwind

    def block_done(self, blk, ctx, p, v, stored, stackp, depth):
        """After a send site of `value`/`value:` called the translation of the block `blk`
        (translator.py's site_block) for `ctx`, waiting at `stored` with `stackp`, and it
        answered `v`: what `call` does beyond a plain return."""
        if v is UNWOUND:
            return self.landed(ctx, p, stored, stackp)
        interp = self.interp
        if v is NOENTRY:
            interp.ctx = blk
            interp.stack = blk.ptrs
            return self.nest(blk, ctx, p, stored, stackp, depth)
        interp.ctx = ctx
        interp.stack = p
        return self.returned(ctx, p, v, stored, stackp)

    def block_copy(self, ctx, p, sp, stored, nargs):
        """`thisContext blockCopy: nargs` sent by `ctx` at `stored` (the translation knows
        both operands): primitive 80's BlockContext, its code after the jump that follows
        the send."""
        self.registers(ctx, p, sp, stored)             # the collector's roots
        return new_block_context(self.interp, ctx, nargs, stored + 2)

    def special(self, ctx, p, sp, b, stored, depth, site=None):
        """A special selector the translation leaves to this helper: blocks (value,
        value:, blockCopy:) run without a lookup where the interpreter does; the rest are
        sent (value and value: to anything but a block with the inline cache `site`)."""
        interp = self.interp
        i = (b - 0xB0) * 2
        specsel = interp.special_selectors
        argc = specsel[i + 1]
        a = p[sp - argc]
        if a.__class__ is SqObject:
            prim = 0
            if b == 0xC9 or b == 0xCA:
                cls = a.cls
                bp = a.ptrs
                stackp = sp - argc - 6
                if cls is interp.block_context_class:
                    if bp[3] == argc and bp[0] is interp.nil:
                        # a BlockContext, as primitive 81 and the interpreter run it
                        if argc:
                            bp[6] = p[sp]
                        p[1] = stored
                        p[2] = stackp
                        bp[0] = ctx
                        bp[1] = bp[4]
                        bp[2] = argc
                        return self.call(a, bp, ctx, p, stored, stackp, depth)
                    prim = 81
                elif cls is interp.closure_class and cls is not None:
                    if bp[2] == argc:
                        # a BlockClosure, as primitive 201/202 and the interpreter run it
                        outer = bp[0].ptrs
                        meth = outer[3]
                        info = meth.cache
                        if info is None or info[0] is not meth:
                            info = decode_method(meth, interp.heap)
                        self.registers(ctx, p, sp, stored)
                        p[1] = stored
                        p[2] = stackp
                        nctx = interp.activate_frame(ctx, info, outer[5], p[sp - argc + 1:sp + 1],
                                                     a, bp[3:])
                        v = self.call(nctx, nctx.ptrs, ctx, p, stored, stackp, depth)
                        if self.refcount is not None and v is not UNWOUND:
                            self.recycle(nctx, info[7])
                        return v
                    prim = 201
            elif b == 0xC8:
                if (a.cls is interp.method_context_class or a.cls is interp.block_context_class) \
                        and p[sp].__class__ is int:
                    prim = 80
            if prim:
                self.registers(ctx, p, sp, stored)
                p[1] = stored
                if PRIMITIVES[prim](interp, argc):
                    return self.after_callout(ctx, p, sp - argc, stored, depth)
                interp.sp = sp
        if site is not None and a.__class__ is SqObject and (
                a.cls is interp.block_context_class or a.cls is interp.closure_class):
            site = None
        return self.send(ctx, p, sp, argc, specsel[i], stored, depth, site)

    def arith(self, ctx, p, sp, b, stored, depth, site=None):
        """Arithmetic, comparison, @, at:, at:put:, size where the inline SmallInteger
        path does not apply: Floats as the interpreter computes them, else the message
        (with the inline cache `site`, filled for a receiver whose sends are never answered
        by the Float bytecodes: neither a SmallInteger nor a Float where they apply)."""
        interp = self.interp
        i = (b - 0xB0) * 2
        specsel = interp.special_selectors
        argc = specsel[i + 1]
        if b < 0xBA:
            a = p[sp - 1]
            c = p[sp]
            fc = interp.float_class
            if a.__class__ is SqObject and a.cls is fc or c.__class__ is SqObject and c.cls is fc:
                self.registers(ctx, p, sp, stored)
                r = interp.float_bytecode(b, a, c)
                if r is not None:
                    return r
            if a.__class__ is not SqObject or a.cls is fc:
                site = None
        return self.send(ctx, p, sp, argc, specsel[i], stored, depth, site)

    # --- returns -----------------------------------------------------------------------------
    def ret(self, ctx, p, sp, stored, value, block, caller):
        """A return the translation does not make itself (non-local, to a changed or dead
        sender, unwinding, out of a base frame): the interpreter's."""
        interp = self.interp
        nil = interp.nil
        if caller is None and (block or p[4] is nil and p[3].__class__ is not int):
            # a base frame's return to its sender (or a block's to its caller), nothing in
            # between: as the interpreter's inline return
            s = p[0]
            if s is not nil and s.ptrs[1] is not nil:
                p[0] = nil
                p[1] = nil
                q = s.ptrs
                q[q[2] + 6] = value
                q[2] += 1
                # the driver (the only caller of a base frame) goes on with `s` from its
                # fields, or fetches it for the interpreter
                interp.ctx = s
                interp.stack = q
                return UNWOUND
        self.registers(ctx, p, sp, stored)
        interp.do_return(value, block)
        if interp.ctx is not None:
            interp.store_registers()
        return UNWOUND

    # --- heartbeat, deoptimisation -------------------------------------------------------------
    def beat(self, ctx, p, sp, stored, n):
        """The heartbeat, before the send or backward jump at `stored` (the budget `n` is
        spent): timers, signals, the host's limits, as in the interpreter."""
        interp = self.interp
        p[1] = stored
        p[2] = sp - 5
        self.registers(ctx, p, sp, stored)
        interp.bytecodes += self.chunk - n
        self.chunk = self.left = 0
        if interp.stop_reason == "beat":
            interp.stop_reason = None
        if not interp.stop_reason:
            interp._heartbeat(self.limit, self.deadline)
            if interp.stop_reason == "beat":
                interp.stop_reason = None
        c = self.fresh_chunk()
        if interp.stop_reason or interp.ctx is not ctx:
            raise Unwind
        return c

    def deopt(self, ctx, p, sp, stored, value, n):
        """Hand `ctx` to the interpreter at `stored` with `value` on top of its stack."""
        p[sp] = value
        p[1] = stored
        p[2] = sp - 5
        self.registers(ctx, p, sp, stored)
        self.left = n
        raise Deopt

    def truth(self, ctx, p, sp, stored, value, n):
        if value is self.interp.true:
            return True
        if value is self.interp.false:
            return False
        self.deopt(ctx, p, sp, stored, value, n)

    def assign(self, ctx, p, sp, target, index, pop, stored, n):
        """A store into field `index` of the read-only `target` (Spur), the value on top at
        p[sp], the context stopped after the store at `stored`: the interpreter's
        cannotAssign (#attemptToAssign:withIndex:, leaving the stack one deeper than a
        store would); the interpreter or the driver goes on from there."""
        interp = self.interp
        p[1] = stored
        p[2] = sp - 5
        self.registers(ctx, p, sp, stored)
        self.left = n
        interp.cannot_assign(target, index, pop)
        interp.store_registers()
        raise Unwind

    # --- allocations ---------------------------------------------------------------------------
    def new_array(self, ctx, p, sp, count, pop, stored):
        """Bytecode 138: a new Array, of the top `count` slots when `pop`."""
        interp = self.interp
        self.registers(ctx, p, sp, stored)
        arr = interp.heap.instantiate(interp.array_class, count)
        if pop:
            arr.ptrs[:] = p[sp - count + 1:sp + 1]
        return arr

    def closure(self, ctx, p, sp, nargs, ncopied, start):
        """Bytecode 143: a BlockClosure of `ctx` starting at `start` (stored pc) with the
        top `ncopied` slots copied."""
        interp = self.interp
        self.registers(ctx, p, sp, start)
        clo = interp.heap.new_closure(interp.closure_class, ncopied)
        cp = clo.ptrs
        cp[0] = ctx
        cp[1] = start
        cp[2] = nargs
        if ncopied:
            cp[3:3 + ncopied] = p[sp - ncopied + 1:sp + 1]
        return clo
