"""A scriptable copy of Scratch 1.4's image, for differential tests against squeak-vm.

Scratch.image (Debian package `scratch`) has WeakArray and finalization, which the Squeak
2.2 oracle images lack. Its copy is made as the shared Squeak 2.2 oracle images were made
(an expression runner that reads `oracle_in.txt` and writes `oracle_out.txt`), but by ozvm
itself, through the space API:

* `Debugger class>>openContext:label:contents:` (where the image's unhandled errors end)
  writes `ERROR<TAB>expr<TAB>label` and ends the failing process;
* `SystemDictionary>>ozOracleRun` reads `oracle_in.txt` beside the image (one expression a
  line; `"` starts a comment line) and evaluates each with the image's own `Compiler
  evaluate:` in a forked process, appending `RESULT<TAB>expr<TAB>printString` to
  `oracle_out.txt`; then `DONE`, and quits (no timings: the lines are compared whole);
* a new process running `Smalltalk ozOracleRun` becomes the active process of the copy, and
  the process that was active (the one that made the snapshot) is suspended, so the image's
  startup list and Scratch's user interface never run (they need a display).

The copy is written to a temporary folder or a cache folder, never into the repository.

Usage as a script:
    python tests/scratch_oracle.py --regenerate    run squeak-vm, rewrite the expected file
                                                   (its first line names the copy it was made on)
    python tests/scratch_oracle.py --ozvm          run ozvm (`oz run`), print its lines
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))
EXPRESSIONS = os.path.join(HERE, "data", "scratch_gc_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "scratch_gc_expected.txt")
IMAGE_NAME = "scratch-oracle.image"

if HERE not in sys.path:
    sys.path.insert(0, HERE)
from conftest import SCRATCH_IMAGE, squeak_vm  # noqa: E402

DEBUGGER_HOOK = """openContext: aContext label: aString contents: contentsString
	| f |
	f := FileStream fileNamed: (FileDirectory default fullNameFor: 'oracle_out.txt').
	f setToEnd; nextPutAll: 'ERROR'; tab; nextPutAll: (Smalltalk at: #OracleCurrent); tab; nextPutAll: aString; nextPut: Character lf.
	f close.
	(Smalltalk at: #OracleRunner) == Processor activeProcess ifTrue: [Smalltalk quitPrimitive].
	(Smalltalk at: #OracleSem) signal.
	Processor activeProcess suspend"""

RUNNER = """ozOracleRun
	| in line f r out |
	Smalltalk at: #OracleCurrent put: '(runner)'.
	Smalltalk at: #OracleRunner put: Processor activeProcess.
	Smalltalk at: #OracleSem put: Semaphore new.
	FileDirectory startUp.
	out := FileDirectory default fullNameFor: 'oracle_out.txt'.
	in := FileStream readOnlyFileNamed: (FileDirectory default fullNameFor: 'oracle_in.txt').
	[in atEnd] whileFalse: [
		line := (in upTo: Character lf) withBlanksTrimmed.
		(line isEmpty or: [line first = $"]) ifFalse: [
			Smalltalk at: #OracleCurrent put: line.
			Smalltalk at: #OracleSem put: Semaphore new.
			[r := (Compiler evaluate: line) printString.
			 f := FileStream fileNamed: out.
			 f setToEnd; nextPutAll: 'RESULT'; tab; nextPutAll: line; tab; nextPutAll: r; nextPut: Character lf.
			 f close.
			 (Smalltalk at: #OracleSem) signal] fork.
			(Smalltalk at: #OracleSem) wait]].
	in close.
	f := FileStream fileNamed: out.
	f setToEnd; nextPutAll: 'DONE'; nextPut: Character lf.
	f close.
	Smalltalk quitPrimitive"""


def read_expressions(path: str = EXPRESSIONS) -> list:
    """One expression a line; blank lines and lines starting with `"` are skipped."""
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('"'):
                if "\t" in line:
                    raise ValueError("expression contains a tab: %r" % line)
                out.append(line)
    return out


def build(src_image: str, out_path: str) -> None:
    """Write to `out_path` a scriptable copy of `src_image` (Scratch 1.4)."""
    from ozvm.space import control
    from ozvm.vm import VM
    space = VM().load(src_image)
    space.install(space.class_of(space.class_named("Debugger")), DEBUGGER_HOOK)
    space.install(space.class_named("SystemDictionary"), RUNNER)
    old = space.active_process()
    runner = control.create_process(space, "Smalltalk ozOracleRun", start=False)
    control.install_as_active_process(runner)
    control.suspend(old)
    space.save(out_path)
    changes = os.path.splitext(out_path)[0] + ".changes"
    if os.path.exists(changes):
        os.unlink(changes)      # as installed, Scratch has none (an open one adds objects)


def fingerprint(image: str) -> str:
    """What identifies a copy (the expected answers hold for this copy only)."""
    with open(image, "rb") as f:
        return "copy md5 " + hashlib.md5(f.read()).hexdigest()


def read_expected(path: str = EXPECTED) -> tuple:
    """(fingerprint of the copy the answers were made on, answer lines)."""
    with open(path, encoding="latin-1") as f:
        lines = [line.rstrip("\n") for line in f]
    first = lines.pop(0)[2:] if lines and lines[0].startswith("# ") else None
    return first, lines


def read_results(folder: str) -> list:
    """The lines of oracle_out.txt in `folder`, without the empty tail."""
    path = os.path.join(folder, "oracle_out.txt")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        text = f.read().decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _prepare(folder: str, image: str, expressions: list) -> str:
    local = os.path.join(folder, IMAGE_NAME)
    if os.path.abspath(image) != local:
        shutil.copyfile(image, local)
    with open(os.path.join(folder, "oracle_in.txt"), "w", encoding="latin-1", newline="\n") as f:
        f.write("\n".join(expressions) + "\n")
    out = os.path.join(folder, "oracle_out.txt")
    if os.path.exists(out):
        os.unlink(out)
    return local


def run_squeak(folder: str, image: str, expressions: list, timeout: float = 300) -> list:
    local = _prepare(folder, image, expressions)
    try:
        subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", os.path.basename(local)],
                       cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    return read_results(folder)


def run_ozvm(folder: str, image: str, expressions: list, timeout: float = 300,
             python: str = sys.executable):
    """(result lines, completed process) of `oz run IMAGE` in `folder`."""
    local = _prepare(folder, image, expressions)
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.run([python, "-m", "ozvm.cli", "run", os.path.basename(local),
                           "--timeout", str(int(timeout))],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout + 60)
    return read_results(folder), proc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regenerate", action="store_true", help="run squeak-vm, rewrite the expected file")
    ap.add_argument("--ozvm", action="store_true", help="run ozvm (oz run) and print its lines")
    ap.add_argument("--image", default=None, help="default: Scratch 1.4's installed image")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    if args.image is None:
        args.image = SCRATCH_IMAGE
    exprs = read_expressions()
    folder = tempfile.mkdtemp(prefix="scratch-oracle-")
    try:
        image = os.path.join(folder, IMAGE_NAME)
        build(args.image, image)
        if args.ozvm:
            lines, proc = run_ozvm(folder, image, exprs, args.timeout)
            sys.stderr.write(proc.stderr)
        else:
            lines = run_squeak(folder, image, exprs, args.timeout)
        for line in lines:
            print(line)
        if args.regenerate:
            if not lines or lines[-1] != "DONE":
                sys.stderr.write("squeak-vm did not finish (no DONE); expected file not written\n")
                return 1
            with open(EXPECTED, "w", encoding="latin-1", newline="\n") as f:
                f.write("# %s\n" % fingerprint(image))
                f.write("\n".join(lines) + "\n")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
