"""Sandboxes: space.copy() is an independent deep copy; destructive guest code run in it
(a class removed, Object>>printString redefined, memory filled) leaves the original space
and its image file unchanged; a memory limit stops a guest that grows past it."""
from __future__ import annotations

import hashlib

import pytest

from conftest import image_path
from ozvm.vm import VM

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_copy_is_an_independent_graph():
    vm = VM()
    a = vm.load(image_path(MINI))
    c = a.copy()
    assert c.vm is vm and vm.spaces == [a, c]
    assert c.object_count() == a.object_count()
    assert c.class_named("Object") is not a.class_named("Object")
    assert [x.name() for x in map(c.mirror_on, c.classes())] == [x.name() for x in map(a.mirror_on, a.classes())]
    assert c.info.path is None            # nothing it does can write the original file
    vm.check_isolation()
    c.discard()
    assert vm.spaces == [a] and c.vm is None


def test_destructive_changes_in_a_sandbox_are_invisible_to_the_original():
    path = image_path(MINI)
    before = _digest(path)
    vm = VM()
    a = vm.load(path)
    sandbox = a.copy()
    # redefine Object>>printString with the guest's own compiler, remove a class
    sandbox.evaluate("Object compile: 'printString ^''hacked''' classified: 'oz' notifying: nil", timeout_ms=20000)
    sandbox.evaluate("Bag removeFromSystem", timeout_ms=20000)
    assert sandbox.print_string("Object new", timeout_ms=5000) == "hacked"
    assert sandbox.print_string("3", timeout_ms=5000) == "hacked"
    assert sandbox.to_local(sandbox.evaluate("Smalltalk includesKey: #Bag", timeout_ms=5000)) is False
    assert sandbox.global_named("Bag") is None and a.global_named("Bag") is not None
    # the original: unchanged
    assert a.print_string("Object new", timeout_ms=5000) == "an Object"
    assert a.print_string("Smalltalk includesKey: #Bag", timeout_ms=5000) == "true"
    assert a.print_string("(Bag new add: 3; add: 3; yourself) size", timeout_ms=5000) == "2"
    vm.check_isolation()
    sandbox.discard()
    assert _digest(path) == before


def test_pharocandle_sandbox_method_change_and_removal():
    path = image_path(CANDLE)
    before = _digest(path)
    vm = VM()
    a = vm.load(path)
    s = a.copy()
    s.install(s.class_named("PCObject"), "printString\n\t^ 'hacked'")
    md = s.mirror_on(s.class_named("PCSmallInteger")).method_dictionary()
    assert s.print_string("PCObject new", timeout_ms=5000) == "hacked"
    assert a.print_string("PCObject new", timeout_ms=5000) != "hacked"
    assert a.print_string("3 + 4", timeout_ms=5000) == "7"
    vm.check_isolation()
    assert md is not None and _digest(path) == before


def test_filling_memory_in_a_sandbox_is_stopped_by_its_limit():
    vm = VM()
    a = vm.load(image_path(MINI))
    s = a.copy()
    s.memory_limit = 6 << 20
    p = s.create_process("| all | all := OrderedCollection new. "
                         "[true] whileTrue: [all add: (Array new: 10000)]", priority=80)
    for _ in range(100):
        reason = s.transfer_control(quantum_ms=100)
        if reason != "quantum":
            break
    assert reason == "memory"
    assert "memory limit" in s.last_error.message and "6144 KB" in s.last_error.message
    assert "UndefinedObject>>DoIt (host process)" in s.last_error.stack
    assert p.state() == "suspended"        # stopped; the space goes on
    p.terminate()
    s.memory_limit = None
    assert s.print_string("3 + 4", timeout_ms=5000) == "7"
    assert a.print_string("3 + 4", timeout_ms=5000) == "7"
    vm.check_isolation()


def test_running_processes_are_copied_with_their_state():
    vm = VM()
    a = vm.load(image_path(CANDLE))
    p = a.create_process("| n | n := 0. [true] whileTrue: [n := n + 1]", priority=80)
    a.transfer_control(quantum_ms=30)
    n = p.suspended_context().temps()[0].to_local()
    c = a.copy()
    q = c.active_process()
    assert q.obj is not p.obj and q.suspended_context().temps()[0].to_local() == n
    assert c.transfer_control(quantum_ms=30) == "quantum"
    assert q.suspended_context().temps()[0].to_local() > n
    assert p.suspended_context().temps()[0].to_local() == n     # the original did not move
    vm.check_isolation()


def test_memory_limit_stops_an_evaluation_precisely():
    from ozvm.errors import GuestError
    vm = VM()
    s = vm.load(image_path(CANDLE)).copy()
    s.memory_limit = 4 << 20
    with pytest.raises(GuestError) as info:
        s.evaluate("| all | all := PCArray new: 1000. 1 to: 1000 do: [:i | all at: i put: (PCArray new: 20000)]. all",
                   timeout_ms=20000)
    err = info.value
    assert err.message.startswith("memory limit:") and "4096 KB" in err.message
    held = int(err.message.split("holds ")[1].split(" KB")[0])
    needed = int(err.message.split("needs ")[1].split(" KB")[0])
    # refused before it was made: the space stays under its limit
    assert held <= 4096 < held + needed and s.memory_figures()["peak"] <= 4 << 20
    assert "UndefinedObject>>DoIt (host process)" in err.stack
    s.memory_limit = None
    assert s.print_string("3 + 4", timeout_ms=5000) == "7"


@pytest.mark.parametrize("name", [MINI, "pharocandle-spur64.image"])
def test_a_copy_and_a_save_made_from_a_snapshot_are_the_space_then(tmp_path, name):
    """The snapshot is taken on the space's thread; what is made of it elsewhere is the
    space as it was then: the same file as a save at that moment, a copy without the
    changes made since."""
    from ozvm.space.sandbox import run_steps, snapshot_space
    vm = VM()
    a = vm.load(image_path(name))
    a.save(str(tmp_path / "direct.image"))
    snap = snapshot_space(a)
    root = a.class_named("Object") or a.class_named("PCObject")
    a.install(root, "ozAfterTheSnapshot ^ 1")          # a change after the snapshot
    run_steps(snap.save_steps(str(tmp_path / "snapshot.image")))
    assert _digest(str(tmp_path / "snapshot.image")) == _digest(str(tmp_path / "direct.image"))
    copy = snapshot_space(a)                           # a copy made while the space changes
    a.install(root, "ozAfterTheCopy ^ 2")
    c = copy.adopt()
    croot = c.class_named("Object") or c.class_named("PCObject")
    names = c.mirror_on(croot).selectors()
    assert "ozAfterTheSnapshot" in names and "ozAfterTheCopy" not in names
    assert "ozAfterTheCopy" in a.mirror_on(root).selectors()
    assert c.vm is vm and c.info.path is None
    vm.check_isolation()


def test_a_copy_answers_the_originals_image_name_and_snapshots_into_its_overlay(tmp_path):
    import shutil
    folder = tmp_path / "host"
    folder.mkdir()
    path = folder / "mini.image"
    shutil.copy(image_path(MINI), path)
    before = sorted(p.name for p in folder.iterdir())
    vm = VM()
    a = vm.load(str(path))
    c = a.copy()
    assert c.info.path is None                  # a save of the copy must name its file
    name = a.print_string("Smalltalk imageName", timeout_ms=5000)
    assert name == "'%s'" % path
    assert c.print_string("Smalltalk imageName", timeout_ms=5000) == name
    # FileDirectory's start-up (run when the copy is resumed) finds the image's folder
    c.evaluate("FileDirectory startUp", timeout_ms=20000)
    assert c.print_string("FileDirectory default pathName", timeout_ms=20000) == "'%s'" % folder
    # the snapshot primitive writes beside imageName through the copy's overlay
    assert c.print_string("Smalltalk snapshotPrimitive", timeout_ms=60000) == "false"
    assert c.print_string("Smalltalk imageName", timeout_ms=5000) == "'%s'" % (folder / "mini-snapshot.image")
    assert c.print_string("FileDirectory default fileExists: 'mini-snapshot.image'", timeout_ms=20000) == "true"
    assert sorted(p.name for p in folder.iterdir()) == before      # the host's folder: unchanged
    assert a.print_string("Smalltalk imageName", timeout_ms=5000) == name
    vm.check_isolation()
