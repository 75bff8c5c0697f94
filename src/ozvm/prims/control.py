"""Control primitives: blocks and closures, perform, processes and semaphores, the
timer, the method cache, named-primitive dispatch, and the marker primitives.

Numbers as in the V3 C VM (see SqueakJS vm.primitives.js): 80-89, 100, 116-119,
136, 167, 188, 195-206, 230. 200-206 are the closure primitives of closure images;
in pre-closure images those numbers belong to the old socket primitives, and these
implementations fail there because the receiver is not a BlockClosure.
"""
from __future__ import annotations

import time

from ..memory import specials as S
from ..memory.contexts import decode_method
from ..memory.objects import SqObject
from .base import NAMED, PRIMITIVES, PrimitiveFailed, raw_primitive
from .objects import is_context
from .values import int_value


def _is_array(interp, obj) -> bool:
    return obj.__class__ is SqObject and obj.cls is interp.array_class


# --- pre-closure blocks (BlockContext) -------------------------------------------------

@raw_primitive(80)
def prim_block_copy(interp, argc):
    """blockCopy: -- a BlockContext whose code starts after the jump following this send."""
    stack = interp.stack
    sp = interp.sp
    ctx = stack[sp - 1]
    nargs = stack[sp]
    if argc != 1 or nargs.__class__ is not int or ctx.__class__ is not SqObject \
            or ctx.cls not in (interp.method_context_class, interp.block_context_class):
        return False
    interp.pop_push(2, new_block_context(interp, ctx, nargs, interp.pc + interp.off_of_active() + 2))
    return True


def new_block_context(interp, ctx, nargs, initial):
    """The BlockContext `ctx blockCopy: nargs` makes: its code at `initial` (a pc as stored
    in a context), its home the context's home."""
    home = ctx.ptrs[5] if ctx.ptrs[3].__class__ is int else ctx
    nil = interp.nil
    p = [nil, initial, 0, nargs, initial, home] + [nil] * (len(home.ptrs) - 6)
    return interp.heap.new_context(interp.block_context_class, p)


def _start_block(interp, block, argc, args) -> bool:
    bp = block.ptrs
    if bp[3] != len(args) or bp[0] is not interp.nil or len(bp) < 6 + len(args):
        return False
    bp[6:6 + len(args)] = args
    bp[1] = bp[4]
    bp[2] = len(args)
    interp.sp -= argc + 1
    interp.store_registers()
    bp[0] = interp.ctx
    interp.fetch(block)
    return True


@raw_primitive(81)
def prim_block_value(interp, argc):
    block = interp.stack[interp.sp - argc]
    if block.__class__ is not SqObject or block.cls is not interp.block_context_class:
        return False
    return _start_block(interp, block, argc, interp.stack[interp.sp - argc + 1:interp.sp + 1])


@raw_primitive(82)
def prim_block_value_with_arguments(interp, argc):
    block = interp.stack[interp.sp - 1]
    args = interp.stack[interp.sp]
    if argc != 1 or block.__class__ is not SqObject or block.cls is not interp.block_context_class \
            or not _is_array(interp, args):
        return False
    return _start_block(interp, block, argc, list(args.ptrs))


# --- closures (6504/6505) ----------------------------------------------------------------

def _is_closure(interp, obj) -> bool:
    return interp.closure_class is not None and obj.__class__ is SqObject and obj.cls is interp.closure_class


@raw_primitive(201, 202, 203, 204, 205, 221, 222)   # 221, 222: valueNoContextSwitch(:)
def prim_closure_value(interp, argc):
    clo = interp.stack[interp.sp - argc]
    if not _is_closure(interp, clo) or clo.ptrs[2] != argc:
        return False
    interp.activate_closure(clo, argc, interp.stack[interp.sp - argc + 1:interp.sp + 1])
    return True


@raw_primitive(206)
def prim_closure_value_with_arguments(interp, argc):
    clo = interp.stack[interp.sp - 1]
    args = interp.stack[interp.sp]
    if argc != 1 or not _is_closure(interp, clo) or not _is_array(interp, args) \
            or clo.ptrs[2] != len(args.ptrs):
        return False
    interp.activate_closure(clo, 1, list(args.ptrs))
    return True


@raw_primitive(200)
def prim_closure_copy(interp, argc):
    """closureCopy:copiedValues: (the compiler uses bytecode 143 instead)."""
    if argc != 2 or interp.closure_class is None:
        return False
    stack = interp.stack
    ctx, nargs, copied = stack[interp.sp - 2], stack[interp.sp - 1], stack[interp.sp]
    if nargs.__class__ is not int or not _is_array(interp, copied):
        return False
    clo = interp.heap.new_closure(interp.closure_class, len(copied.ptrs))
    clo.ptrs[0] = ctx
    clo.ptrs[1] = interp.pc + interp.off_of_active() + 2
    clo.ptrs[2] = nargs
    clo.ptrs[3:] = copied.ptrs
    interp.pop_push(3, clo)
    return True


# --- perform -------------------------------------------------------------------------------

@raw_primitive(83)
def prim_perform(interp, argc):
    """perform: aSymbol (with: ...)"""
    if argc < 1:
        return False
    stack = interp.stack
    sp = interp.sp
    rcvr = stack[sp - argc]
    selector = stack[sp - argc + 1]
    n = argc - 1
    entry = interp.cache_entry(interp.class_of(rcvr), selector)
    if entry is not None and entry[6] != n:
        return False
    stack[sp - argc + 1:sp] = stack[sp - argc + 2:sp + 1]
    interp.sp = sp - 1
    interp.send(selector, n)
    return True


def _perform_with_args(interp, rcvr_depth, lookup_class):
    stack = interp.stack
    sp = interp.sp
    rcvr = stack[sp - rcvr_depth]
    selector = stack[sp - rcvr_depth + 1]
    args = stack[sp - rcvr_depth + 2]
    if not _is_array(interp, args):
        return False
    n = len(args.ptrs)
    base = sp - rcvr_depth
    if base + n >= len(stack):
        return False
    cls = interp.class_of(rcvr) if lookup_class is None else lookup_class
    entry = interp.cache_entry(cls, selector)
    if entry is not None and entry[6] != n:
        return False
    stack[base + 1:base + 1 + n] = args.ptrs
    interp.sp = base + n
    interp.send(selector, n, lookup_class)
    return True


@raw_primitive(84)
def prim_perform_with_arguments(interp, argc):
    if argc != 2:
        return False
    return _perform_with_args(interp, 2, None)


@raw_primitive(100)
def prim_perform_in_superclass(interp, argc):
    """perform: selector withArguments: args inSuperclass: aClass"""
    if argc != 3:
        return False
    stack = interp.stack
    rcvr = stack[interp.sp - 3]
    lookup = stack[interp.sp]
    cls = interp.class_of(rcvr)
    while cls is not lookup:
        cls = cls.ptrs[0]
        if cls is interp.nil:
            return False
    interp.sp -= 1
    if not _perform_with_args(interp, 2, lookup):
        interp.sp += 1
        return False
    return True


@raw_primitive(188)
def prim_execute_method(interp, argc):
    """receiver:withArguments:executeMethod: / withArgs:executeMethod: -- run a method
    on a receiver without lookup."""
    if argc not in (2, 3):
        return False
    stack = interp.stack
    sp = interp.sp
    meth = stack[sp]
    args = stack[sp - 1]
    rcvr = stack[sp - 2]        # the object itself (2) or the first argument (3)
    if meth.__class__ is not SqObject or meth.fmt != 12 or not _is_array(interp, args):
        return False
    entry = decode_method(meth, interp.heap)
    n = len(args.ptrs)
    if entry[6] != n:
        return False
    base = sp - argc
    if base + n >= len(stack):
        return False
    stack[base] = rcvr
    stack[base + 1:base + 1 + n] = args.ptrs
    interp.sp = base + n
    interp.execute(entry, n)
    return True


@raw_primitive(118)
def prim_try_primitive(interp, argc):
    """tryPrimitive: index withArgs: anArray"""
    if argc != 2:
        return False
    stack = interp.stack
    sp = interp.sp
    index = stack[sp - 1]
    args = stack[sp]
    if index.__class__ is not int or not _is_array(interp, args) or index in (117, 118, 19):
        return False
    f = PRIMITIVES.get(index)
    if f is None:
        return False
    n = len(args.ptrs)
    base = sp - 2
    if base + n >= len(stack):
        return False
    saved = stack[base + 1:base + 1 + n]
    stack[base + 1:base + 1 + n] = args.ptrs
    interp.sp = base + n
    if f(interp, n):
        return True
    stack[base + 1:base + 1 + n] = saved
    stack[sp - 1] = index
    stack[sp] = args
    interp.sp = sp
    return False


# --- named primitives -----------------------------------------------------------------------

def _text(obj):
    if obj.__class__ is SqObject and obj.bytes is not None and obj.ptrs is None:
        return obj.bytes.decode("latin-1")
    return ""


@raw_primitive(117)
def prim_named(interp, argc):
    """<primitive: 'name' module: 'Module'>: the method's first literal is
    #(moduleName functionName ...)."""
    meth = interp.new_method
    if meth is None or len(meth.ptrs) < 2:
        return False
    desc = meth.ptrs[1]
    if desc.__class__ is not SqObject or desc.ptrs is None or len(desc.ptrs) < 2:
        return False
    key = (_text(desc.ptrs[0]), _text(desc.ptrs[1]))
    f = NAMED.get(key)
    if f is None:
        note_missing_named(interp, key)
        return False
    return f(interp, argc)


def note_missing_named(interp, key) -> None:
    """Count a call of a named primitive ozvm lacks, on the interpreter
    (`interp.missing_named_primitives`: (module, name) -> calls), as a log of what a
    guest asked for and ran its fallback code instead (`oz screenshot --missing`)."""
    log = getattr(interp, "missing_named_primitives", None)
    if log is None:
        log = interp.missing_named_primitives = {}
    log[key] = log.get(key, 0) + 1


# --- method cache -------------------------------------------------------------------------------

@raw_primitive(89)
def prim_flush_cache(interp, argc):
    interp.flush_method_cache()
    return True


@raw_primitive(116)
def prim_flush_cache_by_method(interp, argc):
    interp.flush_method_cache_for_method(interp.stack[interp.sp])
    return True


@raw_primitive(119)
def prim_flush_cache_selective(interp, argc):
    interp.flush_method_cache_for_selector(interp.stack[interp.sp])
    return True


# --- processes and semaphores ------------------------------------------------------------------

def _is_signalable(interp, sema) -> bool:
    """A Semaphore whose excessSignals is a SmallInteger (the C VM's fetchInteger: of it
    fails the primitive otherwise) and whose list fields are those of a LinkedList."""
    return interp.is_semaphore(sema) and sema.ptrs[2].__class__ is int


def _receiver_to(index, accepts, action):
    """Register primitive `index` (no arguments): a receiver that `accepts(interp, rcvr)`
    takes is handed to the interpreter's (scheduler's) method `action`; the receiver stays
    on the stack as the answer (of the process that runs again, if `action` switches)."""
    def prim(interp, argc):
        rcvr = interp.stack[interp.sp]
        if argc != 0 or not accepts(interp, rcvr):
            return False
        getattr(interp, action)(rcvr)
        return True
    prim.__name__ = "prim_" + action
    raw_primitive(index)(prim)


_receiver_to(85, _is_signalable, "synchronous_signal")     # Semaphore>>signal
_receiver_to(86, _is_signalable, "wait_on")                # Semaphore>>wait


def _is_process(interp, obj) -> bool:
    return obj.__class__ is SqObject and obj.ptrs is not None and len(obj.ptrs) >= 4 \
        and obj.ptrs[2].__class__ is int


def _resumable(interp, proc) -> bool:
    """A process that can be made runnable: its suspendedContext is a context (the Stack
    VM's check) and its priority names one of the scheduler's lists."""
    if not _is_process(interp, proc):
        return False
    ctx = proc.ptrs[1]
    if ctx.__class__ is not SqObject or ctx.ptrs is None or len(ctx.ptrs) < 6 \
            or not is_context(interp.heap, ctx):
        return False
    return 1 <= proc.ptrs[2] <= len(interp.scheduler().ptrs[0].ptrs)


_receiver_to(87, _resumable, "resume")                     # Process>>resume


@raw_primitive(88)
def prim_suspend(interp, argc):
    proc = interp.stack[interp.sp]
    if argc != 0 or not _is_process(interp, proc):
        return False
    if proc is interp.active_process():
        interp.pop_push(1, interp.nil)
        interp.suspend_active()
        return True
    lst = proc.ptrs[3]
    if lst is interp.nil or lst.__class__ is not SqObject or not interp.unlink(proc, lst):
        return False
    proc.ptrs[3] = interp.nil
    interp.pop_push(1, lst)
    return True


@raw_primitive(167)
def prim_yield(interp, argc):
    interp.yield_active()
    return True


def _set_timer(interp, wakeup: int) -> bool:
    """The primitive's first argument (a Semaphore) becomes the timer semaphore, to be
    signalled at `wakeup` on the millisecond clock; anything else clears the timer."""
    sema = interp.stack[interp.sp - 1]
    specials = interp.heap.specials.ptrs
    if interp.is_semaphore(sema):
        specials[S.THE_TIMER_SEMAPHORE] = sema
        interp.next_wakeup = wakeup or 1
    else:
        specials[S.THE_TIMER_SEMAPHORE] = interp.nil
        interp.next_wakeup = 0
    interp.sp -= 2
    return True


@raw_primitive(136)
def prim_signal_at_milliseconds(interp, argc):
    """signal: aSemaphore atMilliseconds: msClockValue -- the timer semaphore."""
    if argc != 2:
        return False
    when = interp.stack[interp.sp]
    if when.__class__ is not int:
        return False
    return _set_timer(interp, when)


@raw_primitive(242)
def prim_signal_at_utc_microseconds(interp, argc):
    """signal: aSemaphore atUTCMicroseconds: usecs -- the timer semaphore, by the UTC
    microsecond clock (primitive 240's), as Spur images set it."""
    from .system import utc_microseconds
    if argc != 2:
        return False
    try:
        when = int_value(interp.heap, interp.stack[interp.sp])
    except PrimitiveFailed:
        return False
    delay_ms = max(0, (when - utc_microseconds()) // 1000)
    return _set_timer(interp, interp.millisecond_clock() + delay_ms)


@raw_primitive(230)
def prim_relinquish(interp, argc):
    """relinquishProcessorForMicroseconds: -- the idle process. Headless, only the timer
    (and the host) can make a process runnable: sleep until the next timer (in slices of
    at most 50 ms, to notice the host), not only the given time; with no timer and
    nothing runnable the interpreter stops with 'idle'. If another process is runnable,
    sleep the given time at most, as the C VM does."""
    if argc != 1:
        return False
    micros = interp.stack[interp.sp]
    if micros.__class__ is not int:
        return False
    interp.sp -= 1
    wait = interp.milliseconds_to_next_timer()
    runnable = interp.has_runnable_process()
    if wait is None and not interp.pending_signals and not runnable:
        interp.request_stop("idle")
        return True
    if runnable or wait is None:
        seconds = min(max(micros, 0) / 1e6, 0.05)
    else:
        seconds = min(wait / 1000.0, 0.05)
    if interp.deadline is not None:
        seconds = min(seconds, max(0.0, interp.deadline - time.monotonic()))
    if seconds > 0 and not interp.pending_signals:
        time.sleep(seconds)
    interp.check_timers()
    return True


# --- markers and always-failing primitives --------------------------------------------------------

@raw_primitive(19, 195, 196, 197, 198, 199)
def prim_fail(interp, argc):
    """19 guards simulation; 195-199 (unwind/handler search and the ensure:/on:do:
    markers) fail so that the image's Smalltalk code does the work."""
    return False


@raw_primitive(135)
def prim_millisecond_clock(interp, argc):
    """millisecondClockValue: the clock the timer (136) compares with. prims/system.py
    may register its own 135 (it is imported later and wins); it must answer
    interp.millisecond_clock() so that Delays work."""
    interp.pop_push(argc + 1, interp.millisecond_clock())
    return True


# --- context slots (closure images: 210 contextAt:, 211 contextAt:put:, 212 contextSize) -----

def _context_frame(interp, ctx):
    """The indexable part of a context (args, temps, stack), or None for a non-context.
    For the active context the stack pointer is the interpreter's."""
    if not interp.has_closures or ctx.__class__ is not SqObject or ctx.ptrs is None \
            or ctx.cls is not interp.method_context_class:
        return None
    return ctx.ptrs


@raw_primitive(210)
def prim_context_at(interp, argc):
    stack, sp = interp.stack, interp.sp
    if argc != 1:
        return False
    ptrs = _context_frame(interp, stack[sp - 1])
    index = stack[sp]
    if ptrs is None or index.__class__ is not int or not 1 <= index <= len(ptrs) - 6:
        return False
    interp.pop_push(2, ptrs[5 + index])
    return True


@raw_primitive(211)
def prim_context_at_put(interp, argc):
    stack, sp = interp.stack, interp.sp
    if argc != 2:
        return False
    ptrs = _context_frame(interp, stack[sp - 2])
    index, value = stack[sp - 1], stack[sp]
    if ptrs is None or index.__class__ is not int or not 1 <= index <= len(ptrs) - 6:
        return False
    ptrs[5 + index] = value
    interp.pop_push(3, value)
    return True


@raw_primitive(212)
def prim_context_size(interp, argc):
    stack, sp = interp.stack, interp.sp
    ptrs = _context_frame(interp, stack[sp])
    if argc != 0 or ptrs is None:
        return False
    interp.pop_push(1, len(ptrs) - 6)
    return True
