"""Mirrors on execution state: ContextMirror, ProcessMirror, ProcessSchedulerMirror
(see mirrors.py for the membrane's rules).

V3 contexts have six fixed fields, then args, temps and the stack:
    MethodContext: sender, pc, stackp, method, closureOrNil (receiverMap in 6502), receiver
    BlockContext (6502, no closures): sender, pc, stackp, nargs, startpc, home
The stored pc is the 1-based byte index counting the literal frame (nil for a dead
context); stackp counts the frame slots in use. Which field is which, and where a
Process keeps its priority or a scheduler its ready lists, is found by name from the
image's Layout, so Squeak 2.2 and PharoCandle both work.
"""
from __future__ import annotations

from ..errors import MembraneError
from ..memory import specials as S
from ..memory.objects import SqObject
from .mirrors import ObjectMirror, fixed_fields


class _NamedFieldsMirror(ObjectMirror):
    """A mirror that reads fields by the image's instance variable names."""

    __slots__ = ()

    def _index(self, *names):
        layout = self.space.layout
        for name in names:
            i = layout.field_index(self.obj.cls, name)
            if i is not None:
                return i
        return None

    def _get(self, *names):
        i = self._index(*names)
        if i is None:
            raise MembraneError("%s has no field %s" % (self.space.describe(self.obj), " or ".join(names)))
        return self.obj.ptrs[i]

    def _get_or_nil(self, *names):
        i = self._index(*names)
        return self.space.heap.nil if i is None else self.obj.ptrs[i]

    def _mirror_or_none(self, value):
        return None if value is self.space.heap.nil else self.space.mirror_on(value)


class ContextMirror(_NamedFieldsMirror):
    """A MethodContext or BlockContext (seed: ContextMirror): `method`, `pc`, `stackPtr`,
    `receiver`, `closureOrNil` / `home`, `sender`, args, temps and stack values."""

    __slots__ = ()

    def is_block_context(self) -> bool:
        """An old-style (6502) BlockContext: it has `home` instead of `method`."""
        return self._index("home") is not None and self._index("method") is None

    def fixed(self) -> int:
        return fixed_fields(self.space, self.obj)

    def sender(self):
        """`sender`: a ContextMirror, or None."""
        return self._mirror_or_none(self._get("sender"))

    def pc(self):
        """`pc`: the stored pc (1-based, counting the literal frame) or None if dead."""
        pc = self._get("pc")
        return pc if pc.__class__ is int else None

    def stack_pointer(self) -> int:
        """`stackp`: how many frame slots (args, temps, stack) are in use."""
        sp = self._get("stackp")
        return sp if sp.__class__ is int else 0

    def is_dead(self) -> bool:
        return self.pc() is None

    def _block_home(self):
        """The MethodContext at the end of a BlockContext's `home` chain, or None."""
        ctx = self
        seen = set()
        while isinstance(ctx, ContextMirror) and ctx.is_block_context():
            if id(ctx.obj) in seen:
                raise MembraneError("malformed context: the home chain of %s has a cycle"
                                    % self.space.describe(self.obj))
            seen.add(id(ctx.obj))
            home = ctx._get("home")
            if home is self.space.heap.nil:
                return None
            ctx = self.space.mirror_on(home)
        return ctx if isinstance(ctx, ContextMirror) else None

    def home(self):
        """The MethodContext this context's code belongs to: `home` of a BlockContext,
        the outer method context of a closure activation, itself otherwise."""
        if self.is_block_context():
            return self._block_home()
        closure = self.closure()
        guard = 0
        ctx = self
        while closure is not None and guard < 1000:
            outer = _field_by_name(closure, "outerContext")
            if outer is self.space.heap.nil:
                return ctx
            ctx = self.space.mirror_on(outer)
            closure = ctx.closure()
            guard += 1
        return ctx

    def method(self):
        """`method`: a MethodMirror (a BlockContext's is its home's)."""
        if self.is_block_context():
            home = self._block_home()
            return home.method() if home is not None else None
        m = self._mirror_or_none(self._get("method"))
        return m if m is None or m.obj.__class__ is SqObject and m.obj.fmt == 12 else None

    def closure(self):
        """`closureOrNil`: the BlockClosure this context runs, or None (always None in
        6502 images, whose MethodContexts have `receiverMap` there)."""
        i = self._index("closureOrNil")
        if i is None:
            return None
        return self._mirror_or_none(self.obj.ptrs[i])

    def receiver(self):
        """`receiver` (a BlockContext's is its home's)."""
        if self.is_block_context():
            home = self._block_home()
            return home.receiver() if home is not None else None
        return self.space.mirror_on(self._get("receiver"))

    def num_args(self) -> int:
        """Arguments of this activation: the method's, a closure's `numArgs`, or a
        BlockContext's `nargs`."""
        if self.is_block_context():
            n = self._get("nargs")
            return n if n.__class__ is int else 0
        closure = self.closure()
        if closure is not None:
            n = _field_by_name(closure, "numArgs", "nargs")
            return n if n.__class__ is int else 0
        m = self.method()
        return m.num_args() if m is not None else 0

    def num_temps(self) -> int:
        """Frame slots that are args and temps (the method's numTemps; for a closure
        activation its args and copied values; 0 for a BlockContext, whose temps live in
        its home)."""
        if self.is_block_context():
            return 0
        closure = self.closure()
        if closure is not None:
            return self.num_args() + closure.variable_size()
        m = self.method()
        return m.num_temps() if m is not None else 0

    def frame(self) -> list:
        """Mirrors on the frame slots in use (1..stackp)."""
        fixed = self.fixed()
        n = min(self.stack_pointer(), len(self.obj.ptrs) - fixed)
        m = self.space.mirror_on
        return [m(v) for v in self.obj.ptrs[fixed:fixed + n]]

    def args(self) -> list:
        if self.is_block_context():
            return []
        return self.frame()[:self.num_args()]

    def temps(self) -> list:
        """Temporaries after the args (a BlockContext answers its home's)."""
        if self.is_block_context():
            home = self.home()
            return home.temps() if home is not None else []
        return self.frame()[self.num_args():self.num_temps()]

    def stack_values(self) -> list:
        """The operand stack above args and temps, bottom first."""
        return self.frame()[self.num_temps():]

    def frames(self) -> list:
        """This context and its senders, innermost first."""
        out = []
        ctx = self
        seen = set()
        while ctx is not None and id(ctx.obj) not in seen:
            if not isinstance(ctx, ContextMirror):
                raise MembraneError("malformed context chain: a sender is %s" % ctx.describe())
            seen.add(id(ctx.obj))
            out.append(ctx)
            ctx = ctx.sender()
        return out

    # --- debugger operations (space/debugger.py; the process is found from the frame) ------
    def process(self):
        """The ProcessMirror whose stack holds this frame, or None."""
        from . import debugger
        return debugger.process_of(self)

    def _debugged(self, process):
        p = process or self.process()
        if p is None:
            raise MembraneError("%s is not a frame of any process" % self.describe())
        return p

    def step_into(self, process=None):
        """Execute this frame's next send, stop in what it activates (debugger.step_into)."""
        from . import debugger
        return debugger.step_into(self._debugged(process), self)

    def step_over(self, process=None):
        """Execute this frame's next send until it returns here (debugger.step_over)."""
        from . import debugger
        return debugger.step_over(self._debugged(process), self)

    def step_through(self, process=None):
        """step_over, stopping in a block of this frame when it runs (debugger.step_through)."""
        from . import debugger
        return debugger.step_through(self._debugged(process), self)

    def run_to_end(self, process=None):
        """Run until this frame returns; answer its sender (debugger.run_to_end)."""
        from . import debugger
        return debugger.run_to_end(self._debugged(process), self)

    def restart(self, process=None):
        """Re-enter this frame from its start with the method now installed (debugger.restart)."""
        from . import debugger
        return debugger.restart(self._debugged(process), self)

    def return_value(self, value, process=None):
        """Return `value` from this frame, unwinding (debugger.return_value); answer the sender."""
        from . import debugger
        return debugger.return_value(self._debugged(process), self, value)

    def evaluate(self, source: str, process=None):
        """Evaluate `source` with this frame's receiver, arguments and temps in scope; answer a
        mirror on the result (debugger.evaluate_in)."""
        from . import debugger
        return debugger.evaluate_in(process or self.process(), self, source)

    def variables(self) -> list:
        """[(name, mirror)] of the arguments and temps this frame sees (debugger.frame_variables)."""
        from . import debugger
        return [(name, self.space.mirror_on(holder.obj.ptrs[holder.fixed() + i]))
                for name, holder, i in debugger.frame_variables(self)]

    def where(self) -> str:
        """'Class>>selector' of the method the frame runs ('[] in ...' for a block; the
        host's own do-its named as such)."""
        from .control import describe_stack
        stack = describe_stack(self.space, self.obj, 1)
        return stack[0] if stack else "?"

    def readable(self) -> str:
        """'String>>withBlanksTrimmed pc 12' (pc 'dead' once returned)."""
        try:
            where = self.where()
        except Exception:       # noqa: BLE001 - a malformed frame still has a repr
            where = "(malformed frame)"
        pc = self.pc()
        return "%s pc %s" % (where, "dead" if pc is None else pc)

    def describe(self) -> str:
        """'Class>>selector' (with '[] in' for blocks), receiver class and pc."""
        m = self.method()
        where = m.describe() if m is not None else "(no method)"
        if self.is_block_context() or self.closure() is not None:
            where = "[] in " + where
        rcv = self.receiver()
        rcv_cls = rcv.get_class().name() if rcv is not None else "?"
        pc = self.pc()
        return "%s  (receiver: %s, pc %s)" % (where, rcv_cls, "dead" if pc is None else pc)


class ProcessMirror(_NamedFieldsMirror):
    """A Process (seed: ProcessMirror): `priority`, `suspendedContext`, frames, `myList`
    (the list it waits in), name (when the image's Process has one)."""

    __slots__ = ()

    def priority(self, new=None):
        """`priority`; with an argument, `priority:` (see set_priority)."""
        if new is not None:
            self.set_priority(new)
        p = self._get("priority")
        return p if p.__class__ is int else None

    def suspended_context(self):
        """`suspendedContext`: a ContextMirror, or None (the active process has none)."""
        return self._mirror_or_none(self._get("suspendedContext"))

    def frames(self) -> list:
        ctx = self.suspended_context()
        if ctx is None:
            return []
        if not isinstance(ctx, ContextMirror):
            raise MembraneError("malformed process: its suspendedContext is %s" % ctx.describe())
        return ctx.frames()

    def my_list(self):
        """`myList`: a mirror on the LinkedList/Semaphore it is in, or None."""
        return self._mirror_or_none(self._get_or_nil("myList"))

    def next_link(self):
        return self._mirror_or_none(self._get("nextLink"))

    def name(self):
        """The process's name if the image's Process class has a `name` field."""
        v = self._get_or_nil("name")
        if v.__class__ is SqObject and v.bytes is not None and v.ptrs is None:
            return v.bytes.decode("latin-1")
        return None

    def is_active(self) -> bool:
        return self.space.scheduler().active_process() == self

    def readable(self) -> str:
        """"'name' suspended, priority 4, in String>>withBlanksTrimmed pc 12" (read as the
        process is: nothing is parked or suspended to make it)."""
        try:
            state = self.state()
            ctx = self.suspended_context()
            if ctx is None and state == "active":
                top = "running"
            elif isinstance(ctx, ContextMirror):
                top = "in " + ctx.readable()
            else:
                top = "no frames"
            name = self.name()
            return "%s%s, priority %s, %s" % ("'%s' " % name if name else "", state,
                                              self.priority(), top)
        except Exception:       # noqa: BLE001 - a malformed process still has a repr
            return self.space.describe(self.obj)

    def state(self) -> str:
        """'active', 'ready', 'waiting on a Semaphore', 'suspended' (in no list)."""
        if self.is_active():
            return "active"
        lst = self.my_list()
        if lst is None:
            return "suspended"
        sched = self.space.scheduler()
        if any(lst == l for l in sched.ready_list_objects()):
            return "ready"
        return "waiting on " + lst.describe()

    # --- control from the host (implemented in space/control.py) ------------------------
    def install_as_active_process(self) -> None:
        from . import control
        control.install_as_active_process(self)

    def suspend(self) -> None:
        from . import control
        control.suspend(self)

    def resume(self) -> None:
        from . import control
        control.resume(self)

    def terminate(self, unwind: bool = False) -> None:
        """End the process. `unwind`: as the debugger's terminate, run the guest's own
        Process>>terminate first (its unwind blocks); else the host only makes it dead."""
        if unwind:
            from . import debugger
            debugger.terminate(self)
            return
        from . import control
        control.terminate(self)

    def set_priority(self, priority: int) -> None:
        from . import control
        control.set_priority(self, priority)

    def result(self):
        """The value a finished host process (space/control.create_process) answered."""
        from . import control
        return control.process_result(self)

    def stack(self, limit: int = 50) -> list:
        from . import control
        return control.process_stack(self, limit)

    # --- debugger operations (space/debugger.py) ------------------------------------------
    def top_frame(self):
        """The frame (ContextMirror) the process is suspended in; debugging suspends it."""
        from . import debugger
        return debugger.top_frame(self)

    def step_into(self, frame=None):
        from . import debugger
        return debugger.step_into(self, frame)

    def step_over(self, frame=None):
        from . import debugger
        return debugger.step_over(self, frame)

    def step_through(self, frame=None):
        from . import debugger
        return debugger.step_through(self, frame)

    def run_to_end(self, frame=None):
        from . import debugger
        return debugger.run_to_end(self, frame)

    def restart(self, frame=None):
        from . import debugger
        return debugger.restart(self, frame if frame is not None else self.top_frame())

    def return_value(self, frame, value):
        from . import debugger
        return debugger.return_value(self, frame, value)

    def evaluate_in(self, frame, source: str):
        from . import debugger
        return debugger.evaluate_in(self, frame, source)

    def proceed(self) -> None:
        """Resume the process where it is suspended (debugger.proceed)."""
        from . import debugger
        debugger.proceed(self)

    def error(self):
        """The GuestError that stopped this process (trapped by the host), or None."""
        from . import control
        return control.process_error(self)


class ProcessSchedulerMirror(_NamedFieldsMirror):
    """The ProcessorScheduler (seed: ProcessSchedulerMirror): `activeProcess`, the ready
    lists by priority (`quiescentProcessLists` / `suspendedProcessLists`), all processes."""

    __slots__ = ()

    def active_process(self):
        return self._mirror_or_none(self._get("activeProcess"))

    def ready_list_objects(self) -> list:
        lists = self._get("quiescentProcessLists", "suspendedProcessLists")
        return [self.space.mirror_on(l) for l in lists.ptrs]

    def ready_lists(self) -> list:
        """[(priority, [ProcessMirror...])] for every priority (1-based), first to run first."""
        return [(i + 1, linked_list_items(l)) for i, l in enumerate(self.ready_list_objects())]

    def ready_processes(self) -> list:
        out = []
        for _, procs in reversed(self.ready_lists()):
            out.extend(procs)
        return out

    def all_processes(self) -> list:
        """The active process, then the ready ones (highest priority first), then every
        other Process instance of the space (waiting or suspended)."""
        out = []
        seen = set()
        for p in [self.active_process()] + self.ready_processes():
            if p is not None and id(p.obj) not in seen:
                seen.add(id(p.obj))
                out.append(p)
        process_class = self.space.special(S.CLASS_PROCESS)
        classes = {id(process_class)}
        for obj in self.space.heap.all_objects():
            c = obj.cls
            if id(obj) not in seen and (id(c) in classes or self.space.inherits(c, process_class, classes)):
                seen.add(id(obj))
                out.append(self.space.mirror_on(obj))
        return out


def linked_list_items(lst) -> list:
    """The Links (firstLink, nextLink...) of a LinkedList mirror, as mirrors."""
    out = []
    nil = lst.space.heap.nil
    node = lst._get_or_nil("firstLink") if isinstance(lst, _NamedFieldsMirror) else \
        _field_by_name(lst, "firstLink")
    seen = set()
    while node is not nil and node.__class__ is SqObject and id(node) not in seen:
        seen.add(id(node))
        m = lst.space.mirror_on(node)
        out.append(m)
        i = lst.space.layout.field_index(node.cls, "nextLink")
        if i is None:
            break
        node = node.ptrs[i]
    return out


def _field_by_name(mirror, *names):
    """Named field of any mirror's object (by the image's instance variable names), nil if absent."""
    for name in names:
        i = mirror.space.layout.field_index(mirror.obj.cls, name)
        if i is not None:
            return mirror.obj.ptrs[i]
    return mirror.space.heap.nil
