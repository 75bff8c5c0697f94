"""Inlined `caseOf:` and `caseOf:otherwise:`, as the images' own compilers inline them
(Squeak's MessageNode>>emitCodeForCase:, Opal's OCASTTranslator>>emitCaseOf:): the receiver,
then for each case but the last `dup key = jumpFalse next; pop arm jump end`, for the last
`key = jumpFalse next; arm jump end`, then the otherwise arm (`self caseError` for caseOf:).

- byte identity with Squeak 2.2's own Compiler: the caseOf: entries of
  tests/data/compiler/corpus22.txt (tests/test_compiler_oracle22.py);
- byte identity with Opal: the three Pharo 8 kernel methods that use it
  (and tests/test_compiler_spur_roundtrip.py over every method of the Spur images);
- the decompiler reads it back (compile, decompile, compile: the same method) in every
  family and both bytecode sets;
- answers: the expressions of tests/data/case_expressions.txt, compiled by ozvm's compiler,
  answer on ozvm as on squeak-vm (tests/data/case_expected.txt, the command that
  regenerates it is in the expressions file); on Spur images as on SqueakJS
  (tests/test_squeakjs_spur_oracle.py, tests/test_sista.py and the Pharo 8 suite).
"""
from __future__ import annotations

import os

import pytest

from conftest import image_path
from test_compiler_oracle22 import ORACLE
from test_compiler_spur_roundtrip import outcome
from ozvm.compiler.api import compile_doit, compile_method
from ozvm.compiler.decompiler import decompile, method_dictionary_items
from ozvm.compiler.disassembler import method_bytecode_set
from ozvm.errors import GuestError
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
# the corpus entries Squeak 2.2's compiler inlines (methods of Object)
SOURCES = [e[1] for e in ORACLE if "caseOf:" in e[1] and e[0] == "Object" and e[2] != "ERROR"
           and "caseOf: c" not in e[1]]

_spaces = {}


def space(name):
    if name not in _spaces:
        _spaces[name] = ObjectSpace.load(image_path(name))
    return _spaces[name]


def root_class(sp):
    return sp.class_named("Object") or sp.class_named("PCObject")


def shape(sp, m, parent=None):
    """Header, bytecodes and literals of a method, its CompiledBlocks (Sista V1) by shape."""
    out = [m.ptrs[0], bytes(m.bytes)]
    for lit in m.ptrs[1:]:
        if parent is not None and lit is parent:
            out.append("outer")
        elif lit.__class__ is not int and lit.fmt == 12:
            out.append(shape(sp, lit, m))
        else:
            out.append(lit if lit.__class__ is int else sp.describe(lit))
    return out


def test_corpus_has_the_forms():
    assert len(SOURCES) >= 18 and all(s.startswith("foo: x ") for s in SOURCES)
    assert any("otherwise:" in s for s in SOURCES) and any("[^ " in s for s in SOURCES)


@pytest.mark.parametrize("name,bytecode_set", [
    ("squeak2.2-mini.image", None), ("pharocandle.image", None), ("spur32-headless.image", None),
    ("pharocandle-spur64.image", None), ("pharo8-kernel-spur64.image", None),
    ("pharo8-kernel-spur64.image", "SistaV1")])
def test_compile_decompile_compile(name, bytecode_set):
    sp = space(name)
    cls = root_class(sp)
    for source in SOURCES:
        m = compile_method(sp, cls, source, bytecode_set=bytecode_set)
        assert method_bytecode_set(sp.heap.family, m).__name__.endswith(
            "sista_disassembler" if bytecode_set else "compiler.disassembler")
        text = decompile(sp, m, cls, "foo:")
        # one case without a dup is `r = k ifTrue: [a] ifFalse: [b]`, the same code; the
        # closure compilers name caseOf: in the literal frame
        assert "caseOf:" in text or ("]. [" not in source and not sp.info.has_closures), text
        again = compile_method(sp, cls, text, bytecode_set=bytecode_set)
        assert shape(sp, again) == shape(sp, m), (source, text)


def case_expressions():
    with open(os.path.join(DATA, "case_expressions.txt"), encoding="latin-1") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('"')]


@pytest.mark.parametrize("name,bytecode_set", [("squeak2.2-mini.image", None),
                                               ("pharo8-kernel-spur64.image", None),
                                               ("pharo8-kernel-spur64.image", "SistaV1")])
def test_expressions_compile_decompile_compile(name, bytecode_set):
    """The answer suite's expressions as do-its: keys with statements, one case (Squeak
    2.2 tells it from `r = k ifTrue: [a] ifFalse: [b]` by its literal order), nesting."""
    sp = space(name)
    nil_class = sp.class_of(sp.nil)
    for i, e in enumerate(case_expressions()):
        sel = "ozCase%d" % i
        m = compile_doit(sp, e, nil_class, selector=sel, bytecode_set=bytecode_set)
        text = decompile(sp, m, nil_class, sel)
        # a single case whose literals do not tell (`3 caseOf: {[1] -> [#one]} otherwise:
        # [#other]`) reads back as the conditional of the same code
        assert "caseOf:" in text or ("]. [" not in e and not sp.info.has_closures), text
        again = compile_method(sp, nil_class, text, bytecode_set=bytecode_set)
        assert shape(sp, again) == shape(sp, m), (e, text)


def test_the_pharo8_kernels_methods():
    """The three methods of the Pharo 8 kernel with an inlined caseOf: decompile; compiled
    again, their code is the image's (the two ExternalType methods differ after the caseOf:,
    in the order of a block's copied values, a difference of their own: docs/spur.md)."""
    sp = space("pharo8-kernel-spur64.image")
    found = 0
    for cname, sel in (("ExternalType", "writeFieldAt:with:"), ("ExternalType", "readFieldAt:"),
                       ("String", "startingAt:match:startingAt:")):
        cls = sp.class_named(cname)
        m = dict(method_dictionary_items(sp, cls))[sel]
        text = decompile(sp, m, cls, sel)
        assert "caseOf:" in text, text
        ours = compile_method(sp, cls, text)
        if cname == "String":
            assert "otherwise:" in text
            assert outcome(sp, cls, sel, m) == "run order"
        else:
            assert "pointerSize caseOf: {[] -> [#pointerAt:]. [4] -> [#shortPointerAt:]. " \
                   "[8] -> [#longPointerAt:]}" in text
            # up to the copied values (one byte each) of the first block
            first_block = bytes(m.bytes).index(0x8F)
            first_block -= m.bytes[first_block + 1] >> 4
            assert bytes(ours.bytes)[:first_block] == bytes(m.bytes)[:first_block]
            assert ours.ptrs[0] == m.ptrs[0] and len(ours.bytes) == len(m.bytes)
        found += 1
    assert found == 3


def expected_answers():
    out = []
    with open(os.path.join(DATA, "case_expected.txt"), encoding="latin-1") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if parts[0] in ("RESULT", "ERROR"):
                out.append((parts[1], parts[0], parts[2]))
    return out


def test_answers_as_on_squeak_vm():
    exprs = case_expressions()
    expected = expected_answers()
    assert [e for e, _, _ in expected] == exprs and len(exprs) >= 25
    sp = space("squeak2.2-mini.image")
    mismatches = []
    for expr, kind, text in expected:
        method = compile_doit(sp, "(" + expr + ") printString")
        try:
            got = ("RESULT", X.run_method(sp, method, sp.nil, (), timeout=None,
                                          max_bytecodes=5000000).bytes.decode("latin-1"))
        except GuestError as e:
            got = ("ERROR", e.message)
        if got != (kind, text):
            mismatches.append((expr, (kind, text), got))
    assert not mismatches, mismatches
