"""Execution control of a guest space from the host (seed: transfer of control, quanta,
processes made by the host, controlled interruption).

Between two transfers of control a space is *parked*: its active process stays its
active process, with its context saved in its `suspendedContext` (pc and stack in that
context), exactly as in a snapshot; the interpreter's registers hold nothing. This is
the seed's context switch, done by `park` (put to sleep, context saved) and `unpark`
(awaken: the saved context becomes the active context again). Nothing is moved to a
ready list by a switch. A space whose processes all wait stays *idle* (its interpreter
started, no active context): the next transfer waits for a timer or a signal.

    transfer_control(space, quantum_ms=None, bytecodes=None)  -> why it came back:
        'quantum'   the quantum (time or bytecodes) is used up
        'idle'      nothing in the space can run (all processes wait, no timer)
        'quit'      the guest quit (primitive 113)
        'error'     an unhandled guest error (space.last_error: a GuestError with the stack);
                    the failing process is suspended, as a debugger would
        'finished'  a host process marked with stop_when_finished returned
        'memory'    the space grew past space.memory_limit (space.last_error says by how much;
                    memory/accounting.py: the image's low-space signal comes first)
        'stopped'   the host asked (request_stop, Ctrl-C)
    create_process(space, source, priority)   a guest Process running compiled source
    install_as_active_process, suspend, resume, terminate, set_priority (ProcessMirror)
    process_result(mirror)                    the value a finished host process returned
    evaluate(space, source, timeout_ms)       create_process + transfers; never hangs the host

Priorities: Squeak 2.2 has 8 levels, PharoCandle 5; a priority above the image's highest
level is given the highest level (ProcessMirror.priority() tells what the process has).
"""
from __future__ import annotations

import signal
import time

from ..errors import GuestError, GuestRecursionError, GuestTimeout, OzError
from ..memory import host_collector
from ..memory import specials as S
from ..memory.objects import SqObject, make_method_header
from . import execution

# Process fields (the same indices in every V3 image: nextLink, suspendedContext, priority, myList)
NEXT_LINK, SUSPENDED_CONTEXT, PRIORITY, MY_LIST = 0, 1, 2, 3
FIRST_LINK, LAST_LINK = 0, 1

# the base method of a host process: store the value the do-it answered into temp 0,
# then return it (to nil: the interpreter hands it to the host, see _finished)
_BASE_CODE = bytes([0x68, 0x10, 0x7C])


class ControlError(OzError):
    """A control operation that cannot be done (a dead process, an unknown space...)."""


def interpreter(space):
    return execution.interpreter_for(space)


# --- parking (the seed's context switch) ---------------------------------------------------

def park(space) -> None:
    """Put the running process to sleep with its context saved in its suspendedContext; it
    stays the scheduler's active process. An idle space (no active context) is marked
    idle: its active-process slot then names a process that is not running."""
    interp = getattr(space, "_interpreter", None)
    if interp is None or not interp.started:
        return
    if interp.ctx is None:
        space._idle_active = interp.active_process()
        return
    space._idle_active = None
    interp.store_registers()
    interp.active_process().ptrs[SUSPENDED_CONTEXT] = interp.ctx
    interp.ctx = None
    interp.stack = None
    interp.started = False


def _set_idle(space, interp) -> None:
    """Nothing can run: the interpreter idles (waits for a timer or a signal)."""
    interp.started = True
    interp.ctx = None
    interp.stack = None
    space._idle_active = interp.active_process()


def _set_active(space, interp, proc) -> None:
    """`proc` (its context in its suspendedContext) is the active process of the parked space."""
    interp.scheduler().ptrs[1] = proc
    interp.ctx = None
    interp.stack = None
    interp.started = False
    space._idle_active = None


def unpark(space):
    """Awaken the active process: its saved context becomes the active context."""
    interp = interpreter(space)
    if interp.started:
        return interp
    proc = interp.active_process()
    ctx = proc.ptrs[SUSPENDED_CONTEXT]
    if ctx is interp.nil or getattr(space, "_idle_active", None) is proc:
        # no active context to resume: let the scheduler pick a runnable process
        interp.started = True
        interp.ctx = None
        return interp
    interp.fetch(ctx)
    proc.ptrs[SUSPENDED_CONTEXT] = interp.nil
    interp.started = True
    return interp


def is_running_state(space) -> bool:
    interp = getattr(space, "_interpreter", None)
    return interp is not None and interp.started and interp.ctx is not None


# --- transfer of control ------------------------------------------------------------------

class Transfer:
    """What one transfer of control did."""

    __slots__ = ("reason", "bytecodes", "seconds", "error")

    def __init__(self, reason, bytecodes, seconds, error):
        self.reason, self.bytecodes, self.seconds, self.error = reason, bytecodes, seconds, error

    def __repr__(self):
        return "<Transfer %s: %d bytecodes in %.3f ms>" % (self.reason, self.bytecodes, self.seconds * 1e3)


def transfer_control(space, quantum_ms=None, bytecodes=None) -> str:
    """Run the space's own processes until the quantum ends (`quantum_ms` milliseconds of
    wall time and/or `bytecodes`), nothing can run, the guest quits or fails; answer why."""
    if getattr(space, "_in_transfer", False):
        raise ControlError("the space is already running (a transfer from inside a transfer)")
    vm = getattr(space, "vm", None)
    if vm is not None and hasattr(vm, "switch_to"):
        vm.switch_to(space)
    space._in_transfer = True
    try:
        return _transfer(space, quantum_ms, bytecodes)
    finally:
        space._in_transfer = False


def _transfer(space, quantum_ms, bytecodes) -> str:
    interp = unpark(space)
    start = time.perf_counter()
    deadline = None if quantum_ms is None else time.monotonic() + quantum_ms / 1000.0
    before = interp.bytecodes
    interp.guest_error = None
    space.last_error = None
    with host_collector.quantum():
        reason = interp.run(max_bytecodes=bytecodes, deadline=deadline)
        if reason == "limit":
            reason = "quantum"
        elif reason == "error" or reason == "memory":
            reason = _after_error(space, interp, reason)
        elif reason == "returned":
            reason = "finished"
        park(space)
    elapsed = time.perf_counter() - start
    space.last_transfer = Transfer(reason, interp.bytecodes - before, elapsed, space.last_error)
    space.cpu_time = getattr(space, "cpu_time", 0.0) + elapsed
    return reason


def _after_error(space, interp, reason: str) -> str:
    """An unhandled guest error (or the space's memory limit passed): keep it (with the
    guest stack) and suspend the failing process, as the guest's debugger would; the
    other processes go on."""
    err, interp.guest_error = interp.guest_error, None
    if err is None:
        err = GuestError("guest error")
    ctx = getattr(err, "context", None)
    if ctx is not None:
        if not err.stack:
            err.stack = describe_stack(space, ctx, 30)
        err.context = None
    space.last_error = err
    if "out of memory" in str(err):
        reason = "memory"
    if interp.ctx is not None:
        proc = interp.active_process()
        _errors(space)[id(proc)] = (proc, err)
        if isinstance(err, GuestRecursionError) and err.process is None:
            err.process = space.mirror_on(proc)
        interp.store_registers()
        hosted = any(p is proc for _, p in _hosted(space).values())
        if hosted or any(s.endswith(">>?") for s in err.stack):
            # frames of host-made methods: name them (the guest's own frames are the same)
            err.stack = describe_stack(space, interp.ctx, 30)
            err.args = (err.message + "".join("\n  " + s for s in err.stack[:20]),)
        proc.ptrs[SUSPENDED_CONTEXT] = interp.ctx
        proc.ptrs[MY_LIST] = interp.nil         # suspended: in no list
        interp.ctx = None
        interp.stack = None
        nxt = interp.wake_highest_priority()
        if nxt is not None:
            _set_active(space, interp, nxt)     # parked on the next process
        else:
            _set_idle(space, interp)
    return reason


def _errors(space) -> dict:
    errs = getattr(space, "_process_errors", None)
    if errs is None:
        errs = space._process_errors = {}
    return errs


def failed_processes(space) -> list:
    """[(ProcessMirror, GuestError)] of the processes an unhandled error suspended (and
    nobody terminated or forgot since), oldest first."""
    return [(space.mirror_on(proc), err) for proc, err in _errors(space).values()]


# --- processes made by the host ----------------------------------------------------------

def priority_levels(space) -> int:
    sched = space.special(S.SCHEDULER_ASSOCIATION).ptrs[1]
    return len(sched.ptrs[0].ptrs)


def _clamp_priority(space, priority) -> int:
    if priority.__class__ is not int or priority < 1:
        raise ControlError("a process priority is a positive integer, not %r" % (priority,))
    return min(priority, priority_levels(space))


def create_process(space, source: str, priority: int = None, start: bool = True,
                   stop_when_finished: bool = False, receiver=None):
    """A guest Process that evaluates `source` (compiled in the host by ozvm's compiler as
    a do-it, receiver nil, or `receiver`, a guest object, as `self`). Its bottom context keeps the value the do-it answers (see
    process_result). `start`: make it runnable (it preempts a lower-priority active
    process at the next transfer), else it is left suspended. Answers a ProcessMirror."""
    from ..compiler.api import compile_doit
    park(space)
    interp = interpreter(space)
    heap = space.heap
    nil = heap.nil
    if priority is None:
        active = interp.active_process()
        priority = active.ptrs[PRIORITY] if active.ptrs[PRIORITY].__class__ is int else 4
    priority = _clamp_priority(space, priority)
    rcv = nil if receiver is None else space.guest_value(receiver)
    doit = compile_doit(space, source, space.class_of(rcv), quick=False)   # run as a context: no quick return
    names = getattr(space, "_host_methods", None)
    if names is None:
        names = space._host_methods = {}
    names[id(doit)] = (doit, "UndefinedObject>>DoIt (host process)")
    cm_class = heap.special(S.CLASS_COMPILED_METHOD)
    base_method = heap.new_method(cm_class, make_method_header(0, 1, 0), [], _BASE_CODE)
    names[id(base_method)] = (base_method, "(host process base)")
    base = interp.new_context(nil, base_method, nil, [])
    ctx = interp.new_context(base, doit, rcv, [])
    proc = heap.instantiate(heap.special(S.CLASS_PROCESS))
    proc.ptrs[SUSPENDED_CONTEXT] = ctx
    proc.ptrs[PRIORITY] = priority
    hosted = _hosted(space)
    hosted[id(base)] = (base, proc)
    interp.base_contexts[base] = _finished_callback(space, proc, base)
    if stop_when_finished:
        _stop_on_finish(space).add(id(proc))
    mirror = space.mirror_on(proc)
    if start:
        resume(mirror)
    return mirror


def _hosted(space) -> dict:
    d = getattr(space, "_hosted_processes", None)
    if d is None:
        d = space._hosted_processes = {}
    return d


def _stop_on_finish(space) -> set:
    s = getattr(space, "_stop_on_finish", None)
    if s is None:
        s = space._stop_on_finish = set()
    return s


def _finished_callback(space, proc, base):
    def finished(interp, value):
        # the do-it returned into the base context, which returned `value` to nil: the
        # process is over. Its suspendedContext keeps the (dead) base context, whose
        # temp 0 holds the value, for mirrors to read.
        base.ptrs[6] = value
        base.ptrs[2] = 1
        proc.ptrs[SUSPENDED_CONTEXT] = base
        interp.ctx = None
        interp.stack = None
        stop = id(proc) in _stop_on_finish(space)
        nxt = interp.wake_highest_priority()
        if nxt is not None:
            interp.transfer_to(nxt)
        else:
            interp.request_stop("idle")
        if stop:
            _stop_on_finish(space).discard(id(proc))
            interp.stop_reason = None
            interp.request_stop("returned")
    return finished


def forget(mirror) -> None:
    """Drop what the host keeps about a process it made (its base context, do-it names,
    error): for processes whose result was read."""
    space = mirror.space
    proc = mirror.obj
    names = getattr(space, "_host_methods", {})
    for key, (base, p) in list(_hosted(space).items()):
        if p is proc:
            del _hosted(space)[key]
            _interp = getattr(space, "_interpreter", None)
            if _interp is not None:
                _interp.base_contexts.pop(base, None)
            names.pop(id(base.ptrs[3]), None)
    ctx = proc.ptrs[SUSPENDED_CONTEXT]
    if ctx is not space.nil and ctx.__class__ is SqObject:
        names.pop(id(ctx.ptrs[3]), None)
    _errors(space).pop(id(proc), None)
    _stop_on_finish(space).discard(id(proc))


def host_base_of(mirror):
    """The base context of a process made by create_process, or None."""
    proc = mirror.obj
    for base, p in _hosted(mirror.space).values():
        if p is proc:
            return base
    return None


def is_finished(mirror) -> bool:
    """Whether a process made by create_process has returned from its source."""
    base = host_base_of(mirror)
    return base is not None and mirror.obj.ptrs[SUSPENDED_CONTEXT] is base and base.ptrs[1] is mirror.space.nil


def process_error(mirror):
    """The GuestError that stopped this process, or None."""
    found = _errors(mirror.space).get(id(mirror.obj))
    return found[1] if found is not None and found[0] is mirror.obj else None


def process_result(mirror):
    """The value (a mirror) that a finished host process answered, read from its bottom
    context through a ContextMirror. Raises the guest error if it failed, ControlError if
    it has not finished."""
    err = process_error(mirror)
    if err is not None:
        raise err
    if not is_finished(mirror):
        raise ControlError("the process has not finished (%s)" % mirror.state())
    ctx = mirror.suspended_context()
    return ctx.temps()[0]


def process_stack(mirror, limit: int = 50) -> list:
    """'Class>>selector' of the process's frames, innermost first (the active process of a
    parked space included: its context is saved)."""
    space = mirror.space
    park(space)
    ctx = mirror.obj.ptrs[SUSPENDED_CONTEXT]
    return describe_stack(space, ctx, limit)


def describe_stack(space, ctx, limit: int = 50) -> list:
    """execution.stack_of, naming the host's own methods (do-its of create_process and the
    bottom context of a host process)."""
    nil = space.nil
    names = getattr(space, "_host_methods", {})
    out = []
    while ctx is not nil and ctx is not None and len(out) < limit:
        meth = ctx.ptrs[3]
        if meth.__class__ is int:           # a BlockContext: its home's method
            home = ctx.ptrs[5]
            meth = home.ptrs[3] if home.__class__ is SqObject else None
            prefix = "[] in "
        else:
            prefix = "[] in " if (space.info.has_closures and ctx.ptrs[4] is not nil) else ""
        found = names.get(id(meth))
        if found is not None and found[0] is meth:
            out.append(prefix + found[1])
        else:
            out.extend(execution.stack_of(space, ctx, 1))
        ctx = ctx.ptrs[0]
    return out


# --- ProcessMirror operations, keeping the guest scheduler consistent ----------------------

def _ready_list(interp, proc):
    return interp.scheduler().ptrs[0].ptrs[proc.ptrs[PRIORITY] - 1]


def _link_first(interp, proc, lst) -> None:
    nil = interp.nil
    lp = lst.ptrs
    proc.ptrs[NEXT_LINK] = lp[FIRST_LINK]
    if lp[FIRST_LINK] is nil:
        lp[LAST_LINK] = proc
    lp[FIRST_LINK] = proc
    proc.ptrs[MY_LIST] = lst


def _take_out(interp, proc) -> None:
    lst = proc.ptrs[MY_LIST]
    if lst is not interp.nil:
        interp.unlink(proc, lst)
        proc.ptrs[MY_LIST] = interp.nil


def _is_active(interp, proc) -> bool:
    return interp.active_process() is proc


def _active_is_live(space, interp) -> bool:
    """The active process is really running (parked with a saved context), not a leftover
    of an idle space."""
    if interp.started:
        return interp.ctx is not None
    active = interp.active_process()
    return (active.ptrs[SUSPENDED_CONTEXT] is not interp.nil
            and getattr(space, "_idle_active", None) is not active)


def install_as_active_process(mirror) -> None:
    """Make the process the space's active process now: the one active before is put at
    the front of its ready list (it runs next at its priority)."""
    space = mirror.space
    park(space)
    interp = interpreter(space)
    proc = mirror.obj
    if proc.ptrs[SUSPENDED_CONTEXT] is interp.nil:
        raise ControlError("the process has no context to run (terminated?)")
    if _is_active(interp, proc) and _active_is_live(space, interp):
        return
    old = interp.active_process()
    if _active_is_live(space, interp) and old is not proc:
        _link_first(interp, old, _ready_list(interp, old))
    _take_out(interp, proc)
    _set_active(space, interp, proc)


def suspend(mirror) -> None:
    """Take the process off the scheduler (and any semaphore); it keeps its context. The
    active process is replaced by the highest-priority runnable one."""
    space = mirror.space
    park(space)
    interp = interpreter(space)
    proc = mirror.obj
    if _is_active(interp, proc) and _active_is_live(space, interp):
        proc.ptrs[MY_LIST] = interp.nil
        nxt = interp.wake_highest_priority()
        if nxt is not None:
            _set_active(space, interp, nxt)
        else:
            _set_idle(space, interp)    # idle until something becomes runnable
    else:
        _take_out(interp, proc)


def resume(mirror) -> None:
    """Make a suspended process runnable; it becomes the active process if its priority is
    higher than the active one's (as primitiveResume does)."""
    space = mirror.space
    park(space)
    interp = interpreter(space)
    proc = mirror.obj
    nil = interp.nil
    if proc.ptrs[SUSPENDED_CONTEXT] is nil:
        raise ControlError("the process has no context to run (terminated?)")
    if (_is_active(interp, proc) and _active_is_live(space, interp)) or proc.ptrs[MY_LIST] is not nil:
        return          # already active, ready or waiting
    active = interp.active_process()
    if _active_is_live(space, interp) and proc.ptrs[PRIORITY] > active.ptrs[PRIORITY]:
        _link_first(interp, active, _ready_list(interp, active))
        _set_active(space, interp, proc)
    else:
        interp.link_last(proc, _ready_list(interp, proc))


def terminate(mirror) -> None:
    """End the process: suspended, and its contexts dead (no unwind blocks are run)."""
    space = mirror.space
    suspend(mirror)
    interp = interpreter(space)
    proc = mirror.obj
    nil = interp.nil
    ctx = proc.ptrs[SUSPENDED_CONTEXT]
    base = host_base_of(mirror)
    guard = 0
    while ctx is not nil and ctx.__class__ is SqObject and ctx is not base and guard < 100000:
        nxt = ctx.ptrs[0]
        ctx.ptrs[1] = nil           # pc nil: a dead context
        ctx = nxt
        guard += 1
    proc.ptrs[SUSPENDED_CONTEXT] = nil
    if base is not None:
        interp.base_contexts.pop(base, None)


def set_priority(mirror, priority: int) -> None:
    """Change the priority, moving the process to its new ready list if it is ready."""
    space = mirror.space
    park(space)
    interp = interpreter(space)
    proc = mirror.obj
    priority = _clamp_priority(space, priority)
    lists = interp.scheduler().ptrs[0].ptrs
    ready = proc.ptrs[MY_LIST]
    in_ready = any(ready is l for l in lists)
    if in_ready:
        _take_out(interp, proc)
    proc.ptrs[PRIORITY] = priority
    if in_ready:
        interp.link_last(proc, _ready_list(interp, proc))


# --- evaluation that never hangs the host -----------------------------------------------

def evaluate(space, source: str, timeout_ms: float = 10000.0, quantum_ms: float = 50.0,
             receiver=None):
    """Evaluate `source` in a new guest process made the active process, transferring
    control in quanta until it answers; answer the result (a guest object). A guest error
    raises GuestError with the guest stack; after `timeout_ms` the process is terminated
    and GuestTimeout raised (with its stack). `receiver`: what `self` is (default nil)."""
    steps = evaluation_steps(space, source, timeout_ms, quantum_ms, receiver)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def evaluation_steps(space, source: str, timeout_ms: float = 10000.0, quantum_ms: float = 50.0,
                     receiver=None, max_bytecodes=None):
    """`evaluate` as a generator that yields after each quantum (so a host serving other
    requests can take turns with it) and returns the result; closing it early terminates
    the guest process. `max_bytecodes`: a budget of guest work (the transfers' bytecodes)
    after which it gives up as after `timeout_ms`, the same on any machine; with
    `timeout_ms` None only that budget (or closing the generator) ends it."""
    proc = create_process(space, source, start=False, stop_when_finished=True, receiver=receiver)
    doit = proc.obj.ptrs[SUSPENDED_CONTEXT].ptrs[3]
    install_as_active_process(proc)
    deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000.0
    used = 0
    done = False
    try:
        while True:
            left = quantum_ms if deadline is None else (deadline - time.monotonic()) * 1000.0
            if left <= 0 or (max_bytecodes is not None and used >= max_bytecodes):
                stack = process_stack(proc, 30)
                terminate(proc)
                done = True
                raise GuestTimeout("the guest did not answer within %s" % (
                    "%g ms" % timeout_ms if left <= 0 else "%d bytecodes" % max_bytecodes), stack)
            reason = transfer_control(space, quantum_ms=min(quantum_ms, left),
                                      bytecodes=None if max_bytecodes is None else max_bytecodes - used)
            used += space.last_transfer.bytecodes
            if is_finished(proc):
                done = True
                return process_result(proc).obj
            err = process_error(proc)
            if err is not None:
                terminate(proc)
                done = True
                raise err
            if reason == "idle" and proc.obj.ptrs[MY_LIST] is space.nil and not proc.is_active():
                stack = process_stack(proc, 30)
                done = True
                raise GuestError("the process was suspended before it answered", stack)
            if reason in ("quit", "memory", "error"):
                stack = process_stack(proc, 30)
                terminate(proc)
                done = True
                err = space.last_error
                raise GuestError("the guest stopped (%s)%s" % (reason, ": %s" % err.message if err else ""),
                                 stack)
            yield reason
    finally:
        if not done:                # closed before it answered: the process goes
            terminate(proc)
        forget(proc)
        getattr(space, "_host_methods", {}).pop(id(doit), None)


# --- Ctrl-C on the command line ------------------------------------------------------------

class Interruptible:
    """Within `with Interruptible(space) as intr:`, Ctrl-C stops the guest at its next
    heartbeat (the run answers 'stopped') and keeps the culprit's stack in intr.stack."""

    def __init__(self, space):
        self.space = space
        self.interrupted = False
        self.stack = None
        self._previous = None
        self._poll = None

    def __enter__(self):
        interp = interpreter(self.space)
        self._poll = interp.host_poll

        def on_sigint(*_):
            self.interrupted = True

        def poll(interp):
            if self.interrupted:
                if self.stack is None and interp.ctx is not None:
                    interp.store_registers()
                    self.stack = describe_stack(self.space, interp.ctx, 40)
                return True
            return self._poll is not None and self._poll(interp)

        interp.host_poll = poll
        try:
            self._previous = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:          # not the main thread: no Ctrl-C handling
            self._previous = None
        return self

    def __exit__(self, *exc):
        interpreter(self.space).host_poll = self._poll
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False

    def report(self) -> str:
        lines = ["interrupted; the guest's active process was in:"]
        lines += ["  " + s for s in (self.stack or ["(no active context)"])]
        return "\n".join(lines)
