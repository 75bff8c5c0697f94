"""Debugger-level control of guest processes (what a Squeak/Pharo debugger does), on the real
interpreter.

Every operation works on a guest Process (ProcessMirror) and one of its frames (ContextMirror);
the ProcessMirror / ContextMirror methods of the same names call these functions:

    step_into(process, frame=None)      -> ContextMirror   one send deep
    step_over(process, frame=None)      -> ContextMirror   until the send returns to the frame
    step_through(process, frame=None)   -> ContextMirror   as step_over, but stops in a block
                                                            the frame made when it starts running
    run_to_end(process, frame=None)     -> ContextMirror   until the frame returns (its sender)
    restart(process, frame)             -> ContextMirror   re-enter the frame from its start
    return_value(process, frame, value) -> ContextMirror   return value from the frame (its sender)
    evaluate_in(process, frame, source) -> mirror          source compiled in the frame's scope
    proceed(process)                                        resume the process
    terminate(process)                                      end it, running its unwind blocks
    top_frame(process)                  -> ContextMirror   where it is suspended

`frame` defaults to the process's top frame; a ContextMirror of a frame that is not the top
first runs until that frame is the top again (its callees complete), as the Squeak debugger's
step with a lower frame selected (`completeCallee:`). The process is debugged suspended: an
operation takes it off the scheduler (active, ready or waiting), runs it on the real
interpreter (`Interpreter.run` with a bytecode budget: `exact` single bytecodes for steps, a
return trap on a frame to run until control comes back to it), and leaves it suspended where it
stopped; `proceed` makes it runnable again. Other processes of the space run as usual while a
frame runs to its end (timers fire); single steps run nothing else.

Stepping follows Squeak's ContextPart (the image's own debugger machinery):
  - a frame's *point* is its next send or return (`stepToSendOrReturn`: `willReallySend`,
    `willReturn`); every step answers its frame positioned at the next point;
  - step_into executes the send and answers the new frame at its first point (or the same
    frame if a primitive answered); at a return it returns to the sender (its next point);
  - step_over executes the send and runs until it returns to the frame (Squeak's
    `completeCallee:`); at a return as step_into;
  - step_through is step_over that stops early when a block (BlockContext of the frame's home,
    or BlockClosure whose outer context is the frame) starts running: it single-steps the
    callee (at most `budget` bytecodes).
Stored pcs are the image's (1-based, counting the literal frame), as ContextMirror.pc().

Returning and unwinding: where the image's contexts understand `return:` (Squeak 3+, Pharo,
ozvm's kernel), return_value activates `frame return: value` on top of the process and runs
it, as Squeak's `Process>>return:value:` does: the guest's own code runs the pending ensure:/
ifCurtailed: blocks in the process, then the frame returns to its sender. Images without it
(Squeak 2.2, PharoCandle: no unwind blocks either) are released from the host as their own
`ContextPart>>return:to:` does (`releaseTo:`, then the value pushed on the sender). restart
unwinds the frames above the frame the same way, then resets it: pc at the start of the method
now installed for its class and selector (after a fix), stack empty, temps nil, arguments kept;
a closure activation restarts its block (copied values again); a 6502 BlockContext restarts its
home method (as Squeak 2.2's debugger).

Errors: a guest error while running stops there; the process stays suspended at the error
(the guest's debugger entry answered nil, as after a proceed) and the operation raises the
GuestError with `.process` set. Running out of `budget` bytecodes raises DebugTimeout with the
process suspended where it got to.
"""
from __future__ import annotations

from ..errors import GuestError, GuestTimeout, OzError
from ..memory.contexts import decode_method, is_method, method_of_context
from ..memory.objects import SqObject
from . import control
from .control import ControlError

SENDER, PC, STACKP, METHOD, CLOSURE, RECEIVER = 0, 1, 2, 3, 4, 5
SUSPENDED_CONTEXT, MY_LIST = 1, 3

STEP_BUDGET = 10_000_000        # bytecodes a frame may run before an operation gives up
THROUGH_BUDGET = 200_000        # bytecodes step_through single-steps
POINT_BUDGET = 100_000          # bytecodes to the next send or return (straight-line code)


class DebugError(ControlError):
    """A debugger operation that cannot be done (a dead frame, a frame of another process...)."""


class DebugTimeout(GuestTimeout):
    """The frame did not get where the operation runs it within its bytecode budget; the
    process is suspended where it got to (`process`)."""


# --- where a process is ----------------------------------------------------------------------

def _ctx(frame):
    return frame.obj if hasattr(frame, "obj") else frame


def top_frame(process):
    """The frame the process is suspended in (a ContextMirror), or None when it has none."""
    _take(process, check=False)
    ctx = process.obj.ptrs[SUSPENDED_CONTEXT]
    return None if ctx is process.space.nil else process.space.mirror_on(ctx)


def _chain(process) -> list:
    out = []
    nil = process.space.nil
    c = process.obj.ptrs[SUSPENDED_CONTEXT]
    seen = set()
    while c is not nil and c.__class__ is SqObject and id(c) not in seen:
        seen.add(id(c))
        out.append(c)
        c = c.ptrs[SENDER]
    return out


def process_of(frame):
    """The ProcessMirror whose stack holds `frame` (a ContextMirror), or None."""
    space = frame.space
    control.park(space)
    for p in space.scheduler().all_processes():
        if any(c is frame.obj for c in _chain(p)):
            return p
    return None


def _take(process, check=True):
    """Take the process off the scheduler for debugging (its context saved, in no list)."""
    space = process.space
    interp = control.interpreter(space)
    if getattr(space, "_in_transfer", False) or interp.running:
        raise DebugError("the space is running (a debugger operation from inside a run)")
    control.park(space)
    if check and not _is_alive(process.obj.ptrs[SUSPENDED_CONTEXT]):
        raise DebugError("the process has no frame to run (terminated or finished)")
    if (control._is_active(interp, process.obj) and control._active_is_live(space, interp)) \
            or process.obj.ptrs[MY_LIST] is not space.nil:
        control.suspend(process)


def _frame_in(process, frame):
    if frame is None:
        return process.obj.ptrs[SUSPENDED_CONTEXT]
    if frame.space is not process.space:
        raise DebugError("the frame is not of this process's space")
    c = frame.obj
    if not any(x is c for x in _chain(process)):
        raise DebugError("%s is not a frame of this process" % frame.describe())
    return c


# --- running the process on the real interpreter ---------------------------------------------

class _Outcome:
    __slots__ = ("reason", "error")

    def __init__(self, reason, error):
        self.reason, self.error = reason, error


def _run(process, budget: int, exact: bool = False, trap=None) -> _Outcome:
    """Run the (suspended) process as the space's active process for at most `budget`
    bytecodes (exactly that many when `exact`). With `trap` (a context of its stack), stop as
    soon as a return comes back into it. Afterwards the process is suspended again (unless
    it waits on a semaphore or finished); errors of other processes suspend those, as in a
    transfer of control."""
    space = process.space
    vm = getattr(space, "vm", None)
    if vm is not None and hasattr(vm, "switch_to"):
        vm.switch_to(space)
    control.install_as_active_process(process)
    interp = control.unpark(space)
    nil = space.nil
    if trap is not None:
        if trap.ptrs[PC].__class__ is not int:
            raise DebugError("the frame to come back to has returned")
        interp.return_traps[trap] = trap.ptrs[PC]
        trap.ptrs[PC] = nil
    error = None
    proc = process.obj
    try:
        left = budget
        while True:
            before = interp.bytecodes
            interp.guest_error = None
            reason = interp.run(max_bytecodes=left, exact=exact)
            left -= interp.bytecodes - before
            if reason == "error" and interp.ctx is not None and interp.active_process() is not proc:
                control._after_error(space, interp, reason)     # another process failed
                interp = control.unpark(space)
                if left > 0:
                    continue
                reason = "limit"
            break
        if reason == "error":
            error = interp.guest_error or GuestError("guest error")
            interp.guest_error = None
    finally:
        if trap is not None and trap in interp.return_traps:
            trap.ptrs[PC] = interp.return_traps.pop(trap)
    if error is not None and interp.ctx is not None:
        interp.store_registers()
        ctx = getattr(error, "context", None)
        error.stack = control.describe_stack(space, ctx if ctx is not None else interp.ctx, 30)
        error.context = None
        error.args = (error.message + "".join("\n  " + s for s in error.stack[:20]),)
        error.process = process
        control._errors(space)[id(proc)] = (proc, error)
    control.park(space)
    if control._is_active(interp, proc) and control._active_is_live(space, interp):
        control.suspend(process)
    elif proc.ptrs[MY_LIST] is not nil and _in_ready_list(interp, proc):
        control.suspend(process)            # preempted: keep it for the debugger
    return _Outcome(reason, error)


def _in_ready_list(interp, proc) -> bool:
    lst = proc.ptrs[MY_LIST]
    return any(lst is l for l in interp.scheduler().ptrs[0].ptrs)


def _raise_if_failed(process, outcome, what: str, budget: int):
    """Raise the guest error of a run, or DebugTimeout when a run that should have stopped
    by itself (a trap) used its whole budget."""
    if outcome.error is not None:
        raise outcome.error
    if outcome.reason == "limit" and budget > 1:
        err = DebugTimeout("%s: not done within %d bytecodes; the process is suspended in %s"
                           % (what, budget, _where(process)))
        err.process = process
        raise err
    if outcome.reason == "quit":
        raise DebugError("%s: the guest quit" % what)


def _where(process) -> str:
    stack = control.describe_stack(process.space, process.obj.ptrs[SUSPENDED_CONTEXT], 1)
    return stack[0] if stack else "(no frame)"


def _top(process):
    return process.obj.ptrs[SUSPENDED_CONTEXT]


def _is_alive(ctx) -> bool:
    """A context that has not returned (nil and other objects are not)."""
    p = ctx.ptrs if ctx.__class__ is SqObject else None
    return p is not None and len(p) > 6 and p[PC].__class__ is int


# --- bytecode points (Squeak's InstructionStream>>willReallySend / willReturn) ---------------

def _next_bytecode(space, ctx):
    meth = method_of_context(ctx)
    info = decode_method(meth, space.heap)
    code = meth.bytes
    i = ctx.ptrs[PC] - info[3]
    if not 0 <= i < len(code):
        return None, None
    return code[i], (code[i + 1] if i + 1 < len(code) else None)


_SISTA_SENDS = ("send", "superSend", "directedSuperSend", "sendSpecial")
_SISTA_RETURNS = ("returnSelf", "returnConst", "returnTop", "blockReturn", "blockReturnNil")


def _next_sista_op(space, ctx):
    """The operation of the next instruction of a context running a Sista V1 method, or None
    (another bytecode set, or no instruction there)."""
    meth = method_of_context(ctx)
    if not space.heap.family.method_alternate_bytecodes(meth.ptrs[0]):
        return None
    from ..compiler.disassembler import BytecodeError
    from ..compiler.sista_disassembler import decode_one
    i = ctx.ptrs[PC] - decode_method(meth, space.heap)[3]
    try:
        return decode_one(meth.bytes, i).op if 0 <= i < len(meth.bytes) else ""
    except (BytecodeError, IndexError):
        return ""


def will_send(space, ctx) -> bool:
    """The next bytecode of `ctx` is a real send (not blockCopy:, not an extended push)."""
    op = _next_sista_op(space, ctx)
    if op is not None:
        return op in _SISTA_SENDS
    b, b2 = _next_bytecode(space, ctx)
    if b is None or b < 128 or b == 200:
        return False
    if b >= 176:
        return True
    if b == 0x84:
        return b2 is not None and b2 >> 5 in (0, 1)
    return 131 <= b <= 134


def will_return(space, ctx) -> bool:
    op = _next_sista_op(space, ctx)
    if op is not None:
        return op in _SISTA_RETURNS
    b, _ = _next_bytecode(space, ctx)
    return b is not None and 120 <= b <= 125


def _at_point(space, ctx) -> bool:
    return will_send(space, ctx) or will_return(space, ctx)


def _step_to_point(process, ctx, budget: int = POINT_BUDGET):
    """Single-step `ctx` (the top) to its next send or return (stepToSendOrReturn)."""
    space = process.space
    n = 0
    while _top(process) is ctx and _is_alive(ctx) and not _at_point(space, ctx):
        _single_step(process, "step")
        n += 1
        if n >= budget:
            raise DebugTimeout("no send or return within %d bytecodes" % budget)


def _complete_to(process, frame, budget: int):
    """Run until `frame` is the top of the process again (its callees return)."""
    if _top(process) is frame:
        return
    callee = None
    for c in _chain(process):
        if c.ptrs[SENDER] is frame:
            callee = c
            break
    if callee is None:
        raise DebugError("the frame is not on the process's stack")
    _raise_if_failed(process, _run(process, budget, trap=frame), "completing the callees", budget)
    if _top(process) is not frame:
        raise DebugError("the frame was left without returning to it (unwound); the process "
                         "is suspended in %s" % _where(process))


def _complete_and_point(process, ctx, budget: int):
    """A lower frame selected: its callees complete, it stops at its next point (Squeak's
    Debugger>>step with a lower frame: `completeCallee:`)."""
    _complete_to(process, ctx, budget)
    _step_to_point(process, ctx)
    return top_frame(process)


def _single_step(process, what):
    _raise_if_failed(process, _run(process, 1, exact=True), what, 1)


# --- stepping ---------------------------------------------------------------------------------

def _ready_to_step(process, frame, budget: int):
    """The set-up of every step: (the frame's context, None) once the frame is on top and
    stopped at its next send or return, ready for its next bytecode; or (None, the frame to
    answer) when the step ended there already: a lower frame selected completes its callees
    and stops at its next point, a frame that returned while reaching its point is left."""
    _take(process)
    ctx = _frame_in(process, frame)
    if _top(process) is not ctx:
        return None, _complete_and_point(process, ctx, budget)
    _step_to_point(process, ctx)
    if _top(process) is not ctx:
        return None, top_frame(process)
    return ctx, None


def _stop_in_top(process):
    """The frame on top (if any) stops at its next send or return; answers it."""
    new = _top(process)
    if new is not process.space.nil:
        _step_to_point(process, new)
    return top_frame(process)


def step_into(process, frame=None, budget: int = STEP_BUDGET):
    """Execute the frame's next send and stop in the method it activates, at its first send or
    return (or in the same frame when a primitive answered). See the module doc."""
    ctx, done = _ready_to_step(process, frame, budget)
    if ctx is None:
        return done
    _single_step(process, "step into")
    return _stop_in_top(process)


def step_over(process, frame=None, budget: int = STEP_BUDGET):
    """Execute the frame's next send and run until it returns to the frame, which then stops
    at its next send or return; at a return, return to the sender (as step_into)."""
    ctx, done = _ready_to_step(process, frame, budget)
    if ctx is None:
        return done
    space = process.space
    returning = will_return(space, ctx)
    _single_step(process, "step over")
    new = _top(process)
    if returning or new is space.nil:
        return _stop_in_top(process)
    if new is not ctx:
        _complete_to(process, ctx, budget)
    _step_to_point(process, ctx)
    return top_frame(process)


def _made_by(space, ctx, frame) -> bool:
    """Whether `ctx` runs a block made by `frame` (6502: a BlockContext whose home is the
    frame's home; closures: an activation of a BlockClosure whose outer context is `frame`)."""
    if ctx.ptrs[METHOD].__class__ is int:                   # BlockContext
        home = frame if frame.ptrs[METHOD].__class__ is not int else frame.ptrs[5]
        return ctx.ptrs[5] is home
    clo = ctx.ptrs[CLOSURE]
    return clo.__class__ is SqObject and clo is not space.nil and clo.ptrs and clo.ptrs[0] is frame


def step_through(process, frame=None, budget: int = THROUGH_BUDGET):
    """step_over, stopping instead in a block made by the frame as soon as it runs (Pharo's
    'through'), e.g. in the block of `#(1 2) do: [:x | ...]`. Single-steps the callee (at most
    `budget` bytecodes)."""
    ctx, done = _ready_to_step(process, frame, STEP_BUDGET)
    if ctx is None:
        return done
    space = process.space
    returning = will_return(space, ctx)
    _single_step(process, "step through")
    if returning:
        return _stop_in_top(process)
    n = 0
    while True:
        top = _top(process)
        if top is space.nil or top is ctx:
            break
        if _made_by(space, top, ctx):
            _step_to_point(process, top)
            return top_frame(process)
        if not _is_alive(ctx):
            break
        _single_step(process, "step through")
        n += 1
        if n >= budget:
            err = DebugTimeout("step through: no block of the frame ran within %d bytecodes; "
                               "the process is suspended in %s" % (budget, _where(process)))
            err.process = process
            raise err
    if _top(process) is ctx:
        _step_to_point(process, ctx)
    return top_frame(process)


def run_to_end(process, frame=None, budget: int = STEP_BUDGET):
    """Run until the frame returns; answer its sender, the returned value on top of its stack
    (not stepped further)."""
    _take(process)
    ctx = _frame_in(process, frame)
    sender = ctx.ptrs[SENDER]
    if sender is process.space.nil or not _is_alive(sender):
        raise DebugError("the frame has no sender to return to")
    if _top(process) is ctx and will_return(process.space, ctx):
        _single_step(process, "run to end")
    else:
        _raise_if_failed(process, _run(process, budget, trap=sender), "run to end", budget)
    if _top(process) is not sender:
        raise DebugError("the frame did not return to its sender (unwound past it); the "
                         "process is suspended in %s" % _where(process))
    return top_frame(process)


# --- returning, restarting ----------------------------------------------------------------------

def _lookup(space, cls, selector: str):
    sym = space.symbol_named(selector)
    if sym is None:
        return None
    interp = control.interpreter(space)
    try:
        found = interp.lookup(cls, sym)
    except LookupError:
        return None
    return found if found.__class__ is SqObject and found.fmt == 12 else None


def _return_from(process, ctx, value, budget: int):
    """Return `value` (a guest object) from frame `ctx` to its sender, which becomes the top.
    The image's own `return:` runs where contexts understand it (unwinding); else the frames
    from the top to `ctx` are released from the host."""
    space = process.space
    nil = space.nil
    sender = ctx.ptrs[SENDER]
    if sender is nil or not _is_alive(sender):
        raise DebugError("the frame has no sender to return to")
    meth = _lookup(space, ctx.cls, "return:")
    if meth is not None and decode_method(meth, space.heap)[6] == 1:
        interp = control.interpreter(space)
        top = _top(process)
        process.obj.ptrs[SUSPENDED_CONTEXT] = interp.new_context(top, meth, ctx, [value])
        _raise_if_failed(process, _run(process, budget, trap=sender), "return", budget)
        if _top(process) is not sender:
            raise DebugError("the return did not come back to the sender; the process is "
                             "suspended in %s" % _where(process))
        return
    c = _top(process)
    while c is not sender and c is not nil:
        nxt = c.ptrs[SENDER]
        c.ptrs[SENDER] = nil
        c.ptrs[PC] = nil
        c = nxt
    sp = sender.ptrs[STACKP] + 1
    sender.ptrs[STACKP] = sp
    sender.ptrs[RECEIVER + sp] = value
    process.obj.ptrs[SUSPENDED_CONTEXT] = sender


def return_value(process, frame, value, budget: int = STEP_BUDGET):
    """Return `value` (a mirror, guest object or host literal) from the frame to its sender,
    running the guest's unwind blocks on the way where the image has them; answer the sender."""
    _take(process)
    ctx = _frame_in(process, frame)
    _return_from(process, ctx, process.space.guest_value(value), budget)
    return top_frame(process)


def installed_method(space, ctx):
    """The method now installed for the class and selector of method frame `ctx` (after a fix,
    not the one the frame ran), or the frame's own method when none can be found."""
    old = ctx.ptrs[METHOD]
    owner = space.method_owner(old)
    rcvr = ctx.ptrs[RECEIVER]
    cls = space.class_of(rcvr)
    selector = owner[1] if owner is not None else None
    start = owner[0] if owner is not None else None
    if selector is None:
        selector = _selector_sent(space, ctx)
        start = cls
    if selector is None:
        return old
    found = None
    if start is not None:
        found = _lookup(space, start, selector)
    if found is None and start is not cls:
        found = _lookup(space, cls, selector)
    if found is None or decode_method(found, space.heap)[6] != decode_method(old, space.heap)[6]:
        return old
    return found


def _selector_sent(space, ctx):
    """The selector of the send that activated `ctx`, read from its sender's last bytecode."""
    sender = ctx.ptrs[SENDER]
    if sender is space.nil or not _is_alive(sender):
        return None
    meth = method_of_context(sender)
    info = decode_method(meth, space.heap)
    code, i = meth.bytes, sender.ptrs[PC] - info[3]
    lits = meth.ptrs
    candidates = []
    if space.heap.family.method_alternate_bytecodes(meth.ptrs[0]):
        from ..compiler.sista_disassembler import decode_tolerant
        for ins in decode_tolerant(code[:i]):
            if ins.next == i and ins.op in ("send", "superSend", "directedSuperSend") \
                    and ins.arg + 1 < len(lits):
                candidates.append(lits[ins.arg + 1])
        i = 0                   # none of the V3 patterns below
    if i >= 1 and code[i - 1] >= 0xD0:
        candidates.append(lits[(code[i - 1] & 15) + 1])
    if i >= 2 and code[i - 2] in (0x83, 0x85):
        candidates.append(lits[(code[i - 1] & 31) + 1])
    if i >= 2 and code[i - 2] == 0x86:
        candidates.append(lits[(code[i - 1] & 63) + 1])
    if i >= 3 and code[i - 3] == 0x84 and code[i - 2] >> 5 in (0, 1):
        candidates.append(lits[code[i - 1] + 1])
    for sel in candidates:
        if sel.__class__ is SqObject and sel.bytes is not None:
            return sel.bytes.decode("latin-1")
    return None


def restart(process, frame, budget: int = STEP_BUDGET):
    """Unwind the frames above `frame` (their unwind blocks run where the image has them),
    then re-enter it from its start: a method frame with the method now installed for its
    class and selector, stack empty, temps nil, arguments kept. Answers the frame."""
    _take(process)
    ctx = _frame_in(process, frame)
    space = process.space
    nil = space.nil
    if ctx.ptrs[METHOD].__class__ is int:       # a 6502 BlockContext: restart its home
        home = ctx.ptrs[5]
        if not any(c is home for c in _chain(process)):
            raise DebugError("the block's home method has returned; it cannot be restarted")
        ctx = home
    if not _is_alive(ctx):
        raise DebugError("the frame has returned")
    sender = ctx.ptrs[SENDER]
    if _top(process) is not ctx:
        # unwind the frames above: the frame returns (the guest's unwinding runs every
        # unwind block above it, not its own), then it is revived below as a fresh activation
        if sender is nil or not _is_alive(sender):
            raise DebugError("the bottom frame cannot be restarted from a frame above it")
        saved = list(ctx.ptrs)
        _return_from(process, ctx, nil, budget)
        sender.ptrs[STACKP] -= 1                        # the nil it answered
        ctx.ptrs[:] = saved
        ctx.ptrs[SENDER] = sender
        process.obj.ptrs[SUSPENDED_CONTEXT] = ctx
    p = ctx.ptrs
    clo = p[CLOSURE] if space.info.has_closures else nil
    if clo is not nil and clo.__class__ is SqObject:
        nargs = clo.ptrs[2]
        if is_method(clo.ptrs[1]):          # a full block (Sista V1): its CompiledBlock
            copied = clo.ptrs[4:]
            p[PC] = decode_method(clo.ptrs[1], space.heap)[3]
        else:
            copied = clo.ptrs[3:]
            p[PC] = clo.ptrs[1]
        p[6 + nargs:6 + nargs + len(copied)] = copied
        for k in range(6 + nargs + len(copied), len(p)):
            p[k] = nil
        p[STACKP] = nargs + len(copied)
    else:
        meth = installed_method(space, ctx)
        info = decode_method(meth, space.heap)
        nargs = info[6]
        need = 6 + info[7]
        if len(p) < need:
            p.extend([nil] * (need - len(p)))
        p[METHOD] = meth
        p[PC] = info[3]
        for k in range(6 + nargs, len(p)):
            p[k] = nil
        p[STACKP] = info[4]
    return top_frame(process)


# --- evaluating in a frame ------------------------------------------------------------------------

def _temp_names(space, meth) -> dict:
    """A method frame's variable names: from the image's .changes/.sources when it has the
    method's source (the programmer's names), else from the decompiler (arg1, t1...)."""
    source = space.method_source(meth)
    if source is not None:
        owner = space.method_owner(meth.obj)
        if owner is not None:
            from ..compiler.api import source_temp_names
            try:
                return source_temp_names(space, owner[0], source)
            except OzError:
                pass
    from ..compiler.decompiler import method_temp_names
    return method_temp_names(space, meth.obj)


def frame_variables(frame) -> list:
    """[(name, holder, i)] of the variables a frame sees; the value is
    `holder.obj.ptrs[holder.fixed() + i]` (holder: a ContextMirror, or the mirror on a temp
    vector). A method's arguments and temporaries have the names of its real source (the
    image's .changes/.sources) or else of its decompiled source (arg1.., t1..; temporaries a
    closure method keeps in a temp vector too), else arg1.. and
    t1.. in slot order; a closure activation's slots are blockArg1.. then blockTemp1.. (its
    copied values), then come the variables of its outer contexts it does not hide; a 6502
    BlockContext sees its home's."""
    out = []
    seen = set()
    space = frame.space
    ctx = frame
    if ctx.is_block_context():
        ctx = ctx.home()
    level = 0
    guard = 0

    def add(name, holder, index):
        if name not in seen:
            seen.add(name)
            out.append((name, holder, index))

    while ctx is not None and guard < 100:
        guard += 1
        n = ctx.num_temps()
        nargs = ctx.num_args()
        fixed = ctx.fixed()
        slots = range(min(n, len(ctx.obj.ptrs) - fixed))
        if ctx.closure() is None:
            meth = ctx.method()
            names = {}
            if meth is not None:
                names = _temp_names(space, meth)
            for i in slots:
                remote = [k for k in names if k.__class__ is tuple and k[0] == i]
                if not remote:          # (a temp vector is no variable of the source)
                    name = names.get(i) or ("arg%d" % (i + 1) if i < nargs else "t%d" % (i - nargs + 1))
                    add(name, ctx, i)
                    continue
                vec = ctx.obj.ptrs[fixed + i]
                for key, vname in names.items():
                    if key.__class__ is tuple and key[0] == i and vec.__class__ is SqObject \
                            and vec.ptrs is not None and key[1] < len(vec.ptrs):
                        add(vname, space.mirror_on(vec), key[1])       # an Array: fixed() 0
        else:
            for i in slots:
                name = ("blockArg%d" % (i + 1) if i < nargs else "blockTemp%d" % (i - nargs + 1))
                if level:
                    name = "outer%d%s" % (level, name[0].upper() + name[1:])
                add(name, ctx, i)
        clo = ctx.closure()
        if clo is None:
            break
        outer = clo.obj.ptrs[0]
        if outer is space.nil:
            break
        ctx = space.mirror_on(outer)
        level += 1
    return out


def evaluate_in(process, frame, source: str, timeout: float | None = 60.0, priority=None):
    """Evaluate `source` as a do-it in the scope of the frame: its receiver is self, the
    receiver's instance variables, and the frame's arguments and temporaries (named as
    frame_variables says) are in scope; assignments to those are written back into the
    frame. Compiled with ozvm's compiler; runs in a fresh guest process (as a debugger's
    print-it runs outside the debugged process), at `priority` if given (else the active
    process's). Answers a mirror on the result."""
    from ..compiler.api import compile_doit
    from .execution import run_method
    space = process.space if process is not None else frame.space
    if frame is None:
        frame = top_frame(process)
    if process is not None:             # only parked (its context saved), not suspended
        if getattr(space, "_in_transfer", False) or control.interpreter(space).running:
            raise DebugError("the space is running (a debugger operation from inside a run)")
        control.park(space)
        _frame_in(process, frame)
    receiver = frame.receiver()
    rcvr = receiver.obj if receiver is not None else space.nil
    variables = frame_variables(frame)
    assoc_class = _association_class(space)
    bindings = {}
    for name, holder, i in variables:
        a = space.heap.instantiate(assoc_class)
        a.ptrs[0] = space.intern_symbol(name)
        a.ptrs[1] = holder.obj.ptrs[holder.fixed() + i]
        bindings[name] = (a, holder, holder.fixed() + i)
    doit = compile_doit(space, source, space.class_of(rcvr),
                        bindings={name: v[0] for name, v in bindings.items()})
    try:
        result = run_method(space, doit, rcvr, (), timeout, priority=priority)
    finally:
        for name, (a, holder, i) in bindings.items():
            if holder.obj.ptrs[i] is not a.ptrs[1]:
                holder.obj.ptrs[i] = a.ptrs[1]
    return space.mirror_on(result)


def _association_class(space):
    a = space.global_association("Object") or space.global_association("PCObject")
    if a is None:
        raise DebugError("the image has no global Association to copy the class of")
    return a.cls


# --- proceeding, terminating -----------------------------------------------------------------------

def proceed(process) -> None:
    """Resume the process where it is suspended (after an error: the guest's debugger entry
    answers nil, as after the debugger's proceed); its recorded error is forgotten."""
    space = process.space
    control.park(space)
    control._errors(space).pop(id(process.obj), None)
    control.resume(process)


def terminate(process, budget: int = STEP_BUDGET) -> None:
    """End the process as the debugger's terminate does: the guest's own Process>>terminate
    runs (unwind blocks of images that have them), then the host makes sure it is over
    (contexts dead, nothing scheduled)."""
    from .execution import run_send
    space = process.space
    _take(process, check=False)
    try:
        if process.obj.ptrs[SUSPENDED_CONTEXT] is not space.nil \
                and _lookup(space, process.obj.cls, "terminate") is not None:
            run_send(space, process.obj, "terminate", (), timeout=None, max_bytecodes=budget)
    finally:
        control._errors(space).pop(id(process.obj), None)
        if process.obj.ptrs[SUSPENDED_CONTEXT] is not space.nil:
            control.terminate(process)
