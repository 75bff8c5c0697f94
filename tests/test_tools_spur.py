"""The inspection tools and mirrors on Spur images: `oz info`, `classes`, `browse`,
`processes`, `save`, `bench load`; class names, method dictionaries, instance variable
names (Pharo 8 keeps them in slot layouts), method mirrors with 64-bit literal frames."""
from __future__ import annotations

import pytest

from conftest import SPUR_IMAGES, image_path, load_heap
from test_cli import run
from ozvm.compiler.decompiler import decompile
from ozvm.errors import OzError
from ozvm.image.formats import read_image
from ozvm.space.objectspace import ObjectSpace

EXPECTED = {   # image: (format line, a class, its superclass, an instance variable of it)
    "spur32-headless.image": ("6521 (Spur 32-bit)", "Association", "Magnitude", "value"),
    "pharocandle-spur64.image": ("68021 (Spur 64-bit)", "PCPoint", "PCObject", "x"),
    "pharo8-kernel-spur64.image": ("68021 (Spur 64-bit)", "Association", "LookupKey", "value"),
}


@pytest.fixture(params=SPUR_IMAGES)
def spur_name(request):
    return request.param


def test_info(capsys, spur_name):
    code, out, err = run(capsys, "info", image_path(spur_name), "--top", "5")
    assert code == 0 and err == ""
    assert EXPECTED[spur_name][0] in out and "little-endian" in out
    assert "memory by class (top 5" in out and "CompiledMethod" in out


def test_classes(capsys, spur_name):
    _, cls, sup, _ = EXPECTED[spur_name]
    code, out, err = run(capsys, "classes", image_path(spur_name))
    assert code == 0 and err == ""
    row = next(l for l in out.splitlines() if l.startswith(cls + " "))
    assert row.split()[1] == sup


def test_browse_class_and_method(capsys, spur_name):
    _, cls, sup, ivar = EXPECTED[spur_name]
    code, out, err = run(capsys, "browse", image_path(spur_name), cls)
    assert code == 0 and err == ""
    assert ("%s subclass: #%s" % (sup, cls)) in out and ivar in out
    code, out, err = run(capsys, "browse", image_path(spur_name), cls, ivar)
    assert code == 0 and err == "" and "decompiled:" in out and ("^ " + ivar) in out


def test_browse_shows_the_primitive_of_a_spur_method(capsys):
    code, out, err = run(capsys, "browse", image_path("spur32-headless.image"), "SmallInteger", "+")
    assert code == 0
    assert "primitive 1" in out and "call primitive 1" in out
    assert "   29  8b 01 00" in out            # pc counts the 4-byte header and 6 literals
    assert "<primitive: 1>" in out and "^ super + arg1" in out


def test_browse_pc_counts_8_byte_literals_in_64_bit_images(capsys):
    code, out, err = run(capsys, "browse", image_path("pharo8-kernel-spur64.image"), "Point class", "x:y:")
    assert code == 0
    header = next(l for l in out.splitlines() if l.startswith("header:"))
    nlits = int(header.split(",")[2].split()[0])
    first = next(l for l in out.splitlines() if l.startswith("bytecodes")) 
    pcs = [int(l.split()[0]) for l in out.splitlines()[out.splitlines().index(first) + 1:]
           if l.strip() and l.strip()[0].isdigit()]
    assert pcs[0] == 8 * (nlits + 1) + 1
    assert "^ self basicNew setX: arg1 setY: arg2" in out


def test_processes(capsys, spur_name):
    code, out, err = run(capsys, "processes", image_path(spur_name))
    assert code == 0 and err == ""
    assert "active" in out and "1 processes" in out


def test_save_and_bench_load(capsys, tmp_path):
    out_path = tmp_path / "saved.image"
    code, out, err = run(capsys, "save", image_path("spur32-headless.image"), out_path)
    assert code == 0 and "format 6521" in out
    code, out, err = run(capsys, "save", image_path("spur32-headless.image"), tmp_path / "b.image",
                         "--big-endian")
    assert code == 1 and "little-endian" in err
    code, out, err = run(capsys, "info", out_path)
    assert code == 0 and "6521 (Spur 32-bit)" in out
    code, out, err = run(capsys, "bench", "load", image_path("pharocandle-spur64.image"), "--repeat", "1")
    assert code == 0 and "load (read + decode)" in out


def test_mirrors_on_spur_spaces():
    space = ObjectSpace(read_image(image_path("pharo8-kernel-spur64.image")))
    oc = space.mirror_on(space.class_named("OrderedCollection"))
    assert oc.name() == "OrderedCollection" and oc.superclass().name() == "SequenceableCollection"
    assert oc.instance_variable_names() == ["array", "firstIndex", "lastIndex"]
    assert oc.inst_size() == 3 and oc.inst_spec() == 1 and oc.compact_class_index() == 0
    assert oc.definition_kind() == "subclass:"
    array = space.mirror_on(space.class_named("Array"))
    assert array.inst_spec() == 2 and array.definition_kind() == "variableSubclass:"
    assert space.mirror_on(space.class_named("ByteString")).definition_kind() == "variableByteSubclass:"
    assert space.mirror_on(space.class_named("WordArray")).format_description() == "words"
    m = oc.lookup("do:")
    assert m.num_args() == 1 and m.num_literals() == len(m.literal_objects())
    assert m.initial_pc() == 8 * (m.num_literals() + 1) + 1
    assert m.variable_size() == 8 * (m.num_literals() + 1) + len(m.obj.bytes)
    add = space.mirror_on(space.class_named("SmallInteger")).lookup("+")
    assert add.primitive() == 1 and not add.uses_alternate_bytecodes()
    assert "SmallInteger" in space.mirror_on(space.class_named("SmallInteger")).name()
    assert space.global_named("Smalltalk") is not None
    # the class side, metaclass names
    assert oc.class_side().name() == "OrderedCollection class"


def test_every_method_decompiles_in_the_small_spur_images():
    """Every method of the 32-bit image (Squeak 5's inlined ifNotNil: for value included)
    and of PharoCandle-Spur64 decompiles (tests/test_compiler_spur_roundtrip.py for more)."""
    for name, failures in (("spur32-headless.image", 0), ("pharocandle-spur64.image", 0)):
        space = ObjectSpace(load_heap(name))
        bad = []
        for c in space.classes():
            cm = space.mirror_on(c)
            for side in (cm, cm.class_side()):
                for sel in side.selectors():
                    try:
                        decompile(space, side.lookup(sel).obj, side.obj, sel)
                    except OzError:
                        bad.append((side.name(), sel))
        assert len(bad) == failures, bad


def test_bench_tiny_takes_squeakjs_as_the_reference_of_a_spur_image(monkeypatch):
    """`oz bench tiny` of a Spur image compares with SqueakJS (run in the same bench when
    node and SqueakJS are there), else with SqueakJS's recorded figure, labelled."""
    from ozvm.tools import cmd_bench_tiny as bench
    assert bench.is_spur(image_path("pharocandle-spur64.image"))
    assert not bench.is_spur(image_path("pharocandle.image"))
    monkeypatch.setenv("SQJS", "/nonexistent/squeakjs")
    figures, note = bench._squeakjs(image_path("pharocandle-spur64.image"), 60)
    assert figures == bench.RECORDED_SQUEAKJS["pharocandle-spur64.image"][0]
    assert "recorded" in note and "SqueakJS is not in /nonexistent/squeakjs" in note
    figures, note = bench._squeakjs(image_path("spur32-headless.image"), 60)
    assert figures is None and note
