"""Primitives end to end: expressions evaluated by Squeak 2.2's own compiler on ozvm's
interpreter, with the answers squeak-vm 4.10 gave for them (the oracle, see README there).

Expressions whose primitives the oracle VM mishandles with this image (negative
LargeInteger results of 21-33 crash it: its LargeNegativeInteger special object is beyond
the 2.2 specials array) are checked against exact arithmetic instead.
"""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace

ORACLE = [
    ("Float pi printString", "'3.141592653589793'"),
    ("100 factorial printString size", "158"),
    ("(1/3) asFloat printString", "'0.3333333333333333'"),
    ("2 sqrt printString", "'1.414213562373095'"),
    ("1.0e100 printString", "'1.0e100'"),
    ("123.456 printString", "'123.456'"),
    ("-3.5 fractionPart", "-0.5"),
    ("3.75 fractionPart", "0.75"),
    ("0.0 exponent", "-1"),
    ("1.0e300 exponent", "996"),
    ("(1 bitShift: 29) * 4", "2147483648"),
    ("1.5e300 * 1.0e300", "Infinity"),
    ("(2 raisedTo: 100) // 7", "181092942889747057356671886482"),
    ("1.0e-10 printString", "'1.0e-10'"),
    ("0.1 + 0.2", "0.3"),
    ("1/3 + (2/3)", "1"),
    ("#(1 $a 'str' #sym 3.5) printString", "'(1 $a ''str'' sym 3.5 )'"),
    ("-1 bitAnd: 7", "7"),
    ("1000000000 * 1000000000", "1000000000000000000"),
    ("'hello' hash", "5105"),
    ("'hello world' findString: 'wor' startingAt: 1", "7"),
    ("'abc' < 'abd'", "true"),
    ("(String new: 3) atAllPut: $z; yourself", "'zzz'"),
    ("(Array new: 3) replaceFrom: 1 to: 2 with: #(7 8) startingAt: 1; yourself", "(7 8 nil )"),
    ("3.7 truncated", "3"),
    ("-3.7 rounded", "-4"),
    ("1.0e15 truncated", "1000000000000000"),
    ("100 sqrt", "10.0"),
    ("2 ln", "0.693147180559945"),
    ("10 exp", "22026.46579480672"),
    ("0.5 arcTan", "0.463647609000806"),
    ("1 sin", "0.8414709848078965"),
    ("1.0 / 3", "0.3333333333333333"),
    ("7 \\\\ -2", "-1"),
    ("7 rem: -2", "1"),
    ("-7 // 2", "-4"),
    ("(2 raisedTo: 64) bitAnd: (2 raisedTo: 64) - 1", "0"),
    ("(2 raisedTo: 30) class", "LargePositiveInteger"),
    ("SmallInteger maxVal + 1", "1073741824"),
    ("SmallInteger minVal - 1", "-1073741825"),
    ("(SmallInteger minVal - 1) class", "LargeNegativeInteger"),
    ("12345678901234567890 \\\\ 97", "3"),
    ("1.0e10 asInteger", "10000000000"),
    ("3 @ 4 + 1", "4@5"),
    ("(3/4) asFloat", "0.75"),
    ("123.456e7 printString", "'1.23456e9'"),
    ("1.0 timesTwoPower: 1023", "8.98846567431158e307"),
    ("(2 raisedTo: 31) bitXor: 1", "2147483649"),
    ("(2 raisedTo: 32) hash", "256"),
    ("Object new basicSize", "0"),
    ("Smalltalk getSystemAttribute: 1001", "'unix'"),
    ("Smalltalk getSystemAttribute: 2", "nil"),
    ("Time primSecondsClock class", "LargePositiveInteger"),
    ("Time primMillisecondClock class", "SmallInteger"),
    ("Sensor mousePoint", "0@0"),
    ("Object someInstance", "nil"),
    ("Point allInstances size > 100", "true"),
]

EXACT = [
    ("(2 raisedTo: 40) - (2 raisedTo: 41)", str(2**40 - 2**41)),
    ("((2 raisedTo: 40) quo: -7)", str(-(2**40 // 7))),
    ("((2 raisedTo: 40) \\\\ -7)", str(2**40 % -7)),
    ("(2 raisedTo: 62) negated * 4", str(-(2**64))),
]


@pytest.fixture(scope="module")
def space():
    return ObjectSpace.load(image_path("squeak2.2-mini.image"))


@pytest.mark.parametrize("expr,expected", ORACLE + EXACT, ids=[e for e, _ in ORACLE + EXACT])
def test_expression(space, expr, expected):
    assert X.print_string(space, expr, timeout=60) == expected


def test_files_through_the_old_numbered_primitives(space, tmp_path):
    name = str(tmp_path / "ozvm-test.txt")
    X.print_string(space, "(FileStream newFileNamed: '%s') nextPutAll: 'hello world'; close" % name)
    assert open(name, "rb").read() == b"hello world"
    assert X.print_string(space, "(FileStream oldFileNamed: '%s') contentsOfEntireFile" % name) == "'hello world'"
    listing = X.print_string(space, "((FileDirectory on: '%s') entries collect: [:e | e first]) asArray"
                             % str(tmp_path))
    assert listing == "('ozvm-test.txt' )"
    X.print_string(space, "(FileDirectory on: '%s') deleteFileNamed: 'ozvm-test.txt'" % str(tmp_path))
    assert not (tmp_path / "ozvm-test.txt").exists()


def test_oracle_runner_image_reads_and_writes_files_then_quits(tmp_path):
    """The scriptable oracle copy of the image reads oracle_in.txt and writes oracle_out.txt
    through the FilePlugin named primitives, then quits (113): on ozvm as on squeak-vm."""
    import os
    import shutil
    import subprocess
    import sys
    from conftest import oracle_path
    src = oracle_path("squeak2.2-mini-oracle.image")
    image = tmp_path / "oracle.image"
    shutil.copy(src, image)
    os.chmod(image, 0o644)
    (tmp_path / "oracle_in.txt").write_bytes(
        b"3 + 4\n\"a comment\"\n100 factorial printString size\nFloat pi printString\n"
        b"(2 raisedTo: 40) - (2 raisedTo: 41)\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    out = subprocess.run([sys.executable, "-m", "ozvm.cli", "run", str(image), "--timeout", "120"],
                         env=env, capture_output=True, text=True, timeout=200, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [line.split("\t") for line in (tmp_path / "oracle_out.txt").read_text("latin-1").splitlines()]
    assert [l[:3] for l in lines[:-1]] == [
        ["RESULT", "3 + 4", "7"],
        ["RESULT", "100 factorial printString size", "158"],
        ["RESULT", "Float pi printString", "'3.141592653589793'"],
        ["RESULT", "(2 raisedTo: 40) - (2 raisedTo: 41)", str(2**40 - 2**41)],
    ]
    assert lines[-1] == ["DONE"]
