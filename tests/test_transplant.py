"""Methods copied between spaces (space/transplant.py): literals, globals, class variables and
the method's class re-bound in the target, or the method recompiled there from its source;
what has no counterpart is refused. Each transplanted method answers in the target what the
original answers in its own space."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.space.transplant import TransplantError
from ozvm.vm import VM

PROBE = ("ozProbe ^ (Smalltalk includesKey: #Object) printString , #(1 $a 2.5 #sym 'str' (3 4)) printString"
         " , (100 factorial) printString size printString , Transcript class name")
TABLE = "ozTable ^ CharacterTable size printString , (CharacterTable at: 66) printString"
SUPER = "printString ^ 'oz:' , super printString"


@pytest.fixture(scope="module")
def pair():
    vm = VM()
    return vm.load(image_path("squeak2.2-mini.image")), vm.load(image_path("squeak2.2-benchmark.image"))


def answers(space, expr):
    return space.print_string(expr, timeout=60)


def test_copy_rebinds_literals_globals_and_class_variables(pair):
    mini, bench = pair
    obj, char = mini.class_named("Object"), mini.class_named("Character")
    mini.install(obj, PROBE, "oz")
    mini.install(char, TABLE, "oz")
    point = mini.class_named("Point")
    mini.install(point, SUPER, "oz")
    expected = [answers(mini, e) for e in ("3 ozProbe", "$a ozTable", "(3@4) printString")]
    for cls, sel in ((obj, "ozProbe"), (char, "ozTable"), (point, "printString")):
        new = bench.transplant(mini.mirror_on(cls).compiled_method_at(sel), category="oz")
        assert new.space is bench
        # copied, not recompiled: the same bytecodes
        assert new.bytecodes() == mini.mirror_on(cls).compiled_method_at(sel).bytecodes()
    got = [answers(bench, e) for e in ("3 ozProbe", "$a ozTable", "(3@4) printString")]
    assert got == expected
    assert expected[2] == "'oz:3@4'"
    # the source space is only read: its methods keep their own literals
    assert answers(mini, "3 ozProbe") == expected[0]


def test_missing_global_or_class_is_refused(pair):
    mini, bench = pair
    mini.print_string("Smalltalk at: #OzOnlyHere put: 3", timeout=60)
    mini.install(mini.class_named("Object"), "ozOnly ^ OzOnlyHere", "oz")
    mini.install(mini.class_named("Object"), PROBE, "oz")     # also when run on its own
    with pytest.raises(TransplantError, match="global OzOnlyHere has no counterpart"):
        bench.transplant(mini.mirror_on(mini.class_named("Object")).compiled_method_at("ozOnly"))
    with pytest.raises(TransplantError, match="no class NoSuchClass"):
        bench.transplant(mini.mirror_on(mini.class_named("Object")).compiled_method_at("ozProbe"),
                         into="NoSuchClass")


def test_across_bytecode_sets_the_method_is_recompiled():
    vm = VM()
    mini = vm.load(image_path("squeak2.2-mini.image"))
    candle = vm.load(image_path("pharocandle.image"))
    src = "ozPortable: x | t | t := 0. 1 to: x do: [:i | t := t + (i * i)]. ^ t"
    mini.install(mini.class_named("Object"), src, "oz")
    expected = answers(mini, "3 ozPortable: 10")
    new = candle.transplant(mini.mirror_on(mini.class_named("Object")).compiled_method_at("ozPortable:"),
                            into="PCObject")
    assert new.space is candle
    assert str(candle.evaluate("3 ozPortable: 10", timeout_ms=20000)) == expected == "385"
    mini.install(mini.class_named("Object"), "ozGlobal ^ Smalltalk", "oz")
    with pytest.raises(TransplantError, match="cannot be compiled"):
        candle.transplant(mini.mirror_on(mini.class_named("Object")).compiled_method_at("ozGlobal"),
                          into="PCObject")
