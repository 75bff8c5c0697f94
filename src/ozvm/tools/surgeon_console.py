"""The surgeon console of `oz run IMAGE --emergency` (see space/emergency.py).

A line-oriented REPL on the failing process of a taken-over image: it reads commands from
stdin (so a session can be scripted: `oz run IMAGE --emergency < fix.txt`), with readline
editing when stdin is a terminal. `resume` lets the same process go on; the console opens
again at the next failure. `help` lists the commands.
"""
from __future__ import annotations

import os
import signal
import sys

from ..errors import CompileError, GuestError, OzError
from ..space.emergency import EmergencyKernel

HELP = """commands (N: a frame number from `stack`; EXPR: Smalltalk, compiled by ozvm):
  stack [N]                 the failing process's frames, `N: Class>>selector` (the first N, 50)
  frame N                   select frame N; show its receiver, args, temps and stack
  print EXPR                evaluate EXPR in the selected frame (self is its receiver); print it
  inspect EXPR              the fields of the value by name; `inspect .N` or `inspect .name`
                            drills into a field of the last inspected object, `inspect ..` back
  browse Class>>selector    the method: its source (or decompiled), literals, bytecodes
  senders SEL               the methods that send SEL
  implementors SEL          the classes that implement SEL
  filein FILE...            file in chunk-format code (class definitions, methods, do-its),
                            all or nothing
  restart [N | Class>>sel]  restart a frame (default: the selected one) with its method as now
                            installed; the frames above it are discarded
  return N EXPR             return the value of EXPR from frame N
  step                      step into the top frame's next send (stop in the new frame)
  over                      run the top frame's next send to completion
  processes                 every process of the image; `process N` works on process N
  pass                      let the image's own error handling run for this error (its
                            debugger entry), then resume
  terminate                 end the failing process (the image goes on with its others)
  resume                    let the process (and the image) go on
  save OUT                  save the image as it is now (atomically)
  quit                      leave without resuming (the image is not saved)
  help                      this text"""


class Console:
    """One surgeon session on an EmergencyKernel; `out` receives the text."""

    def __init__(self, kernel: EmergencyKernel, out=None, stdin=None):
        self.kernel = kernel
        self.space = kernel.space
        self.out = out or sys.stdout
        self.stdin = stdin or sys.stdin
        self.frame_index = 0
        self.inspected = []         # the inspect path: mirrors, outermost first
        self.listed_processes = []
        self.quit = False
        self.interactive = _is_tty(self.stdin)
        if self.interactive:
            try:
                import readline  # noqa: F401 - input() gains line editing and history
            except ImportError:
                pass

    # --- the session ------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def on_failure(self, kernel) -> None:
        """The kernel's callback: show the failure, then read commands until resume/quit."""
        self.frame_index = 0
        self.inspected = []
        f = kernel.failure
        interp = kernel.interp
        if interp.transcript_line_open:
            self.say()
            interp.transcript_line_open = False
        self.say("oz: emergency takeover (%s): %s" % (f.kind, f.message))
        if f.process is not None:
            self.say("process: %s, priority %s, %d frames" % (f.process.describe(), f.process.priority(),
                                                              len(f.stack)))
            self._show_stack(limit=12)
        self.say("type `help` for the commands; `resume` goes on, `quit` leaves")
        while True:
            line = self._read()
            if line is None:            # end of input: as quit
                self.say("(end of input)")
                self.quit = True
                kernel.stop()
                return
            line = line.strip()
            if not line or line.startswith('"'):
                continue
            word, _, rest = line.partition(" ")
            rest = rest.strip()
            handler = getattr(self, "cmd_" + word, None)
            if handler is None:
                self.say("unknown command %r (type help)" % word)
                continue
            try:
                done = handler(rest)
            except CompileError as e:
                self.say("syntax error: %s" % e)
                continue
            except GuestError as e:
                if kernel.image_quit:
                    self.say("the image quit during the evaluation: the run ends")
                    return
                self.say("guest error: %s" % e.message)
                for s in e.stack[:8]:
                    self.say("  " + s)
                continue
            except OzError as e:
                self.say("error: %s" % e)
                continue
            if done == "resume":
                return
            if done == "quit":
                self.quit = True
                kernel.stop()
                return

    def _read(self):
        if self.interactive:
            previous = signal.getsignal(signal.SIGINT)
            try:
                signal.signal(signal.SIGINT, signal.default_int_handler)
            except ValueError:
                previous = None
            try:
                while True:
                    try:
                        return input("surgeon> ")
                    except KeyboardInterrupt:
                        self.say("\n(use quit to leave, resume to go on)")
                    except EOFError:
                        return None
            finally:
                if previous is not None:
                    signal.signal(signal.SIGINT, previous)
        line = self.stdin.readline()
        if not line:
            return None
        self.say("surgeon> " + line.rstrip("\n"))      # a scripted session reads as a transcript
        return line

    # --- helpers ----------------------------------------------------------------------
    def _show_stack(self, limit=None) -> None:
        frames = self.kernel.frames()
        shown = frames if limit is None else frames[:limit]
        for i, ctx in enumerate(shown):
            mark = "*" if i == self.frame_index else " "
            self.say("%s%3d: %s" % (mark, i, self.kernel.frame_name(ctx)))
        if len(shown) < len(frames):
            self.say("      ... %d more (`stack N` shows N frames)" % (len(frames) - len(shown)))

    def _frame_number(self, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise OzError("not a frame number: %r" % text)

    def _show(self, mirror) -> str:
        """The guest's printString of a mirror, or the host's description if that fails."""
        try:
            return self.kernel.print_string(mirror)
        except OzError as e:
            return "%s  (its printString failed: %s)" % (mirror.describe(), str(e).splitlines()[0])

    def _evaluate(self, source: str):
        return self._evaluate_in(source, self.frame_index)

    def _evaluate_in(self, source: str, frame: int):
        if not source.strip():
            raise OzError("an expression is needed")
        return self.kernel.evaluate(source, frame if self.kernel.process is not None else 0)

    # --- commands -----------------------------------------------------------------------
    def cmd_help(self, rest):
        self.say(HELP)

    def cmd_stack(self, rest):
        self._show_stack(limit=int(rest) if rest.isdigit() else 50)

    def cmd_frame(self, rest):
        from ..space.debugger import frame_variables
        n = self._frame_number(rest or str(self.frame_index))
        ctx = self.kernel.frame(n)
        self.frame_index = n
        self.say("frame %d: %s  (pc %s)" % (n, self.kernel.frame_name(ctx), ctx.pc()))
        self.say("  receiver: %s" % _short(ctx.receiver().describe()))
        variables = [(name, self.space.mirror_on(holder.obj.ptrs[holder.fixed() + i]))
                     for name, holder, i in frame_variables(ctx)]
        is_arg = (lambda name: name.startswith("arg") or "Arg" in name)    # as frame_variables names them
        args = [(name, v) for name, v in variables if is_arg(name)]
        temps = [(name, v) for name, v in variables if not is_arg(name)]
        for label, values in (("args", args), ("temps", temps)):
            if values:
                self.say("  %s: %s" % (label, ", ".join("%s = %s" % (name, _short(v.describe(), 40))
                                                        for name, v in values)))
        stack = ctx.stack_values()
        if stack:
            self.say("  stack: %s" % ", ".join(_short(v.describe(), 40) for v in stack))

    def cmd_print(self, rest):
        self.say(self._show(self._evaluate(rest)))

    def cmd_inspect(self, rest):
        if rest == "..":
            if len(self.inspected) > 1:
                self.inspected.pop()
        elif rest.startswith(".") and self.inspected:
            self.inspected.append(self._field(self.inspected[-1], rest[1:].strip()))
        else:
            self.inspected = [self._evaluate(rest)]
        self._show_fields(self.inspected[-1])

    def _field(self, mirror, which: str):
        names = mirror.inst_var_names() if not mirror.is_small_integer() else []
        fields = mirror.fields()
        if which in names:
            return fields[names.index(which)]
        try:
            i = int(which)
        except ValueError:
            raise OzError("%s has no field %r (fields: %s)" % (mirror.describe(), which, " ".join(names) or "none"))
        if not 1 <= i <= len(fields):
            raise OzError("%s has no field %d (it has %d pointer fields)" % (mirror.describe(), i, len(fields)))
        return fields[i - 1]

    def _show_fields(self, mirror) -> None:
        cls = mirror.get_class().name()
        path = " ".join("." for _ in self.inspected[1:])
        self.say("%s  (%s)%s" % (_short(self._show(mirror), 70), cls, ("  depth %d" % (len(self.inspected) - 1))
                                 if path else ""))
        if mirror.is_small_integer():
            return
        names = mirror.inst_var_names()
        fields = mirror.fields()
        for i, v in enumerate(fields[:len(names)]):
            self.say("  %3d %s: %s" % (i + 1, names[i], _short(v.describe(), 60)))
        rest = fields[len(names):]
        for i, v in enumerate(rest[:30]):
            self.say("  %3d [%d]: %s" % (len(names) + i + 1, i + 1, _short(v.describe(), 60)))
        if len(rest) > 30:
            self.say("      ... %d more indexed fields" % (len(rest) - 30))
        if not fields and mirror.variable_size():
            self.say("  %d indexed %s" % (mirror.variable_size(), "words" if mirror.obj.words is not None
                                          else "bytes"))

    def cmd_browse(self, rest):
        from . import cmd_inspect
        if ">>" not in rest:
            raise OzError("browse Class>>selector (or 'Class class>>selector')")
        cname, sel = rest.split(">>", 1)
        cls = cmd_inspect._find_class(self.space, cname.strip())
        cmd_inspect.browse_method(self.space, cls, sel.strip())

    def cmd_senders(self, rest):
        self._list_methods(self.kernel.senders(self._selector(rest)), "sends", rest)

    def cmd_implementors(self, rest):
        self._list_methods(self.kernel.implementors(self._selector(rest)), "implements", rest)

    def _selector(self, rest) -> str:
        sel = rest.strip().lstrip("#")
        if not sel or " " in sel:
            raise OzError("a selector is needed (e.g. printOn:)")
        return sel

    def _list_methods(self, refs, verb, sel) -> None:
        names = sorted(str(r) for r in refs)
        for name in names:
            self.say("  " + name)
        one = len(names) == 1
        self.say("%d method%s %s #%s" % (len(names), "" if one else "s", verb if one else verb[:-1],
                                         sel.strip().lstrip("#")))

    def cmd_filein(self, rest):
        paths = rest.split()
        if not paths:
            raise OzError("filein FILE [FILE...]")
        result = self.kernel.filein(paths)
        self.say("filed in %s: %s" % (" ".join(paths), result.summary()))

    # --- the debugger's operations on the process ------------------------------------------
    def _after_move(self) -> None:
        """Show where the process stands after a debugger operation."""
        self.frame_index = 0
        frames = self.kernel.frames()
        if frames:
            self.say("now at pc %s of %s" % (frames[0].pc(), self.kernel.frame_name(frames[0])))
        self._show_stack(limit=6)

    def _guarded(self, operation):
        """Run a debugger operation; a guest error on the way stops the process there."""
        try:
            return operation()
        except GuestError as e:
            if self.kernel.image_quit:
                raise
            self.say("guest error: %s (the process stopped there)" % e.message)
            self._after_move()
            return None

    def cmd_restart(self, rest):
        target = rest or self.frame_index
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        if self._guarded(lambda: self.kernel.restart(target)) is not None:
            self.say("restarted; `resume` runs it")
            self._after_move()

    def cmd_return(self, rest):
        n, _, expr = rest.partition(" ")
        n = self._frame_number(n)
        value = self._evaluate_in(expr, n)
        if self._guarded(lambda: self.kernel.return_value(n, value)) is not None:
            self.say("frame %d returned %s" % (n, _short(value.describe(), 50)))
            self._after_move()

    def cmd_step(self, rest):
        if self._guarded(self.kernel.step) is not None:
            self._after_move()

    def cmd_over(self, rest):
        if self._guarded(self.kernel.over) is not None:
            self._after_move()

    def cmd_processes(self, rest):
        procs = self.kernel.processes()
        self.listed_processes = procs
        current = self.kernel.process
        for i, p in enumerate(procs):
            frames = p.frames()
            top = self.kernel.frame_name(frames[0]) if frames else "(no context)"
            mark = "*" if current is not None and p == current else " "
            self.say("%s%3d: priority %s  %-28s %s" % (mark, i, p.priority(), _short(p.state(), 28), top))

    def cmd_process(self, rest):
        if not self.listed_processes:
            self.listed_processes = self.kernel.processes()
        n = self._frame_number(rest)
        if not 0 <= n < len(self.listed_processes):
            raise OzError("no process %d (see processes)" % n)
        self.kernel.select_process(self.listed_processes[n])
        self.frame_index = 0
        self._show_stack(limit=12)

    def cmd_terminate(self, rest):
        self.kernel.terminate()
        self.say("terminated; `resume` lets the image go on with its other processes")

    def cmd_resume(self, rest):
        return "resume"

    def cmd_pass(self, rest):
        self.kernel.pass_to_image()
        return "resume"

    def cmd_save(self, rest):
        if not rest:
            raise OzError("save OUT")
        self.kernel.save(rest)
        self.say("saved %s (%d bytes)" % (rest, os.path.getsize(rest)))

    def cmd_quit(self, rest):
        return "quit"


def _short(text: str, limit: int = 70) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _is_tty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_with_console(space, deadline=None, stdin=None, out=None) -> str:
    """`oz run --emergency`: run the image's own active process; at each failure open the
    console. Ctrl-C takes over at the next heartbeat. Answers the run's end: 'quit' (the
    image quit), 'limit' (deadline), 'stopped' (the surgeon quit)."""
    kernel = EmergencyKernel(space)
    console = Console(kernel, out=out, stdin=stdin)
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: kernel.interrupt())
    except ValueError:          # not the main thread
        previous = None
    try:
        return kernel.run(deadline=deadline, on_failure=console.on_failure)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
