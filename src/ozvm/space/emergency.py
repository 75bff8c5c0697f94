"""The emergency kernel: when a running image fails, the host takes over before the
image's own (possibly broken) tools run, with the space intact and the failing process
as it was; the surgeon repairs it through mirrors and lets the same process go on.

    kernel = EmergencyKernel(space)
    try:
        kernel.run()                     # the image's own active process, as `oz run` does
    except Takeover as t:
        t.failure.kind                   # 'error', 'deadlock', 'interrupt', 'vm error', ...
        t.process.frames()               # the failing ProcessMirror, parked as it was
        space.install(cls, fixed_source)
        kernel.restart(3)                # (space/debugger.py) re-enter frame 3
        kernel.run()                     # resume: the same process goes on
    # or with a callback, called at each takeover; the run resumes when it returns:
    kernel.run(on_failure=lambda kernel: ...)

What counts as a failure (the kinds):
    'error'       an unhandled error reached the image's debugger entry (Squeak 2.2:
                  `Debugger class>>openContext:label:contents:`; PharoCandle:
                  `PCObject>>handleExceptionName:context:`, see execution.install_host_hooks).
                  The entry is not run: its send answers nil, so `resume` is the debugger's
                  Proceed (`error:` returns nil, a doesNotUnderstand: resends the message).
    'vm error'    the interpreter cannot go on (a recursive doesNotUnderstand:, an invalid
                  bytecode, primitive 114 exitToDebugger): the process stands at the send.
    'deadlock'    no process can run and nothing (timer, signal) can wake one; the failing
                  process is the last one that waited on a semaphore.
    'interrupt'   the host asked (`interrupt()`, e.g. from a SIGINT handler: Ctrl-C).
    any other stop reason the interpreter reports (e.g. a recursive error) is taken over
    under its own name.

Between takeovers the space is parked (space/control.py): the failing process keeps its
context in its suspendedContext, exactly as in a snapshot, so mirrors, the debugger
operations and `save` see it as it is. `resume` (run again) makes the chosen process the
active process again (taking it out of a semaphore it waits on) and runs the image on.
"""
from __future__ import annotations

import contextlib
import os

from ..errors import GuestError, GuestRecursionError, OzError
from ..memory.objects import SqObject
from . import control, execution

STACK_KEPT = 200        # frames named in a Failure (a runaway recursion has 100000)

# interpreter stop reasons that end a run normally (not a takeover)
_NORMAL = ("quit", "limit")


class Failure:
    """Why the host took over: `kind`, a one-line `message`, the failing `process`
    (a ProcessMirror, or None) and its stack as 'Class>>selector' strings."""

    __slots__ = ("kind", "message", "process", "stack")

    def __init__(self, kind: str, message: str, process, stack):
        self.kind, self.message, self.process, self.stack = kind, message, process, stack

    def __repr__(self):
        return "<Failure %s: %s>" % (self.kind, self.message)

    def describe(self) -> str:
        return "%s: %s" % (self.kind, self.message)


class Takeover(OzError):
    """Raised by EmergencyKernel.run (without a callback) when the image fails: carries the
    Failure and the failing ProcessMirror. Run the kernel again to resume."""

    def __init__(self, failure: Failure):
        self.failure = failure
        self.process = failure.process
        text = "emergency takeover: " + failure.describe()
        if failure.stack:
            text += "\n" + "\n".join("  %d: %s" % (i, s) for i, s in enumerate(failure.stack[:20]))
        super().__init__(text)


class EmergencyKernel:
    """Runs a space's own processes with the host ready to take over (see the module doc).
    The space's error traps stay armed (they are the interpreter's host hooks)."""

    def __init__(self, space):
        self.space = space
        self.interp = execution.interpreter_for(space)
        self.failure = None
        self.process = None          # the ProcessMirror the operations work on
        self._interrupted = False
        self._stop_run = False
        self.image_quit = False      # the image quit during a host evaluation
        self._last_entry = None      # (entry method, argc, receiver and args, context) of the last trap
        self._failed_entry = None    # the same for the failure being handled
        self._pass = None            # an entry to run at the next resume (pass)
        self._armed = None           # the entry methods trapped (re-armed when replaced)
        self._names = {}             # id(context) -> (context, 'Class>>selector') as first seen
        self._arm()

    def _arm(self) -> None:
        """Trap the image's debugger entries as they are now (a surgeon may have filed in
        a new version since the last run)."""
        current = [m for m, _, _ in execution.error_entries(self.space)]
        if self._armed is None or len(current) != len(self._armed) or \
                any(a is not b for a, b in zip(current, self._armed)):
            execution.install_error_traps(self.space, self.interp, wrap=self._recording)
            self._armed = current

    def _recording(self, trap):
        """The error trap, remembering the debugger entry's receiver and arguments first
        (pass can then send them to the image's own entry)."""
        def hook(interp, argc, meth):
            sp = interp.sp
            self._last_entry = (meth, argc, list(interp.stack[sp - argc:sp + 1]), interp.ctx)
            return trap(interp, argc, meth)
        return hook

    # --- running --------------------------------------------------------------------
    def interrupt(self) -> None:
        """Take over at the next heartbeat (safe from a signal handler or another thread)."""
        self._interrupted = True

    def run(self, deadline=None, max_bytecodes=None, on_failure=None) -> str:
        """Run (or resume) the image until it quits ('quit') or the deadline / bytecode
        budget passes ('limit'). At a failure: with `on_failure`, call
        `on_failure(kernel)` and resume when it returns (it may call `kernel.stop()` to
        end the run: 'stopped'); without, raise Takeover."""
        while True:
            reason = self._run_once(deadline, max_bytecodes)
            if reason is not None:
                return reason
            if on_failure is None:
                raise Takeover(self.failure)
            self._stop_run = False
            on_failure(self)
            if self.image_quit:
                control.park(self.space)
                return "quit"
            if self._stop_run:
                return "stopped"

    def stop(self) -> None:
        """From an on_failure callback: end the run instead of resuming."""
        self._stop_run = True

    def _run_once(self, deadline, max_bytecodes):
        """One stretch of the image's own execution: None after a takeover (self.failure
        set, the space parked), else the normal reason it ended."""
        space, interp = self.space, self.interp
        self._arm()
        self._resume_chosen_process()
        control.unpark(space)
        if self._pass is not None:
            self._run_image_entry(self._pass)
            self._pass = None
        previous_poll = interp.host_poll
        interp.host_poll = self._poll
        interp.guest_error = None
        self._last_entry = None
        vm_error = None
        try:
            reason = interp.run(max_bytecodes=max_bytecodes, deadline=deadline)
        except OzError as e:          # the interpreter cannot go on (VMError)
            if interp.ctx is not None:
                interp.store_registers()
            reason, vm_error = "vm error", e
        finally:
            interp.host_poll = previous_poll
        if reason in _NORMAL:
            control.park(space)
            return reason
        self._take_over(reason, vm_error)
        return None

    def _poll(self, interp) -> bool:
        return self._interrupted

    def _take_over(self, reason, vm_error) -> None:
        space, interp = self.space, self.interp
        err, interp.guest_error = interp.guest_error, None
        running = interp.active_process() if interp.ctx is not None else None
        proc = running
        if reason == "stopped":
            kind = "interrupt"
            message = "interrupted by the host (Ctrl-C)"
            self._interrupted = False
        elif reason == "idle":
            kind = "deadlock"
            proc = self._last_waiter() or interp.active_process()
            message = "no process can run and nothing can wake one (%s)" % (
                "the last to wait: " + space.mirror_on(proc).state() if proc is not None else "no process")
        elif reason == "error" and isinstance(err, GuestRecursionError):
            kind = "recursive error"    # the interpreter's stack depth limit (runaway recursion)
            message = err.message
        elif reason == "error" and err is not None and self._last_entry is not None:
            kind = "error"          # a trap on the debugger entry fired
            message = err.message
        elif reason == "error":
            kind = "vm error"
            message = err.message if err is not None else "the guest stopped in error"
        elif vm_error is not None:
            kind = "vm error"
            message = str(vm_error).splitlines()[0]
        else:
            kind = reason
            message = err.message if err is not None else "the guest stopped (%s)" % reason
        self._failed_entry = self._last_entry if kind == "error" else None
        self._last_entry = None
        control.park(space)
        mirror = space.mirror_on(proc) if proc is not None else None
        self.process = mirror
        self._names = {}
        stack = self.stack_names(STACK_KEPT) if mirror is not None else []
        if kind == "error":
            # an error while the image's own debugger entry runs (after pass): recursive
            traps = self.interp.error_traps
            inside = [i for i, f in enumerate(mirror.frames())
                      if f.method() is not None and any(f.method().obj is t for t in traps)]
            if inside:
                kind = "recursive error"
                message += " (inside the image's error handling: frame %d, %s)" % (inside[0], stack[inside[0]])
        self.failure = Failure(kind, message, mirror, stack)

    def _last_waiter(self):
        """The process that waited last, if it still waits on a semaphore."""
        proc = getattr(self.interp, "last_waiter", None)
        if proc is None or proc.__class__ is not SqObject:
            return None
        lst = proc.ptrs[control.MY_LIST]
        if lst is self.interp.nil or not self.interp.is_semaphore(lst):
            return None
        return proc

    def _resume_chosen_process(self) -> None:
        """Before running again: the chosen process (if it can run) becomes the active
        process; one waiting on a semaphore is taken out of it (forced past the wait)."""
        mirror, self.process = self.process, None
        self.failure = None
        if mirror is not None and mirror.obj.ptrs[control.SUSPENDED_CONTEXT] is not self.interp.nil:
            control.install_as_active_process(mirror)
        # a process the surgeon's evaluations made runnable (a semaphore signalled) preempts
        # an active process of a lower priority, as it would have at the signal
        sched = self.space.scheduler()
        active = sched.active_process()
        ready = sched.ready_processes()
        if ready and (active is None or (ready[0].priority() or 0) > (active.priority() or 0)):
            control.install_as_active_process(ready[0])

    # --- the surgeon's view ------------------------------------------------------------
    def _need_process(self):
        if self.process is None:
            raise OzError("no process to work on (it was terminated)")
        control.park(self.space)
        return self.process

    def select_process(self, mirror) -> None:
        """Work on (and later resume) another process of the space."""
        control.park(self.space)
        if mirror.obj.ptrs[control.SUSPENDED_CONTEXT] is self.space.nil:
            raise OzError("%s has no context (terminated?)" % mirror.describe())
        self.process = mirror

    def processes(self) -> list:
        """Every process of the space (ProcessMirrors), the active one first, and the one
        worked on (a deadlocked process may be reachable from nothing but its semaphore)."""
        control.park(self.space)
        procs = self.space.processes()
        if self.process is not None and self.process not in procs:
            procs.append(self.process)
        return procs

    def frames(self) -> list:
        """ContextMirrors of the process, innermost (frame 0) first."""
        return self._need_process().frames()

    def frame(self, n: int):
        frames = self.frames()
        if not 0 <= n < len(frames):
            raise OzError("no frame %d (the stack has frames 0 to %d)" % (n, len(frames) - 1))
        return frames[n]

    def stack_names(self, limit: int | None = None) -> list:
        """'Class>>selector' of each frame (at most `limit`), innermost first (host-made
        methods named)."""
        frames = self.frames()
        return [self.frame_name(f) for f in (frames if limit is None else frames[:limit])]

    def frame_name(self, ctx) -> str:
        """'Class>>selector' of a frame; a frame whose method was replaced since (a file-in)
        keeps the name it had when the kernel first saw it."""
        name = frame_name(self.space, ctx)
        known = self._names.get(id(ctx.obj))
        if name.endswith(">>?") and known is not None and known[0] is ctx.obj:
            return known[1]
        self._names[id(ctx.obj)] = (ctx.obj, name)
        return name

    # --- operations -------------------------------------------------------------------
    def evaluate(self, source: str, frame=0, timeout: float | None = 60.0):
        """Evaluate `source` in the scope of a frame of the process (a number or a
        ContextMirror: self is its receiver; its arguments, temporaries and the receiver's
        instance variables are in scope; see debugger.evaluate_in); answer a mirror. The
        evaluation runs in a process of its own; the failing process stays as it is.
        Without a process (terminated), `source` is evaluated with nil as self."""
        from . import debugger
        with self._host_evaluation():
            if self.process is None:
                from ..compiler.api import compile_doit
                doit = compile_doit(self.space, source)
                return self.space.mirror_on(execution.run_method(
                    self.space, doit, self.space.nil, (), timeout=timeout,
                    priority=control.priority_levels(self.space)))
            return debugger.evaluate_in(self.process, self._frame(frame), source, timeout=timeout,
                                        priority=control.priority_levels(self.space))

    def print_string(self, mirror, timeout: float | None = 60.0) -> str:
        """The guest's printString of an object (run in a process of its own)."""
        with self._host_evaluation():
            text = execution.run_send(self.space, mirror.obj, "printString", [], timeout=timeout,
                                      priority=control.priority_levels(self.space))
        if text.__class__ is not SqObject or text.bytes is None:
            raise GuestError("printString did not answer a String")
        return text.bytes.decode("latin-1")

    @contextlib.contextmanager
    def _host_evaluation(self):
        """Around an evaluation for the surgeon: it runs at the image's top priority (the
        image's processes do not preempt it), stops at interrupt() (GuestError 'stopped'),
        and notes when the image quits during it (the run then ends: 'quit')."""
        interp = self.interp
        previous = interp.host_poll
        self._interrupted = False
        interp.host_poll = self._poll
        try:
            yield
        except GuestError as e:
            if getattr(e, "reason", None) == "quit":
                self.image_quit = True
            raise
        finally:
            interp.host_poll = previous
            self._interrupted = False

    def pass_to_image(self) -> None:
        """At the next resume, let the image's own error handling run for this error (its
        debugger entry, with the receiver and arguments it was sent), as without the
        emergency kernel."""
        entry = self._failed_entry
        mirror = self._need_process()
        if entry is None:
            raise OzError("no error to pass on (the failure is a %s)" % self.failure.kind
                          if self.failure is not None else "no error to pass on")
        if mirror.obj.ptrs[control.SUSPENDED_CONTEXT] is not entry[3]:
            raise OzError("the process is no longer where the error stopped it (restarted?)")
        self._pass = entry

    def _run_image_entry(self, entry) -> None:
        """Send the recorded debugger entry again in the resumed process, without the trap:
        the send's answer (nil) is taken back, the entry's activation made."""
        meth, argc, values, ctx = entry
        interp = self.interp
        if interp.ctx is not ctx:
            return
        from ..memory.contexts import decode_method
        interp.pop(1)
        for v in values:
            interp.push(v)
        interp.activate(decode_method(meth, interp.heap), argc)

    # --- debugger operations (space/debugger.py) on the process worked on -------------------
    def _frame(self, frame):
        """A ContextMirror of the process: `frame` a number (0 = top), a ContextMirror, or
        'Class>>selector' (the innermost frame running that method)."""
        if isinstance(frame, int):
            return self.frame(frame)
        if isinstance(frame, str):
            return self.frame(self.find_frame(frame))
        return frame

    def find_frame(self, name: str) -> int:
        """The number of the innermost frame running the method `name` ('Class>>selector',
        'Class class>>selector'): a method frame, not a block in it."""
        name = name.strip()
        frames = self.frames()
        for i, ctx in enumerate(frames):
            if self.frame_name(ctx) == name:
                return i
        cls, _, selector = name.partition(">>")
        for i, ctx in enumerate(frames):         # a frame whose method was replaced since
            m = ctx.method()
            if m is not None and m.selector() == selector and not ctx.is_block_context() \
                    and ctx.closure() is None:
                owner = m.method_class()
                if owner is not None and owner.name() == cls.strip():
                    return i
        raise OzError("no frame runs %s" % name)

    def restart(self, frame=0):
        """Re-enter a frame from its start with the method now installed for its class and
        selector, the frames above it discarded (their unwind blocks run where the image
        has them); answers its ContextMirror. `resume` then runs it."""
        from . import debugger
        return debugger.restart(self._need_process(), self._frame(frame))

    def return_value(self, frame, value):
        """Return `value` (a mirror, guest object or host literal) from a frame to its
        sender; answers the sender's ContextMirror."""
        from . import debugger
        return debugger.return_value(self._need_process(), self._frame(frame), value)

    def step(self):
        """Step into: execute the top frame's next send and stop at the first send or
        return of the new frame; answers the top ContextMirror."""
        from . import debugger
        return debugger.step_into(self._need_process())

    def over(self):
        """Step over: run the top frame's next send to completion; answers the top frame."""
        from . import debugger
        return debugger.step_over(self._need_process())

    def terminate(self) -> None:
        """End the process (its unwind blocks run where the image has them); the image goes
        on with its other processes at the next resume."""
        from . import debugger
        debugger.terminate(self._need_process())
        self.process = None

    # --- the browser's queries and file-ins (space/browsing.py, space/filein.py) ------------
    def filein(self, paths):
        """File chunk-format files in (all or nothing); answers the FileInResult. The traps
        on the image's debugger entries follow a new version at the next resume."""
        control.park(self.space)
        return self.space.filein(paths)

    def senders(self, selector: str) -> list:
        return self.space.senders(selector)

    def implementors(self, selector: str) -> list:
        return self.space.implementors(selector)

    def save(self, path: str) -> None:
        """Save the space as it is now, atomically, the process worked on as its active
        process (started, the saved image goes on with it); never over the image the space
        was read from."""
        control.park(self.space)
        if self.process is not None and self.process.obj.ptrs[control.SUSPENDED_CONTEXT] is not self.space.nil:
            # the process worked on is the active process of the saved image (as at a
            # snapshot): started, the image goes on with it, as `resume` would
            control.install_as_active_process(self.process)
        source = getattr(self.space.info, "path", None)
        if source and os.path.exists(path) and os.path.exists(source) and os.path.samefile(source, path):
            raise OzError("refusing to overwrite the input image %s (input files are never modified)" % path)
        self.space.save(path)


def frame_name(space, ctx) -> str:
    """'Class>>selector' of a ContextMirror ('[] in ...' for a block), as guest stacks show."""
    return control.describe_stack(space, ctx.obj, 1)[0]
