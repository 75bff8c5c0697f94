"""The ObjectSpace facade: listing, exact memory accounting, isolation of several spaces,
literal conversion both ways, symbols interned where guest code finds them."""
from __future__ import annotations

import math

import pytest

from conftest import V3_IMAGES, image_path
from ozvm.errors import MembraneError
from ozvm.image.v3_writer import encode_image
from ozvm.memory import specials as S
from ozvm.space.layout import text_of
from ozvm.space.mirrors import ObjectMirror
from ozvm.space.objectspace import Char, ObjectSpace, Symbol
from ozvm.space.symbol_tables import Squeak22SymbolTable, squeak22_num_args


def space_of(name):
    """A fresh space (tests here change spaces)."""
    return ObjectSpace.load(image_path(name))


@pytest.fixture(params=V3_IMAGES)
def space(request):
    return space_of(request.param)


# --- listing and memory ------------------------------------------------------------

def test_memory_use_is_exact(space):
    use = space.memory_use()
    objects = space.heap.all_objects()
    assert use.objects == len(objects) == space.object_count()
    # exactly what the space takes in a V3 image (the saved object memory)
    assert use.bytes == len(encode_image(space.heap)) - 64
    assert sum(r[1] for r in use.by_class) == use.objects
    assert sum(r[2] for r in use.by_class) == use.bytes
    counts = {}
    for o in objects:
        name = space.layout.class_name_of(o.cls)
        counts[name] = counts.get(name, 0) + 1
    for name, n, b in use.by_class:
        assert counts[name] == n and b >= 4 * n
    assert use.by_class == sorted(use.by_class, key=lambda r: (-r[2], r[0]))


def test_memory_of_mini_is_its_whole_object_memory():
    space = space_of("squeak2.2-mini.image")
    use = space.memory_use()
    assert use.bytes == space.info.data_size == 726592
    assert use.objects == 17692
    top = dict((n, (c, b)) for n, c, b in use.by_class)
    assert top["CompiledMethod"][0] == len(space.heap.all_instances(space.special(S.CLASS_COMPILED_METHOD)))


def test_memory_follows_changes(space):
    before = space.memory_use()
    arr = space.from_local([1, 2, 3])
    space.heap.extra_roots.append(arr)
    after = space.memory_use()
    assert after.objects == before.objects + 1
    header = 1 if id(arr.cls) in space.heap.compact_classes() else 2
    assert after.bytes == before.bytes + 4 * (header + 3)
    big = space.from_local(list(range(100)))               # more than 63 words: 3 header words
    space.heap.extra_roots.append(big)
    assert space.memory_use().bytes == after.bytes + 4 * (3 + 100)
    space.heap.extra_roots.remove(big)
    space.heap.extra_roots.remove(arr)
    assert space.memory_use().bytes == before.bytes


def test_objects_are_mirrors_in_order(space):
    objs = space.objects()
    assert all(isinstance(m, ObjectMirror) and m.space is space for m in objs)
    assert objs[0].is_nil_object() and objs[1].obj is space.false and objs[2].obj is space.true
    assert objs[3].obj is space.specials


# --- several spaces ------------------------------------------------------------------

def test_spaces_never_point_into_each_other():
    spaces = [space_of(n) for n in V3_IMAGES] + [space_of("squeak2.2-mini.image")]
    # exercise the membrane a little first
    for s in spaces:
        s.from_local(Symbol("ozvmIsolationProbe:"))
        s.heap.extra_roots.append(s.from_local(["x", 1.5, 2 ** 40, Char("c")]))
    graphs = []
    for s in spaces:
        objs = s.heap.all_objects()
        ids = set(map(id, objs))
        # the walk is closed: every class and pointer of the space stays in the space
        for o in objs:
            assert id(o.cls) in ids
            if o.ptrs is not None:
                for p in o.ptrs:
                    assert p.__class__ is int or id(p) in ids
        graphs.append(ids)
    for i in range(len(graphs)):
        for j in range(i + 1, len(graphs)):
            assert not graphs[i] & graphs[j], (i, j)


def test_objects_of_another_space_are_refused():
    a, b = space_of("pharocandle.image"), space_of("pharocandle.image")
    m = a.mirror_on(a.class_named("PCObject"))
    with pytest.raises(MembraneError):
        b.from_local(m)
    with pytest.raises(MembraneError):
        b.from_local(a.class_named("PCObject"))
    with pytest.raises(MembraneError):
        b.mirror_on(m)
    target = b.mirror_on(b.from_local([1, 2]))
    with pytest.raises(MembraneError):
        target.at_put(1, m)
    with pytest.raises(MembraneError):
        target.at_put(1, a.nil)
    assert a.owns(a.nil) and not b.owns(a.nil) and b.owns(b.class_named("PCObject"))


def test_host_objects_cannot_enter_a_guest(space):
    arr = space.mirror_on(space.from_local([1, 2]))
    for host in (object(), {"a": 1}, {1, 2}, lambda: 1, space, 2 ** 100 * 1j, [object()]):
        with pytest.raises(MembraneError):
            arr.at_put(1, host)
        with pytest.raises(MembraneError):
            space.from_local(host)
    with pytest.raises(MembraneError):
        space.to_local(space.specials)      # not a literal: use a mirror


# --- classes and globals -------------------------------------------------------------

def test_classes_and_globals():
    sq = space_of("squeak2.2-mini.image")
    names = [sq.layout.class_name_of(c) for c in sq.classes()]
    assert names == sorted(names) and "Object" in names and "Symbol" in names
    assert sq.class_named("Object class").cls is sq.layout.metaclass
    assert sq.compact_class_at(1) is sq.special(S.CLASS_COMPILED_METHOD) or sq.compact_class_at(1) is not None
    assert sq.global_named("Transcript").cls is sq.class_named("TranscriptStream")
    assert sq.global_named("Processor") is sq.special(S.SCHEDULER_ASSOCIATION).ptrs[1]
    assert sq.global_named("NoSuchGlobalAtAll") is None
    pc = space_of("pharocandle.image")
    assert pc.globals_dictionary() is None
    assert pc.global_named("PCObject") is pc.class_named("PCObject")
    assert pc.class_named("Object") is None


# --- literals both ways -------------------------------------------------------------

VALUES = [0, 1, -1, 2 ** 30 - 1, -2 ** 30, 2 ** 30, -2 ** 30 - 1, 2 ** 64 + 5, -(2 ** 70),
          0.0, 1.5, -2.25e-300, 1e300, math.inf, -math.inf, "", "hello 'world'", "caf\xe9",
          Symbol("printString"), Symbol("ozvmBrandNew:symbol:"), Char("a"), Char("\xff"),
          b"\x00\x01\xfe", None, True, False, [1, "two", [Symbol("three"), 4.0], None]]


@pytest.fixture(scope="module")
def literal_spaces():
    return [space_of("squeak2.2-mini.image"), space_of("pharocandle.image")]


@pytest.mark.parametrize("value", VALUES, ids=[repr(v)[:30] for v in VALUES])
def test_literals_round_trip(value, literal_spaces):
    for s in literal_spaces:
        guest = s.from_local(value)
        assert s.owns(guest)
        back = s.to_local(guest)
        assert back == value and type(back) is type(value)
        assert s.to_local(s.mirror_on(guest)) == value


def test_literal_classes():
    s = space_of("squeak2.2-mini.image")
    assert s.from_local(2 ** 30).cls is s.class_named("LargePositiveInteger")
    assert s.from_local(-2 ** 40).cls is s.class_named("LargeNegativeInteger")
    assert s.from_local(1.0).cls is s.class_named("Float")
    assert s.from_local("x").cls is s.class_named("String")
    assert s.from_local(b"x").cls is s.class_named("ByteArray")
    assert s.from_local(Char("a")) is s.special(S.CHARACTER_TABLE).ptrs[97]
    assert s.from_local(Symbol("printString")) is s.symbol_named("printString")
    assert s.from_local(7) == 7 and s.from_local(None) is s.nil
    nan = s.to_local(s.from_local(float("nan")))
    assert nan != nan


def test_nan_round_trips():
    s = space_of("pharocandle.image")
    assert math.isnan(s.to_local(s.from_local(float("nan"))))


# --- symbols ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["squeak2.2-mini.image", "squeak2.2-benchmark.image"])
def test_squeak22_symbol_table_places_every_existing_symbol(name):
    """The bucket computed for each of the image's symbols (numArgs, String>>hash, as
    `Symbol class>>intern:` of 2.2) is the bucket the image actually holds it in."""
    s = space_of(name)
    table = s.symbol_table()
    assert isinstance(table, Squeak22SymbolTable)
    syms = [o for o in s.heap.all_objects() if o.cls is s.symbol_class()]
    assert len(syms) > 4000
    misplaced = [text_of(x) for x in syms if table.find(text_of(x)) is not x]
    assert misplaced == []


def test_new_symbol_goes_into_squeak22_tables():
    s = space_of("squeak2.2-mini.image")
    table = s.symbol_table()
    for name in ["ozvmNew:", "ozvm", "OzvmUpper", "+*", "ozvm:with:", "\xe9t\xe9"]:
        assert table.find(name) is None
        sym = s.from_local(Symbol(name))
        assert table.find(name) is sym and s.symbol_named(name) is sym
        assert s.from_local(Symbol(name)) is sym            # interned once
        holder, index = table.bucket_of(name)
        assert sym in holder.ptrs[index].ptrs               # reachable: the guest's own table
        assert sym in s.heap.all_objects()
        assert not s.heap.extra_roots


def test_new_symbol_in_pharocandle_is_an_instance():
    """PCString>>asSymbol scans `PCSymbol allInstancesDo:`; a new symbol must be listed."""
    s = space_of("pharocandle.image")
    assert s.symbol_table() is None
    sym = s.from_local(Symbol("ozvmCandle:"))
    assert sym in s.heap.all_instances(s.symbol_class())
    assert s.from_local(Symbol("ozvmCandle:")) is sym
    assert s.to_local(sym) == Symbol("ozvmCandle:")


def test_num_args_as_squeak22():
    assert [squeak22_num_args(x) for x in ["foo", "foo:", "foo:bar:", "Foo", "+", "->", "+++", "-", "a:b", "x1"]] \
        == [0, 1, 2, -1, 1, -1, -1, 1, -1, 0]
