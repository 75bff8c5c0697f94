"""Differential tests of the Sista V1 bytecode set and full blocks against SqueakJS.

None of the shared images' methods uses the Sista V1 set, so this module makes a copy of
pharo8-kernel-spur64.image (which has the classes FullBlockClosure and CompiledBlock) in
which ozvm's compiler has put Sista V1 code, and which evaluates a fixed list of
expressions as soon as it starts:

* every expression (tests/data/sista_expressions.txt, one a line) is compiled as Sista V1
  into its own method `ozExprN` of UndefinedObject (its blocks are full blocks), and the
  helper methods below (super sends, non-local returns, unwinding, instance variables in
  blocks) into the classes they name;
* `ozRun:source:on:` (Sista too) evaluates one under `on: Error do:` and writes
  `RESULT<TAB>expr<TAB>printString` (or `ERROR<TAB>expr<TAB>class of the error`) on a stream;
  `ozMain` runs them all (`ozPart1:`, ... 25 at a time), writes `DONE`, the stream to
  results.txt (the image's File primitives) and quits (`Smalltalk quitPrimitive`);
* the kernel initializes itself at start-up and then sends `Smalltalk snapshot: true
  andQuit: true`: in the copy, `SmalltalkImage>>snapshot:andQuit:` runs `nil ozMain`.

Usage as a script:
    python tests/sista_script.py --regenerate   run SqueakJS, rewrite tests/data/sista_expected.txt
    python tests/sista_script.py --ozvm         run ozvm (oz run), print the results
SqueakJS as ../shared/oracle/squeakjs/README.md says (exported into /tmp/sqjs, or SQJS).
"""
from __future__ import annotations

import os
import subprocess
import sys

import image_script as S    # tests/ is on sys.path: the script's own folder, or pytest's
from pharocandle_script import RESULTS, run_ozvm  # noqa: F401  (results.txt, `oz run` as there)

HERE = os.path.dirname(os.path.abspath(__file__))
EXPRESSIONS = os.path.join(HERE, "data", "sista_expressions.txt")
EXPECTED = os.path.join(HERE, "data", "sista_expected.txt")
IMAGE_NAME = "sista.image"
SOURCE_IMAGE = "pharo8-kernel-spur64.image"
CHUNK = 25
HEADER = ("# SqueakJS 40b9d9c5 (under Node) on a copy of pharo8-kernel-spur64.image with\n"
          "# Sista V1 methods compiled by ozvm; regenerate: python tests/sista_script.py --regenerate\n")

# (class name, class side?, source): compiled as Sista V1 into the copy
HELPERS = [
    ("Object", False, "ozDescribe\n\t^'object'"),
    ("Collection", False, "ozDescribe\n\t^'collection ' , super ozDescribe"),
    ("SequenceableCollection", False, "ozDescribe\n\t^'sequenceable ' , super ozDescribe"),
    ("SequenceableCollection", False,
     "ozSuperInBlock\n\t^(1 to: 2) collect: [:i | i printString , ' ' , super ozDescribe]"),
    ("SequenceableCollection", False,
     "ozSuperInNestedBlock\n\t^[:x | [:y | super ozDescribe , ' ' , x printString , y printString] value: 2] value: 1"),
    ("Object", False, "ozFind: x in: aCollection\n\taCollection do: [:e | e = x ifTrue: [^'found ' , e printString]].\n\t^'missing'"),
    ("Object", False, "ozDeepFind: x in: aCollection\n\taCollection do: [:row | row do: [:e | e = x ifTrue: [^row]]].\n\t^nil"),
    ("Object", False, "ozEnsure: log\n\t[log add: 1. ^log add: 2] ensure: [log add: 3].\n\t^log add: 4"),
    ("Object", False, "ozCurtailed: log\n\t^[^log add: 1] ifCurtailed: [log add: 2]"),
    ("Object", False, "ozNotCurtailed: log\n\t^[log add: 1] ifCurtailed: [log add: 2]"),
    ("Object", False, "ozNested: n\n\t| a |\n\ta := 0.\n\t1 to: n do: [:i | #(10 20) do: [:j | a := a + (i * j). a > 100 ifTrue: [^a]]].\n\t^a negated"),
    ("Object", False, "ozCounter\n\t| count |\n\tcount := 0.\n\t^[count := count + 1]"),
    ("Object", False, "ozAdders\n\t^(1 to: 3) collect: [:i | [:x | x + i]]"),
    ("Object", False, "ozManyTemps\n\t| a b c d e f g h i j k l m n |\n\ta := 1. b := 2. c := 3. d := 4. e := 5. f := 6. g := 7. h := 8. i := 9. j := 10. k := 11. l := 12. m := 13. n := 14.\n\t^[:x | a + b + c + d + e + f + g + h + i + j + k + l + m + n + x] value: 100"),
    ("Object", False, "ozThisContext\n\t^[thisContext method class name] value"),
    ("Object", False, "ozHome\n\t^[thisContext home method selector] value"),
    ("Association", False, "ozKeyBlock\n\t^[:x | key printString , x printString , value printString]"),
    ("Association", False, "ozSwap\n\t| t |\n\t[t := key. key := value. value := t] value.\n\t^self"),
    ("Object", False, "ozLoopBlocks\n\t| blocks |\n\tblocks := OrderedCollection new.\n\t1 to: 3 do: [:i | blocks add: [i * 10]].\n\t^blocks collect: [:b | b value]"),
    ("Object", False, "ozWhileBlocks\n\t| blocks i |\n\tblocks := OrderedCollection new.\n\ti := 0.\n\t[i < 3] whileTrue: [| j | j := i. blocks add: [j]. i := i + 1].\n\t^blocks collect: [:b | b value]"),
    ("Object", True, "ozClassSide\n\t^[:x | self name , x] value: '!'"),
    ("Object", False, "ozCascade: s\n\t^s nextPutAll: 'a'; nextPutAll: 'b'; yourself"),
    ("Object", False, "ozDeadReturn\n\t^[:x | ^x]"),
    ("Object", False, "ozA: a b: b c: c d: d e: e f: f g: g h: h i: i\n\t^[{a. b. c. d. e. f. g. h. i}] value"),
]


def read_expressions(path: str = EXPRESSIONS) -> list:
    return S.read_expressions(path)


RUNNER = """ozRun: aBlock source: aString on: aStream
	| r |
	r := [aBlock value printString] on: Error do: [:e | 'ERROR ' , e class name].
	aStream nextPutAll: ((r beginsWith: 'ERROR ') ifTrue: ['ERROR'] ifFalse: ['RESULT']); tab; nextPutAll: aString; tab; nextPutAll: ((r beginsWith: 'ERROR ') ifTrue: [r allButFirst: 6] ifFalse: [r]); lf"""


def build(src_image: str, expressions: list, out_path: str, bytecode_set: str = "SistaV1") -> None:
    """Write to `out_path` a copy of `src_image` that evaluates `expressions` at startup,
    everything compiled with `bytecode_set` (tests/pharo8_script.py: V3PlusClosures)."""
    from ozvm.compiler.api import compile_doit, install, install_method
    from ozvm.space.objectspace import ObjectSpace
    space = ObjectSpace.load(src_image)
    space.bytecode_set = bytecode_set
    for name, meta, source in HELPERS:
        cls = space.class_named(name)
        install(space, space.class_of(cls) if meta else cls, source)
    nil_class = space.class_of(space.nil)
    install(space, nil_class, RUNNER)
    parts = []
    for start in range(0, len(expressions), CHUNK):
        lines = []
        for i in range(start, min(start + CHUNK, len(expressions))):
            sel = "ozExpr%d" % (i + 1)
            method = compile_doit(space, expressions[i], nil_class, selector=sel)
            install_method(space, nil_class, space.intern_symbol(sel), method)
            lines.append("\tself ozRun: [self %s] source: %s on: aStream." % (sel, S.quote(expressions[i])))
        part = "ozPart%d:" % (len(parts) + 1)
        install(space, nil_class, part + " aStream\n" + "\n".join(lines))
        parts.append(part)
    body = "".join("\tself %s s.\n" % p for p in parts)
    # the kernel's initialization makes a new special objects array without FullBlockClosure
    # (none of its methods makes full blocks): put it back where the VM looks for it (38)
    install(space, nil_class, "ozMain\n\t| s f |\n"
                              "\tSmalltalk specialObjectsArray at: 38 put: FullBlockClosure.\n"
                              "\ts := WriteStream on: (String new: 4000).\n%s"
                              "\ts nextPutAll: 'DONE'; lf.\n"
                              "\tf := File open: '%s' writable: true.\n"
                              "\tFile write: f from: s contents startingAt: 1 count: s contents size.\n"
                              "\tFile close: f.\n"
                              "\tSmalltalk quitPrimitive" % (body, RESULTS))
    # the kernel initializes itself at start-up, then saves itself and quits
    # (`Smalltalk snapshot: true andQuit: true`): in the copy that runs `nil ozMain` instead
    install(space, space.class_named("SmalltalkImage"), "snapshot: save andQuit: quit\n\t^nil ozMain")
    space.save(out_path)


def squeakjs_runner() -> str:
    from conftest import ORACLE
    return os.path.join(ORACLE, "squeakjs", "run.sh")


def run_squeakjs(image: str, timeout: float = 300) -> list:
    """Run the image on SqueakJS (run.sh copies it into a folder of its own and prints each
    file it wrote after a line `--- file: NAME ---`): the lines of results.txt."""
    out = subprocess.run([squeakjs_runner(), "-o", "-q", image, str(int(timeout))],
                         capture_output=True, text=True, timeout=timeout + 120).stdout
    marker = "--- file: %s ---\n" % RESULTS
    if marker not in out:
        return []
    return S.split_lines(out.split(marker, 1)[1].split("\n--- file: ", 1)[0])


def make_in(folder: str, src_image: str, expressions: list, bytecode_set: str = "SistaV1") -> str:
    path = os.path.join(folder, IMAGE_NAME)
    build(src_image, expressions, path, bytecode_set)
    return path


def default_source_image() -> str:
    from conftest import image_path
    return image_path(SOURCE_IMAGE)


def main(argv=None) -> int:
    return S.main(argv, __doc__, "SqueakJS",
                  lambda folder, args: make_in(folder, default_source_image(), read_expressions()),
                  run_squeakjs, run_ozvm, EXPECTED, timeout=600, header=lambda image: HEADER)


if __name__ == "__main__":
    sys.exit(main())
