"""Spur images (6521 32-bit, 68021 64-bit): read into the one object model, written back;
load -> save -> load is isomorphic and saving is a fixed point, for the three shared Spur
images; immediates, class indices, method headers and forwarders as the format says."""
from __future__ import annotations

import os
import struct

import pytest

from conftest import SPUR_IMAGES, image_path, load_heap
from test_image_roundtrip import assert_isomorphic
from ozvm.errors import ImageFormatError, OzError, UnsupportedImageFormat
from ozvm.image.formats import encode_image, read_image, read_image_bytes, write_image
from ozvm.memory import specials as S
from ozvm.memory.objects import (
    FMT_BYTES, FMT_IMMEDIATE, FMT_METHOD, FMT_WORDS, SqObject, float_of_words, small_float_bits,
    small_float_oop, words_of_float,
)


@pytest.fixture(params=SPUR_IMAGES)
def spur_name(request):
    return request.param


def test_family_and_header(spur_name):
    heap = load_heap(spur_name)
    info = heap.info
    is64 = "64" in spur_name
    assert info.version == (68021 if is64 else 6521)
    assert heap.family.is_spur and heap.family.word_size == (8 if is64 else 4)
    assert info.header_size == (128 if is64 else 64)
    assert info.data_size + info.header_size == os.path.getsize(image_path(spur_name))
    assert info.has_closures
    assert heap.family.small_int_max == ((1 << 60) - 1 if is64 else (1 << 30) - 1)


def test_kernel_objects_and_class_table(spur_name):
    heap = load_heap(spur_name)
    sp = heap.specials.ptrs
    assert heap.nil is sp[S.NIL] and heap.nil.fmt == 0 and heap.nil.ptrs == []
    # the immediates' classes have the VM's fixed indices; a class's hash is its index
    assert heap.class_table[1] is sp[S.CLASS_SMALLINTEGER] and sp[S.CLASS_SMALLINTEGER].hash == 1
    assert heap.class_table[2] is sp[S.CLASS_CHARACTER] and sp[S.CLASS_CHARACTER].hash == 2
    objs = heap.all_objects()
    for o in objs:
        assert heap.class_table[heap.class_index(o.cls)] is o.cls
        assert 0 <= o.hash < 1 << 22 and o.fmt != FMT_IMMEDIATE
    # every object's class is a class of the table; no hidden object became a guest object
    assert {id(o.cls) for o in objs} <= {id(c) for c in heap.class_table.values()}


def test_immediate_characters_are_unique_objects(spur_name):
    heap = load_heap(spur_name)
    chars = [p for o in heap.all_objects() if o.ptrs for p in o.ptrs
             if p.__class__ is SqObject and p.fmt == FMT_IMMEDIATE and p.words is None]
    assert chars, "every shared Spur image holds Character literals"
    for ch in chars:
        assert ch.cls is heap.special(S.CLASS_CHARACTER) and ch.ptrs == [ch.hash]
        assert heap.character(ch.ptrs[0]) is ch          # one object per code point
    assert heap.character(0x1F600).ptrs == [0x1F600]   # beyond Latin-1 too
    assert heap.character(0x1F600) is heap.character(0x1F600)


def test_small_float_encoding():
    for value in (1.0, -2.5, 3.141592653589793, 1e-30, 1e30, 0.0, -0.0, 2.0 ** 128, 2.0 ** -126):
        words = words_of_float(value)
        bits = (words[0] << 32) | words[1]
        oop = small_float_oop(bits)
        assert oop is not None and oop & 7 == 4, value
        assert small_float_bits(oop) == bits, value
    for value in (1e300, 1e-300, float("inf"), float("nan"), 2.0 ** 129, 2.0 ** -127):
        words = words_of_float(value)
        assert small_float_oop((words[0] << 32) | words[1]) is None, value


def test_small_floats_in_64_bit_images():
    heap = load_heap("pharo8-kernel-spur64.image")
    floats = [p for o in heap.all_objects() if o.ptrs for p in o.ptrs
              if p.__class__ is SqObject and p.fmt == FMT_IMMEDIATE and p.words is not None]
    assert floats and all(p.cls is heap.class_table[4] for p in floats)
    assert 0.5 in {float_of_words(p.words) for p in floats}
    made = heap.new_float(0.5)
    assert made.fmt == FMT_IMMEDIATE and heap.float_value(made) == 0.5
    boxed = heap.new_float(1e300)
    assert boxed.fmt == FMT_WORDS and boxed.cls is heap.special(S.CLASS_FLOAT)
    # PharoCandle-Spur64 has a SmallFloat64 literal (pi) but no SmallFloat64 class:
    # the VM's class table answers nil for it, so does ozvm
    candle = load_heap("pharocandle-spur64.image")
    pis = [p for o in candle.all_objects() if o.fmt == FMT_METHOD for p in o.ptrs
           if p.__class__ is SqObject and p.fmt == FMT_IMMEDIATE and p.words is not None]
    assert pis and pis[0].cls is candle.nil and candle.float_value(pis[0]) == 3.141592653589793


def test_boxed_floats_read_in_platform_order():
    heap = load_heap("spur32-headless.image")
    fc = heap.special(S.CLASS_FLOAT)
    values = {heap.float_value(o) for o in heap.all_objects() if o.cls is fc}
    assert {0.5, 3.141592653589793, 1.7976931348623157e+308, 1073741823.0} <= values


def test_method_headers():
    heap = load_heap("pharo8-kernel-spur64.image")
    fam = heap.family
    methods = [o for o in heap.all_objects() if o.fmt == FMT_METHOD]
    assert len(methods) > 5000
    # this kernel's methods all use the V3PlusClosures set (no alternate-set sign bit);
    # a primitive's number is in the callPrimitive bytecode (139) that starts the method
    assert not any(fam.method_alternate_bytecodes(m.ptrs[0]) for m in methods)
    for m in methods:
        assert fam.method_num_literals(m.ptrs[0]) == len(m.ptrs) - 1
    prims = [m for m in methods if m.ptrs[0] & 0x10000]
    assert len(prims) > 1000 and all(m.bytes[0] == 139 for m in prims)
    assert {fam.method_primitive(m) for m in prims} >= {1, 60, 61, 70, 71, 75, 105, 110}
    small = load_heap("spur32-headless.image")
    m32 = [o for o in small.all_objects() if o.fmt == FMT_METHOD]
    assert not any(small.family.method_alternate_bytecodes(m.ptrs[0]) for m in m32)
    assert any(small.family.method_primitive(m) == 1 and m.bytes[0] == 139 for m in m32)  # SmallInteger>>+


def test_64_bit_small_integers():
    heap = load_heap("pharo8-kernel-spur64.image")
    big = [p for o in heap.all_objects() if o.ptrs for p in o.ptrs
           if p.__class__ is int and not -0x40000000 <= p < 0x40000000]
    assert big, "a 64-bit image holds SmallIntegers beyond 31 bits"


def test_roundtrip_isomorphic_and_fixed_point(spur_name):
    heap = load_heap(spur_name)
    data = encode_image(heap)
    again = read_image_bytes(data)
    assert_isomorphic(heap, again)
    assert encode_image(again) == data
    assert again.class_table.keys() <= heap.class_table.keys()
    for index, cls in again.class_table.items():
        assert cls.hash == heap.class_table[index].hash


def test_forwarders_are_resolved():
    """The 32-bit image holds forwarders (objects that became others); pointers to them
    are pointers to their targets, and none is written back."""
    path = image_path("spur32-headless.image")
    raw = open(path, "rb").read()
    heap = read_image(path)
    forwarders = [u for u in _headers(raw, 64) if u[1] == 8]
    assert len(forwarders) > 10
    assert not [u for u in _headers(encode_image(heap), 64) if u[1] == 8]


def _headers(data, header_size):
    """(unit, class index, format) of every object header in one-segment Spur memory."""
    from array import array
    q = array("Q")
    q.frombytes(data[header_size:])
    word = 4 if struct.unpack_from("<I", data, 0)[0] == 6521 else 8
    u, out = 0, []
    while u < len(q) - 2:
        h = q[u]
        n = h >> 56
        if n == 255:
            n = h & ((1 << 56) - 1)
            u += 1
            h = q[u]
        out.append((u, h & 0x3FFFFF, (h >> 24) & 31))
        body = (n + 1) // 2 if word == 4 else n
        u += 1 + max(body, 1)
    return out


def test_new_objects_and_classes_round_trip():
    heap = load_heap("pharocandle-spur64.image")
    arr = heap.special(S.CLASS_ARRAY)
    s = heap.new_string("ozvm was here")
    big = heap.new_array(list(range(300)) + [heap.character(0x263A), heap.new_float(2.5), 1 << 59])
    heap.specials.ptrs[S.EXTERNAL_OBJECTS_ARRAY] = heap.new_array([s, big])
    # an object whose class has no class index yet (a class copied by hand)
    cls = SqObject(arr.cls, arr.fmt, 0, ptrs=list(arr.ptrs))
    odd = SqObject(cls, 2, heap.new_hash(), ptrs=[1, 2])
    big.ptrs.append(odd)
    data = encode_image(heap)
    assert cls.hash >= 1024 and heap.class_table[cls.hash] is cls
    again = read_image_bytes(data)
    assert_isomorphic(heap, again)
    ext = again.specials.ptrs[S.EXTERNAL_OBJECTS_ARRAY]
    assert ext.ptrs[0].bytes == bytearray(b"ozvm was here") and ext.ptrs[0].fmt == FMT_BYTES
    items = ext.ptrs[1].ptrs
    assert items[:300] == list(range(300)) and items[300] is again.character(0x263A)
    assert again.float_value(items[301]) == 2.5 and items[302] == 1 << 59
    assert items[303].cls.hash == cls.hash and items[303].ptrs == [1, 2]


def test_out_of_range_integer_is_refused():
    heap = load_heap("spur32-headless.image")
    heap.specials.ptrs[S.EXTERNAL_OBJECTS_ARRAY] = heap.new_array([1 << 40])
    with pytest.raises(OzError, match="SmallInteger range"):
        encode_image(heap)


def test_save_is_atomic_and_input_untouched(tmp_path):
    path = image_path("spur32-headless.image")
    before = open(path, "rb").read()
    heap = read_image(path)
    out = str(tmp_path / "copy.image")
    write_image(heap, out)
    write_image(heap, out)
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(str(tmp_path))) == ["copy.image"]
    with pytest.raises(OzError, match="little-endian"):
        write_image(heap, str(tmp_path / "big.image"), little_endian=False)
    assert sorted(os.listdir(str(tmp_path))) == ["copy.image"]
    assert_isomorphic(heap, read_image(out))


@pytest.mark.parametrize("name,version,word", [("spur32-headless.image", 6521, 4),
                                               ("pharocandle-spur64.image", 68021, 8)])
def test_big_endian_spur_is_refused_as_a_format_no_vm_writes(name, version, word, tmp_path):
    """A real Spur image with its header fields byte-swapped (the two 32-bit fields, then
    words of the image's size, as VMMaker's reader would take them): refused, saying why
    (docs/spur.md, byte order)."""
    data = bytearray(open(image_path(name), "rb").read())
    for at in [0, 4] + list(range(8, 8 + 8 * word, word)):
        size = 4 if at < 8 else word
        data[at:at + size] = data[at:at + size][::-1]
    assert int.from_bytes(data[0:4], "big") == version
    with pytest.raises(UnsupportedImageFormat) as e:
        read_image_bytes(bytes(data))
    assert "big-endian Spur images do not exist" in str(e.value)
    assert "version %d read byte-swapped" % version in str(e.value)
    assert "byte 7 of its header" in str(e.value)
    # from a file too (its header's sizes are not taken in the wrong byte order first)
    path = tmp_path / "swapped.image"
    path.write_bytes(bytes(data))
    with pytest.raises(UnsupportedImageFormat, match="big-endian Spur images do not exist"):
        read_image(str(path))


@pytest.mark.parametrize("name,where,message", [
    ("spur32-headless.image", 4, "header size"),
    ("spur32-headless.image", 8, "object memory"),
    ("pharocandle-spur64.image", 72, "segment size"),
])
def test_bad_header_fields(name, where, message):
    data = bytearray(open(image_path(name), "rb").read())
    data[where:where + 4] = struct.pack("<I", 7)
    with pytest.raises(ImageFormatError, match=message) as e:
        read_image_bytes(bytes(data))
    assert e.value.offset == where
