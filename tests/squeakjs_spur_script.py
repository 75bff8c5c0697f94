"""Scriptable copies of the Spur images, for differential tests against SqueakJS (the
reference VM for Spur; ../shared/oracle/squeakjs/README.md says where it comes from).

None of the shared Spur images has a compiler, so ozvm's compiler injects the code, and
ozvm saves the copies: SqueakJS's answers are thus also the proof that images saved by
ozvm start on SqueakJS. Two copies:

* pharocandle-spur64.image: tests/pharocandle_script.py's copy (its `PCSystem class>>start`
  evaluates the expressions of tests/data/pharocandle_expressions.txt and writes
  `RESULT`/`ERROR` lines to results.txt), but for SPUR64_SKIP;
* spur32-headless.image: `System class>>start` is replaced by a method that evaluates
  the expressions of tests/data/squeakjs_spur32_expressions.txt, each compiled as a do-it
  `System class>>ozExprN`, and logs `RESULT<TAB>expr<TAB>printString` through the image's
  ConsolePlugin (`System log:`, stdout on both VMs), then `DONE`, and quits. This tiny
  image has no error handling: every expression must answer.

The expected lines are SqueakJS's, kept in tests/data/squeakjs_spur_expected.txt:

    python tests/squeakjs_spur_script.py --regenerate    run SqueakJS, rewrite the expected file
    python tests/squeakjs_spur_script.py --ozvm          run ozvm (`oz run`), print its lines
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "src"))
EXPR32 = os.path.join(HERE, "data", "squeakjs_spur32_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "squeakjs_spur_expected.txt")
IMAGES = ("pharocandle-spur64.image", "spur32-headless.image")

# Expressions of pharocandle_expressions.txt left out on PharoCandle-Spur64: the image's own
# Float methods hold SmallFloat64 literals (0.0, 1.0 ...) but the image has no SmallFloat64
# class. ozvm reads them as the class table says (instances of nil, as the Spur VM would:
# `-2.5 abs` ends in a recursive doesNotUnderstand:); SqueakJS turns every SmallFloat64 it
# loads into a boxed Float.
SMALL_FLOAT_LITERALS = {"-2.5 abs truncated", "(0.5 arcSin * 1000000) truncated",
                        "(2.0 raisedTo: 10) truncated", "-4.5 negated truncated"}
# ... and those whose answers go beyond 31 bits: PharoCandle's Integer code was written for
# 31-bit SmallIntegers (PCSmallInteger>>digitLength answers at most 4, maxVal is 2**30-1).
# The 64-bit Spur VM, and ozvm, have 61-bit SmallIntegers, so the image's own code gets
# those wrong there (`2 raisedTo: 64` is 0); SqueakJS keeps SmallIntegers at 31 bits in
# every image, so its LargeInteger fallbacks give the 32-bit answers.
BEYOND_31_BITS = {
    '(2 raisedTo: 100) printString size',
    '(2 raisedTo: 64) - 1',
    '(PCSmallInteger maxVal + 1) class',
    '((2 raisedTo: 80) // (2 raisedTo: 70))',
    '(10 raisedTo: 20) \\\\ 7',
    '(2 raisedTo: 70) asFloat truncated',
    '| f | f := nil. f := [:n | n < 2 ifTrue: [1] ifFalse: [n * (f value: n - 1)]]. f value: 20',
    '(2 raisedTo: 100) \\\\ 1000',
    '(2 raisedTo: 100) sqrt',
    '(2 raisedTo: 100) negated',
    '(2 raisedTo: 100) negated abs = (2 raisedTo: 100)',
    '(2 raisedTo: 100) highBit',
    '((2 raisedTo: 64) quo: 3)',
    '((2 raisedTo: 64) rem: -7)',
    '((2 raisedTo: 64) // -7)',
    '((2 raisedTo: 64) \\\\ -7)',
    '(2 raisedTo: 62) < (2 raisedTo: 63)',
    '(2 raisedTo: 100) printStringBase: 16',
    '(2 raisedTo: 70) bitXor: (2 raisedTo: 69)',
    '((2 raisedTo: 70) bitShift: -60)',
    '| r | r := 1. 1 to: 60 do: [:i | r := r * i]. r',
    '| r | r := 1. 1 to: 60 do: [:i | r := r * i]. 1 to: 60 do: [:i | r := r // i]. r',
    '| r | r := 1. 1 to: 30 do: [:i | r := r * i]. r printString size',
    '1.0e18 truncated',
    '1.0e18 truncated class',
}
SPUR64_SKIP = SMALL_FLOAT_LITERALS | BEYOND_31_BITS


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def spur64_expressions() -> list:
    import pharocandle_script as P
    return [e for e in P.read_expressions() if e not in SPUR64_SKIP]


def spur32_expressions() -> list:
    import pharocandle_script as P
    return P.read_expressions(EXPR32)


def build_spur32(src_image: str, expressions: list, out_path: str) -> None:
    """Write to `out_path` a copy of the headless image whose start logs the expressions'
    printStrings."""
    import pharocandle_script as P
    from ozvm.compiler.api import install
    from ozvm.space.objectspace import ObjectSpace
    space = ObjectSpace.load(src_image)
    meta = space.class_of(space.class_named("System"))
    parts = []
    for start in range(0, len(expressions), P.CHUNK):
        lines = []
        for i in range(start, min(start + P.CHUNK, len(expressions))):
            sel = "ozExpr%d" % (i + 1)
            P._install_doit(space, meta, sel, expressions[i])
            lines.append("\tself log: 'RESULT\t' , %s , '\t' , self %s printString."
                         % (_quote(expressions[i]), sel))
        parts.append("ozPart%d" % (len(parts) + 1))
        install(space, meta, parts[-1] + "\n" + "\n".join(lines))
    install(space, meta, "start\n\tProcessor ifNil: [Processor := (SpecialObjectsArray at: 4) value].\n"
            + "".join("\tself %s.\n" % p for p in parts) + "\tself log: 'DONE'.\n\tself quit")
    space.save(out_path)


def build(name: str, folder: str) -> str:
    """The scripted copy of shared image `name` in `folder` (its path)."""
    sys.path.insert(0, HERE)
    from conftest import image_path
    import pharocandle_script as P
    path = os.path.join(folder, "script-" + name)
    if name == "pharocandle-spur64.image":
        P.build(image_path(name), spur64_expressions(), path)
    else:
        build_spur32(image_path(name), spur32_expressions(), path)
    return path


def lines_of(name: str, folder: str, stdout: str) -> list:
    """The answer lines of a run: results.txt (PharoCandle) or the logged stdout lines."""
    import pharocandle_script as P
    if name == "pharocandle-spur64.image":
        return P.read_results(folder)
    return [line for line in stdout.split("\n") if line.startswith(("RESULT\t", "DONE"))]


def run_ozvm(name: str, folder: str, timeout: float = 300, python: str = sys.executable):
    """(answer lines, completed process) of `oz run` on the scripted copy in `folder`."""
    image = build(name, folder)
    env = dict(os.environ, PYTHONPATH=SRC)
    proc = subprocess.run([python, "-m", "ozvm.cli", "run", image, "--timeout", str(int(timeout))],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=timeout + 60)
    return lines_of(name, folder, proc.stdout), proc


def run_squeakjs(name: str, folder: str, timeout: float = 300) -> list:
    sys.path.insert(0, HERE)
    from conftest import ORACLE
    image = build(name, folder)
    runner = os.path.join(ORACLE, "squeakjs", "run.sh")
    proc = subprocess.run([runner, "-o", "-q", image, str(int(timeout))], capture_output=True,
                          text=True, timeout=timeout + 60)
    out = proc.stdout
    if name == "pharocandle-spur64.image":
        marker = "--- file: results.txt ---\n"
        if marker not in out:
            return []
        text = out.split(marker, 1)[1].split("\n--- file:", 1)[0]
        return [line for line in text.split("\n") if line]
    return lines_of(name, folder, out)


def read_expected(path: str = EXPECTED) -> dict:
    """{image name: [answer lines]}."""
    out, current = {}, None
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("=== "):
                current = out[line[4:]] = []
            elif current is not None and not line.startswith("#"):
                current.append(line)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--regenerate", action="store_true", help="run SqueakJS, rewrite the expected file")
    ap.add_argument("--ozvm", action="store_true", help="run ozvm and print its lines")
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    if SRC not in sys.path:
        sys.path.insert(0, SRC)
    sys.path.insert(0, HERE)
    out = ["# SqueakJS (40b9d9c5, under Node) on ozvm-built, ozvm-saved scripted copies of the Spur images\n",
           "# regenerate: python tests/squeakjs_spur_script.py --regenerate\n"]
    for name in IMAGES:
        folder = tempfile.mkdtemp(prefix="spurscript-")
        try:
            if args.ozvm:
                lines, proc = run_ozvm(name, folder, args.timeout)
                sys.stderr.write(proc.stderr)
            else:
                lines = run_squeakjs(name, folder, args.timeout)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print("=== " + name)
        for line in lines:
            print(line)
        if args.regenerate and (not lines or lines[-1] != "DONE"):
            sys.stderr.write("SqueakJS did not finish %s (no DONE); expected file not written\n" % name)
            return 1
        out.append("=== %s\n" % name)
        out.extend(line + "\n" for line in lines)
    if args.regenerate:
        with open(EXPECTED, "w", encoding="latin-1", newline="\n") as f:
            f.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
