"""Differential test of the Pharo 8 kernel with its own bytecode set (V3PlusClosures) against
SqueakJS: a copy of pharo8-kernel-spur64.image in which ozvm's compiler has put the
expressions of tests/data/pharo8_expressions.txt (and the helper methods of
tests/sista_script.py) as V3PlusClosures methods, saved by ozvm, evaluates them at start-up;
`oz run` must give the answers SqueakJS gives on the same copy
(tests/data/pharo8_expected.txt; `python tests/pharo8_script.py --regenerate`)."""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import image_script  # noqa: E402
import pharo8_script  # noqa: E402
import sista_script  # noqa: E402
from conftest import image_path  # noqa: E402
from ozvm.compiler.api import space_bytecode_set  # noqa: E402
from ozvm.space.objectspace import ObjectSpace  # noqa: E402


def expected_lines():
    return image_script.read_expected(pharo8_script.EXPECTED)


def test_differential_suite_runs_as_on_squeakjs(tmp_path):
    exprs = pharo8_script.read_expressions()
    expected = expected_lines()
    assert len(exprs) >= 150
    # the recorded answers are those of today's expressions, in order
    assert [line.split("\t")[1] for line in expected[:-1]] == exprs and expected[-1] == "DONE"
    assert sum(1 for line in expected if line.startswith("RESULT")) >= 150
    image = sista_script.make_in(str(tmp_path), image_path(sista_script.SOURCE_IMAGE), exprs,
                                 pharo8_script.BYTECODE_SET)
    # the copy's methods, ozvm's included, use the kernel's own set
    assert space_bytecode_set(ObjectSpace.load(image)) == "V3"
    lines, proc = sista_script.run_ozvm(image, 600)
    assert lines == expected, proc.stdout + proc.stderr
