"""Byte identity with the compilers that built the Spur images, by a decompile-recompile
round trip: none of the images has a .sources or .changes file (and every method trailer
is empty), so each method is decompiled and the source compiled again with ozvm's compiler
in its class; header, bytecodes and literals must be the image's. This is a weaker proof
than compiling real source: the decompiler writes source the compiler maps back (it names
a slot once, it folds hidden to:do: limits), so where the two agree on a convention the
image's compiler did not follow, the round trip cannot tell.

What differs, by category (the shares are asserted below, the numbers in docs/spur.md):
- "run order": identical but for the order of the run of inlined selectors (ifTrue:,
  to:do: ...) before the selector slot: both Squeak 5's Compiler and Pharo's Opal note them
  in a hash-ordered set of the image that compiled the methods, which these images do not
  keep (some of those Symbols have no identity hash yet); compared as a set;
- "float literal": PharoCandle-Spur64 holds SmallFloat64 literals though it has no
  SmallFloat64 class; ozvm's compiler boxes them (an instance of nil could not run);
- "other": everything else, each named in docs/spur.md (the order of a block's copied
  values, a jump form, Opal's temps of inlined blocks ...).
"""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.compiler.api import compile_method
from ozvm.compiler.decompiler import DecompileError, decompile, method_dictionary_items
from ozvm.errors import OzError
from ozvm.memory.objects import FMT_IMMEDIATE, SqObject
from ozvm.space.objectspace import ObjectSpace

MACROS = {"ifTrue:", "ifFalse:", "ifTrue:ifFalse:", "ifFalse:ifTrue:", "and:", "or:", "whileTrue:",
          "whileFalse:", "whileTrue", "whileFalse", "to:do:", "to:by:do:", "ifNil:", "ifNotNil:",
          "ifNil:ifNotNil:", "ifNotNil:ifNil:", "repeat", "timesRepeat:", "caseOf:", "caseOf:otherwise:"}
# (share identical or identical but for the run order, sample step): the shares measured
# when the round trip was written; a regression fails
FLOORS = {"spur32-headless.image": (0.99, 1), "pharocandle-spur64.image": (0.98, 1),
          "pharo8-kernel-spur64.image": (0.96, 7)}
# methods that do not decompile: none (the last three were Pharo 8's inlined caseOf:s)
NOT_DECOMPILED = {}


def _desc(sp, o):
    """A comparable description of a literal: bindings by key and value, others by value."""
    if o.__class__ is int:
        return ("int", o)
    if o.fmt == FMT_IMMEDIATE and o.ptrs is None:
        return ("float", sp.heap.float_value(o))
    if o.ptrs is not None and len(o.ptrs) == 2 and o.fmt <= 4 and o.ptrs[1].__class__ is SqObject:
        key = o.ptrs[0]
        return ("binding", sp.layout.class_name_of(o.cls),
                sp.describe(key) if key is not sp.nil else None, id(o.ptrs[1]))
    if o.words is not None and sp.layout.class_name_of(o.cls).endswith("Float"):
        return ("float", sp.heap.float_value(o))
    return ("literal", sp.layout.class_name_of(o.cls), sp.describe(o))


def _without_run(descs):
    body = list(descs[:-2])
    run = []
    while body and body[-1][0] == "literal" and body[-1][1].endswith("Symbol") \
            and body[-1][2].lstrip("#") in MACROS:
        run.append(body.pop())
    return body, sorted(run), descs[-2:]


def outcome(sp, cls, sel, method) -> str:
    try:
        src = decompile(sp, method, cls, sel)
    except DecompileError:
        return "not decompiled"
    try:
        ours = compile_method(sp, cls, src)
    except OzError:
        return "not compiled"
    if ours.ptrs[0] != method.ptrs[0] or bytes(ours.bytes) != bytes(method.bytes):
        return "other"
    a = [_desc(sp, x) for x in ours.ptrs[1:]]
    b = [_desc(sp, x) for x in method.ptrs[1:]]
    if a == b:
        return "identical"
    if _without_run(a) == _without_run(b):
        return "run order"
    images_floats = [x for x in method.ptrs[1:] if x.__class__ is SqObject and x.fmt == FMT_IMMEDIATE
                     and x.ptrs is None]
    if images_floats and sp.heap.class_table.get(4) is None:
        return "float literal"
    return "other"


def round_trip(name):
    sp = ObjectSpace.load(image_path(name))
    step = FLOORS[name][1]
    counts, not_decompiled = {}, set()
    n = 0
    for c in sp.classes():
        for k in (c, c.cls):
            for sel, m in method_dictionary_items(sp, k):
                n += 1
                if n % step:
                    continue
                o = outcome(sp, k, sel, m)
                counts[o] = counts.get(o, 0) + 1
                if o == "not decompiled":
                    not_decompiled.add((sp.layout.class_name_of(k), sel))
    return counts, not_decompiled


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_recompiled_methods_are_the_images_own(name):
    counts, not_decompiled = round_trip(name)
    total = sum(counts.values())
    same = counts.get("identical", 0) + counts.get("run order", 0)
    print("%s: %d methods, %s" % (name, total, counts))
    assert same >= FLOORS[name][0] * total, counts
    assert not_decompiled <= NOT_DECOMPILED.get(name, set())
    assert "not compiled" not in counts, counts     # (the last ones: named primitives with error codes)
