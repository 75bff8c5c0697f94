"""Running guest code from the host: a send run to completion in a fresh guest process.

`run_send(space, receiver, selector, args)` makes a Process whose only context sends
`selector` to `receiver`, makes it the active process (the image's own active process
is set aside untouched), runs the interpreter until that context returns, then puts the
image's active process back and answers the result. Guest errors come back as
`GuestError`: the interpreter traps the guest's "open a debugger" method (Squeak 2.2:
`Debugger class>>openContext:label:contents:`, as the oracle does; PharoCandle:
`PCObject>>handleExceptionName:context:`, where error: and doesNotUnderstand: end
when no errorHandler (ifError:) takes them) through a method hook, so the guest itself is
not changed. Transcript output is copied to the host's stdout (hook on the image's
TranscriptStream>>endEntry / PCTranscript).

`evaluate(space, source)` compiles and runs source with the guest's own
`Compiler evaluate:` (Squeak 2.2); `print_string(space, source)` answers the
printString of the result as a Python str, as the oracle does.
"""
from __future__ import annotations

import time

from ..errors import GuestError, GuestTimeout, OzError
from ..memory.contexts import decode_method, method_of_context
from ..interp.interpreter import Interpreter
from ..memory import specials as S
from ..memory.objects import SqObject, make_method_header

DEFAULT_TIMEOUT = 600.0


def interpreter_for(space) -> Interpreter:
    """The space's interpreter, made on first use (with the host hooks installed)."""
    interp = getattr(space, "_interpreter", None)
    if interp is None:
        interp = Interpreter(space.heap)
        space._interpreter = interp
        space.interpreter = interp          # the compiler flushes its method cache
        interp.space = space
        interp.files.more_protected = lambda: _vm_image_files(space)
        install_host_hooks(space, interp)
    return interp


def _vm_image_files(space) -> list:
    """The image files of every space in the space's VM (guest code never writes them)."""
    vm = getattr(space, "vm", None)
    paths = []
    for other in getattr(vm, "spaces", ()):
        if other.info.path:
            paths.append(other.info.path)
        interp = getattr(other, "_interpreter", None)
        if interp is not None and other is not space:
            paths.extend(interp.files.protected_paths)
    return paths


# --- describing guest stacks ---------------------------------------------------------------

def _method_index(space) -> dict:
    """id(method) -> (method, 'Class>>selector') for every method of every class and metaclass
    (methods do not all know their class in Squeak 2.2), cached on the space."""
    index = getattr(space, "_method_names", None)
    if index is None:
        index = {}
        nil = space.heap.nil
        layout = space.layout
        for cls in space.classes():
            for c in (cls, cls.cls):
                mdict = c.ptrs[1]
                if mdict is nil or mdict.ptrs is None or len(mdict.ptrs) < 2:
                    continue
                values = mdict.ptrs[1].ptrs
                if values is None:
                    continue
                for i, m in enumerate(values):
                    sel = mdict.ptrs[2 + i] if 2 + i < len(mdict.ptrs) else nil
                    if m is not nil and sel is not nil and sel.bytes is not None:
                        index.setdefault(id(m), (m, "%s>>%s" % (layout.class_name_of(c),
                                                                sel.bytes.decode("latin-1"))))
        space._method_names = index
    return index


def method_name(space, meth) -> str:
    """'Class>>selector' for a compiled method ('?>>?' for one no class holds)."""
    found = _method_index(space).get(id(meth))
    return found[1] if found is not None and found[0] is meth else "?>>?"


def describe_context(space, ctx) -> str:
    meth = method_of_context(ctx)
    name = method_name(space, meth)
    if name == "?>>?":
        own = getattr(space, "_execution_methods", {}).get(id(meth))
        if own is not None and own[0] is meth:
            return own[1]                   # the base context of run_send / run_method
    if name == "?>>?":      # a method newer than the index: search the receiver's classes
        home = ctx.ptrs[5] if ctx.ptrs[3].__class__ is int else ctx
        rcvr = home.ptrs[5]
        cls = rcvr.cls if rcvr.__class__ is SqObject else space.heap.special(S.CLASS_SMALLINTEGER)
        name = "%s>>?" % space.layout.class_name_of(cls)
        nil = space.heap.nil
        c = cls
        while c is not nil and c.__class__ is SqObject:
            mdict = c.ptrs[1]
            if mdict is not nil and mdict.ptrs is not None and len(mdict.ptrs) > 2:
                values = mdict.ptrs[1].ptrs or []
                for i, m in enumerate(values):
                    if m is meth and 2 + i < len(mdict.ptrs):
                        sel = mdict.ptrs[2 + i]
                        name = "%s>>%s" % (space.layout.class_name_of(c), _text(sel))
                        break
                else:
                    c = c.ptrs[0]
                    continue
                break
            c = c.ptrs[0]
    block = ctx.ptrs[3].__class__ is int or (
        space.info.has_closures and ctx.ptrs[4] is not space.heap.nil)
    return ("[] in " if block else "") + name


def stack_of(space, ctx, limit: int = 100) -> list:
    out = []
    nil = space.heap.nil
    while ctx is not nil and ctx is not None and len(out) < limit:
        try:
            out.append(describe_context(space, ctx))
        except Exception:      # a malformed frame must not hide the guest's error
            out.append("?")
        ctx = ctx.ptrs[0]
    return out


def _text(obj) -> str:
    if obj.__class__ is SqObject and obj.bytes is not None and obj.ptrs is None:
        return obj.bytes.decode("latin-1")
    return "(a %s)" % ("SmallInteger" if obj.__class__ is int else "non-string")


# --- host hooks ------------------------------------------------------------------------------

def _find_method(space, class_name: str, selector: str):
    cls = space.class_named(class_name)
    sym = space.symbol_named(selector)
    if cls is None or sym is None:
        return None
    nil = space.heap.nil
    mdict = cls.ptrs[1]
    if mdict is nil:
        return None
    ptrs = mdict.ptrs
    for i in range(2, len(ptrs)):
        if ptrs[i] is sym:
            return mdict.ptrs[1].ptrs[i - 2]
    return None


def install_host_hooks(space, interp) -> None:
    """Trap the guest's error reporting and Transcript output."""
    interp.error_traps = []
    install_error_traps(space, interp)
    install_transcript_hook(space, interp)
    install_console_hook(space, interp)
    from . import recursion
    recursion.watch(space, interp)


# The guest's debugger entries: (class, selector, index of the label argument, of the context
# argument). Squeak 2.2: Debugger class>>openContext: aContext label: aString contents: text.
# PharoCandle: PCObject>>error: and doesNotUnderstand: call the process's errorHandler if any
# (ifError:), else handleExceptionName: label context: aContext.
ERROR_ENTRIES = (("Debugger class", "openContext:label:contents:", 2, 1),
                 ("PCObject", "handleExceptionName:context:", 1, 2))


def _debugger_trap(space, label_at, context_at):
    def trap(interp, argc, meth):
        stack, sp = interp.stack, interp.sp
        ctx, label = stack[sp - argc + context_at], stack[sp - argc + label_at]
        interp.guest_error = GuestError(_text(label), stack_of(space, ctx))
        interp.pop_push(argc + 1, interp.nil)
        interp.request_stop("error")
        return True
    return trap


def error_entries(space) -> list:
    """[(method, label index, context index)] of the debugger entries the image has now."""
    found = []
    for class_name, selector, label_at, context_at in ERROR_ENTRIES:
        meth = _find_method(space, class_name, selector)
        if meth is not None:
            found.append((meth, label_at, context_at))
    return found


def install_error_traps(space, interp, wrap=None) -> None:
    """Trap the debugger entries as the image has them now (an entry replaced since the
    last call is trapped in its new version): the error stops the run ('error') with
    interp.guest_error set and the entry's send answering nil. `wrap(trap)`, if given,
    makes the hook from each trap."""
    found = error_entries(space)
    old = getattr(interp, "error_traps", [])
    if wrap is None and len(old) == len(found) and all(a is b[0] for a, b in zip(old, found)):
        return
    for meth in old:
        interp.remove_hook(meth)
    interp.error_traps = []
    for meth, label_at, context_at in found:
        trap = _debugger_trap(space, label_at, context_at)
        interp.add_hook(meth, trap if wrap is None else wrap(trap))
        interp.error_traps.append(meth)


def let_guest_handle_errors(space) -> None:
    """Take the host's error traps away: the image's own error handling (its debugger
    code) runs, as on a real VM. `oz run` runs an image this way."""
    interp = interpreter_for(space)
    for meth in interp.error_traps:
        interp.remove_hook(meth)
    interp.error_traps = []
    from . import recursion
    recursion.watch(space, interp, guest_handles=True)   # the guest's own handling may recurse


def install_transcript_hook(space, interp) -> None:
    """Squeak 2.2's Transcript is a TranscriptStream (a WriteStream on a String) whose
    endEntry tells its views; headless there are none, so copy the pending text to the
    host's stdout and let the method run."""
    meth = _find_method(space, "TranscriptStream", "endEntry")
    if meth is None:
        return
    layout = space.layout
    names = layout.all_inst_var_names(space.class_named("TranscriptStream"))
    if "collection" not in names or "position" not in names:
        return
    coll_i, pos_i = names.index("collection"), names.index("position")

    def endentry_hook(interp, argc, meth):
        rcvr = interp.stack[interp.sp - argc]
        coll, pos = rcvr.ptrs[coll_i], rcvr.ptrs[pos_i]
        if coll.__class__ is SqObject and coll.bytes is not None and pos.__class__ is int:
            text = coll.bytes[:pos].decode("latin-1").replace("\r", "\n")
            interp.transcript_out(text)
        return False

    interp.add_hook(meth, endentry_hook)


def install_console_hook(space, interp) -> None:
    """PharoCandle writes to the console with PCObject>>putAscii: (its primitive 249 is a
    become: primitive elsewhere): copy the characters to the host's stdout."""
    meth = _find_method(space, "PCObject", "putAscii:")
    if meth is None:
        return

    def put_ascii_hook(interp, argc, meth):
        code = interp.stack[interp.sp]
        if code.__class__ is not int or not 0 <= code < 256:
            return False
        interp.transcript_out("\n" if code == 13 else chr(code))
        interp.pop_push(argc + 1, interp.stack[interp.sp - argc])
        return True

    interp.add_hook(meth, put_ascii_hook)


# --- running a send -------------------------------------------------------------------------

def _send_method(space, selector, argc: int):
    """A two-bytecode method: send `selector` (to the receiver and arguments already on
    the stack), then return the top of the stack."""
    if argc <= 2:
        code = bytes([0xD0 + 16 * argc, 0x7C])
    elif argc <= 7:
        code = bytes([0x83, argc << 5, 0x7C])
    else:
        raise OzError("a host send takes at most 7 arguments")
    heap = space.heap
    meth = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), make_method_header(0, 0, 1),
                           [selector], code)
    return _host_method(space, meth)


def _host_method(space, meth):
    """Remember a method made here (named '(host send)' in guest stacks)."""
    own = getattr(space, "_execution_methods", None)
    if own is None or len(own) > 1000:
        own = space._execution_methods = {}
    own[id(meth)] = (meth, "(host send)")
    return meth


def _guest_value(space, value):
    return value if value.__class__ is SqObject or value.__class__ is int else space.from_local(value)


def run_send(space, receiver, selector, args=(), timeout: float | None = DEFAULT_TIMEOUT,
             max_bytecodes: int | None = None, priority: int | None = None):
    """Send `selector` (a guest Symbol or a str) to `receiver` with `args` in a fresh guest
    process and answer the guest result object. Raises GuestError on a guest error,
    GuestTimeout when `timeout` seconds or `max_bytecodes` pass first."""
    heap = space.heap
    if isinstance(selector, str):
        selector = space.intern_symbol(selector)
    receiver = _guest_value(space, receiver)
    args = [_guest_value(space, a) for a in args]
    meth = _send_method(space, selector, len(args))
    entry = decode_method(meth, heap)
    frame = [heap.nil, entry[3], len(args) + 1, meth, heap.nil, heap.nil, receiver] + args
    frame += [heap.nil] * (entry[7] - len(args) - 1)
    base = heap.new_context(heap.special(S.CLASS_METHOD_CONTEXT), frame)
    return run_context(space, base, timeout, max_bytecodes, priority=priority)


def run_method(space, method, receiver=None, args=(), timeout: float | None = DEFAULT_TIMEOUT,
               max_bytecodes: int | None = None, priority: int | None = None):
    """Run a compiled method on `receiver` with `args` (no lookup; its primitive first, as a
    send would) in a fresh guest process; answer its result (see run_send)."""
    heap = space.heap
    receiver = _guest_value(space, receiver)
    args = [_guest_value(space, a) for a in args]
    entry = decode_method(method, heap)
    if entry[6] != len(args):
        raise OzError("the method takes %d arguments, not %d" % (entry[6], len(args)))
    # a base context that answers the top of its stack, holding receiver and arguments:
    # the method is executed from there, exactly as after a send
    ret = _host_method(space, heap.new_method(heap.special(S.CLASS_COMPILED_METHOD),
                                              make_method_header(0, 0, 0), [], bytes([0x7C])))
    frame = [heap.nil, decode_method(ret, heap)[3], len(args) + 1, ret, heap.nil, heap.nil,
             receiver] + args
    frame += [heap.nil] * (16 - len(args) - 1)
    base = heap.new_context(heap.special(S.CLASS_METHOD_CONTEXT), frame)
    return run_context(space, base, timeout, max_bytecodes,
                       start=lambda interp: interp.execute(entry, len(args)), priority=priority)


def run_context(space, base, timeout: float | None = DEFAULT_TIMEOUT, max_bytecodes: int | None = None,
                start=None, priority: int | None = None):
    """Run the suspended context `base` (its sender nil) in a fresh guest process until it
    returns; answer the value it returns. `start(interp)`, if given, runs first, with
    `base` active (e.g. to execute a method from it). The process has the priority of the
    image's active process unless `priority` is given (a process of a higher priority that
    becomes runnable preempts it). A GuestError's `reason` tells why the run ended."""
    interp = interpreter_for(space)
    heap = space.heap
    old_proc = interp.active_process()
    old_loaded = interp.started and interp.ctx is not None
    if old_loaded:
        interp.store_registers()
        old_proc.ptrs[1] = interp.ctx
    proc = heap.instantiate(heap.special(S.CLASS_PROCESS))
    if priority is None:
        priority = old_proc.ptrs[2] if old_proc.ptrs[2].__class__ is int else 4
    proc.ptrs[2] = priority
    sched = interp.scheduler()
    sched.ptrs[1] = proc
    interp.started = True
    interp.fetch(base)

    outcome = {}

    def returned(interp, value):
        outcome["value"] = value
        interp.ctx = None
        interp.stack = None
        interp.request_stop("returned")

    interp.base_contexts[base] = returned
    interp.guest_error = None
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        if start is not None:
            start(interp)
        reason = interp.run(max_bytecodes=max_bytecodes, deadline=deadline)
    finally:
        interp.base_contexts.pop(base, None)
        _restore(interp, proc, old_proc, old_loaded)
    if reason == "returned":
        return outcome["value"]
    if reason == "error" or reason == "memory":
        err, interp.guest_error = interp.guest_error, None
        ctx = getattr(err, "context", None)
        if not err.stack and ctx is not None:
            err.stack = stack_of(space, ctx, 30)
            err.context = None
        raise err
    if reason == "limit":
        raise GuestTimeout("the guest did not answer within the limit (%s)" % (
            "%gs" % timeout if max_bytecodes is None else "%d bytecodes" % max_bytecodes))
    if reason == "idle":
        raise GuestError("the guest process is waiting and nothing can wake it up")
    err = GuestError("the guest quit" if reason == "quit" else "the guest stopped: %s" % reason)
    err.reason = reason
    raise err


def _restore(interp, proc, old_proc, old_loaded) -> None:
    """Put the image's active process back as it was; abandon the host's process."""
    nil = interp.nil
    current = interp.active_process()
    if interp.ctx is not None:
        interp.store_registers()
        current.ptrs[1] = interp.ctx
        if current is not proc and current is not old_proc:
            interp.put_to_sleep(current)          # it was running: keep it runnable
    lst = proc.ptrs[3]
    if lst is not nil:
        interp.unlink(proc, lst)
        proc.ptrs[3] = nil
    proc.ptrs[1] = nil
    interp.scheduler().ptrs[1] = old_proc
    if old_loaded:
        interp.fetch(old_proc.ptrs[1])
        old_proc.ptrs[1] = nil
    else:
        interp.ctx = None
        interp.stack = None
        interp.started = False


# --- evaluating source -------------------------------------------------------------------------

def evaluate(space, source: str, timeout: float | None = DEFAULT_TIMEOUT):
    """Compile and run `source` with the guest's own compiler (`Compiler evaluate:`), or
    with ozvm's compiler in images without one (PharoCandle); answers the guest result."""
    from ..compiler.api import check_source
    check_source(source)    # a CompileError for what no image compiler can read
    compiler = space.global_named("Compiler") if space.globals_dictionary() is not None else None
    if compiler is None:
        # no compiler in the guest (PharoCandle): ozvm's compiler makes the DoIt
        from ..compiler.api import compile_doit
        return run_method(space, compile_doit(space, source), space.heap.nil, (), timeout)
    return run_send(space, compiler, "evaluate:", [space.heap.new_string(source)], timeout)


def evaluate_and_print(space, source: str, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """Evaluate `source` (statements and temporaries allowed), then send printString to
    the result: what a workspace's print-it shows."""
    result = evaluate(space, source, timeout)
    text = run_send(space, result, "printString", [], timeout)
    if text.__class__ is not SqObject or text.bytes is None:
        raise GuestError("printString did not answer a String")
    return text.bytes.decode("latin-1")


def print_string(space, source: str, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """`(source) printString` evaluated in the guest, as a Python str."""
    from ..compiler.api import check_source
    check_source(source)
    result = evaluate(space, "(" + source + ") printString", timeout)
    if result.__class__ is not SqObject or result.bytes is None:
        raise GuestError("printString did not answer a String")
    return result.bytes.decode("latin-1")


REPR_BYTECODES = 20000      # what a mirror's repr may spend on the guest's printString


def safe_print_string(space, obj, max_bytecodes: int = REPR_BYTECODES, limit: int = 80):
    """The guest's own printString of `obj` for a readable repr, or None when it cannot be
    had cheaply and safely: it is sent to a shallow copy (printing that changes the object's
    own fields changes the copy), within `max_bytecodes`, with Transcript output dropped;
    never while the space runs (from a hook) or is in a transfer of control. Errors,
    timeouts and answers that are not Strings give None. At most `limit` characters."""
    if obj.__class__ is not SqObject or getattr(space, "_in_transfer", False):
        return None
    interp = interpreter_for(space)
    if interp.running:
        return None
    copy = space.heap.copy_of(obj)
    out = interp.transcript_out
    interp.transcript_out = lambda text: None
    try:
        text = run_send(space, copy, "printString", [], timeout=None, max_bytecodes=max_bytecodes)
    except OzError:
        return None
    finally:
        interp.transcript_out = out
    if text.__class__ is not SqObject or text.bytes is None or text.ptrs is not None:
        return None
    s = text.bytes.decode("latin-1")
    return s if len(s) <= limit else s[:limit - 3] + "..."
