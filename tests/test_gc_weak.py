"""Weak references, finalization and object enumeration as the C VM has them (memory/gc.py).

The differential test runs a scriptable copy of Scratch 1.4's image (tests/scratch_oracle.py)
on ozvm and compares its lines with squeak-vm's (tests/data/scratch_gc_expected.txt, with the
command that regenerates it at the top of tests/data/scratch_gc_expressions.txt): weak
fields cleared by garbageCollect, the finalization semaphore, allInstances and instanceCount
after a collection, someObject/nextObject order, garbageCollect's answer.
"""
from __future__ import annotations

import os
import sys

import pytest

from conftest import image_path, scratch_image
from ozvm.memory import specials as S
from ozvm.memory.objects import SqObject
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import scratch_oracle  # noqa: E402


@pytest.mark.parametrize("reuse, tier", [(True, "off"), (False, "off"), (True, "on")],
                         ids=["contexts-reused", "no-reuse", "contexts-reused-tier"])
def test_scratch_copy_under_oz_run_answers_as_squeak_vm(tmp_path, monkeypatch, reuse, tier):
    """The kept answers hold for the copy they were made on; if the copy ozvm makes has
    changed since (ozvm's compiler or writer), squeak-vm is asked again on the new copy.
    no-reuse: as on PyPy (OZ_NO_RECYCLE=1: returned contexts are not reused, new contexts
    are listed only when a collection or an enumeration finds them reachable). tier: the
    interpreter alone (OZ_JIT=0), or with the translation tier (OZ_JIT=on), whatever the
    default (docs/jit.md)."""
    monkeypatch.setenv("OZ_JIT", tier)
    if not reuse:
        monkeypatch.setenv("OZ_NO_RECYCLE", "1")
    exprs = scratch_oracle.read_expressions()
    made_on, expected = scratch_oracle.read_expected()
    assert [l.split("\t")[1] for l in expected[:-1]] == exprs and expected[-1] == "DONE"
    image = str(tmp_path / scratch_oracle.IMAGE_NAME)
    scratch_oracle.build(scratch_image(), image)
    if scratch_oracle.fingerprint(image) != made_on:
        squeak_dir = tmp_path / "squeak"
        squeak_dir.mkdir()
        expected = scratch_oracle.run_squeak(str(squeak_dir), image, exprs)
        assert expected and expected[-1] == "DONE", "squeak-vm did not finish"
    lines, proc = scratch_oracle.run_ozvm(str(tmp_path), image, exprs, timeout=600)
    assert lines and lines[-1] == "DONE", proc.stderr[-3000:]
    diffs = ["%s\n    squeak-vm: %s\n    ozvm:      %s" % (e.split("\t")[1], e, g)
             for e, g in zip(expected, lines) if e != g]
    assert not diffs and len(lines) == len(expected), "\n".join(diffs)


# --- the collector on a small image ----------------------------------------------------------

@pytest.fixture
def space():
    return ObjectSpace.load(image_path("pharocandle.image"))


def _weak_class(space):
    """A class of weak objects with one named field, made for the test."""
    from ozvm.memory.objects import FMT_WEAK, make_format_value
    heap = space.heap
    array = heap.special(S.CLASS_ARRAY)
    cls = heap.new_object(array.cls, array.fmt, ptrs=list(array.ptrs))
    cls.ptrs[2] = make_format_value(FMT_WEAK, 1)
    return cls


def test_full_collection_clears_weak_fields_to_garbage_only(space):
    heap = space.heap
    weak = _weak_class(space)
    kept = heap.new_array([])
    w = heap.instantiate(weak, 4)
    garbage = heap.new_array([w])          # referred to by the named (strong) field
    w.ptrs[0] = garbage
    w.ptrs[1:5] = [heap.new_array([]), kept, 7, heap.new_string("x")]
    heap.extra_roots += [w, kept]
    n = len(heap.objects)
    heap.gc.young_collection()             # young collections leave weak fields alone
    assert w.ptrs[1].__class__ is SqObject and w.ptrs[4].__class__ is SqObject
    assert len(heap.objects) <= n
    assert heap.gc.collect() == 2
    assert w.ptrs[0] is garbage and w.ptrs[1] is heap.nil and w.ptrs[2] is kept
    assert w.ptrs[3] == 7 and w.ptrs[4] is heap.nil
    listed = set(map(id, heap.objects))
    assert id(w) in listed and id(kept) in listed and id(garbage) in listed
    assert heap.gc.collect() == 0


def test_enumeration_is_memory_order_and_keeps_garbage_until_a_collection(space):
    heap = space.heap
    gc = heap.gc
    assert heap.objects == list(heap.info.oop_table.values())
    a = heap.new_array([1])
    b = heap.new_array([2])
    assert gc.object_after(a) is b and gc.instance_after(a) is b
    assert gc.first_object() is heap.objects[0]
    heap.extra_roots.append(b)
    gc.collect()
    assert id(a) not in set(map(id, heap.objects))
    assert gc.object_after(a) is None and gc.instance_after(a) is None
    assert heap.objects[-1] is b
    c = heap.new_array([3])
    assert gc.object_after(b) is c


def test_young_collections_drop_garbage_without_a_full_one(space):
    heap = space.heap
    before = len(heap.objects)
    for i in range(30000):
        heap.new_array([i])
    assert len(heap.objects) < before + 10000
    assert heap.gc.counts[0] == 0 and heap.gc.counts[1] >= 1


def test_garbage_collect_signals_the_finalization_semaphore():
    """Through the guest: a weak field cleared by garbageCollect signals special object 41,
    once per collection that cleared any."""
    space = ObjectSpace.load(scratch_image())
    heap = space.heap
    sema = heap.instantiate(heap.special(S.CLASS_SEMAPHORE))
    sema.ptrs[2] = 0
    heap.specials.ptrs[S.THE_FINALIZATION_SEMAPHORE] = sema
    w = heap.instantiate(space.class_named("WeakArray"), 2)
    w.ptrs[0] = heap.new_array([])
    w.ptrs[1] = heap.new_array([])
    heap.extra_roots.append(w)
    assert int(X.print_string(space, "Smalltalk garbageCollect")) > 0
    assert w.ptrs[0] is heap.nil and w.ptrs[1] is heap.nil
    assert sema.ptrs[2] == 1                # excessSignals
    X.print_string(space, "Smalltalk garbageCollect")
    assert sema.ptrs[2] == 1                # nothing cleared: no signal


def test_returned_contexts_are_reused_and_garbage_is_dropped(monkeypatch):
    """Sends and acyclic garbage do not make the list grow (returned contexts are reused,
    young collections drop the rest); cyclic garbage (a block and its home context) is
    dropped by a marking young collection once the list is long enough."""
    from ozvm.memory import gc as G
    space = ObjectSpace.load(image_path("squeak2.2-mini.image"))
    X.print_string(space, "3 + 4")
    objects = lambda: len(space.heap.objects)  # noqa: E731
    before = objects()
    assert X.print_string(space, "(1 to: 10000) inject: 0 into: [:s :i | s + (Array new: i \\\\ 7) size + (i even ifTrue: [1] ifFalse: [0])]") == "34998"
    assert objects() - before < G.YOUNG_SPACE + G.TENURE_AT
    monkeypatch.setattr(G, "MARK_AGAIN", 5000)
    before = objects()
    assert X.print_string(space, "(1 to: 5000) inject: 0 into: [:s :i | s + i printString size]") == "18893"
    assert objects() - before < before + G.MARK_AGAIN + G.YOUNG_SPACE


@pytest.mark.parametrize("threshold", [None, 2], ids=["interpreter", "tier"])
def test_a_context_returned_from_translated_code_is_reused(threshold):
    """A method the interpreter sends that runs translated (the driver's base frame, its
    return made by the interpreter's do_return) leaves its context for reuse, as the
    interpreter's own return does: the next activation takes it instead of listing a new
    context between two objects made meanwhile, so `nextObject` answers what squeak-vm
    does (after a collection the free lists are empty, as the C VM's)."""
    from ozvm.interp.jit import Jit
    from ozvm.vm import VM
    space = VM().load(image_path("squeak2.2-mini.image"))
    space.install(space.class_named("Object"), "ozPass | t | t := self. ^ t")
    interp = X.interpreter_for(space)
    interp.jit = None if threshold is None else Jit(interp, threshold)
    expr = ("| a b | 5 timesRepeat: [nil ozPass]. Smalltalk garbageCollect. nil ozPass. "
            "a := Object new. nil ozPass. b := Object new. a nextObject == b")
    assert X.evaluate_and_print(space, expr) == "true"
    if threshold is not None:
        assert interp.jit.translated >= 1
