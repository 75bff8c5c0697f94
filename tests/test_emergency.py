"""The emergency kernel (space/emergency.py) and `oz run IMAGE --emergency` with its
surgeon console (tools/surgeon_console.py), on copies of the scriptable Squeak 2.2 oracle
image (see ../shared/oracle/README.md: it evaluates oracle_in.txt beside the image and
writes oracle_out.txt, then quits)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import oracle_path
from ozvm.errors import OzError
from ozvm.space.emergency import EmergencyKernel, Takeover
from ozvm.space.objectspace import ObjectSpace

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
ORACLE = "squeak2.2-mini-oracle.image"

# String>>withBlanksTrimmed (the oracle runner trims every line it reads) with a typo:
# isSeparator -> isSeperator, a doesNotUnderstand: in the runner process itself
BROKEN_TRIM = ("withBlanksTrimmed\n\t| t1 |\n\tt1 := self findFirst: [:t2 | t2 isSeperator not].\n"
               "\tt1 = 0 ifTrue: [^ ''].\n"
               "\t^ self copyFrom: t1 to: (self findLast: [:t2 | t2 isSeparator not])")


def oracle_copy(tmp_path, expressions, broken=False):
    """A copy of the oracle image in tmp_path (broken by ozvm's compiler if asked) with
    oracle_in.txt beside it; answers its path."""
    path = str(tmp_path / "o.image")
    if broken:
        space = ObjectSpace.load(oracle_path(ORACLE))
        space.install(space.class_named("String"), BROKEN_TRIM)
        space.save(path)
    else:
        shutil.copy(oracle_path(ORACLE), path)
    (tmp_path / "oracle_in.txt").write_text("".join(e + "\n" for e in expressions))
    return path


def oracle_out(tmp_path) -> list:
    """oracle_out.txt's lines without the time field of RESULT lines."""
    out = []
    for line in (tmp_path / "oracle_out.txt").read_text("latin-1").splitlines():
        parts = line.split("\t")
        out.append(tuple(parts[:3] if parts[0] == "RESULT" else parts))
    return out


def oz_run_emergency(tmp_path, image, script, interrupt_after=None):
    """`oz run IMAGE --emergency` with `script` on stdin; with `interrupt_after`, SIGINT is
    sent once that text appears on stdout. Answers (exit code, stdout, stderr)."""
    script_file = tmp_path / "surgeon.txt"
    script_file.write_text(script)
    env = dict(os.environ, PYTHONPATH=SRC)
    with open(str(script_file)) as stdin:
        proc = subprocess.Popen([sys.executable, "-m", "ozvm.cli", "run", image, "--emergency",
                                 "--timeout", "300"], stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=str(tmp_path), env=env)
        seen = []
        if interrupt_after is not None:
            while True:
                line = proc.stdout.readline()
                seen.append(line)
                if interrupt_after in line or not line:
                    break
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail("oz run --emergency did not end: %s%s" % ("".join(seen), out))
    return proc.returncode, "".join(seen) + out, err


# --- the Python API ----------------------------------------------------------------------------

def test_an_error_in_the_running_image_is_taken_over_with_the_failing_process_intact(tmp_path):
    path = oracle_copy(tmp_path, ["3 + 4"], broken=True)
    space = ObjectSpace.load(path)
    kernel = EmergencyKernel(space)
    with pytest.raises(Takeover) as info:
        kernel.run()
    failure = info.value.failure
    assert failure.kind == "error"
    assert failure.message == "Message not understood: isSeperator"
    # the image's own debugger entry (the oracle's, which would write ERROR and quit) did
    # not run: no output file, and the runner process is the failing one, as it was
    assert not (tmp_path / "oracle_out.txt").exists()
    assert failure.stack[:5] == ["Object>>doesNotUnderstand:", "[] in String>>withBlanksTrimmed",
                                 "SequenceableCollection>>findFirst:", "String>>withBlanksTrimmed",
                                 "UndefinedObject>>DoIt"]
    process = info.value.process
    assert process.is_active() and process.frames()[3].receiver().as_string() == "3 + 4"
    assert kernel.stack_names() == failure.stack
    # evaluation in a frame: self is the frame's receiver; the process is untouched
    assert kernel.print_string(kernel.evaluate("self size", frame=3)) == "5"
    assert kernel.print_string(kernel.evaluate("self", frame=0)) == "$3"
    assert kernel.stack_names() == failure.stack
    # resume without a repair is the debugger's Proceed: doesNotUnderstand: sends the
    # message again (Message>>sentTo:), and the same process fails again on top of it
    with pytest.raises(Takeover) as again:
        kernel.run()
    assert again.value.process == process
    assert again.value.failure.stack[:2] == ["Object>>doesNotUnderstand:", "Message>>sentTo:"]
    assert again.value.failure.stack[2:] == failure.stack


def run_oracle(image, expressions_file) -> list:
    """squeak-vm's oracle_out.txt lines for an image (run-oracle), without the timings."""
    done = subprocess.run([oracle_path("run-oracle"), str(image), str(expressions_file), "60"],
                          capture_output=True, text=True, timeout=120)
    out = []
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        out.append(tuple(parts[:3] if parts[0] == "RESULT" else parts))
    return out


def healthy_source(selector: str, class_name: str = "String") -> str:
    """The healthy oracle image's method, as ozvm's decompiler gives it."""
    from ozvm.compiler.decompiler import decompile
    space = ObjectSpace.load(oracle_path(ORACLE))
    cls = space.mirror_on(space.class_named(class_name))
    return decompile(space, cls.compiled_method_at(selector).obj, cls.obj, selector)


def test_repaired_through_the_api_the_runner_writes_what_squeak_vm_writes(tmp_path):
    """Take over the broken runner, install the healthy method, restart the failing frame
    (by its name: the frame still runs the broken method), resume: oracle_out.txt is what
    squeak-vm writes for the healthy image."""
    exprs = ["3 + 4", "   100 factorial printString size   ", "'  hello world  ' withBlanksTrimmed"]
    (tmp_path / "e.txt").write_text("".join(e + "\n" for e in exprs))
    healthy = run_oracle(oracle_path(ORACLE), tmp_path / "e.txt")
    assert healthy[-1] == ("DONE",) and len(healthy) == 4
    path = oracle_copy(tmp_path, exprs, broken=True)
    space = ObjectSpace.load(path)
    kernel = EmergencyKernel(space)
    with pytest.raises(Takeover):
        kernel.run()
    space.install(space.class_named("String"), healthy_source("withBlanksTrimmed"))
    assert kernel.find_frame("String>>withBlanksTrimmed") == 3
    kernel.restart("String>>withBlanksTrimmed")
    assert kernel.stack_names()[:2] == ["String>>withBlanksTrimmed", "UndefinedObject>>DoIt"]
    assert kernel.run() == "quit"
    assert oracle_out(tmp_path) == healthy


def test_the_callback_sees_each_failure_and_can_end_the_run(tmp_path):
    path = oracle_copy(tmp_path, ["3 + 4"], broken=True)
    kernel = EmergencyKernel(ObjectSpace.load(path))
    seen = []

    def on_failure(k):
        seen.append((k.failure.kind, k.process.frames()[3].method().selector()))
        if len(seen) == 2:
            k.stop()
    assert kernel.run(on_failure=on_failure) == "stopped"
    assert seen == [("error", "withBlanksTrimmed")] * 2


# --- oz run --emergency ------------------------------------------------------------------------

def test_a_deadlock_is_taken_over_and_resume_forces_the_waiter_on(tmp_path):
    """The second expression waits on a Semaphore nobody will signal: with only the idle
    process left, the host takes over on the waiting process; `resume` takes it past the
    wait, its block answers 42 and the runner goes on to the end."""
    image = oracle_copy(tmp_path, ["3 + 4", "[:s | s wait. 42] value: Semaphore new", "5 * 6"])
    code, out, err = oz_run_emergency(tmp_path, image, "stack\nframe 0\nprocesses\nresume\n")
    assert code == 0, out + err
    assert "oz: emergency takeover (deadlock): no process can run" in out
    assert "*  0: [] in UndefinedObject>>DoIt\n   1: UndefinedObject>>DoIt" in out
    assert "temps: t1 = a Semaphore" in out           # frame 0: the block's argument
    assert "waiting on a Semaphore" in out
    assert oracle_out(tmp_path) == [("RESULT", "3 + 4", "7"),
                                    ("RESULT", "[:s | s wait. 42] value: Semaphore new", "42"),
                                    ("RESULT", "5 * 6", "30"), ("DONE",)]


def test_ctrl_c_takes_over_a_runaway_and_the_image_goes_on_after_the_surgery(tmp_path):
    """Ctrl-C (SIGINT) while an expression loops for ever: the host takes over on the
    looping process; the surgeon terminates it, signals the runner's semaphore from the
    console and resumes: the runner writes the remaining results and quits."""
    image = oracle_copy(tmp_path, ["3 + 4",
                                   "[Transcript show: 'spinning'; cr; endEntry. [true] whileTrue] value",
                                   "5 * 6"])
    script = "stack\nterminate\nprint (Smalltalk at: #OracleSem) signal\nresume\n"
    code, out, err = oz_run_emergency(tmp_path, image, script, interrupt_after="spinning")
    assert code == 0, out + err
    assert "oz: emergency takeover (interrupt): interrupted by the host (Ctrl-C)" in out
    assert "*  0: [] in UndefinedObject>>DoIt" in out
    assert oracle_out(tmp_path) == [("RESULT", "3 + 4", "7"), ("RESULT", "5 * 6", "30"), ("DONE",)]


def test_the_console_inspects_browses_saves_and_quits(tmp_path):
    image = oracle_copy(tmp_path, ["3 + 4"], broken=True)
    script = ("frame 3\nprint self , 'x'\nprint t2\ninspect 3 @ 4\ninspect .y\ninspect ..\n"
              "browse String>>withBlanksTrimmed\nsave saved.image\nbogus\nprint 3 +\n"
              "return 3 'abc'\nstep\nquit\n")
    code, out, err = oz_run_emergency(tmp_path, image, script)
    assert code == 1 and "the surgeon quit" in err
    assert "frame 3: String>>withBlanksTrimmed" in out and "receiver: '3 + 4'" in out
    assert "'3 + 4x'" in out
    assert "temps: t1 = nil, t2 = $3" in out and "surgeon> print t2\n$3\n" in out
    assert "frame 3 returned 'abc'\nnow at pc" in out and "*  0: UndefinedObject>>DoIt" in out
    assert "surgeon> step\nnow at pc" in out
    assert "    1 x: 3\n    2 y: 4" in out          # fields by name
    assert "\n4  (SmallInteger)" in out
    assert "t2 isSeperator not" in out                # the decompiled source of the broken method
    assert "unknown command 'bogus'" in out and "syntax error" in out
    assert not (tmp_path / "oracle_out.txt").exists()
    # the saved image holds the failing process as it was: loaded again, it is the active
    # process, stopped in the broken method
    saved = ObjectSpace.load(str(tmp_path / "saved.image"))
    frames = [f.describe() for f in saved.scheduler().active_process().frames()]
    assert frames[3].startswith("String>>withBlanksTrimmed")


def test_without_emergency_oz_run_leaves_the_error_to_the_image(tmp_path):
    """As a real VM: the oracle's own debugger entry writes ERROR for the runner and quits."""
    image = oracle_copy(tmp_path, ["3 + 4"], broken=True)
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "ozvm.cli", "run", image, "--timeout", "300"],
                          cwd=str(tmp_path), env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=400)
    assert done.returncode == 0, done.stderr
    assert oracle_out(tmp_path) == [("ERROR", "(runner)", "Message not understood: isSeperator")]


# --- PharoCandle (closures; its error entry point is PCObject>>handleExceptionName:context:) ---

def _pharocandle_with_log(tmp_path, source):
    from conftest import image_path
    space = ObjectSpace.load(image_path("pharocandle.image"))
    space.install(space.class_named("PCSystem").cls, source)      # PCSystem start logs first
    path = str(tmp_path / "pc.image")
    space.save(path)
    return ObjectSpace.load(path)


def test_pharocandle_error_entry_point_is_taken_over(tmp_path):
    space = _pharocandle_with_log(tmp_path, "log: aString\n\tself append: aString toFiel: 'log.txt'")
    kernel = EmergencyKernel(space)
    with pytest.raises(Takeover) as info:
        kernel.run()
    assert info.value.failure.kind == "error"
    assert info.value.failure.message == "Message not understood: append:toFiel:"
    assert info.value.failure.stack == ["PCObject>>doesNotUnderstand:", "PCSystem class>>log:",
                                        "PCSystem class>>start",
                                        "[] in PCProcessorScheduler>>installStartProcess"]
    assert kernel.frame(1).args()[0].as_string() == "Welcome to Pharo Candle edition!"
    assert not (tmp_path / "log.txt").exists()


def test_exit_to_debugger_is_taken_over_as_a_vm_error(tmp_path):
    """Primitive 114 (exitToDebugger), which a headless VM cannot honour."""
    space = _pharocandle_with_log(tmp_path, "log: aString\n\tPCSystem exitToDebugger")
    kernel = EmergencyKernel(space)
    with pytest.raises(Takeover) as info:
        kernel.run()
    assert info.value.failure.kind == "vm error"
    assert "exitToDebugger" in info.value.failure.message
    assert info.value.failure.stack[:2] == ["PCSystem class>>log:", "PCSystem class>>start"]
    with pytest.raises(OzError):
        kernel.pass_to_image()          # not an error trapped at the image's entry: nothing to pass


def test_an_error_inside_the_images_own_error_handling_is_a_recursive_error(tmp_path):
    """`pass` lets the image's debugger entry run; broken, it fails in turn: the host takes
    over again, naming the entry's frame."""
    space = ObjectSpace.load(oracle_path(ORACLE))
    space.install(space.class_named("Debugger").cls,
                  "openContext: aContext label: aString contents: contentsString\n"
                  "\t^ FileStream fileNamd: 'oracle_out.txt'")
    space.save(str(tmp_path / "o.image"))
    (tmp_path / "oracle_in.txt").write_text("3 foo\n")
    kernel = EmergencyKernel(ObjectSpace.load(str(tmp_path / "o.image")))
    with pytest.raises(Takeover) as first:
        kernel.run()
    assert first.value.failure.kind == "error"
    assert first.value.failure.message == "Message not understood: foo"
    kernel.pass_to_image()
    with pytest.raises(Takeover) as second:
        kernel.run()
    failure = second.value.failure
    assert failure.kind == "recursive error"
    assert failure.message.startswith("Message not understood: fileNamd: (inside the image's error "
                                      "handling: frame 1, Debugger class>>openContext:label:contents:)")
    assert failure.stack[:4] == ["Object>>doesNotUnderstand:", "Debugger class>>openContext:label:contents:",
                                 "Object>>doesNotUnderstand:", "UndefinedObject>>DoIt"]


def test_on_a_terminal_the_console_prompts_and_edits_lines_with_readline(tmp_path):
    """stdin a terminal (a pseudo-terminal here): a `surgeon> ` prompt with readline's line
    editing; `quit` leaves."""
    import pty
    import select
    image = oracle_copy(tmp_path, ["3 + 4"], broken=True)
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=SRC, TERM="dumb")
    proc = subprocess.Popen([sys.executable, "-m", "ozvm.cli", "run", image, "--emergency"],
                            stdin=slave, stdout=slave, stderr=subprocess.PIPE, cwd=str(tmp_path), env=env)
    os.close(slave)
    seen = []

    def read_until(text, start=0):
        """Read until `text` appears after offset `start`; answer the offset after it."""
        while text not in "".join(seen)[start:]:
            ready, _, _ = select.select([master], [], [], 120)
            assert ready, "no output; got: %s" % "".join(seen)
            try:
                seen.append(os.read(master, 4096).decode("latin-1"))
            except OSError:
                break
        out = "".join(seen)
        return out.index(text, start) + len(text)
    try:
        read_until("surgeon> ")
        os.write(master, b"rame 3\x01f\r")     # readline: Ctrl-A goes to the start of the line
        read_until("surgeon> ", read_until("receiver: '3 + 4'"))   # at the prompt again
        os.write(master, b"quit\r")
        assert proc.wait(timeout=120) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    out = "".join(seen)
    assert "emergency takeover (error): Message not understood: isSeperator" in out


def test_a_runaway_recursion_is_taken_over_at_the_stack_depth_limit(tmp_path):
    space = ObjectSpace.load(oracle_path(ORACLE))
    space.install(space.class_named("Object"), "ozDeeper: n\n\t^ (self ozDeeper: n + 1) + 1")
    space.save(str(tmp_path / "o.image"))
    (tmp_path / "oracle_in.txt").write_text("3 + 4\n3 ozDeeper: 0\n5 * 6\n")
    kernel = EmergencyKernel(ObjectSpace.load(str(tmp_path / "o.image")))
    kernel.interp.max_stack_depth = 3000
    with pytest.raises(Takeover) as info:
        kernel.run()
    failure = info.value.failure
    assert failure.kind == "recursive error" and "recursion too deep" in failure.message
    frames = kernel.frames()
    assert len(frames) > 3000 and len(failure.stack) == 200
    assert failure.stack[:2] == ["Object>>ozDeeper:", "Object>>ozDeeper:"]
    # the surgeon returns 42 from the outermost ozDeeper: frame (its argument is 0), which
    # answers the expression, and the runner goes on
    outer = max(i for i, f in enumerate(frames) if kernel.frame_name(f) == "Object>>ozDeeper:")
    assert frames[outer].args()[0].obj == 0
    kernel.return_value(outer, 42)
    assert kernel.run() == "quit"
    assert oracle_out(tmp_path) == [("RESULT", "3 + 4", "7"), ("RESULT", "3 ozDeeper: 0", "42"),
                                    ("RESULT", "5 * 6", "30"), ("DONE",)]


# --- the proof: a broken oracle image repaired under oz run --emergency ------------------------

PROOF_EXPRESSIONS = [
    "3 + 4",
    "   100 factorial printString size   ",          # the runner trims its lines
    "'  hello world  ' withBlanksTrimmed",
    "3 foo",                                         # an error the image's own debugger reports
    "#(3 1 2) asSortedCollection asArray",
    "(1 to: 10) inject: 0 into: [:a :b | a + b]",
]


def oz(*argv, cwd=None):
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-m", "ozvm.cli"] + list(argv), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_broken_oracle_image_repaired_under_emergency_writes_what_squeak_vm_writes(tmp_path):
    """String>>withBlanksTrimmed, which the oracle runner sends for every line it reads, is
    broken in a copy of the image (`oz filein`): on squeak-vm that copy fails at its first
    line. Under `oz run --emergency` the host takes over in the runner process; a scripted
    surgeon files in the healthy method (`oz fileout` of the healthy image), restarts the
    failing frame and resumes, and passes the expected `3 foo` error to the image's own
    debugger: the runner then writes exactly what squeak-vm writes for the healthy image."""
    exprs = tmp_path / "expressions.txt"
    exprs.write_text("".join(e + "\n" for e in PROOF_EXPRESSIONS))
    healthy = run_oracle(oracle_path(ORACLE), exprs)
    assert healthy[-1] == ("DONE",) and len(healthy) == len(PROOF_EXPRESSIONS) + 1
    assert ("ERROR", "3 foo", "Message not understood: foo") in healthy
    (tmp_path / "break.st").write_text("!String methodsFor: 'converting'!\n%s\n! !\n" % BROKEN_TRIM)
    oz("filein", oracle_path(ORACLE), "break.st", "-o", "broken.image", cwd=str(tmp_path))
    oz("fileout", oracle_path(ORACLE), "String>>withBlanksTrimmed", "-o", "fix.st", cwd=str(tmp_path))
    assert run_oracle(tmp_path / "broken.image", exprs) == [
        ("ERROR", "(runner)", "Message not understood: isSeperator")]
    shutil.copy(str(exprs), str(tmp_path / "oracle_in.txt"))
    script = ("stack\nframe 3\nbrowse String>>withBlanksTrimmed\nimplementors withBlanksTrimmed\n"
              "senders withBlanksTrimmed\nfilein fix.st\nrestart String>>withBlanksTrimmed\nresume\n"
              "pass\n")
    code, out, err = oz_run_emergency(tmp_path, str(tmp_path / "broken.image"), script)
    assert code == 0, out + err
    assert out.count("oz: emergency takeover") == 2
    assert "oz: emergency takeover (error): Message not understood: isSeperator" in out
    assert "oz: emergency takeover (error): Message not understood: foo" in out
    assert "  String>>withBlanksTrimmed\n1 method implements #withBlanksTrimmed" in out
    assert "filed in fix.st: 0 class definitions, 1 methods, 0 do-its" in out
    assert oracle_out(tmp_path) == healthy
