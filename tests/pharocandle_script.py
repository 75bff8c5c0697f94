"""A scriptable copy of pharocandle.image, for differential tests against squeak-vm.

PharoCandle has no Compiler, so it cannot read expressions at startup. This module makes a copy
whose startup evaluates a fixed list of expressions compiled in (by ozvm's compiler, on the host):

* at startup the image's active process runs `PCSystem start` (the process was made by
  `PCProcessorScheduler>>installStartProcess` from `[PCSystem start] asContext`);
* the copy replaces `PCSystem class>>start` by a method that calls `ozPart1`, `ozPart2`, ...
  (at most CHUNK expressions each), then writes `DONE` and quits (primitive 113);
* each expression is compiled as a do-it into its own class-side method `ozExprN` of PCSystem;
* `ozRun:source:` installs an error handler (`PCProcess>>errorHandler:`, the hook
  `PCObject>>error:` and `doesNotUnderstand:` call with the message and the receiver) that
  writes `ERROR<TAB>expr<TAB>message` and leaves by a non-local return; otherwise it writes
  `RESULT<TAB>expr<TAB>printString`.

Lines go to `results.txt` beside the image through `PCSystem append:toFile:` (CR-terminated).

Usage as a script:
    python tests/pharocandle_script.py --regenerate    run squeak-vm, rewrite the expected file
    python tests/pharocandle_script.py --ozvm          run ozvm, print the results
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))
EXPRESSIONS = os.path.join(HERE, "data", "pharocandle_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "pharocandle_expected.txt")
RESULTS = "results.txt"
IMAGE_NAME = "pcscript.image"
CHUNK = 25


def read_expressions(path: str = EXPRESSIONS) -> list:
    """One expression a line; blank lines and lines starting with `"` are skipped."""
    out = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith('"'):
                if "\t" in line:
                    raise ValueError("expression contains a tab: %r" % line)
                out.append(line)
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


RUNNER = """ozRun: aBlock source: aString
	| process r |
	process := Processor activeProcess.
	process errorHandler: [:msg :rcv |
		process errorHandler: nil.
		self append: 'ERROR\t' , aString , '\t' , msg toFile: '%s'.
		^ nil].
	r := aBlock value printString.
	process errorHandler: nil.
	self append: 'RESULT\t' , aString , '\t' , r toFile: '%s'""" % (RESULTS, RESULTS)


def _install_doit(space, cls, selector: str, source: str) -> None:
    """Compile `source` as a do-it (answering its last statement) named `selector` in cls."""
    from ozvm.compiler.api import _make_method, add_to_method_dictionary
    from ozvm.compiler.codegen import CodeGenerator
    from ozvm.compiler.parser import parse_doit
    tree = parse_doit(source, space.info.version == 6502)
    tree.selector = selector
    header, literals, code = CodeGenerator(space, cls, source).generate(tree, doit=True)
    method = _make_method(space, header, literals, code)
    add_to_method_dictionary(space, cls, space.intern_symbol(selector), method)


def _bind_processor(space) -> None:
    """PharoCandle-Spur64's methods bind `Processor` to an association holding nil (its
    conversion to Spur made the scheduler's association anew): bind the scheduler there, as
    pharocandle.image has it, so that the runner and PCObject>>error: find the process."""
    binding = space.global_association("Processor")
    scheduler = space.special(3).ptrs[1]
    if binding is not None and binding.ptrs[1] is space.nil:
        binding.ptrs[1] = scheduler


def build(src_image: str, expressions: list, out_path: str) -> None:
    """Write to `out_path` a copy of `src_image` that evaluates `expressions` at startup."""
    from ozvm.compiler.api import install
    from ozvm.space.objectspace import ObjectSpace
    space = ObjectSpace.load(src_image)
    _bind_processor(space)
    meta = space.class_of(space.class_named("PCSystem"))
    install(space, meta, RUNNER)
    parts = []
    for start in range(0, len(expressions), CHUNK):
        lines = []
        for i in range(start, min(start + CHUNK, len(expressions))):
            sel = "ozExpr%d" % (i + 1)
            _install_doit(space, meta, sel, expressions[i])
            lines.append("\tself ozRun: [self %s] source: %s." % (sel, _quote(expressions[i])))
        part = "ozPart%d" % (len(parts) + 1)
        install(space, meta, part + "\n" + "\n".join(lines))
        parts.append(part)
    body = "".join("\tself %s.\n" % p for p in parts)
    install(space, meta, "start\n%s\tself append: 'DONE' toFile: '%s'.\n\tself quit" % (body, RESULTS))
    space.save(out_path)


def read_results(folder: str) -> list:
    """The lines of results.txt in `folder` (CR-separated), without the empty tail."""
    path = os.path.join(folder, RESULTS)
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        text = f.read().decode("latin-1")
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def squeak_vm() -> str:
    found = sorted(glob.glob("/usr/lib/squeak/*/squeakvm"))
    if not found:
        raise RuntimeError("squeak-vm is not installed (/usr/lib/squeak/*/squeakvm)")
    return found[-1]


def run_squeak(image: str, timeout: float = 120) -> list:
    folder = os.path.dirname(os.path.abspath(image))
    subprocess.run([squeak_vm(), "-vm-display-null", "-vm-sound-null", os.path.basename(image)],
                   cwd=folder, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return read_results(folder)


def run_ozvm(image: str, timeout: float = 300, python: str = sys.executable):
    """(result lines, completed process) of `oz run IMAGE` in the image's folder."""
    folder = os.path.dirname(os.path.abspath(image))
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.run([python, "-m", "ozvm.cli", "run", image, "--timeout", str(int(timeout))],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout + 60)
    return read_results(folder), proc


def make_in(folder: str, src_image: str, expressions: list) -> str:
    path = os.path.join(folder, IMAGE_NAME)
    build(src_image, expressions, path)
    return path


def default_source_image() -> str:
    sys.path.insert(0, HERE)
    from conftest import image_path
    return image_path("pharocandle.image")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regenerate", action="store_true", help="run squeak-vm, rewrite the expected file")
    ap.add_argument("--ozvm", action="store_true", help="run ozvm and print its results")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    exprs = read_expressions()
    src = default_source_image()
    folder = tempfile.mkdtemp(prefix="pcscript-")
    try:
        image = make_in(folder, src, exprs)
        if args.ozvm:
            lines, proc = run_ozvm(image, args.timeout)
            sys.stderr.write(proc.stderr)
        else:
            lines = run_squeak(image, args.timeout)
        for line in lines:
            print(line)
        if args.regenerate:
            if not lines or lines[-1] != "DONE":
                sys.stderr.write("squeak-vm did not finish (no DONE); expected file not written\n")
                return 1
            with open(EXPECTED, "w", encoding="latin-1", newline="\n") as f:
                f.write("\n".join(lines) + "\n")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
