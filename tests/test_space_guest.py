"""What the membrane changes, guest code sees: new symbols are found by the guest's own
interning, methods installed through mirrors are found by sends (run on ozvm's interpreter)."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.space.objectspace import ObjectSpace, Symbol

execution = pytest.importorskip("ozvm.space.execution")


def test_squeak22_guest_finds_a_host_interned_symbol():
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    probe = "Symbol hasInterned: 'ozvmHostMade:' ifTrue: [:x | x]"
    assert space.print_string(probe, timeout=120) == "false"
    sym = space.from_local(Symbol("ozvmHostMade:"))
    assert space.print_string(probe, timeout=120) == "true"
    assert space.evaluate("('ozvmHost', 'Made:') asSymbol", timeout=120).obj is sym
    assert space.evaluate("#ozvmHostMade:", timeout=120).obj is sym


def test_pharocandle_guest_lists_a_host_interned_symbol():
    """PCString>>asSymbol scans `PCSymbol allInstancesDo:` (its `=` then needs PCString's
    AsciiOrder, which this image never initialised, so on squeak-vm too it cannot finish):
    what the guest must see is the new symbol among `PCSymbol allInstances`."""
    space = ObjectSpace.load(image_path("pharocandle.image"))
    before = execution.run_send(space, space.symbol_class(), "allInstances", timeout=120)
    sym = space.from_local(Symbol("ozvmCandle:"))
    after = execution.run_send(space, space.symbol_class(), "allInstances", timeout=120)
    assert sym not in before.ptrs and sym in after.ptrs
    assert len(after.ptrs) == len(before.ptrs) + 1


@pytest.mark.parametrize("name,prefix", [("squeak2.2-mini.image", ""), ("pharocandle.image", "PC")])
def test_installed_methods_are_found_by_sends(name, prefix):
    space = ObjectSpace.load(image_path(name))
    small_int = space.mirror_on(space.class_named(prefix + "SmallInteger"))
    obj = space.mirror_on(space.class_named(prefix + "Object"))
    small_int.install_method("ozvmProbe", obj.lookup("yourself"))
    assert execution.run_send(space, 3, "ozvmProbe", timeout=120) == 3
    small_int.install_method("ozvmProbe", obj.lookup("class"))    # replaced: the cache is flushed
    assert execution.run_send(space, 3, "ozvmProbe", timeout=120) is small_int.obj
