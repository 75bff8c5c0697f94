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

import os
import sys

import image_script as S    # tests/ is on sys.path: the script's own folder, or pytest's

HERE = os.path.dirname(os.path.abspath(__file__))
EXPRESSIONS = os.path.join(HERE, "data", "pharocandle_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "pharocandle_expected.txt")
RESULTS = "results.txt"
IMAGE_NAME = "pcscript.image"
CHUNK = 25


def read_expressions(path: str = EXPRESSIONS) -> list:
    return S.read_expressions(path)


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
    from ozvm.compiler.api import compile_doit, install_method
    method = compile_doit(space, source, cls, selector=selector)
    install_method(space, cls, space.intern_symbol(selector), method)


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
            lines.append("\tself ozRun: [self %s] source: %s." % (sel, S.quote(expressions[i])))
        part = "ozPart%d" % (len(parts) + 1)
        install(space, meta, part + "\n" + "\n".join(lines))
        parts.append(part)
    body = "".join("\tself %s.\n" % p for p in parts)
    install(space, meta, "start\n%s\tself append: 'DONE' toFile: '%s'.\n\tself quit" % (body, RESULTS))
    space.save(out_path)


def read_results(folder: str) -> list:
    """The lines of results.txt in `folder`."""
    return S.read_lines(os.path.join(folder, RESULTS))


def run_squeak(image: str, timeout: float = 120) -> list:
    return S.run_squeak(image, RESULTS, timeout)


def run_ozvm(image: str, timeout: float = 300, python: str = sys.executable):
    """(result lines, completed process) of `oz run IMAGE` in the image's folder."""
    return S.run_ozvm(image, RESULTS, timeout, python)


def make_in(folder: str, src_image: str, expressions: list) -> str:
    path = os.path.join(folder, IMAGE_NAME)
    build(src_image, expressions, path)
    return path


def default_source_image() -> str:
    from conftest import image_path
    return image_path("pharocandle.image")


def main(argv=None) -> int:
    return S.main(argv, __doc__, "squeak-vm",
                  lambda folder, args: make_in(folder, default_source_image(), read_expressions()),
                  run_squeak, run_ozvm, EXPECTED)


if __name__ == "__main__":
    sys.exit(main())
