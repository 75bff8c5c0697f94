"""Browser queries (`oz browse --implementors/--senders/--refs/--hierarchy/--categories`, the
space's implementors/senders/references_to/hierarchy/method_categories) answer what the
image's own browser queries answer on squeak-vm (tests/data/browse_expected.txt)."""
from __future__ import annotations

import os
import re

import pytest

from conftest import image_path, oracle_path
from ozvm.cli import main
from ozvm.errors import MembraneError
from ozvm.space.objectspace import ObjectSpace

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def expected() -> dict:
    out = {}
    with open(os.path.join(DATA, "browse_expected.txt"), encoding="latin-1") as f:
        for line in f.read().splitlines():
            parts = line.split("\t")
            if parts[0] == "RESULT":
                out[parts[1]] = parts[2]
    return out


def strings(text) -> list:
    """The elements of a printed Array of Strings: ('Foo bar' 'Baz class qux' )."""
    return [s.replace("''", "'") for s in re.findall(r"'((?:[^']|'')*)'", text)]


def words(text) -> list:
    """The elements of a printed Array of Symbols or classes: (Foo Bar )."""
    return text.strip("() ").split()


@pytest.fixture(scope="module")
def space():
    return ObjectSpace.load(oracle_path("squeak2.2-mini-oracle.image"))


def as_guest_list(refs) -> list:
    return sorted(str(r).replace(">>", " ") for r in refs)


def outside_object(space, ref) -> bool:
    """Squeak 2.2's `allBehaviorsDo:` enumerates Object and its subclasses only: classes
    rooted in nil (PseudoContext, ObjectOut) are not searched by the image's own queries."""
    cls = ref.class_mirror().instance_side()
    return cls.superclasses()[-1:] != [space.mirror_on(space.class_named("Object"))] and cls.name() != "Object"


QUERIES = [
    ("implementors", "do:", "(Smalltalk allImplementorsOf: #do:) asSortedCollection asArray"),
    ("implementors", "printOn:", "(Smalltalk allImplementorsOf: #printOn:) asSortedCollection asArray"),
    ("implementors", "new", "(Smalltalk allImplementorsOf: #new) asSortedCollection asArray"),
    ("senders", "do:", "(Smalltalk allCallsOn: #do:) asSortedCollection asArray"),
    ("senders", "+", "(Smalltalk allCallsOn: #+) asSortedCollection asArray"),
    ("senders", "==", "(Smalltalk allCallsOn: #==) asSortedCollection asArray"),
    ("senders", "printString", "(Smalltalk allCallsOn: #printString) asSortedCollection asArray"),
    ("senders", "at:put:", "(Smalltalk allCallsOn: #at:put:) asSortedCollection asArray"),
    ("senders", "withBlanksTrimmed", "(Smalltalk allCallsOn: #withBlanksTrimmed) asSortedCollection asArray"),
    ("references_to", "Transcript",
     "(Smalltalk allCallsOn: (Smalltalk associationAt: #Transcript)) asSortedCollection asArray"),
    ("references_to", "OrderedCollection",
     "(Smalltalk allCallsOn: (Smalltalk associationAt: #OrderedCollection)) asSortedCollection asArray"),
    ("references_to", "OtherTable",
     "(Smalltalk allCallsOn: (Symbol classPool associationAt: #OtherTable)) asSortedCollection asArray"),
]


@pytest.mark.parametrize("query,arg,expr", QUERIES, ids=["%s %s" % (q, a) for q, a, _ in QUERIES])
def test_queries_answer_as_the_image_on_squeak_vm(space, query, arg, expr):
    want = strings(expected()[expr])
    assert want, "the oracle answered nothing for " + expr
    refs = getattr(space, query)(arg)
    got = as_guest_list(refs)
    extra = [r for r in refs if str(r).replace(">>", " ") not in want]
    assert all(outside_object(space, r) for r in extra), extra
    assert sorted(want) == sorted(g for g in got if g in want) and len(got) == len(want) + len(extra)


def test_senders_outside_the_object_tree_are_found_too(space):
    """The one sender of + the image's own query misses: PseudoContext is rooted in nil."""
    extra = set(as_guest_list(space.senders("+"))) - set(strings(expected()[QUERIES[4][2]]))
    assert extra == {"PseudoContext class contextCacheDepth:"}


def test_hierarchy_and_categories(space):
    want_supers = words(expected()["OrderedCollection allSuperclasses asArray"])
    rows = space.hierarchy("OrderedCollection")
    names = [m.name() for _, m in rows]
    depth = dict((m.name(), d) for d, m in rows)
    at = names.index("OrderedCollection")
    assert names[:at] == list(reversed(want_supers))
    assert [depth[n] for n in names[:at + 1]] == list(range(at + 1))
    subs = words(expected()["(Collection allSubclasses collect: [:c | c name]) asSortedCollection asArray"])
    coll = [m.name() for d, m in space.hierarchy(space.mirror_on(space.class_named("Collection")))]
    assert sorted(coll[coll.index("Collection") + 1:]) == sorted(subs)
    cats = space.method_categories("Debugger class")
    # the printed Array of category Symbols: '(as yet unclassified oracle )'
    assert "(%s )" % " ".join(c for c, _ in cats) == expected()["(Debugger class organization categories) asArray"]
    assert dict(cats)["oracle"] == words(expected()[
        "(Debugger class organization listAtCategoryNamed: #oracle) asArray"])
    assert space.mirror_on(space.class_named("Debugger")).class_side().method_categories() == cats


def test_method_categories_without_an_organization():
    candle = ObjectSpace.load(image_path("pharocandle.image"))
    cats = candle.method_categories("PCObject")
    assert [c for c, _ in cats] == ["as yet unclassified"]
    assert sorted(cats[0][1]) == candle.mirror_on(candle.class_named("PCObject")).selectors()
    with pytest.raises(MembraneError):
        candle.hierarchy("NoSuchClass")
    with pytest.raises(MembraneError):
        candle.hierarchy(3)


def test_install_accepts_a_class_mirror():
    candle = ObjectSpace.load(image_path("pharocandle.image"))
    point = candle.mirror_on(candle.class_named("PCPoint"))
    candle.install(point, "ozSum ^ x + y")
    candle.install(point.class_side(), "ozOrigin ^ self x: 0 y: 0")
    candle.install("PCPoint", "ozTwice ^ self ozSum * 2")
    assert point.includes_selector("ozSum") and point.includes_selector("ozTwice")
    assert point.class_side().includes_selector("ozOrigin")
    assert candle.mirror_on(candle.compile(point, "foo ^ x")).quick_return() == "field 0"
    with pytest.raises(MembraneError):
        candle.install(candle.mirror_on(3), "foo ^ 1")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_browse_queries(capsys):
    image = oracle_path("squeak2.2-mini-oracle.image")
    code, out, err = run(capsys, "browse", image, "--implementors", "do:")
    assert code == 0 and err == ""
    want = strings(expected()[QUERIES[0][2]])
    assert out.splitlines()[:-1] == [w.replace(" do:", ">>do:") for w in want]
    assert out.splitlines()[-1] == "13 implementors of #do:"
    code, out, err = run(capsys, "browse", image, "--senders", "withBlanksTrimmed")
    assert code == 0 and "oracle" not in err
    assert out.splitlines()[-1] == "%d senders of #withBlanksTrimmed" % len(strings(expected()[QUERIES[8][2]]))
    code, out, err = run(capsys, "browse", image, "--refs", "Transcript")
    assert code == 0 and "SystemDictionary>>snapshot:andQuit:" in out.splitlines()
    code, out, err = run(capsys, "browse", image, "--hierarchy", "OrderedCollection")
    assert out.splitlines() == ["Object", "    Collection", "        SequenceableCollection",
                                "            OrderedCollection *", "                SortedCollection"]
    code, out, err = run(capsys, "browse", image, "--categories", "Debugger class")
    assert out.splitlines()[0] == "as yet unclassified (3)" and "oracle (1)" in out
    code, out, err = run(capsys, "browse", image, "--hierarchy", "NoSuchClass")
    assert code == 1 and err.startswith("oz: error: no class named")
    code, out, err = run(capsys, "browse", image)
    assert code == 1 and "name a class" in err
