"""The space tools the workbench uses, on Spur spaces. Sandboxes: space.copy() of a Spur
image is a Spur heap of its own (class table, immediate Characters one per code point,
SmallFloat64s), runs guest code as the original does, and changes made in it stay there; a
saved copy loads again. Source: a method ozvm compiled into an image that keeps no source
(Pharo's trailers, PharoCandle) shows that source, its temporaries by name."""
from __future__ import annotations

import os

import pytest

from conftest import image_path
from spur_answers import squeakjs_answers
from ozvm.errors import GuestError
from ozvm.memory.objects import FMT_IMMEDIATE, SqObject
from ozvm.memory.spur_heap import SpurHeap
from ozvm.vm import VM

SPUR = ["pharocandle-spur64.image", "pharo8-kernel-spur64.image", "spur32-headless.image"]
ROOT = {"pharocandle-spur64.image": "PCObject"}
EXPRESSION = {"pharocandle-spur64.image": "#(1 $a 'str' #sym (1 2))",      # SqueakJS's answers
              "pharo8-kernel-spur64.image": "(OrderedCollection new add: 1; add: 2; yourself) asArray"}


@pytest.mark.parametrize("name", SPUR)
def test_a_spur_copy_is_a_spur_heap_of_its_own(name):
    vm = VM()
    a = vm.load(image_path(name))
    c = a.copy()
    assert isinstance(c.heap, SpurHeap) and c.object_count() == a.object_count()
    ours = {id(o) for o in c.heap.all_objects()}
    for index, cls in c.heap.class_table.items():
        assert id(cls) in ours and a.heap.class_table[index].hash == cls.hash
    assert c.heap.character(97) is not a.heap.character(97)
    assert c.heap.character(97).cls is c.heap.class_table[2]
    # every immediate a copied object holds is the copy's
    for o in c.heap.all_objects():
        for p in o.ptrs or ():
            if p.__class__ is SqObject and p.fmt == FMT_IMMEDIATE and p.ptrs is not None:
                assert p is c.heap.character(p.ptrs[0])
    expr = "#(1 $a 'str' #sym (1 2)) printString"
    assert c.print_string(expr, timeout_ms=20000) == a.print_string(expr, timeout_ms=20000)
    assert c.print_string("$a == 'a' first", timeout_ms=20000) == "true"
    vm.check_isolation()


@pytest.mark.parametrize("name", ["pharocandle-spur64.image", "pharo8-kernel-spur64.image"])
def test_a_method_changed_in_a_spur_copy_is_not_in_the_original_and_the_copy_saves(name, tmp_path):
    vm = VM()
    a = vm.load(image_path(name))
    c = a.copy()
    root = ROOT.get(name, "Object")
    expected = squeakjs_answers(name)[EXPRESSION[name]]
    c.install(c.mirror_on(c.class_named(root)), "ozHalf\n\t^ " + EXPRESSION[name])
    assert c.print_string("nil ozHalf", timeout_ms=20000) == expected
    with pytest.raises(GuestError):
        a.evaluate("nil ozHalf", timeout_ms=20000)
    out = str(tmp_path / "copy.image")
    c.save(out)
    again = VM().load(out)
    assert again.print_string("nil ozHalf", timeout_ms=20000) == expected
    assert os.path.getsize(out) > 0
    vm.check_isolation()


@pytest.mark.parametrize("name", ["pharocandle-spur64.image", "pharo8-kernel-spur64.image"])
def test_the_source_ozvm_compiled_is_the_methods_source_where_the_image_keeps_none(name):
    from ozvm.space.debugger import frame_variables
    space = VM().load(image_path(name))
    assert not space.keeps_source_pointers()
    cls = space.mirror_on(space.class_named(ROOT.get(name, "Object")))
    source = "ozDemo: x\n\t\"kept\"\n\t| a |\n\ta := x + 1.\n\t^ a"
    method = space.install(cls, source)
    assert space.method_source(method) == source
    assert space.fileout("%s>>ozDemo:" % cls.name()).count('"kept"') == 1
    proc = space.create_process("nil ozDemo: 4", start=False)
    from ozvm.space import debugger
    debugger.step_into(proc, proc.frames()[0])
    assert [n for n, _, _ in frame_variables(proc.frames()[0])] == ["x", "a"]
    again = space.install(cls, "ozDemo: x\n\t^ x")      # replaced: the old source goes with it
    assert space.method_source(again) == "ozDemo: x\n\t^ x"
    assert space.method_source(method) == source         # the old method keeps its own
