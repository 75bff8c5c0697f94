"""Byte identity with the closure compiler that built pharocandle.image (format 6505).

tests/data/compiler/corpus_pharocandle.txt holds sources written by hand for methods of the
image; each compiles (in its class) to the image's own method: same header, same bytecodes,
same literals. The only freedom: the run of optimized selectors (ifTrue:, to:do:...) the
compiler notes before the selector slot is an IdentitySet in the image's compiler, ordered
by the identity hashes of the image that compiled PharoCandle, which this image does not
keep; that run is compared as a set (and counted apart in test_identical_share).
"""
from __future__ import annotations

import os

import pytest

from conftest import image_path

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "data", "compiler", "corpus_pharocandle.txt")
MACROS = {"ifTrue:", "ifFalse:", "ifTrue:ifFalse:", "ifFalse:ifTrue:", "and:", "or:", "whileTrue:",
          "whileFalse:", "whileTrue", "whileFalse", "to:do:", "to:by:do:", "ifNil:", "ifNotNil:",
          "ifNil:ifNotNil:", "ifNotNil:ifNil:", "repeat"}


def load_corpus():
    out = []
    with open(CORPUS, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                out.append(tuple(line.split("\t", 1)))
    return out


CASES = load_corpus()
_space = {}


def space():
    if "s" not in _space:
        from ozvm.space.objectspace import ObjectSpace
        _space["s"] = ObjectSpace.load(image_path("pharocandle.image"))
    return _space["s"]


def image_method(sp, cls, selector):
    md = cls.ptrs[1]
    for i, key in enumerate(md.ptrs[2:]):
        if key is not sp.nil and key.bytes.decode("latin-1") == selector:
            return md.ptrs[1].ptrs[i]
    raise KeyError(selector)


def lit_desc(sp, obj):
    from ozvm.memory.objects import SqObject
    if obj.__class__ is SqObject and obj.ptrs is not None and len(obj.ptrs) == 2 \
            and obj.cls is not sp.special(7):
        key = obj.ptrs[0]
        return ("binding", key.bytes.decode("latin-1") if key is not sp.nil else None, id(obj.ptrs[1]))
    try:
        v = sp.to_local(obj)
    except Exception:
        return ("object", id(obj))
    return (type(v).__name__, repr(v))


def split_literals(sp, lits):
    """(literals before the optimized-selector run, that run as a sorted list, the last two)."""
    body = list(lits[:-2])
    run = []
    while body and lit_desc(sp, body[-1])[0] == "Symbol" and sp.to_local(body[-1]) in MACROS:
        run.append(lit_desc(sp, body.pop()))
    return [lit_desc(sp, x) for x in body], sorted(run), [lit_desc(sp, x) for x in lits[-2:]]


def compare(sp, cls_name, source):
    """'identical', 'run order' (identical but for the optimized-selector order) or a reason."""
    from ozvm.compiler.api import compile_method
    cls = sp.class_named(cls_name)
    ours = compile_method(sp, cls, source)
    selector = _selector_of(source)
    theirs = image_method(sp, cls, selector)
    if ours.ptrs[0] != theirs.ptrs[0]:
        return "header %d, image %d" % (ours.ptrs[0], theirs.ptrs[0])
    code = bytes(theirs.bytes[:-4])
    if bytes(ours.bytes[:-4]) != code:
        return "bytecodes %s, image %s" % (list(ours.bytes[:-4]), list(code))
    mine, img = [lit_desc(sp, x) for x in ours.ptrs[1:]], [lit_desc(sp, x) for x in theirs.ptrs[1:]]
    if mine == img:
        return "identical"
    if split_literals(sp, ours.ptrs[1:]) == split_literals(sp, theirs.ptrs[1:]):
        return "run order"
    return "literals %s, image %s" % (mine, img)


def _selector_of(source):
    from ozvm.compiler.parser import parse_method
    return parse_method(source, underscore_assigns=False).selector


@pytest.mark.parametrize("case", CASES, ids=["%s>>%s" % (c, _selector_of(s)) for c, s in CASES])
def test_same_method_as_pharocandle(case):
    outcome = compare(space(), *case)
    assert outcome in ("identical", "run order"), outcome


def test_identical_share():
    sp = space()
    outcomes = [compare(sp, *c) for c in CASES]
    identical = outcomes.count("identical")
    print("pharocandle corpus: %d/%d identical, %d more identical but for the order of the "
          "optimized selectors" % (identical, len(CASES), outcomes.count("run order")))
    assert identical + outcomes.count("run order") == len(CASES)
