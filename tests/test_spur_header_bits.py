"""Spur's read-only and pinned header bits (SqObject.flags): kept when an image is read and
saved, and the primitives that read and set them (163/164 immutability, 183/184 pinning)
with the failure conditions of VMMaker's InterpreterPrimitives; stores into a read-only
object fail in every storing primitive (PrimErrNoModification)."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.memory import specials as S
from ozvm.memory.objects import FLAG_IMMUTABLE, FLAG_PINNED, SqObject
from ozvm.space.execution import run_method
from ozvm.vm import VM

SPUR64 = "pharocandle-spur64.image"
SPUR32 = "spur32-headless.image"


@pytest.fixture(scope="module")
def vm():
    return VM()


@pytest.fixture(scope="module")
def spur(vm):
    return vm.load(image_path(SPUR64))


def call(space, prim, rcvr, *args):
    """Run primitive `prim` as a send would; "failed" when its fallback code runs."""
    heap = space.heap
    marker = heap.new_string(b"failed")
    header = heap.family.make_method_header(len(args), len(args), 1, primitive=prim)
    code = bytes([32, 124])                         # push the marker, return it
    if heap.family.is_spur:
        code = bytes([139, prim & 0xFF, prim >> 8]) + code
    method = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, [marker], code)
    result = run_method(space, method, rcvr, list(args), timeout=5, max_bytecodes=1000)
    return "failed" if result is marker else result


@pytest.mark.parametrize("name", [SPUR64, SPUR32])
def test_the_bits_are_kept_by_save_and_load(tmp_path, name):
    space = VM().load(image_path(name))
    reachable = space.heap.all_objects()      # one deterministic order of the same graph
    marked = {}
    for i in range(5, 600, 37):
        marked[i] = (FLAG_IMMUTABLE, FLAG_PINNED, FLAG_IMMUTABLE | FLAG_PINNED)[i % 3]
        reachable[i].flags = marked[i]
    path = str(tmp_path / "bits.image")
    space.save(path)
    again = VM().load(path).heap.all_objects()
    assert [o.hash for o in again] == [o.hash for o in reachable]
    assert {i: o.flags for i, o in enumerate(again) if o.flags} == marked


def test_immutability_primitives(spur):
    heap = spur.heap
    arr = spur.mirror_on([1, 2, 3]).obj
    assert call(spur, 163, arr) is heap.false
    assert call(spur, 163, 42) is heap.true                 # immediates are read-only
    assert call(spur, 164, arr, heap.true) is heap.false    # answers whether it was
    assert arr.flags & FLAG_IMMUTABLE
    assert call(spur, 163, arr) is heap.true
    assert call(spur, 164, arr, heap.true) is heap.true
    assert call(spur, 164, arr, 3) == "failed"              # not a Boolean
    assert call(spur, 164, 42, heap.true) == "failed"       # an immediate
    assert call(spur, 164, arr, heap.false) is heap.true
    assert call(spur, 163, arr) is heap.false


def test_objects_that_cannot_be_read_only(spur):
    heap = spur.heap
    sched = heap.special(S.SCHEDULER_ASSOCIATION).ptrs[1]
    active = sched.ptrs[1]
    ctx = heap.new_context(heap.special(S.CLASS_METHOD_CONTEXT), [heap.nil] * 22)
    weak = heap.allocate(spur.class_named("PCArray"), 4, ptrs=[heap.nil])
    for obj in (sched, sched.ptrs[0], sched.ptrs[0].ptrs[1], active, ctx, weak):
        assert call(spur, 164, obj, heap.true) == "failed"
        assert not obj.flags
    # the VM knows Semaphores by the special objects array, where PharoCandle-Spur64 has
    # nil: its PCSemaphores can be made read-only, on the Spur VM too
    assert heap.special(S.CLASS_SEMAPHORE) is heap.nil
    sema = heap.instantiate(spur.class_named("PCSemaphore"))
    assert call(spur, 164, sema, heap.true) is heap.false and sema.flags


def test_a_semaphore_cannot_be_read_only(vm):
    space = vm.load(image_path(SPUR32))
    heap = space.heap
    sema = heap.instantiate(heap.special(S.CLASS_SEMAPHORE))
    assert call(space, 164, sema, heap.true) == "failed"
    assert call(space, 164, heap.new_array([]), heap.true) is heap.false


def test_stores_into_a_read_only_object_fail(spur):
    heap = spur.heap
    arr = spur.mirror_on([1, 2, 3]).obj
    text = spur.mirror_on("abc").obj
    point = heap.instantiate(spur.class_named("PCPoint"))
    other = spur.mirror_on([7, 8, 9]).obj
    for o in (arr, text, point):
        o.flags = FLAG_IMMUTABLE
    assert call(spur, 61, arr, 1, 5) == "failed" and arr.ptrs[0] == 1
    assert call(spur, 61, text, 1, 65) == "failed" and text.bytes == bytearray(b"abc")
    assert call(spur, 64, text, 1, spur.character(65)) == "failed"
    assert call(spur, 74, point, 1, 5) == "failed"
    assert call(spur, 174, point, 1, 5) == "failed" and call(spur, 174, arr, 1, 5) == "failed"
    assert call(spur, 105, arr, 1, 3, other, 1) == "failed" and arr.ptrs == [1, 2, 3]
    assert call(spur, 128, heap.new_array([arr]), heap.new_array([other])) == "failed"
    assert call(spur, 72, heap.new_array([other]), heap.new_array([arr])) == "failed"
    copy = call(spur, 148, arr)                              # a copy is writable
    assert copy.__class__ is SqObject and not copy.flags
    assert call(spur, 61, copy, 1, 5) == 5
    arr.flags = 0
    assert call(spur, 61, arr, 1, 5) == 5


def test_pinning_primitives(spur):
    heap = spur.heap
    arr = spur.mirror_on([1]).obj
    assert call(spur, 183, arr) is heap.false
    assert call(spur, 184, arr, heap.true) is heap.false
    assert call(spur, 183, arr) is heap.true and arr.flags & FLAG_PINNED
    assert call(spur, 184, arr, heap.true) is heap.true
    assert call(spur, 184, arr, 1) == "failed"
    assert call(spur, 183, 7) == "failed" and call(spur, 184, 7, heap.true) == "failed"
    # a pinned object cannot be become'd; stores into it are fine
    assert call(spur, 128, heap.new_array([arr]), heap.new_array([spur.mirror_on([2]).obj])) == "failed"
    assert call(spur, 61, arr, 1, 9) == 9
    assert call(spur, 184, arr, heap.false) is heap.true and not arr.flags


def test_v3_images_have_no_such_bits(vm):
    candle = vm.load(image_path("pharocandle.image"))
    arr = candle.mirror_on([1]).obj
    for prim, args in ((164, (candle.heap.true,)), (183, ()), (184, (candle.heap.true,))):
        assert call(candle, prim, arr, *args) == "failed"
    assert not arr.flags


# --- ephemerons: pointer objects for the mirrors and primitives --------------------------

def _ephemeron(space):
    heap = space.heap
    from ozvm.memory.objects import FMT_EPHEMERON
    key = heap.instantiate(space.class_named("PCObject"))
    return heap.allocate(space.class_named("PCAssociation"), FMT_EPHEMERON, ptrs=[key, 3]), key


def test_an_ephemeron_through_a_mirror(spur):
    eph, key = _ephemeron(spur)
    m = spur.mirror_on(eph)
    assert m.fixed_size() == 2 and m.variable_size() == 0
    assert m.inst_var_at(1).obj is key and m.inst_var_at(2).to_local() == 3
    m.inst_var_at_put(2, 4)
    assert eph.ptrs[1] == 4
    assert [f.obj for f in m.fields()][:1] == [key]


def test_an_ephemeron_in_the_primitives(spur):
    heap = spur.heap
    eph, key = _ephemeron(spur)
    assert call(spur, 73, eph, 1) is key
    assert call(spur, 74, eph, 2, 9) == 9 and eph.ptrs[1] == 9
    assert call(spur, 132, eph, key) is heap.true           # pointsTo:
    assert call(spur, 62, eph) == "failed"                 # not indexable, as a fixed object
    clone = call(spur, 148, eph)
    assert clone.fmt == eph.fmt and clone.ptrs == eph.ptrs and clone is not eph
    assert call(spur, 164, eph, heap.true) == "failed"      # cannot be read-only


# --- store bytecodes into a read-only object -------------------------------------------

def _method(space, nargs, code):
    heap = space.heap
    header = heap.family.make_method_header(nargs, nargs, 0)
    return heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, [], bytes(code))


@pytest.fixture
def assign_handler(vm):
    """A fresh PharoCandle-Spur64 whose Object>>attemptToAssign: value withIndex: index
    answers index (pushTemp 1, returnTop): PharoCandle has the selector, no method."""
    space = vm.load(image_path(SPUR64))
    handler = _method(space, 2, [0x11, 0x7C])
    space.mirror_on(space.class_named("PCObject")).method_dictionary().at_put(
        "attemptToAssign:withIndex:", handler)
    return space


@pytest.mark.parametrize("code", [
    [0x70, 0x77, 0x61, 0x7C],               # self; 2; popIntoRcvr: 1; returnTop
    [0x70, 0x77, 0x82, 0x01, 0x7C],         # self; 2; extended storeAndPop rcvr var 1; returnTop
    [0x70, 0x77, 0x84, 0xC0, 0x01, 0x7C],   # self; 2; doubleExtended storeAndPop rcvr var 1
])
def test_a_store_bytecode_into_a_read_only_object_sends_attempt_to_assign(assign_handler, code):
    """The store is not made; #attemptToAssign: 2 withIndex: 2 is sent to the object (as
    the Spur VM's cannotAssign:to:withIndex:), its answer left on the stack: the method
    then returns it instead of self."""
    space = assign_handler
    point = space.heap.instantiate(space.class_named("PCPoint"))
    method = _method(space, 0, code)
    assert run_method(space, method, point, [], timeout=5, max_bytecodes=1000) is point
    assert point.ptrs[1] == 2
    point.ptrs[1] = space.heap.nil
    point.flags = FLAG_IMMUTABLE
    assert run_method(space, method, point, [], timeout=5, max_bytecodes=1000) == 2
    assert point.ptrs[1] is space.heap.nil
    point.flags = FLAG_PINNED                                  # pinned: stores as usual
    assert run_method(space, method, point, [], timeout=5, max_bytecodes=1000) is point
    assert point.ptrs[1] == 2


def test_a_store_into_a_read_only_binding(assign_handler):
    """storeIntoLiteralVariable into a read-only Association: its value (index 2)."""
    space = assign_handler
    heap = space.heap
    binding = heap.instantiate(space.class_named("PCAssociation"))
    binding.flags = FLAG_IMMUTABLE
    header = heap.family.make_method_header(0, 0, 1)
    method = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, [binding],
                             bytes([0x77, 0x81, 0xC0, 0x7C]))    # 2; store litVar 0; returnTop
    assert run_method(space, method, heap.nil, [], timeout=5, max_bytecodes=1000) == 2
    assert binding.ptrs[1] is heap.nil


@pytest.mark.parametrize("code,stored", [
    ([76, 81, 201, 92], None),              # self; 1; popIntoRcvr: 1; returnTop (answers self)
    ([76, 81, 243, 1, 92], 1),              # self; 1; store rcvr var 1 (extended); returnTop
    ([76, 81, 240, 1, 92], None),           # self; 1; popInto rcvr var 1 (extended); returnTop
])
def test_sista_store_bytecodes_into_a_read_only_object(assign_handler, code, stored):
    """The same in a Sista V1 method (the alternate bytecode set of the Pharo 8 kernel)."""
    from ozvm.memory.objects import make_spur_method_header
    space = assign_handler
    heap = space.heap
    header = make_spur_method_header(0, 0, 0, alternate=True, small_int_min=heap.family.small_int_min)
    method = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, [], bytes(code))
    point = heap.instantiate(space.class_named("PCPoint"))
    normal = run_method(space, method, point, [], timeout=5, max_bytecodes=1000)
    assert normal is (point if stored is None else stored) and point.ptrs[1] == 1
    point.ptrs[1] = heap.nil
    point.flags = FLAG_IMMUTABLE
    assert run_method(space, method, point, [], timeout=5, max_bytecodes=1000) == 2
    assert point.ptrs[1] is heap.nil
