"""Differential tests of the Pharo 8 kernel with its own bytecode set (V3PlusClosures, which
every method of pharo8-kernel-spur64.image uses) against SqueakJS.

The copy is made as tests/sista_script.py makes its own (the same helper methods, runner
and start-up hook), with everything compiled by ozvm's compiler as V3PlusClosures: the
expressions of tests/data/pharo8_expressions.txt, each its own method `ozExprN` of
UndefinedObject, evaluated under `on: Error do:` at start-up after the kernel's own
initialization; the answers go to results.txt, then `DONE`.

Usage as a script:
    python tests/pharo8_script.py --regenerate   run SqueakJS, rewrite tests/data/pharo8_expected.txt
    python tests/pharo8_script.py --ozvm         run ozvm (oz run), print the results
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
import image_script as S  # noqa: E402
import sista_script  # noqa: E402

EXPRESSIONS = os.path.join(HERE, "data", "pharo8_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "pharo8_expected.txt")
BYTECODE_SET = "V3"
HEADER = ("# SqueakJS 40b9d9c5 (under Node) on a copy of pharo8-kernel-spur64.image with\n"
          "# V3PlusClosures methods compiled by ozvm; regenerate: python tests/pharo8_script.py --regenerate\n")

# Left out: Floats that are SmallFloat64s on a 64-bit Spur VM (and in ozvm), whose class in
# this kernel lacks methods Float printing and arithmetic reach (`exponent`: only
# BoxedFloat64 has it), so they end in doesNotUnderstand: there; SqueakJS makes every Float
# of a 64-bit image a BoxedFloat64 (its `1.5 class`), where they work.
SMALL_FLOATS = {"0.1 + 0.2", "1.0e10 printString", "1/2 + 0.25", "(1/3) asFloat printString",
                "100 asFloat", "(0.0 - 1.0) abs", "3.14159 roundTo: 0.01",
                "#(1 $a 'str' #sym 2.5 nil true) printString", "1.5 class"}


def read_expressions() -> list:
    return [e for e in S.read_expressions(EXPRESSIONS) if e not in SMALL_FLOATS]


def make_in(folder: str) -> str:
    return sista_script.make_in(folder, sista_script.default_source_image(), read_expressions(),
                                BYTECODE_SET)


def main(argv=None) -> int:
    return S.main(argv, __doc__, "SqueakJS", lambda folder, args: make_in(folder),
                  sista_script.run_squeakjs, sista_script.run_ozvm, EXPECTED, timeout=600,
                  header=lambda image: HEADER)


if __name__ == "__main__":
    sys.exit(main())
