"""at: and basicAt: (primitive 60) on a CompiledMethod inside its header and literal words,
against squeak-vm 4.10 (the expressions and the command that regenerates the answers:
data/method_bytes_expressions.txt; the answers: data/method_bytes_expected.txt).

squeak-vm answers the bytes of the words there as they lie in its memory (little-endian on
its x86 host, whatever the byte order of the image file: the oracle copy is big-endian):
the header's and a SmallInteger literal's are exact, and ozvm answers them; an object
literal's are an address, which ozvm has not: it fails there (docs/primitives.md).
Squeak 2.2's `Behavior>>recompile:from:` reads a method's last four bytes with at:, inside
the header or the literals for a short method: it recompiles methods and whole classes as on
squeak-vm, and fails only where an object literal lies in those four bytes.
"""
from __future__ import annotations

import os

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace
from test_interp_oracle import DATA, expected_outputs, expressions

EXPRESSIONS = "method_bytes_expressions.txt"
EXPECTED = "method_bytes_expected.txt"
OBJECT_LITERALS = '"literal objects'     # the comment line before the expressions ozvm fails


def _split() -> tuple:
    """(the expressions ozvm answers as squeak-vm, in order; those where it fails on purpose)."""
    exact, failing = [], []
    into = exact
    with open(os.path.join(DATA, EXPRESSIONS), encoding="latin-1") as f:
        for line in f:
            line = line.strip()
            if line.startswith(OBJECT_LITERALS):
                into = failing
            elif line and not line.startswith('"'):
                into.append(line)
    return exact, failing


def _ozvm(space, expr) -> tuple:
    try:
        return "RESULT", X.print_string(space, expr, timeout=120)
    except GuestError as e:
        return "ERROR", e.message


def test_expected_answers_cover_the_expressions():
    assert [e for e, _, _ in expected_outputs(EXPECTED)] == expressions(EXPRESSIONS)
    exact, failing = _split()
    assert len(exact) >= 20 and len(failing) == 2


def test_header_and_small_integer_bytes_and_recompiling_as_on_squeak_vm():
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    exact, _ = _split()
    mismatches = []
    # in order: the recompiles change what the later lines read (an expression may recur)
    for expr, kind, text in expected_outputs(EXPECTED)[:len(exact)]:
        got = _ozvm(space, expr)
        if got != (kind, text):
            mismatches.append("%s\n    squeak-vm: %s %s\n    ozvm:      %s %s" % ((expr, kind, text) + got))
    assert not mismatches, "%d differences:\n%s" % (len(mismatches), "\n".join(mismatches))


def test_an_object_literals_bytes_fail():
    """squeak-vm answers a byte of the literal's address; ozvm fails (the image's fallback
    reports the index), and so does recompiling a method whose last four bytes reach it."""
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    exact, failing = _split()
    for expr, kind, text in expected_outputs(EXPECTED)[len(exact):]:
        assert kind == "RESULT"
        kind, text = _ozvm(space, expr)
        assert kind == "ERROR" and text.startswith("subscript is out of bounds: "), (expr, text)
