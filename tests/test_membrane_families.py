"""The membrane speaks each image family's SmallInteger range (memory/families.py): 31 bits
in V3 and 32-bit Spur images, 61 bits in 64-bit Spur images. Host ints cross as
SmallIntegers exactly where the family has them and as LargeIntegers elsewhere, through
every mirror setter (at:put:, instVarAt:put:, class pool writes) and the conversions;
`check_isolation()` holds the same range."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import MembraneError, OzError
from ozvm.memory import specials as S
from ozvm.memory.objects import FMT_DOUBLE_WORDS, FMT_SHORTS, SqObject
from ozvm.prims.values import positive32_object
from ozvm.vm import VM

SPUR64 = "pharocandle-spur64.image"
V3 = "pharocandle.image"
BIG = 2 ** 40                   # a SmallInteger in 64-bit Spur, a LargeInteger in V3
TOP = 2 ** 60 - 1               # the largest 61-bit SmallInteger


@pytest.fixture(scope="module")
def vm():
    return VM()


@pytest.fixture(scope="module")
def spur(vm):
    return vm.load(image_path(SPUR64))


@pytest.fixture(scope="module")
def v3(vm):
    return vm.load(image_path(V3))


def test_the_family_range_is_61_bits_on_spur64(spur, v3):
    fam = spur.heap.family
    assert (fam.small_int_min, fam.small_int_max) == (-2 ** 60, TOP)
    assert (v3.heap.family.small_int_min, v3.heap.family.small_int_max) == (-2 ** 30, 2 ** 30 - 1)


@pytest.mark.parametrize("value", [BIG, -BIG, TOP, -2 ** 60, 2 ** 30, -2 ** 30 - 1])
def test_ints_of_the_61_bit_range_cross_as_smallintegers(spur, value):
    assert spur.from_local(value) == value and spur.from_local(value).__class__ is int
    assert spur.mirror_on(value).is_small_integer()
    assert spur.owns(value)
    assert spur.to_local(spur.from_local(value)) == value


@pytest.mark.parametrize("value", [TOP + 1, -2 ** 60 - 1, 2 ** 64, -2 ** 100])
def test_ints_past_it_cross_as_large_integers(spur, value):
    guest = spur.from_local(value)
    assert guest.__class__ is SqObject and spur.class_of(guest).ptrs is not None
    names = {spur.class_named("PCLargePositiveInteger"), spur.class_named("PCLargeNegativeInteger")}
    assert spur.class_of(guest) in names
    assert spur.to_local(guest) == value
    assert not spur.owns(value)


def test_v3_keeps_its_31_bit_range(v3):
    guest = v3.from_local(BIG)
    assert guest.__class__ is SqObject and v3.to_local(guest) == BIG
    assert not v3.owns(BIG) and v3.owns(2 ** 30 - 1)


def test_mirror_setters_store_61_bit_smallintegers(vm, spur):
    arr = spur.mirror_on([0, 0, 0])
    arr.at_put(1, BIG)
    arr.at_put(2, TOP + 1)
    assert arr.obj.ptrs[0] == BIG and arr.obj.ptrs[0].__class__ is int
    assert arr.obj.ptrs[1].__class__ is SqObject         # a LargePositiveInteger
    assert arr.at(1).to_local() == BIG and arr.at(2).to_local() == TOP + 1
    point = spur.mirror_on(spur.heap.instantiate(spur.class_named("PCPoint")))
    point.inst_var_at_put(1, -BIG)
    assert point.obj.ptrs[0] == -BIG
    pool = spur.mirror_on(spur.class_named("PCFloat")).class_pool()
    old = pool.at("Epsilon")
    pool.at_put("Epsilon", BIG)
    try:
        assert pool.at("Epsilon").is_small_integer() and pool.at("Epsilon").to_local() == BIG
        vm.check_isolation()
    finally:
        pool.at_put("Epsilon", old)


def test_check_isolation_uses_each_family_range(vm, spur, v3):
    """A 61-bit int is a guest value in the Spur 64 space; stored raw into the V3 space
    it is a host value there."""
    assoc = v3.mirror_on(v3.class_named("PCFloat")).class_pool().association_at("Epsilon")
    old = assoc.ptrs[1]
    assoc.ptrs[1] = BIG                 # around the membrane, as a bug would
    try:
        with pytest.raises(OzError, match="host value"):
            vm.check_isolation()
    finally:
        assoc.ptrs[1] = old
    vm.check_isolation()


def test_word_objects_of_each_unit_size(spur):
    heap = spur.heap
    cls = spur.class_named("PCWordArray")
    words = spur.mirror_on(heap.instantiate(cls, 2))
    words.at_put(1, 2 ** 32 - 1)
    with pytest.raises(MembraneError):
        words.at_put(2, 2 ** 32)
    for fmt, bits in ((FMT_DOUBLE_WORDS, 64), (FMT_SHORTS, 16)):
        obj = heap.allocate(cls, fmt, words=[0, 0])
        m = spur.mirror_on(obj)
        m.at_put(1, 2 ** bits - 1)
        assert m.at(1) == 2 ** bits - 1
        with pytest.raises(MembraneError):
            m.at_put(2, 2 ** bits)


def test_positive32_values_are_smallintegers_in_64_bit_spur(spur, v3):
    assert positive32_object(spur.heap, 2 ** 32 - 1) == 2 ** 32 - 1
    large = positive32_object(v3.heap, 2 ** 31)
    assert large.__class__ is SqObject and large.cls is v3.heap.special(S.CLASS_LARGE_POSITIVE_INTEGER)
