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

import hashlib
import os
import shutil
import sys

import image_script as S    # tests/ is on sys.path: the script's own folder, or pytest's
from conftest import SCRATCH_IMAGE

HERE = os.path.dirname(os.path.abspath(__file__))
EXPRESSIONS = os.path.join(HERE, "data", "scratch_gc_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "scratch_gc_expected.txt")
IMAGE_NAME = "scratch-oracle.image"
RESULTS = "oracle_out.txt"

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
    return S.read_expressions(path)


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


def _prepare(folder: str, image: str, expressions: list) -> str:
    local = os.path.join(folder, IMAGE_NAME)
    if os.path.abspath(image) != local:
        shutil.copyfile(image, local)
    with open(os.path.join(folder, "oracle_in.txt"), "w", encoding="latin-1", newline="\n") as f:
        f.write("\n".join(expressions) + "\n")
    out = os.path.join(folder, RESULTS)
    if os.path.exists(out):
        os.unlink(out)
    return local


def run_squeak(folder: str, image: str, expressions: list, timeout: float = 300) -> list:
    return S.run_squeak(_prepare(folder, image, expressions), RESULTS, timeout)


def run_ozvm(folder: str, image: str, expressions: list, timeout: float = 300,
             python: str = sys.executable):
    """(result lines, completed process) of `oz run IMAGE` in `folder`."""
    return S.run_ozvm(_prepare(folder, image, expressions), RESULTS, timeout, python)


def main(argv=None) -> int:
    def make(folder, args):
        image = os.path.join(folder, IMAGE_NAME)
        build(args.image or SCRATCH_IMAGE, image)
        return image
    exprs = read_expressions()
    return S.main(argv, __doc__, "squeak-vm", make,
                  lambda image, timeout: run_squeak(os.path.dirname(image), image, exprs, timeout),
                  lambda image, timeout: run_ozvm(os.path.dirname(image), image, exprs, timeout),
                  EXPECTED, header=lambda image: "# %s\n" % fingerprint(image),
                  options=[(("--image",), dict(default=None, help="default: Scratch 1.4's installed image"))])


if __name__ == "__main__":
    sys.exit(main())
