"""The V3 bytecode interpreter (Squeak 6502 blue-book bytecodes plus the 6504/6505
closure bytecodes 138-143).

One Interpreter runs one heap. Its *registers* are

    ctx      the active context (a guest object), None when no process can run
    stack    ctx.ptrs (the context's fields; the stack lives in it)
    sp       index in `stack` of the top of the stack   (stackp + 5)
    pc       0-based index of the next bytecode in the method's bytes
    code, lits, off, receiver, temps   derived from ctx (see fetch)

The hot loop (`_loop`) keeps them in Python locals and keeps self.ctx/self.stack in
step; before calling out (primitives, slow paths) it writes self.sp/self.pc, and after a
call that switched contexts it re-reads everything from self. A context's own pc/stackp
fields are written whenever the context stops being active (sends, process switches,
thisContext, stopping the loop) -- see store_registers.

Slow paths (general sends, doesNotUnderstand:, non-local returns, closures...) live
in methods working on self; primitives follow prims/base.py's convention.
"""
from __future__ import annotations

import os
import sys
import time

from ..errors import GuestError, GuestExitToDebugger, GuestQuit, VMError
from ..memory import specials as S
from ..memory.accounting import HOST_MEMORY_LIMIT, MemoryLimitError, POINT_COST
from ..memory.contexts import (
    CLOSURE, HOME, LARGE_FRAME, METHOD, RECEIVER, REUSE_CONTEXTS, SENDER, SMALL_FRAME,
    AlternateCode, decode_method, method_of_context,
)
from ..memory.objects import SqObject, float_of_words
from ..prims.base import PRIMITIVES
from ..prims.files import FileTable
from .jit import ENTER, NESTED, Jit, in_room, setting as jit_setting, warmup_for
from .lookup import HOOK_PRIM, MethodLookup
from .scheduler import Scheduler
from .sista import OTHER_SET, run_sista

CHUNK = 4000        # bytecodes between two heartbeats
MEMORY_CHECK_EVERY = 64     # heartbeats between two looks at the process's memory
DEFAULT_MEMORY_LIMIT = HOST_MEMORY_LIMIT       # the process's backstop (OZ_MEMORY_LIMIT)
DEFAULT_MAX_STACK_DEPTH = int(os.environ.get("OZ_MAX_STACK_DEPTH", 1000000))
DEPTH_WALK = 10000      # a deep stack is measured at every (depth // DEPTH_WALK + 1)th heartbeat


def resident_memory() -> int:
    """The process's resident memory in bytes (Linux /proc; else the peak from getrusage)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        try:
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        except Exception:       # noqa: BLE001 - no way to measure: never stop for memory
            return 0
# the exceptions primitives raise to end a run (prims/system.py: 113, 114)
HOST_STOPS = (GuestQuit, GuestExitToDebugger)
# Python errors a primitive can raise by a bug of ozvm: a VMError naming the primitive
PRIM_BUGS = (TypeError, AttributeError, IndexError, ValueError, KeyError, ZeroDivisionError,
             OverflowError, UnicodeError)


_loaded = []


def load_primitives() -> list:
    """Import every primitive module (as prims.base.load_all does), but let a broken
    module cost only its own primitives: answers [(module name, error)] for those."""
    if _loaded:
        return _loaded[0]
    import importlib
    import pkgutil
    from .. import prims
    failed = []
    for info in pkgutil.iter_modules(prims.__path__):
        if info.name != "base":
            try:
                importlib.import_module("ozvm.prims." + info.name)
            except Exception as e:      # noqa: BLE001 - reported, not hidden
                failed.append((info.name, e))
                sys.stderr.write("ozvm: warning: primitives of prims/%s.py not loaded: %s: %s\n"
                                 % (info.name, type(e).__name__, e))
    _loaded.append(failed)
    return failed


class Interpreter(MethodLookup, Scheduler):
    """Runs the processes of one heap."""

    def __init__(self, heap):
        load_primitives()
        self.guest_error = None
        self.transcript_line_open = False
        self.memory_limit = DEFAULT_MEMORY_LIMIT   # bytes of the whole process; None: no limit
        self._beats = 0
        self.free_contexts_small: list = []
        self.free_contexts_large: list = []
        # frame size -> dead contexts of that size for reuse (CPython; see _loop's returns)
        self.free_contexts = {SMALL_FRAME: self.free_contexts_small, LARGE_FRAME: self.free_contexts_large}
        self.nil_lists: dict = {}       # n -> [nil] * n (see nils)
        self.heap = heap
        self.word_size = heap.family.word_size     # bytes per literal slot in a method
        heap.gc.prepare = self.prepare_collection
        self.nil = heap.nil
        self.true = heap.true
        self.false = heap.false
        info = heap.info
        self.image_path = getattr(info, "path", None)     # primitive 121 (imageName)
        self.files = FileTable(self.image_path)   # this space's files and their policy
        self.has_closures = bool(info is not None and info.has_closures)
        self.cached_selectors: list = []  # selectors whose cache slot holds entries
        self.hooks: dict = {}          # method -> f(interp, argc, method) -> bool (handled)
        self.base_contexts: dict = {}  # context -> f(interp, value) when it returns to nil
        self.host_poll = None          # f(interp) -> bool: stop the interpreter ('stopped')
        # context -> its pc: a return into such a context (its pc set to nil meanwhile, so
        # the hot loop's fast return leaves it to do_return) stops the run ('frame')
        self.return_traps: dict = {}
        self.exact = False             # run(exact=True): stop after exactly max_bytecodes
        self.running = False           # inside run() (host code called from a hook sees it)
        self.max_stack_depth = DEFAULT_MAX_STACK_DEPTH   # contexts; None: no limit
        self._depth_skip = 0           # heartbeats until the stack depth is measured again
        self.recursion_watch = None    # f(interp) at heartbeats (space/debugger.py)
        self.ctx = None
        self.stack = None
        self.sp = self.pc = 0
        self.code = self.lits = self.receiver = self.temps = None
        self.off = 0
        self.new_method = None
        self.stop_reason = None
        self.started = False
        self.bytecodes = 0
        self.deadline = None
        self.init_scheduler()
        self.refresh_specials()
        self.jit = None
        self.use_tier(None)
        account = heap.account
        account.extra_roots = self.memory_roots
        account.on_low_space = self.signal_low_space
        account.on_exhausted = self.memory_exhausted
        account.on_pace = self.beat_soon

    def use_tier(self, value=None) -> None:
        """This interpreter's translation tier (docs/jit.md), from its next run on: `value`
        as OZ_JIT takes it ('off', 'on', 'always', a threshold); None: OZ_JIT's setting, or
        jit.DEFAULT_JIT when it is unset. `self.jit` is the tier, None when off."""
        threshold = jit_setting(value)
        self.jit = None if threshold is None else Jit(self, threshold, warmup_for(threshold))

    def refresh_specials(self) -> None:
        """Cache the well-known classes and selectors (call after the specials change)."""
        self.heap.refresh_specials()
        sp = self.heap.specials.ptrs
        get = (lambda i: sp[i] if i < len(sp) else self.nil)
        self.nil = self.heap.nil
        self.true = self.heap.true
        self.false = self.heap.false
        self.smallint_class = sp[S.CLASS_SMALLINTEGER]
        self.method_context_class = sp[S.CLASS_METHOD_CONTEXT]
        self.block_context_class = sp[S.CLASS_BLOCK_CONTEXT]
        self.closure_class = get(S.CLASS_BLOCK_CLOSURE) if self.has_closures else None
        self.array_class = sp[S.CLASS_ARRAY]
        self.point_class = sp[S.CLASS_POINT]
        self.float_class = sp[S.CLASS_FLOAT]
        self.special_selectors = sp[S.SPECIAL_SELECTORS].ptrs
        self.about_to_return = get(S.SELECTOR_ABOUT_TO_RETURN)
        self.run_with_in = get(S.SELECTOR_RUN_WITH_IN)
        self.cannot_interpret = get(S.SELECTOR_CANNOT_INTERPRET)
        self._loop_constants = None     # (loop_constants)

    # --- registers ----------------------------------------------------------------
    def fetch(self, ctx) -> None:
        """Make `ctx` the active context, loading the registers from its fields."""
        self.ctx = ctx
        p = ctx.ptrs
        self.stack = p
        meth = p[METHOD]
        if meth.__class__ is int:            # a BlockContext: temps live in its home
            hp = p[HOME].ptrs
            meth = hp[METHOD]
            self.temps = hp
            self.receiver = hp[RECEIVER]
        else:
            self.temps = p
            self.receiver = p[RECEIVER]
        info = decode_method(meth, self.heap)
        self.code = info[2]
        self.lits = meth.ptrs
        self.off = info[3]
        pc = p[1]
        if pc.__class__ is not int:
            raise VMError("resuming a context that has returned (its pc is nil)")
        self.pc = pc - info[3]
        self.sp = p[2] + 5

    def store_registers(self) -> None:
        """Write pc and stackp into the active context."""
        ctx = self.ctx
        if ctx is None:
            return
        p = ctx.ptrs
        p[1] = self.pc + self.word_size * len(method_of_context(ctx).ptrs) + 1
        p[2] = self.sp - 5

    def prepare_collection(self):
        """Called by the heap's collector as a collection starts: drop the contexts kept
        for reuse (as the C VM does); answer the active context and the index of its
        stack top (the collector's roots besides the heap's own)."""
        self.drop_free_contexts()
        return (self.ctx, self.sp) if self.ctx is not None else (None, 0)

    def drop_free_contexts(self) -> None:
        """Forget the dead contexts kept for reuse."""
        for free in self.free_contexts.values():
            del free[:]

    def current_method(self):
        return method_of_context(self.ctx)

    # --- the stack, for primitives ----------------------------------------------------
    def pop_push(self, n: int, value) -> None:
        sp = self.sp - n + 1
        self.stack[sp] = value
        self.sp = sp

    def push(self, value) -> None:
        self.sp += 1
        self.stack[self.sp] = value

    def pop(self, n: int = 1) -> None:
        self.sp -= n

    def top(self):
        return self.stack[self.sp]

    def stack_value(self, depth: int):
        return self.stack[self.sp - depth]

    def class_of(self, obj):
        return obj.cls if obj.__class__ is SqObject else self.smallint_class

    def instantiate(self, cls, size=0):
        return self.heap.instantiate(cls, size)

    def transcript_out(self, text: str) -> None:
        """Guest Transcript output (the host's stdout unless replaced)."""
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()
            self.transcript_line_open = not text.endswith("\n")

    def request_stop(self, reason: str) -> None:
        """Ask the loop to return `reason` from run() at the next opportunity (soon:
        after the current primitive or slow path)."""
        if self.stop_reason is None or self.stop_reason == "beat":
            self.stop_reason = reason

    def beat_soon(self) -> None:
        """A primitive did much work (a big allocation or copy, large-integer arithmetic
        on big numbers): have the heartbeat (the quantum's deadline, the timers, the
        host's poll) come at the next send or backward jump instead of after CHUNK more
        bytecodes, so that the host regains control in time."""
        if self.stop_reason is None:
            self.stop_reason = "beat"

    # --- running ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the image's active process (as the C VM does when it starts an image)."""
        self.started = True
        proc = self.active_process()
        ctx = proc.ptrs[1]
        if ctx is self.nil:
            raise VMError("the image's active process has no suspended context")
        self.fetch(ctx)

    def run(self, max_bytecodes=None, deadline=None, exact=False) -> str:
        """Interpret until the guest quits ('quit'), the bytecode budget or the deadline
        (a time.monotonic() value) is reached ('limit'), nothing can run any more
        ('idle'), or host code asked to stop ('stopped', or whatever reason it gave
        to request_stop). The guest's state is left consistent: calling run again
        continues exactly where it stopped.

        `exact`: stop after exactly `max_bytecodes` bytecodes (a debugger's step), not at
        the next send or backward jump, and without firing timers or host polls on the way."""
        self.refresh_specials()         # the guest may have changed its special objects
        if not self.started:
            self.start()
        self.stop_reason = None
        self.deadline = deadline
        self.exact = exact
        self.running = True
        limit = None if max_bytecodes is None else self.bytecodes + max_bytecodes
        try:
            while True:
                if self.ctx is None:
                    reason = self._idle_until_runnable(deadline)
                    if reason is not None:
                        return reason
                    continue
                # the loop keeps only ctx/stack/sp/pc in step on self: derive the rest again
                self.store_registers()
                self.fetch(self.ctx)
                try:
                    if self.code.__class__ is AlternateCode:
                        reason = run_sista(self, limit, deadline)
                    elif self.jit is None:
                        reason = self._loop(limit, deadline)
                    else:
                        reason = in_room(self._loop, limit, deadline)    # (jit.py: ROOM)
                    if reason == OTHER_SET:
                        continue            # the active method is of the other bytecode set
                    return reason
                except HOST_STOPS as e:
                    # quit (113) and exitToDebugger (114) end the run; the registers were
                    # written before the primitive was called
                    if self.ctx is not None:
                        self.store_registers()
                    if isinstance(e, GuestQuit):
                        return "quit"
                    self.guest_error = GuestError(str(e))
                    return "error"
        except PRIM_BUGS + (RecursionError,) as e:
            # malformed guest code or objects (e.g. bytes written through a mirror) that
            # the C VM would run into undefined behaviour with: the run cannot go on
            raise VMError("the interpreter cannot go on (%s: %s) in %s: a malformed method, "
                          "context or object" % (type(e).__name__, e, self._where())) from e
        finally:
            self.deadline = None
            self.exact = False
            self.running = False

    def _where(self) -> str:
        """The method and pc the interpreter was at, for a VMError (never raises)."""
        try:
            return "the method with hash %d, near pc %d" % (method_of_context(self.ctx).hash, self.pc)
        except Exception:       # noqa: BLE001 - only for a message
            return "an unknown method"

    def _idle_until_runnable(self, deadline):
        """No process is active: wait for the timer or a signal to make one runnable."""
        self.stop_reason = None
        proc = self.wake_highest_priority()
        if proc is not None:
            self.transfer_to(proc)
            self.stop_reason = None
            return None
        wait = self.milliseconds_to_next_timer()
        if wait is None and not self.pending_signals:
            return "idle"
        if deadline is not None and time.monotonic() >= deadline:
            return "limit"
        if wait:
            if deadline is not None:
                wait = min(wait, max(0, (deadline - time.monotonic()) * 1000))
            time.sleep(wait / 1000.0)
        self.check_timers()
        if self.host_poll is not None and self.host_poll(self):
            return "stopped"
        self.stop_reason = None
        return None

    def _heartbeat(self, limit, deadline):
        """Timers, signals and the host's limits, every CHUNK bytecodes."""
        if self.exact:
            if limit is not None and self.bytecodes >= limit:
                self.request_stop("limit")
            return
        heap = self.heap
        if heap.allocated > heap.alarm:
            heap.account.check()
        self.check_timers()
        if self.max_stack_depth is not None and self.ctx is not None:
            self._depth_skip -= 1
            if self._depth_skip <= 0:
                self._check_stack_depth()
        if self.recursion_watch is not None:
            self.recursion_watch(self)
        self._beats += 1
        if self._beats % MEMORY_CHECK_EVERY == 0 and self.memory_limit:
            used = resident_memory()
            if used > self.memory_limit:
                err = GuestError("out of memory: the VM uses %d MB, more than its limit of %d MB "
                                 "(a runaway recursion?)" % (used >> 20, self.memory_limit >> 20))
                err.context = self.ctx
                self.guest_error = err
                self.request_stop("error")
        if limit is not None and self.bytecodes >= limit:
            self.request_stop("limit")
        if deadline is not None and time.monotonic() >= deadline:
            self.request_stop("limit")
        if self.host_poll is not None and self.host_poll(self):
            self.request_stop("stopped")

    def _check_stack_depth(self) -> None:
        """Stop the run ('error') when the active process's stack is deeper than
        max_stack_depth contexts (a runaway recursion), before it eats the memory. A deep
        stack is measured less often (the cost per heartbeat stays about DEPTH_WALK frames;
        the limit may be passed by a fraction of the depth before it is seen)."""
        nil = self.nil
        limit = self.max_stack_depth
        depth = 0
        c = self.ctx
        self._depth_skip = 1
        while c is not nil and c.__class__ is SqObject:
            depth += 1
            if depth % DEPTH_WALK == 0:
                self._depth_skip += 1
            if depth > limit:
                from ..errors import GuestRecursionError
                err = GuestRecursionError(
                    "recursion too deep: the stack of the active process passed %d contexts" % limit,
                    kind="depth")
                err.context = self.ctx
                self.guest_error = err
                self.request_stop("error")
                return
            c = c.ptrs[0]

    # --- the hot loop ---------------------------------------------------------------------
    def run_nested(self, ctx, limit, deadline, left) -> str:
        """The translation tier's nested run (jit.py, `Jit.nest`): `ctx`, a context made
        active by a send from translated code, runs in this loop with `left` bytecodes to
        the next heartbeat, until the tier's barrier (the translated caller, waiting on the
        Python stack for the result) is returned to, or the run stops; answers the loop's
        stop reason."""
        self.fetch(ctx)
        if self.code.__class__ is AlternateCode:
            return OTHER_SET            # a Sista V1 method: run() takes it to run_sista
        return self._loop(limit, deadline, left)

    def loop_constants(self) -> tuple:
        """What the hot loop keeps in locals besides its registers, read once after the
        specials change (refresh_specials) instead of at every entry of the loop (a nested
        run of the translation tier enters it for each call of a method without
        translation)."""
        env = self._loop_constants
        if env is None:
            nil = self.nil
            specsel = self.special_selectors
            env = self._loop_constants = (
                nil, self.true, self.false, self.smallint_class, self.method_context_class,
                self.block_context_class, self.closure_class, self.float_class, self.nils,
                self.point_class, specsel, specsel[32], specsel[34], specsel[36], self.heap,
                self.has_closures, (None, self.true, self.false, nil, -1, 0, 1, 2), POINT_COST,
                # dead MethodContexts nothing refers to any more, for reuse (the C VM
                # recycles contexts too); needs reference counts, so CPython only
                sys.getrefcount if REUSE_CONTEXTS else None,
                self.free_contexts_small, self.free_contexts_large, self.activate_frame,
                self.primitive,
                # SmallInteger range: 31-bit, or 61-bit in 64-bit Spur
                self.heap.family.small_int_min, self.heap.family.small_int_max)
        return env

    def _loop(self, limit, deadline, left=None) -> str:
        (nil, true, false, si_class, mctx_class, bctx_class, closure_class, float_class, nils,
         point_class, specsel, sel_at, sel_atput, sel_size, heap, has_closures, quick_values,
         point_cost, refcount, free_small, free_large, activate_frame, primitive, MINI,
         MAXI) = self._loop_constants or self.loop_constants()
        SqObj = SqObject
        int_ = int
        specials = heap.specials.ptrs
        sup = None          # the lookup class of a super send (else the receiver's class)
        cls = val = None    # for the tail: a send's lookup class, a return's value
        argc = 0
        jit = self.jit
        jitted = False      # the translation tier ran: `left` is what remains of the budget
        # a context waiting in translated code for this (nested) run's result: a return to
        # it goes through the tier (run_nested)
        barrier = jit.barrier if jit is not None else None

        ctx = self.ctx
        stack = self.stack
        code = self.code
        lits = self.lits
        off = self.off
        rcvr = self.receiver
        temps = self.temps
        sp = self.sp
        pc = self.pc
        self.stop_reason = None

        to_switch_point = False
        while True:
            if left is not None:                # the budget the translation tier left
                chunk = max(1, left)
                to_switch_point = left <= 0
                left = None
            else:
                chunk = 1 if to_switch_point else CHUNK
            if limit is not None and limit - self.bytecodes < chunk:
                chunk = max(1, limit - self.bytecodes)
            n = chunk
            for n in range(chunk, 0, -1):
                b = code[pc]
                pc += 1
                # ---------------------------------------------------------------- 0-111
                if b < 0x70:
                    if b < 0x20:
                        sp += 1
                        if b < 0x10:
                            stack[sp] = rcvr.ptrs[b]
                        else:
                            stack[sp] = temps[b - 10]
                        continue
                    if b < 0x60:
                        sp += 1
                        if b < 0x40:
                            stack[sp] = lits[b - 31]
                        else:
                            stack[sp] = lits[b - 63].ptrs[1]
                        continue
                    if b >= 0x68:
                        temps[b - 98] = stack[sp]
                        sp -= 1
                        continue
                    if not rcvr.flags & 1:
                        rcvr.ptrs[b - 96] = stack[sp]
                        sp -= 1
                        continue
                    # read-only (Spur): not stored; the object is sent #attemptToAssign:withIndex:
                    sp = self.refuse_store(stack, sp, rcvr, b - 96, True)
                    sel = specials[S.SELECTOR_ATTEMPT_TO_ASSIGN]
                    argc = 2
                # ---------------------------------------------------------------- 176-207
                elif b >= 0xB0:
                    if b >= 0xD0:
                        sel = lits[(b & 15) + 1]
                        argc = (b >> 4) - 13
                    elif b < 0xC0:
                        c = stack[sp]
                        a = stack[sp - 1]
                        if a.__class__ is int_ and c.__class__ is int_:
                            if b < 0xB8:
                                if b == 0xB0:
                                    r = a + c
                                    if MINI <= r <= MAXI:
                                        sp -= 1
                                        stack[sp] = r
                                        continue
                                elif b == 0xB1:
                                    r = a - c
                                    if MINI <= r <= MAXI:
                                        sp -= 1
                                        stack[sp] = r
                                        continue
                                else:
                                    if b < 0xB5:
                                        if b == 0xB2:
                                            t = a < c
                                        elif b == 0xB3:
                                            t = a > c
                                        else:
                                            t = a <= c
                                    elif b == 0xB5:
                                        t = a >= c
                                    elif b == 0xB6:
                                        t = a == c
                                    else:
                                        t = a != c
                                    c = code[pc]
                                    if 0x98 <= c <= 0x9F:       # compare and jump if false, fused
                                        sp -= 2
                                        pc += 1 if t else c - 0x96
                                        continue
                                    if 0xAC <= c <= 0xAF:
                                        sp -= 2
                                        pc += 2 if t else (c - 0xAC) * 256 + code[pc + 1] + 2
                                        continue
                                    sp -= 1
                                    stack[sp] = true if t else false
                                    continue
                            else:
                                r = None
                                if b == 0xB8:
                                    r = a * c
                                elif b == 0xB9:
                                    if c and a % c == 0:
                                        r = a // c
                                elif b == 0xBA:
                                    if c:
                                        r = a % c
                                elif b == 0xBB:
                                    heap.allocated += point_cost
                                    sp -= 1
                                    stack[sp] = heap.allocate(point_class, 1, [a, c])
                                    continue
                                elif b == 0xBC:
                                    if c >= 0:
                                        if c < 31:
                                            r = a << c
                                    else:
                                        r = a >> -c if c > -32 else (-1 if a < 0 else 0)
                                elif b == 0xBD:
                                    if c:
                                        r = a // c
                                elif b == 0xBE:
                                    r = a & c
                                else:
                                    r = a | c
                                if r is not None and MINI <= r <= MAXI:
                                    sp -= 1
                                    stack[sp] = r
                                    continue
                        elif b < 0xBA and (a.__class__ is SqObj and a.cls is float_class
                                           or c.__class__ is SqObj and c.cls is float_class):
                            # Float arithmetic and comparisons (Floats and SmallIntegers mixed)
                            r = self.float_bytecode(b, a, c)
                            if r is not None:
                                sp -= 1
                                stack[sp] = r
                                continue
                        i = (b - 0xB0) * 2
                        sel = specsel[i]
                        argc = specsel[i + 1]
                    else:
                        if b == 0xC6:                                   # ==
                            c = stack[sp]
                            a = stack[sp - 1]
                            sp -= 1
                            stack[sp] = true if (a is c or (a.__class__ is int_ and a == c)) else false
                            continue
                        if b == 0xC7:                                   # class
                            a = stack[sp]
                            stack[sp] = a.cls if a.__class__ is SqObj else si_class
                            continue
                        if b == 0xC0:                                   # at:
                            a = stack[sp - 1]
                            c = stack[sp]
                            if a.__class__ is SqObj and a.fmt == 2 and c.__class__ is int_:
                                d = sel_at.cache
                                entry = d.get(a.cls) if d else None
                                if entry is not None and entry[1] == 60 and 0 < c <= len(a.ptrs):
                                    sp -= 1
                                    stack[sp] = a.ptrs[c - 1]
                                    continue
                            sel = sel_at
                            argc = 1
                        elif b == 0xC1:                                 # at:put:
                            a = stack[sp - 2]
                            c = stack[sp - 1]
                            if a.__class__ is SqObj and a.fmt == 2 and c.__class__ is int_:
                                d = sel_atput.cache
                                entry = d.get(a.cls) if d else None
                                if entry is not None and entry[1] == 61 and 0 < c <= len(a.ptrs) \
                                        and not a.flags & 1:     # read-only: 61 fails
                                    r = stack[sp]
                                    a.ptrs[c - 1] = r
                                    sp -= 2
                                    stack[sp] = r
                                    continue
                            sel = sel_atput
                            argc = 2
                        elif b == 0xC2:                                 # size
                            a = stack[sp]
                            if a.__class__ is SqObj and a.fmt == 2:
                                d = sel_size.cache
                                entry = d.get(a.cls) if d else None
                                if entry is not None and entry[1] == 62:
                                    stack[sp] = len(a.ptrs)
                                    continue
                            sel = sel_size
                            argc = 0
                        elif b == 0xC9 or b == 0xCA:                    # value, value:
                            argc = b - 0xC9
                            a = stack[sp - argc]
                            if a.__class__ is SqObj:
                                if a.cls is bctx_class:
                                    # a BlockContext (6502), as primitive 81, without lookup
                                    p = a.ptrs
                                    if p[3] == argc and p[0] is nil:
                                        if argc:
                                            p[6] = stack[sp]
                                        stack[1] = pc + off
                                        stack[2] = sp - argc - 6
                                        p[0] = ctx
                                        p[2] = argc
                                        ctx = a
                                        stack = p
                                        temps = p[5].ptrs
                                        rcvr = temps[5]
                                        meth = temps[3]
                                        info = meth.cache
                                        if info is None or info[0] is not meth:
                                            info = decode_method(meth, heap)
                                        code = info[2]
                                        off = info[3]
                                        lits = meth.ptrs
                                        pc = p[4] - off
                                        sp = argc + 5
                                        continue
                                elif a.cls is closure_class and a.ptrs[2] == argc:
                                    # a BlockClosure (6504/6505), as primitive 201/202
                                    cp = a.ptrs
                                    outer = cp[0]
                                    meth = outer.ptrs[3]
                                    info = meth.cache
                                    if info is None or info[0] is not meth:
                                        info = decode_method(meth, heap)
                                    stack[1] = pc + off
                                    stack[2] = sp - argc - 6
                                    ctx = activate_frame(ctx, info, outer.ptrs[5],
                                                         stack[sp - argc + 1:sp + 1], a, cp[3:])
                                    stack = temps = ctx.ptrs
                                    rcvr = stack[5]
                                    code = info[2]
                                    off = info[3]
                                    lits = meth.ptrs
                                    pc = cp[1] - off
                                    sp = stack[2] + 5
                                    continue
                            i = (b - 0xB0) * 2
                            sel = specsel[i]
                        elif b == 0xC8:                                 # blockCopy:
                            a = stack[sp - 1]
                            c = stack[sp]
                            if a.__class__ is SqObj and (a.cls is mctx_class or a.cls is bctx_class) \
                                    and c.__class__ is int_:
                                # as primitive 80, without lookup
                                home = a.ptrs[5] if a.ptrs[3].__class__ is int_ else a
                                i = pc + off + 2
                                sp -= 1
                                stack[sp] = heap.new_context(bctx_class, [nil, i, 0, c, i, home,
                                                                          *nils(len(home.ptrs) - 6)])
                                continue
                            sel = specsel[48]
                            argc = 1
                        else:
                            i = (b - 0xB0) * 2
                            sel = specsel[i]
                            argc = specsel[i + 1]
                # ---------------------------------------------------------------- 112-127
                elif b < 0x80:
                    if b < 0x78:
                        sp += 1
                        if b >= 0x74:
                            stack[sp] = b - 117
                        elif b == 0x70:
                            stack[sp] = rcvr
                        elif b == 0x73:
                            stack[sp] = nil
                        elif b == 0x71:
                            stack[sp] = true
                        else:
                            stack[sp] = false
                        continue
                    if b == 0x7C:
                        val = stack[sp]
                    elif b == 0x78:
                        val = rcvr
                    elif b == 0x7B:
                        val = nil
                    elif b == 0x79:
                        val = true
                    elif b == 0x7A:
                        val = false
                    elif b == 0x7D:
                        val = stack[sp]
                    elif code.__class__ is AlternateCode:
                        # a Sista V1 method: interp/sista.py runs it (run() switches)
                        n += 1          # not a bytecode of the guest's
                        pc -= 1
                        self.stop_reason = OTHER_SET
                        break
                    else:
                        raise VMError("invalid bytecode %d" % b)
                    target = stack[0]
                    if (b == 0x7D or (stack[4] is nil and stack[3].__class__ is not int_)) \
                            and target is not nil and target.ptrs[1] is not nil:
                        # return to the sender (or a block's caller): nothing in between
                        stack[0] = nil
                        stack[1] = nil
                        if target is barrier:
                            # the translated caller this nested run was made for (Jit.nest):
                            # the value pushed on it, the run ends with the rest of the
                            # chunk's budget for the tier
                            stack = target.ptrs
                            stack[stack[2] + 6] = val
                            stack[2] += 1
                            self.bytecodes += chunk - n + 1
                            jit.left = n - 1
                            # the registers translated code reads (Jit.nest); the rest of
                            # them are loaded (fetch) when anything but the caller's frame
                            # goes on
                            self.ctx = target
                            self.stack = stack
                            self.sp = stack[2] + 5
                            return NESTED
                        if refcount is not None and ctx.cls is mctx_class and \
                                refcount(ctx) == (3 if ctx.cache == id(ctx) else 2) + (self.ctx is ctx):
                            # nothing else (but the heap's list, and self.ctx if a primitive
                            # ran in it) refers to the dead context: reuse it (CPython), as
                            # the C VM reuses every context that was not exposed
                            if len(stack) == 22:
                                if len(free_small) < 32:
                                    free_small.append(ctx)
                            elif len(stack) == 62 and len(free_large) < 32:
                                free_large.append(ctx)
                        ctx = target
                        stack = ctx.ptrs
                        meth = stack[3]
                        if meth.__class__ is int_:
                            temps = stack[5].ptrs
                            meth = temps[3]
                            rcvr = temps[5]
                        else:
                            temps = stack
                            rcvr = stack[5]
                        info = meth.cache
                        if info is None or info[0] is not meth:
                            info = decode_method(meth, heap)
                        code = info[2]
                        off = info[3]
                        lits = meth.ptrs
                        pc = stack[1] - off
                        sp = stack[2] + 6
                        stack[sp] = val
                        continue
                    sel = None              # the general return (do_return), below
                # ---------------------------------------------------------------- 144-175
                elif b >= 0x90:
                    if b < 0x98:
                        pc += b - 0x8F
                        continue
                    if b < 0xA0:
                        a = stack[sp]
                        if a is false:
                            sp -= 1
                            pc += b - 0x97
                            continue
                        if a is true:
                            sp -= 1
                            continue
                        sel = specials[S.SELECTOR_MUST_BE_BOOLEAN]
                        argc = 0
                    elif b < 0xA8:
                        pc += (b - 0xA4) * 256 + code[pc] + 1
                        continue
                    else:
                        a = stack[sp]
                        if b < 0xAC:
                            if a is true:
                                sp -= 1
                                pc += (b - 0xA8) * 256 + code[pc] + 1
                                continue
                            if a is false:
                                sp -= 1
                                pc += 1
                                continue
                        else:
                            if a is false:
                                sp -= 1
                                pc += (b - 0xAC) * 256 + code[pc] + 1
                                continue
                            if a is true:
                                sp -= 1
                                pc += 1
                                continue
                        pc += 1
                        sel = specials[S.SELECTOR_MUST_BE_BOOLEAN]
                        argc = 0
                # ---------------------------------------------------------------- 128-143
                else:
                    if b == 0x87:                                       # pop
                        sp -= 1
                        continue
                    if b == 0x88:                                       # dup
                        stack[sp + 1] = stack[sp]
                        sp += 1
                        continue
                    if b == 0x80 or b == 0x81 or b == 0x82:
                        c = code[pc]
                        pc += 1
                        kind = c >> 6
                        i = c & 63
                        if b == 0x80:
                            sp += 1
                            if kind == 0:
                                stack[sp] = rcvr.ptrs[i]
                            elif kind == 1:
                                stack[sp] = temps[i + 6]
                            elif kind == 2:
                                stack[sp] = lits[i + 1]
                            else:
                                stack[sp] = lits[i + 1].ptrs[1]
                            continue
                        if kind == 0:
                            target = rcvr
                        elif kind == 1:
                            temps[i + 6] = stack[sp]
                            if b == 0x82:
                                sp -= 1
                            continue
                        elif kind == 3:
                            target = lits[i + 1]
                            i = 1                   # a binding's value
                        else:
                            raise VMError("invalid extended store bytecode %d %d" % (b, c))
                        if not target.flags & 1:
                            target.ptrs[i] = stack[sp]
                            if b == 0x82:
                                sp -= 1
                            continue
                        # read-only (Spur): not stored; the object is sent #attemptToAssign:withIndex:
                        sp = self.refuse_store(stack, sp, target, i, b == 0x82)
                        sel = specials[S.SELECTOR_ATTEMPT_TO_ASSIGN]
                        argc = 2
                    elif b == 0x83:
                        c = code[pc]
                        pc += 1
                        sel = lits[(c & 31) + 1]
                        argc = c >> 5
                    elif b == 0x86:
                        c = code[pc]
                        pc += 1
                        sel = lits[(c & 63) + 1]
                        argc = c >> 6
                    elif b == 0x84 or b == 0x85:
                        c = code[pc]
                        if b == 0x84:
                            i = code[pc + 1]
                            pc += 2
                            kind = c >> 5
                            if kind == 0:
                                sel = lits[i + 1]
                                argc = c & 31
                            elif kind == 1:
                                sel = lits[i + 1]
                                argc = c & 31
                                kind = -1           # super send
                            elif kind == 2:
                                sp += 1
                                stack[sp] = rcvr.ptrs[i]
                                continue
                            elif kind == 3:
                                sp += 1
                                stack[sp] = lits[i + 1]
                                continue
                            elif kind == 4:
                                sp += 1
                                stack[sp] = lits[i + 1].ptrs[1]
                                continue
                            else:
                                if kind == 7:
                                    target = lits[i + 1]
                                    i = 1               # a binding's value
                                else:
                                    target = rcvr
                                if not target.flags & 1:
                                    target.ptrs[i] = stack[sp]
                                    if kind == 6:
                                        sp -= 1
                                    continue
                                # read-only (Spur): not stored; the object is sent
                                # #attemptToAssign:withIndex:
                                sp = self.refuse_store(stack, sp, target, i, kind == 6)
                                sel = specials[S.SELECTOR_ATTEMPT_TO_ASSIGN]
                                argc = 2
                        else:
                            pc += 1
                            sel = lits[(c & 31) + 1]
                            argc = c >> 5
                            kind = -1
                        if kind == -1:
                            sup = lits[-1].ptrs[1].ptrs[0]          # the method class's superclass
                    elif b == 0x89:                                     # thisContext
                        self.ctx = ctx
                        self.stack = stack
                        self.sp = sp
                        self.pc = pc
                        self.store_registers()
                        sp += 1
                        stack[sp] = ctx
                        continue
                    elif has_closures and 0x8A <= b <= 0x8F:
                        self.ctx = ctx
                        self.stack = stack
                        self.sp = sp
                        self.pc = pc
                        self.closure_bytecode(b, code, temps)
                        sp = self.sp
                        pc = self.pc
                        continue
                    else:
                        raise VMError("invalid bytecode %d" % b)

                # ------------------------------------------------------------ send sel/argc
                if sel is not None:
                    a = stack[sp - argc]
                    if sup is None:
                        cls = a.cls if a.__class__ is SqObj else si_class
                    else:
                        cls = sup
                        sup = None
                    d = sel.cache
                    entry = d.get(cls) if d else None
                    if entry is not None:
                        prim = entry[1]
                        if prim:
                            if 255 < prim < 520:                    # quick return
                                if prim < 264:
                                    if prim != 256:
                                        a = quick_values[prim - 256]
                                else:
                                    a = a.ptrs[prim - 264]
                                sp -= argc
                                stack[sp] = a
                                continue
                            if prim > 0:
                                self.ctx = ctx
                                self.stack = stack
                                self.sp = sp
                                self.pc = pc
                                if primitive(entry, argc):
                                    if self.ctx is not ctx:
                                        ctx = self.ctx
                                        stack = self.stack
                                        code = self.code
                                        lits = self.lits
                                        off = self.off
                                        rcvr = self.receiver
                                        temps = self.temps
                                        pc = self.pc
                                    sp = self.sp
                                    if self.stop_reason:
                                        break
                                    continue
                            else:
                                entry = None            # hooked: the general send runs the hook
                        if entry is not None:
                            # a new MethodContext through THE activation point (activate_frame)
                            stack[1] = pc + off
                            stack[2] = sp - argc - 6
                            ctx = activate_frame(ctx, entry, a, stack[sp - argc + 1:sp + 1] if argc else (),
                                                 None, ())
                            stack = temps = ctx.ptrs
                            rcvr = a
                            code = entry[2]
                            off = entry[3]
                            lits = entry[0].ptrs
                            pc = 0
                            sp = entry[4] + 5
                            # (a method the tier left to the interpreter is marked in its
                            # decoded form: not asked again, jit.py's Jit.code_for)
                            if jit is None or entry[8][1].__class__ is not int_ \
                                    and entry[8][0] is jit.token or not jit.wants(ctx):
                                continue
                            sel = ENTER         # the translation tier runs it
                # ------------------------------------------------- out of line: general send, return
                self.ctx = ctx
                self.stack = stack
                self.sp = sp
                self.pc = pc
                if sel is not ENTER:
                    self.tail(sel, argc, cls, val, b == 0x7D)
                if jit is not None and (sel is ENTER or self.ctx is not ctx and not self.stop_reason
                                        and self.ctx is not None and jit.wants(self.ctx)):
                    # the translation tier goes on with the active context, with the rest of
                    # this chunk's budget (this bytecode counted): the same heartbeats
                    self.bytecodes += chunk - n + 1
                    ctx = None      # (none of the loop's: the tier reuses a returned context)
                    left = jit.run(limit, deadline, n - 1, sel is ENTER)
                    jitted = True
                    break
                if self.ctx is not ctx:
                    ctx = self.ctx
                    stack = self.stack
                    code = self.code
                    lits = self.lits
                    off = self.off
                    rcvr = self.receiver
                    temps = self.temps
                sp = self.sp
                pc = self.pc
                if self.stop_reason:
                    break
            # ---------------------------------------------------------------- heartbeat
            else:
                jitted = False
                n = 1
                # like the C VM, switch processes (or stop) only where a send or a backward
                # jump comes next: code without sends between them stays atomic
                b = code[pc]
                if not (b >= 0xD0 or 0x83 <= b <= 0x86 or 0xA0 <= b <= 0xA3 or b == 0xC9 or b == 0xCA
                        or self.exact):
                    self.bytecodes += chunk
                    to_switch_point = True
                    continue
                to_switch_point = False
            if jitted:
                # back from the translation tier (it ran the heartbeats that came due; its
                # bytecodes are counted): the registers are on self
                jitted = False
                ctx = self.ctx
                if ctx is not None:
                    stack = self.stack
                    code = self.code
                    lits = self.lits
                    off = self.off
                    rcvr = self.receiver
                    temps = self.temps
                    sp = self.sp
                    pc = self.pc
                if self.stop_reason == "beat":
                    self.stop_reason = None
                    left = 0
                if self.stop_reason or ctx is None:
                    reason = self.stop_reason
                    self.stop_reason = None
                    if ctx is not None:
                        self.store_registers()
                    return reason or "idle"
                continue
            self.bytecodes += chunk - n + 1
            if ctx is not None:
                self.ctx = ctx
                self.stack = stack
                self.sp = sp
                self.pc = pc
            if self.stop_reason == "beat":
                # a long primitive asked for the heartbeat early (see beat_soon): it comes
                # at the next send or backward jump, bytecode by bytecode until there
                self.stop_reason = None
                to_switch_point = True
                continue
            if not self.stop_reason:
                self._heartbeat(limit, deadline)
                if self.stop_reason == "beat":      # asked for during this heartbeat
                    self.stop_reason = None
                if jit is not None and not self.stop_reason and self.ctx is not None \
                        and jit.wants(self.ctx, True):
                    # the translation tier samples the running method: a hot one goes on in
                    # translated code from here (a send or backward jump is an entry)
                    left = jit.run(limit, deadline, jit.budget(limit))
            if self.stop_reason:
                reason = self.stop_reason
                self.stop_reason = None
                self.store_registers()
                return reason
            if self.ctx is not ctx:
                ctx = self.ctx
                stack = self.stack
                code = self.code
                lits = self.lits
                off = self.off
                rcvr = self.receiver
                temps = self.temps
            sp = self.sp
            pc = self.pc

    # --- sends (the general path) -------------------------------------------------------
    def tail(self, sel, argc: int, lookup_class, value, to_caller: bool) -> None:
        """The sends and returns a loop does not make inline (both loops': `_loop` and
        sista.py's `run_sista`), with the registers on self: `sel` None returns `value`
        (to the caller for a block return, `to_caller`), else `sel` is sent to the receiver
        under `argc` arguments (looked up from `lookup_class` when given)."""
        if sel is None:
            ctx = self.ctx
            self.do_return(value, to_caller)
            if REUSE_CONTEXTS and self.ctx is not ctx and ctx.ptrs[1] is self.nil:
                self.keep_for_reuse(ctx, 2)     # this frame's and the loop's reference
        else:
            self.send(sel, argc, lookup_class)

    def keep_for_reuse(self, ctx, refs: int) -> None:
        """`ctx` has returned: keep it for activate_frame to reuse (CPython) when nothing
        refers to it but the `refs` references of the callers (and the heap's list), as the
        hot loop's inline return does."""
        if sys.getrefcount(ctx) == refs + (3 if ctx.cache == id(ctx) else 2) \
                and ctx.cls is self.method_context_class:
            free = self.free_contexts.get(len(ctx.ptrs) - 6)
            if free is not None and len(free) < 32:
                free.append(ctx)

    def send(self, selector, argc: int, lookup_class=None) -> None:
        """Send `selector` to the receiver under the `argc` arguments on the stack."""
        rcvr = self.stack[self.sp - argc]
        cls = self.class_of(rcvr) if lookup_class is None else lookup_class
        entry = self.cache_entry(cls, selector)
        if entry is not None:
            self.execute(entry, argc)
            return
        try:
            found = self.lookup(cls, selector)
        except LookupError as e:
            # a class without a method dictionary: #cannotInterpret: from its superclass
            self.replace_args_by_message(selector, argc, cls)
            self.send(self.cannot_interpret, 1, e.args[1].ptrs[0])
            return
        if found is None:
            dnu = self.heap.specials.ptrs[S.SELECTOR_DOES_NOT_UNDERSTAND]
            if selector is dnu:
                raise VMError("recursive doesNotUnderstand: (the receiver's class has no "
                              "doesNotUnderstand: method)")
            self.replace_args_by_message(selector, argc, cls)
            self.send(dnu, 1, cls)
            return
        # an object that is not a compiled method: objectAsMethod run: selector with: args in: receiver
        args = self.heap.new_array(self.stack[self.sp - argc + 1:self.sp + 1])
        self.sp -= argc + 1
        self.push(found)
        self.push(selector)
        self.push(args)
        self.push(rcvr)
        self.send(self.run_with_in, 3)

    def replace_args_by_message(self, selector, argc, cls) -> None:
        msg_class = self.heap.specials.ptrs[S.CLASS_MESSAGE]
        msg = self.heap.instantiate(msg_class)
        sp = self.sp
        msg.ptrs[0] = selector
        msg.ptrs[1] = self.heap.new_array(self.stack[sp - argc + 1:sp + 1])
        if len(msg.ptrs) > 2:
            msg.ptrs[2] = cls
        self.sp = sp - argc
        self.push(msg)

    def execute(self, entry, argc: int) -> None:
        """Run a found method: its hook, its primitive, else a new context."""
        meth = entry[0]
        prim = entry[1]
        if prim == HOOK_PRIM:
            hook = self.hooks.get(meth)
            if hook is not None and hook(self, argc, meth):
                return
            entry = decode_method(meth, self.heap)
            prim = entry[1]
        if prim:
            if 255 < prim < 520:
                rcvr = self.stack[self.sp - argc]
                if prim == 256:
                    value = rcvr
                elif prim < 264:
                    value = (self.true, self.false, self.nil, -1, 0, 1, 2)[prim - 257]
                else:
                    value = rcvr.ptrs[prim - 264]
                self.pop_push(argc + 1, value)
                return
            if prim > 0 and self.primitive(entry, argc):
                return
        self.activate(entry, argc)

    def primitive(self, entry, argc: int) -> bool:
        """Run the primitive of `entry`'s method (registers written to self); False when
        it fails or ozvm has none (the stack is then as before: the method runs)."""
        prim = entry[1]
        f = PRIMITIVES.get(prim)
        if f is None:
            return False
        self.new_method = entry[0]
        ctx, stack, sp = self.ctx, self.stack, self.sp
        try:
            ok = f(self, argc)
        except PRIM_BUGS as e:
            ok = self.primitive_crashed(prim, e, ctx, stack, sp)
        except (MemoryLimitError, MemoryError) as e:
            ok = self.allocation_refused(ctx, stack, sp, entry, argc, e)
        if ok:
            return True
        self.sp = sp
        return False

    def float_bytecode(self, b, a, c):
        """+ - < > <= >= = ~= * / (bytecodes 176-185) on Floats and SmallIntegers, as the
        C VM's float primitives; None when they would fail (the message is then sent)."""
        fc = self.float_class
        if a.__class__ is int:
            x = float(a)
        elif a.__class__ is SqObject and a.cls is fc:
            x = float_of_words(a.words)
        else:
            return None
        if c.__class__ is int:
            y = float(c)
        elif c.__class__ is SqObject and c.cls is fc:
            y = float_of_words(c.words)
        else:
            return None
        if b < 0xB2:
            return self.heap.new_float(x + y if b == 0xB0 else x - y)
        if b < 0xB8:
            if b == 0xB2:
                t = x < y
            elif b == 0xB3:
                t = x > y
            elif b == 0xB4:
                t = x <= y
            elif b == 0xB5:
                t = x >= y
            elif b == 0xB6:
                t = x == y
            else:
                t = x != y
            return self.true if t else self.false
        if b == 0xB8:
            return self.heap.new_float(x * y)
        if y == 0.0:
            return None
        return self.heap.new_float(x / y)

    def primitive_crashed(self, prim, error, ctx, stack, sp) -> bool:
        """A primitive raised an unexpected Python error: a bug of ozvm, never a
        primitive failure (primitives check their arguments and fail exactly where the
        C VM does). Raises a VMError naming the primitive; the Python error is its cause."""
        name = prim_name = getattr(PRIMITIVES.get(prim), "__name__", "?")
        if prim == 117:        # name the named primitive the method calls
            meth = self.new_method
            try:
                desc = meth.ptrs[1].ptrs
                prim_name = "%s %s>>%s" % (name, desc[0].bytes.decode("latin-1"),
                                           desc[1].bytes.decode("latin-1"))
            except (AttributeError, IndexError, TypeError):
                pass
        raise VMError("primitive %s (%s) raised %s: %s" % (prim, prim_name, type(error).__name__,
                                                           error)) from error

    def allocation_refused(self, ctx, stack, sp, entry, argc, error) -> bool:
        """A primitive's allocation was refused (the space's memory limit, or the host's
        memory itself: a Python MemoryError): the primitive fails, as the C VM's fail
        when memory is short. If the account gave the image its low-space signal, the
        method's fallback code runs (False); if the guest is stopped, the fallback is
        activated here and the guest stops at its first bytecode (True: handled), so that
        its stack shows where memory ran out."""
        if self.ctx is not ctx or self.stack is not stack:
            raise VMError("a primitive ran out of memory after switching contexts")
        self.sp = sp
        if not isinstance(error, MemoryLimitError):
            self.memory_exhausted("out of memory: the host could not make what primitive %s "
                                  "asked for; the guest was stopped" % entry[1])
        if self.stop_reason != "memory":
            return False
        self.activate(entry, argc)
        return True

    # --- memory (the heap's account calls these) ----------------------------------------------
    def memory_roots(self) -> list:
        """What the space holds beyond its heap's roots: the running context."""
        return [self.ctx] if self.ctx is not None else []

    def signal_low_space(self) -> bool:
        """The account asks for the image's low-space signal: the process running now is
        named in the specials (ProcessSignalingLowSpace) and the lowSpaceSemaphore is
        signalled at the next heartbeat (as the C VM's checkForInterrupts does), which
        may come after the guest was stopped. False if the image has none."""
        sp = self.heap.specials.ptrs
        if len(sp) <= S.THE_LOW_SPACE_SEMAPHORE or not self.is_semaphore(sp[S.THE_LOW_SPACE_SEMAPHORE]):
            return False
        if len(sp) > S.PROCESS_SIGNALING_LOW_SPACE:
            sp[S.PROCESS_SIGNALING_LOW_SPACE] = self.active_process()    # the culprit
        self.low_space_pending = True
        return True

    def memory_exhausted(self, message: str) -> None:
        """The account found the space past its limit: stop the guest ('memory')."""
        from ..errors import GuestError
        if self.guest_error is None:
            err = GuestError(message)
            err.context = self.ctx
            self.guest_error = err
        self.stop_reason = "memory"

    def activate_frame(self, sender, info, receiver, args, closure=None, copied=()):
        """THE activation point: every method and block-closure activation passes here
        (the hot loop's sends, super sends and closure values, `activate`,
        `activate_closure`, `new_context`). Answers a MethodContext (new, or a dead one
        reused on CPython) that runs `info`'s method (contexts.decode_method) from its
        start, or from `closure`'s start, with `sender`, `receiver`, `args` (a list or a
        tuple), then `copied` (a closure's copied values), then nils; its pc and stackp are
        set. The caller makes it active (the loop loads it into its locals, others `fetch` it).
        A translated method (the JIT tier) or a per-method bytecode-set choice hooks in
        here, where the method and its receiver are known and nothing has run yet. (On
        CPython a send site of translated code makes its free-list path's reuse itself,
        field for field: translator.py's site_code.)"""
        size = info[7]
        free = self.free_contexts_small if size == 16 else self.free_contexts.get(size)
        if closure is None:
            n = info[4]                 # stackp: arguments and temporaries
            if free:
                ctx = free.pop()
                p = ctx.ptrs
                p[0] = sender
                p[1] = info[3]
                p[2] = n
                p[3] = info[0]
                p[4] = self.nil
                p[5] = receiver
                k = len(args)
                if k:
                    p[6:k + 6] = args
                if n > k:
                    p[k + 6:n + 6] = info[5][:n - k]
                return ctx
            pc = info[3]
            if len(args) == info[6]:
                filler = info[5]
            else:
                filler = self.nils(size - len(args))
            return self.heap.new_context(self.method_context_class,
                                         [sender, pc, n, info[0], self.nil, receiver, *args, *filler])
        n = len(args) + len(copied)     # the block's own temporaries are pushed by its code
        if free:
            ctx = free.pop()
            p = ctx.ptrs
            p[0] = sender
            p[1] = closure.ptrs[1]
            p[2] = n
            p[3] = info[0]
            p[4] = closure
            p[5] = receiver
            p[6:n + 6] = [*args, *copied]
            return ctx
        return self.heap.new_context(self.method_context_class,
                                     [sender, closure.ptrs[1], n, info[0], closure, receiver, *args, *copied,
                                      *self.nils(size - n)])

    def nils(self, n: int) -> list:
        """A list of n nils (shared: never modify it)."""
        filler = self.nil_lists.get(n)
        if filler is None:
            filler = self.nil_lists[n] = [self.nil] * n
        return filler

    def activate(self, entry, argc: int) -> None:
        """Activate `entry`'s method with the receiver and arguments on the stack (popped):
        the new context becomes the active one."""
        sp = self.sp
        stack = self.stack
        self.sp = sp - argc - 1
        self.store_registers()
        self.fetch(self.activate_frame(self.ctx, entry, stack[sp - argc], stack[sp - argc + 1:sp + 1]))

    def new_context(self, sender, meth, receiver, args, closure=None):
        """A suspended MethodContext that will run `meth` from its first bytecode."""
        return self.activate_frame(sender, decode_method(meth, self.heap), receiver, list(args), closure)

    # --- returns ---------------------------------------------------------------------------
    def home_context(self, ctx):
        """The method context a ^-return of `ctx` returns from."""
        if self.has_closures:
            nil = self.nil
            while ctx.ptrs[CLOSURE] is not nil:
                ctx = ctx.ptrs[CLOSURE].ptrs[0]
            return ctx
        if ctx.ptrs[METHOD].__class__ is int:
            return ctx.ptrs[HOME]
        return ctx

    def is_unwind_marked(self, ctx) -> bool:
        meth = ctx.ptrs[METHOD]
        return (meth.__class__ is SqObject and meth.fmt == 12
                and decode_method(meth, self.heap)[1] == 198)

    def do_return(self, value, block_return: bool) -> None:
        """Return `value` from the active context: to its caller for a block return,
        else from its home method to the home's sender (unwinding as the C VM does).
        A return out of a host base context (see base_contexts) ends in its callback."""
        nil = self.nil
        ctx = self.ctx
        home = ctx if block_return else self.home_context(ctx)
        target = home.ptrs[SENDER]
        base = None
        trapped = None
        if target is nil:
            if home in self.base_contexts:
                base = home             # returning to the host
            else:
                self.cannot_return(value)
                return
        elif target.ptrs[1] is nil:
            if target not in self.return_traps:
                self.cannot_return(value)
                return
            # a debugger's trap (space/debugger.py): control comes back to `target`
            trapped = target.ptrs[1] = self.return_traps.pop(target)
        stop = target if base is None else base
        unwinding = self.about_to_return is not nil
        c = ctx
        if c is not stop:
            c = c.ptrs[SENDER]
            while c is not stop:
                if c is nil:
                    self.cannot_return(value)
                    return
                if unwinding and self.is_unwind_marked(c):
                    if trapped is not None:     # not back yet: the guest unwinds first
                        self.return_traps[target] = trapped
                        target.ptrs[1] = nil
                    self.store_registers()
                    self.push(ctx)
                    self.push(value)
                    self.push(c)
                    self.send(self.about_to_return, 2)
                    return
                c = c.ptrs[SENDER]
        c = ctx
        while c is not target:
            nxt = c.ptrs[SENDER]
            c.ptrs[SENDER] = nil
            c.ptrs[1] = nil
            c = nxt
        if base is not None:
            self.base_contexts.pop(base)(self, value)
            return
        self.fetch(target)
        self.push(value)
        if trapped is not None:
            self.request_stop("frame")

    def cannot_return(self, value) -> None:
        self.store_registers()
        self.push(self.ctx)
        self.push(value)
        self.send(self.heap.specials.ptrs[S.SELECTOR_CANNOT_RETURN], 1)

    # --- closures (6504/6505) ------------------------------------------------------------------
    def cannot_assign(self, target, index: int, pop: bool) -> None:
        """A store bytecode into field `index` (0-based) of a read-only object (Spur), with
        the registers on self: see refuse_store; #attemptToAssign:withIndex: is sent."""
        self.sp = self.refuse_store(self.stack, self.sp, target, index, pop)
        self.send(self.heap.specials.ptrs[S.SELECTOR_ATTEMPT_TO_ASSIGN], 2)

    @staticmethod
    def refuse_store(stack, sp, target, index: int, pop: bool) -> int:
        """A store of stack[sp] into field `index` (0-based) of the read-only `target`
        (Spur) is not made: as the Spur VM's cannotAssign:to:withIndex:, the value (popped
        first for a store-and-pop) and the 1-based index go with `target` to
        #attemptToAssign:withIndex: (special object 50). Pushes target, value and index;
        answers the new top (the caller sends the selector with 2 arguments)."""
        value = stack[sp]
        if pop:
            sp -= 1
        stack[sp + 1] = target
        stack[sp + 2] = value
        stack[sp + 3] = index + 1
        return sp + 3

    def closure_bytecode(self, b: int, code, temps) -> None:
        pc = self.pc
        stack = self.stack
        sp = self.sp
        if b == 0x8A:                                   # push new array
            c = code[pc]
            pc += 1
            count = c & 127
            arr = self.heap.instantiate(self.array_class, count)
            if c > 127:
                arr.ptrs[:] = stack[sp - count + 1:sp + 1]
                sp -= count
            sp += 1
            stack[sp] = arr
        elif b == 0x8B:
            if not self.heap.family.is_spur:
                raise VMError("bytecode 139 (callPrimitive) is not supported in V3 images")
            pc += 2         # Spur: the primitive (number in these 2 bytes) has failed or is absent
        elif b == 0x8C:                                 # push remote temp
            i = code[pc]
            vec = temps[code[pc + 1] + 6]
            pc += 2
            sp += 1
            stack[sp] = vec.ptrs[i]
        elif b == 0x8D or b == 0x8E:                    # store (and pop) remote temp
            i = code[pc]
            vec = temps[code[pc + 1] + 6]
            pc += 2
            vec.ptrs[i] = stack[sp]
            if b == 0x8E:
                sp -= 1
        else:                                           # push closure
            c = code[pc]
            nargs = c & 15
            ncopied = c >> 4
            size = code[pc + 1] * 256 + code[pc + 2]
            pc += 3
            clo = self.heap.new_closure(self.closure_class, ncopied)
            cp = clo.ptrs
            cp[0] = self.ctx
            cp[1] = pc + self.off_of_active()
            cp[2] = nargs
            if ncopied:
                cp[3:3 + ncopied] = stack[sp - ncopied + 1:sp + 1]
                sp -= ncopied
            pc += size
            sp += 1
            stack[sp] = clo
        self.sp = sp
        self.pc = pc

    def off_of_active(self) -> int:
        return self.word_size * len(method_of_context(self.ctx).ptrs) + 1

    def activate_closure(self, clo, argc: int, args) -> None:
        """Run closure `clo` with `args`; the receiver and `argc` stack slots are popped."""
        outer = clo.ptrs[0]
        info = decode_method(outer.ptrs[METHOD], self.heap)
        self.sp -= argc + 1
        self.store_registers()
        self.fetch(self.activate_frame(self.ctx, info, outer.ptrs[RECEIVER], list(args), clo, clo.ptrs[3:]))

    # --- host hooks ----------------------------------------------------------------------------
    def add_hook(self, meth, callback) -> None:
        """Call `callback(interp, argc, meth)` instead of activating `meth` (it answers
        True when it has handled the send, False to let the method run)."""
        self.hooks[meth] = callback
        self.flush_method_cache()

    def remove_hook(self, meth) -> None:
        self.hooks.pop(meth, None)
        self.flush_method_cache()
