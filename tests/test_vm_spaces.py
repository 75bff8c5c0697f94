"""Several images in one VM (ozvm.VM): separate spaces, the seed's context switch, isolation."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import OzError
from ozvm.vm import VM, GuestSpace

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"


def load_two():
    vm = VM()
    return vm, vm.load(image_path(MINI)), vm.load(image_path(CANDLE))


def test_two_images_have_their_own_specials_scheduler_symbols():
    vm, a, b = load_two()
    assert isinstance(a, GuestSpace) and a.vm is vm and vm.spaces == [a, b]
    assert a.specials is not b.specials
    for x, y in ((a.nil, b.nil), (a.true, b.true), (a.false, b.false)):
        assert x is not y
    assert a.scheduler().obj is not b.scheduler().obj
    assert a.symbol_named("printString") is not b.symbol_named("printString")
    assert a.class_named("Object") is not None and b.class_named("PCObject") is not None
    assert a.class_named("PCObject") is None and b.class_named("Object") is None
    # both run guest code, interleaved, in the same VM
    assert a.print_string("3 + 4", timeout_ms=5000) == "7"
    assert b.print_string("3 + 4", timeout_ms=5000) == "7"
    assert a.print_string("(1 to: 3) collect: [:i | i * i]", timeout_ms=5000) == "(1 4 9 )"
    assert b.print_string("#(1 2 3) size", timeout_ms=5000) == "3"


def test_two_copies_of_the_same_image_are_separate_spaces():
    vm = VM()
    a = vm.load(image_path(MINI))
    b = vm.load(image_path(MINI))
    assert a.class_named("Object") is not b.class_named("Object")
    a.evaluate("Smalltalk at: #OzMarker put: 42", timeout_ms=5000)
    assert a.print_string("Smalltalk at: #OzMarker ifAbsent: [0]", timeout_ms=5000) == "42"
    assert b.print_string("Smalltalk at: #OzMarker ifAbsent: [0]", timeout_ms=5000) == "0"
    vm.check_isolation()


def test_each_space_keeps_its_own_method_cache():
    vm, a, b = load_two()
    a.print_string("3 printString", timeout_ms=5000)
    b.print_string("3 printString", timeout_ms=5000)
    ia, ib = a._interpreter, b._interpreter
    assert ia is not ib and ia.heap is a.heap and ib.heap is b.heap
    assert ia.cached_selectors and ib.cached_selectors
    for sel in ia.cached_selectors:
        assert a.owns(sel) and not b.owns(sel)
        for cls in (sel.cache or {}):
            assert a.owns(cls)
    for sel in ib.cached_selectors:
        assert b.owns(sel) and not a.owns(sel)


def test_switch_keeps_the_interrupted_process_active_with_pc_and_stack():
    vm, a, b = load_two()
    pa = a.create_process("| n | n := 0. [true] whileTrue: [n := n + 1]", priority=8)
    pb = b.create_process("| n | n := 0. [true] whileTrue: [n := n + 1]", priority=5)
    assert a.transfer_control(bytecodes=20000) == "quantum"
    assert vm.current is a
    ctx = pa.obj.ptrs[1]                        # saved in suspendedContext by the switch
    assert ctx is not a.nil
    saved = (ctx.ptrs[1], ctx.ptrs[2], list(ctx.ptrs))
    assert b.transfer_control(bytecodes=20000) == "quantum"
    assert vm.current is b and vm.switches >= 2
    # A was switched out: its process is still the active one, not in any ready list,
    # and its context is exactly as it was
    assert a.active_process() == pa
    lists = a.scheduler().ready_list_objects()
    assert all(pa.obj is not m.obj for _, procs in a.scheduler().ready_lists() for m in procs)
    assert pa.obj.ptrs[1] is ctx and (ctx.ptrs[1], ctx.ptrs[2], list(ctx.ptrs)) == saved
    assert len(lists) == 8
    n_before = pa.suspended_context().temps()[0].to_local()
    assert n_before > 0
    assert a.transfer_control(bytecodes=20000) == "quantum"
    assert pa.suspended_context().temps()[0].to_local() > n_before     # it went on from there
    assert b.active_process() == pb
    vm.check_isolation()


def test_transfer_answers_why_it_came_back():
    vm, a, b = load_two()
    # a quantum of bytecodes
    p = b.create_process("[true] whileTrue", priority=5)
    assert b.transfer_control(bytecodes=8000) == "quantum"
    assert 8000 <= b.last_transfer.bytecodes < 8000 + 10
    p.terminate()
    # idle: every process of the space suspended or waiting
    for proc in b.processes():
        proc.suspend()
    assert b.transfer_control(quantum_ms=200) == "idle"
    assert b.last_transfer.seconds < 0.1
    # a host process that finishes: the space is idle again, its value readable
    q = b.create_process("3 + 4", priority=5)
    assert b.transfer_control(quantum_ms=200) == "idle"
    assert q.result().to_local() == 7
    # error: a guest error comes back with the guest stack
    b.create_process("nil foo", priority=5)
    assert b.transfer_control(quantum_ms=500) == "error"
    assert "foo" in b.last_error.message
    assert "UndefinedObject>>DoIt (host process)" in b.last_error.stack
    # quit: the guest's quit primitive
    a.create_process("Smalltalk quitPrimitive", priority=8)
    assert a.transfer_control(quantum_ms=2000) == "quit"


def test_isolation_after_all_operations():
    vm, a, b = load_two()
    c = vm.load(image_path(MINI))
    for s in (a, b, c):
        p = s.create_process("[true] whileTrue", priority=80)
        s.transfer_control(quantum_ms=20)
        p.terminate()
    a.evaluate("Smalltalk at: #Shared put: (Array with: 1 with: 'two')", timeout_ms=5000)
    d = a.copy()
    d.evaluate("(Smalltalk at: #Shared) at: 1 put: 3", timeout_ms=5000)
    assert a.print_string("(Smalltalk at: #Shared) first", timeout_ms=5000) == "1"
    assert d.print_string("(Smalltalk at: #Shared) first", timeout_ms=5000) == "3"
    assert vm.spaces == [a, b, c, d]
    vm.check_isolation()
    # the walk itself: no object of one space reachable from another
    seen = {}
    for s in vm.spaces:
        for obj in s.heap.all_objects():
            assert seen.setdefault(id(obj), s) is s
            assert s.owns(obj.cls) or obj.cls is None
    # and the check does find a shared object
    a.heap.extra_roots.append(b.heap.specials)
    with pytest.raises(OzError, match="two spaces"):
        vm.check_isolation()
    a.heap.extra_roots.pop()


def test_a_space_of_another_vm_is_refused():
    vm1, vm2 = VM(), VM()
    a = vm1.load(image_path(CANDLE))
    with pytest.raises(OzError):
        vm2.switch_to(a)


def test_an_idle_space_stays_idle_across_host_evaluations():
    vm, a, b = load_two()
    for space in (a, b):
        for proc in space.processes():
            proc.suspend()
        assert space.transfer_control(quantum_ms=100) == "idle"
        # evaluations by the guest's compiler (a set-aside process) and by host processes
        space.print_string("3 + 4")
        assert space.print_string("3 + 4", timeout_ms=5000) == "7"
        # still idle: no suspended process was run
        assert space.transfer_control(quantum_ms=100) == "idle"
        assert space.last_transfer.bytecodes < 10
        c = space.copy()
        assert c.transfer_control(quantum_ms=100) == "idle"
        c.discard()


def test_an_unsupported_image_is_refused_and_the_vm_unchanged(tmp_path):
    from ozvm.errors import UnsupportedImageFormat
    vm, a, b = load_two()
    prerelease = tmp_path / "prerelease-spur.image"       # Spur 6519: recognised, refused
    prerelease.write_bytes((6519).to_bytes(4, "little")
                           + open(image_path("spur32-headless.image"), "rb").read()[4:])
    with pytest.raises(UnsupportedImageFormat):
        vm.load(str(prerelease))
    assert vm.spaces == [a, b]
    assert a.print_string("3 + 4", timeout_ms=5000) == "7"


def test_the_membrane_refuses_objects_of_another_space():
    from ozvm.errors import MembraneError
    vm, a, b = load_two()
    pa = a.create_process("3 + 4", priority=80, start=False)
    with pytest.raises(MembraneError):
        pa.inst_var_at_put(3, b.class_named("PCObject"))
    with pytest.raises(MembraneError):
        a.mirror_on(b.nil)
    vm.check_isolation()
