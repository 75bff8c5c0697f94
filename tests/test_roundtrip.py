"""The round-trip proof of issue 4: for every method of both images, decompile it, compile the
source again with our compiler against the same class, and compare bytecodes, header and
literals with the original. Run as a script for the list of differences:
    .venv/bin/python tests/test_roundtrip.py [IMAGE]
"""
from __future__ import annotations

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from conftest import image_path  # noqa: E402
from ozvm.compiler.decompiler import decompile, literal_source, method_dictionary_items  # noqa: E402
from ozvm.errors import OzError  # noqa: E402
from ozvm.compiler.disassembler import decode  # noqa: E402
from ozvm.memory.objects import (SqObject, method_num_args, method_num_temps,  # noqa: E402
                                 method_num_literals, method_primitive)
from ozvm.space.objectspace import ObjectSpace  # noqa: E402

IMAGES = ["squeak2.2-mini.image", "pharocandle.image"]
TARGET = 0.99
# the share reached so far (the compiler is being finished at the same time): no regression
FLOOR = {"squeak2.2-mini.image": 0.99, "pharocandle.image": 0.89}

# (image, class, selector) -> why the recompiled method differs from the original
KNOWN_DIFFERENCES = {
    ("squeak2.2-mini.image", "Scanner", "xColon"):
        "the symbol #'_' is read back as a String by our scanner",
    ("squeak2.2-mini.image", "Text class", "streamContents:"):
        "TextStream is bound in the method but is no global of the image (undeclared)",
    ("pharocandle.image", "PCFloat class", "initialize"):
        "the literal Float infinity (MaxVal) has no syntax; printed as 1.0e309",
    ("pharocandle.image", "PCObject", "tryPrimitive:withArgs:"):
        "<primitive: 118 error: t1>: the primitive error code temporary",
    ("pharocandle.image", "PCMethodContext", "privRefresh"):
        "ifNotNil:ifNil: statement compiled for value (arms answer the nil of their to:do:, "
        "then a pop) and temps numbered in code order (the ifNil: arm first)",
    ("pharocandle.image", "PCString", "findDelimiters:startingAt:"):
        "a to:do: variable read by a closure in the loop is copied, not put in a temp vector",
}


def compiler():
    try:
        from ozvm.compiler.api import compile_method
    except ImportError:
        return None
    return compile_method


def code_bytes(method) -> bytes:
    """The bytecodes of a method without its trailer (none for a quick method)."""
    if 256 <= method_primitive(method.ptrs[0]) <= 519:
        return b""
    instrs = decode(method.bytes)
    return bytes(method.bytes[:instrs[-1].next])


def same_literal(space, a, b, depth=0) -> bool:
    if a is b:
        return True
    if a.__class__ is not SqObject or b.__class__ is not SqObject:
        return a == b
    if a.cls is not b.cls or a.fmt != b.fmt or depth > 8:
        return False
    if a.bytes is not None and a.ptrs is None:
        return a.bytes == b.bytes
    if a.words is not None:
        return a.words == b.words
    if a.cls is space.special(7):          # Array: element by element
        return len(a.ptrs) == len(b.ptrs) and all(
            same_literal(space, x, y, depth + 1) for x, y in zip(a.ptrs, b.ptrs))
    if a.ptrs is not None and len(a.ptrs) == len(b.ptrs) == 2:
        # a binding made anew for the same variable (an undeclared one; Squeak 2.2's
        # `nil -> the metaclass` of a class-side method with super sends)
        return a.ptrs[0] is b.ptrs[0] and a.ptrs[1] is b.ptrs[1]
    return False


def literal_texts(space, method) -> list:
    out = []
    for x in method.ptrs[1:]:
        try:
            out.append(literal_source(space, x, binding=True))
        except OzError:
            out.append("<a %s>" % space.layout.class_name_of(space.class_of(x)))
    return out


def difference(space, orig, new) -> str:
    """'' when `new` has the bytecodes, header and literals of `orig`; else what differs."""
    h0, h1 = orig.ptrs[0], new.ptrs[0]
    if method_num_literals(h0) != method_num_literals(h1):
        a, b = literal_texts(space, orig), literal_texts(space, new)
        return "literals %s -> %s" % (" ".join(a), " ".join(b))
    for what, f in (("argument count", method_num_args), ("temporary count", method_num_temps),
                    ("primitive", method_primitive), ("literal count", method_num_literals)):
        if f(h0) != f(h1):
            return "%s %s -> %s" % (what, f(h0), f(h1))
    c0, c1 = code_bytes(orig), code_bytes(new)
    if c0 != c1:
        at = next((i for i, (x, y) in enumerate(zip(c0, c1)) if x != y), min(len(c0), len(c1)))
        return "bytecodes differ from pc %d (%d -> %d bytes)" % (at, len(c0), len(c1))
    for i, (x, y) in enumerate(zip(orig.ptrs[1:], new.ptrs[1:])):
        if not same_literal(space, x, y):
            a, b = literal_texts(space, orig), literal_texts(space, new)
            if sorted(a) == sorted(b):
                return "literal order differs: %s -> %s" % (" ".join(a), " ".join(b))
            return "literal %d differs: %s -> %s" % (i, a[i], b[i])
    if (h0 >> 17) & 1 != (h1 >> 17) & 1:
        return "large frame flag differs"
    return ""


_RETURNS = ("returnSelf", "returnConst", "returnTop", "blockReturn")
_LIT_OPS = ("pushLit", "pushLitVar", "storeLitVar", "popLitVar", "send", "superSend")


def _shape(method, texts, pops=False, temps=False, returns=False):
    """The instructions of a method with literal references as literal texts and jump
    distances dropped; with `pops`, statement pops dropped and pop-stores made stores;
    with `temps`, temporary indices dropped; with `returns`, a jump to a return made that
    return."""
    try:
        instrs = decode(method.bytes) if code_bytes(method) else []
    except OzError:
        return None
    at = {ins.pc: ins for ins in instrs}
    out = []
    for ins in instrs:
        op = ins.op
        if returns and op == "jump" and ins.arg in at and at[ins.arg].op in _RETURNS:
            ins = at[ins.arg]
            op = ins.op
        if pops and op == "pop":
            continue
        if pops and op.startswith("pop") and op != "popRemote":
            op = "store" + op[3:]
        if op in _LIT_OPS:
            out.append((op, texts[ins.arg] if ins.arg < len(texts) else None, ins.arg2))
        elif op.startswith("jump"):
            out.append((op,))
        elif temps and op.endswith("Temp"):
            out.append((op,))
        else:
            out.append((op,) + ins.operands())
    return out


# Why a recompiled method differs, when its decompiled source is right: what the compilers
# that built the images did and ours does not (yet). Checked in this order.
EXPLANATIONS = [
    ("unused literal order", "same bytecodes, every literal they use at the same index: "
     "only the selectors of inlined messages (which PharoCandle's compiler appends for "
     "browsing, in its host's Set order) are in another order"),
    ("literal order", "same code and literals, literal frame in another order (Squeak 2.2 "
     "numbers literals in its sizing order: selector before receiver, else arm before then "
     "arm; PharoCandle's compiler appends the inlined selectors in its host's Set order)"),
    ("statement values", "same code but a statement value not popped: Squeak 2.2 emits the "
     "statement before a return for value when it prefersValue (anything but a message; "
     "ifTrue:ifFalse: not returning in both arms); 6505's compiler emits ifNil: family "
     "statements for value then pops"),
    ("temporary numbering", "same code with other temporary indices (Squeak 2.2 binds block "
     "arguments by name to the method's temporaries; 6505 numbers temps in code order after "
     "inlining)"),
    ("both", "statement values and temporary numbering as above"),
    ("return of a conditional", "`^ c ifTrue: [a] ifFalse: [b]`: one compiler answers the "
     "conditional's value then returns once, the other returns in each arm"),
    ("quick method", "a quick-return method (primitive 256-519) made as an ordinary one"),
    ("duplicate literals", "the original keeps separate literal slots for a super send's "
     "selector, a symbol constant and a send of the same selector"),
    ("class binding", "the last literal (class binding) of a class-side method is another object"),
    ("variable binding", "a global or class variable is bound to another association than "
     "the original's (e.g. a class variable read from a class-side method)"),
    ("special selector", "#class is not a special selector in this image (nil in the specials "
     "array): a real send with a literal"),
    ("frame size", "the large frame flag differs (the stack depth the compiler computes)"),
    ("shared block argument", "a block argument also used outside its block (an `out` "
     "argument) or named like a method temporary: Squeak 2.2's Encoder>>bindTemp: binds it "
     "to the temporary of that name; our compiler refuses the name"),
    ("compile error", "our compiler refuses the source"),
]


def _used_literals_equal(space, orig, new) -> bool:
    """Whether every literal a bytecode uses is the same in both (same index), and the
    class binding too: then only literals no bytecode uses are in another order."""
    used = set(ins.arg for ins in (decode(orig.bytes) if code_bytes(orig) else [])
               if ins.op in _LIT_OPS)
    used.add(len(orig.ptrs) - 2)
    return all(same_literal(space, orig.ptrs[1 + i], new.ptrs[1 + i]) for i in used)


def explain(space, orig, new, why):
    """The EXPLANATIONS key for a difference, or 'unexplained'."""
    if why.startswith("compile error"):
        if "already used by an enclosing scope" in why:
            return "shared block argument"
        return "compile error"
    h0, h1 = orig.ptrs[0], new.ptrs[0]
    if method_primitive(h0) != method_primitive(h1) and 256 <= method_primitive(h0) <= 519:
        return "quick method"
    a, b = literal_texts(space, orig), literal_texts(space, new)
    if sorted(a) != sorted(b):
        if sorted(set(a)) == sorted(set(b)):
            return "duplicate literals"
        extra = set(a) ^ set(b)
        if extra == {"class"} or extra == {"#class"}:
            return "special selector"
        if len(a) == len(b) and a[:-1] == b[:-1]:
            return "class binding"
        return "unexplained"
    if why == "large frame flag differs":
        return "frame size"
    if code_bytes(orig) == code_bytes(new) and _used_literals_equal(space, orig, new):
        return "unused literal order"
    if a == b and code_bytes(orig) == code_bytes(new):
        return "variable binding"
    for key, pops, temps in (("literal order", False, False), ("statement values", True, False),
                             ("temporary numbering", False, True), ("both", True, True)):
        sa, sb = _shape(orig, a, pops, temps), _shape(new, b, pops, temps)
        if sa is not None and sa == sb:
            return key
    for pops, temps in ((False, False), (True, True)):
        sa, sb = _shape(orig, a, pops, temps, True), _shape(new, b, pops, temps, True)
        if sa is not None and sa == sb:
            return "return of a conditional"
    if why.startswith("literal order") or (why.startswith("literal ") and a[:-1] == b[:-1]):
        return "class binding" if a[:-1] == b[:-1] else "literal order"
    return "unexplained"


def round_trip(name, limit=None):
    """(count, identical, [(class, selector, reason, explanation, source)]) for one image."""
    compile_method = compiler()
    space = ObjectSpace.load(image_path(name))
    count = 0
    identical = 0
    diffs = []
    for cls in space.classes():
        for k in (cls, cls.cls):
            for sel, m in method_dictionary_items(space, k):
                count += 1
                cname = space.layout.class_name_of(k)
                src = decompile(space, m, k, sel)
                try:
                    new = compile_method(space, k, src)
                except Exception as e:            # the compiler's own errors, reported
                    why = "compile error: %s" % str(e).splitlines()[0]
                    diffs.append((cname, sel, why, explain(space, m, None, why), src))
                    continue
                why = difference(space, m, new)
                if why:
                    diffs.append((cname, sel, why, explain(space, m, new, why), src))
                else:
                    identical += 1
                if limit and count >= limit:
                    return count, identical, diffs
    return count, identical, diffs


def summary(name, count, identical, diffs):
    same = identical + sum(1 for d in diffs if d[3] == "unused literal order")
    lines = ["%s: %d/%d identical (%.2f%%); %d (%.2f%%) identical but for the order of "
             "literals no bytecode uses" % (name, identical, count, 100.0 * identical / count,
                                            same, 100.0 * same / count)]
    by_kind: dict = {}
    for d in diffs:
        by_kind.setdefault(d[3], []).append(d)
    for kind, ds in sorted(by_kind.items(), key=lambda kv: -len(kv[1])):
        lines.append("  %4d %s" % (len(ds), kind))
    return lines


@pytest.mark.parametrize("name", IMAGES)
def test_round_trip(name):
    if compiler() is None:
        pytest.skip("the compiler (ozvm.compiler.api.compile_method) does not exist yet")
    count, identical, diffs = round_trip(name)
    share = identical / count
    print("\n".join(summary(name, count, identical, diffs)))
    unexplained = [(c, s, why) for c, s, why, kind, _ in diffs
                   if kind in ("unexplained", "compile error") and (name, c, s) not in KNOWN_DIFFERENCES]
    assert share >= FLOOR[name], unexplained[:20]
    assert unexplained == []


if __name__ == "__main__":
    names = sys.argv[1:] or IMAGES
    for name in names:
        t = time.time()
        count, identical, diffs = round_trip(name)
        print("\n".join(summary(name, count, identical, diffs)) + "   (%.1fs)" % (time.time() - t))
        for c, s, why, kind, src in diffs:
            print("  [%s] %s>>%s: %s" % (kind, c, s, why))
            if os.environ.get("SHOW") and kind == "unexplained":
                print("\t" + src.replace("\n", "\n\t"))
