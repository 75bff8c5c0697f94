"""Load -> save -> load gives an isomorphic object graph, in both byte orders, for every
shared V3 image; saving is a fixed point; input files are never modified."""
from __future__ import annotations

import hashlib
import os

import pytest

from conftest import V3_IMAGES, image_path, load_heap
from ozvm.errors import UnsupportedImageFormat
from ozvm.image.formats import read_image, read_image_bytes, write_image
from ozvm.image.v3_writer import encode_image
from ozvm.memory.objects import SqObject


def assert_isomorphic(h1, h2):
    """Same objects in the same reachability order, with the same classes, shapes,
    hashes and contents (pointers compared through the correspondence)."""
    a, b = h1.all_objects(), h2.all_objects()
    assert len(a) == len(b)
    ia = {id(o): i for i, o in enumerate(a)}
    ib = {id(o): i for i, o in enumerate(b)}

    def same(x, y):
        if x.__class__ is SqObject:
            if x.fmt == 7:          # a Spur immediate Character or SmallFloat64
                return (y.__class__ is SqObject and y.fmt == 7 and ia[id(x.cls)] == ib[id(y.cls)]
                        and (x.ptrs, x.words, x.hash) == (y.ptrs, y.words, y.hash))
            return y.__class__ is SqObject and ia[id(x)] == ib[id(y)]
        return x == y

    for n, (x, y) in enumerate(zip(a, b)):
        assert ia[id(x.cls)] == ib[id(y.cls)], n
        assert (x.hash, x.fmt) == (y.hash, y.fmt), n
        assert (x.ptrs is None) == (y.ptrs is None), n
        if x.ptrs is not None:
            assert len(x.ptrs) == len(y.ptrs), n
            assert all(same(p, q) for p, q in zip(x.ptrs, y.ptrs)), n
        assert x.bytes == y.bytes, n
        assert x.words == y.words, n
    assert ia[id(h1.specials)] == ib[id(h2.specials)]
    for field in ("version", "window_size", "flags", "extra_vm_memory"):
        assert getattr(h1.info, field) == getattr(h2.info, field)
    assert h1.last_hash == h2.last_hash


@pytest.mark.parametrize("little", [True, False], ids=["little", "big"])
def test_roundtrip_isomorphic(v3_name, little):
    heap = load_heap(v3_name)
    data = encode_image(heap, little)
    again = read_image_bytes(data)
    assert again.info.little_endian is little
    assert_isomorphic(heap, again)
    # saving what was loaded back gives the very same bytes (a fixed point), in either order
    assert encode_image(again, little) == data
    assert encode_image(again, not little) == encode_image(heap, not little)


def test_floats_survive_both_orders(v3_name):
    heap = load_heap(v3_name)
    float_cls = heap.special(9)
    values = [repr(heap.float_value(o)) for o in heap.all_objects() if o.cls is float_cls]
    assert values, "every shared image has Floats"
    assert "1.5" in values or "0.5" in values or "2.0" in values
    for little in (True, False):
        again = read_image_bytes(encode_image(heap, little))
        fc = again.special(9)
        assert [repr(again.float_value(o)) for o in again.all_objects() if o.cls is fc] == values


@pytest.mark.parametrize("name", ["squeak2.2-mini.image", "squeak2.2-benchmark.image"])
def test_unchanged_space_is_written_back_byte_for_byte(name):
    """These images hold no garbage: ozvm writes exactly the original file (same order,
    addresses, headers, hashes and contents)."""
    with open(image_path(name), "rb") as f:
        original = f.read()
    assert encode_image(read_image(image_path(name))) == original


def test_new_objects_go_after_the_original_ones():
    heap = load_heap("squeak2.2-mini.image")
    with open(image_path("squeak2.2-mini.image"), "rb") as f:
        original = f.read()
    heap.specials.ptrs[38] = heap.new_array([heap.new_string("ozvm was here")])
    data = encode_image(heap)
    assert len(data) > len(original)
    again = read_image_bytes(data)
    ext = again.specials.ptrs[38]
    assert ext.ptrs[0].bytes == bytearray(b"ozvm was here")
    # the old external objects array became garbage; every other object kept its place
    first = data.find(b"ozvm was here")
    assert first > len(original) - 200


def _fingerprint(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        return st.st_mtime_ns, st.st_size, hashlib.sha256(f.read()).hexdigest()


def test_input_never_modified_and_save_is_atomic(v3_name, tmp_path):
    path = image_path(v3_name)
    before = _fingerprint(path)
    heap = read_image(path)
    out = str(tmp_path / "copy.image")
    write_image(heap, out)
    write_image(heap, out, little_endian=False)     # overwriting an existing file
    assert _fingerprint(path) == before
    assert sorted(os.listdir(str(tmp_path))) == ["copy.image"]   # no temp file left
    assert read_image(out).info.little_endian is False


def test_failed_save_leaves_no_file(tmp_path):
    heap = load_heap("pharocandle.image")
    heap.extra_roots.append(SqObject(heap.special(7), 2, 1, ptrs=[object()]))
    out = tmp_path / "bad.image"
    with pytest.raises(Exception):
        write_image(heap, str(out))
    assert list(tmp_path.iterdir()) == []


def test_prerelease_spur_is_refused_clearly():
    data = bytearray(open(image_path("spur32-headless.image"), "rb").read())
    data[0:4] = (6519).to_bytes(4, "little")
    with pytest.raises(UnsupportedImageFormat, match="6519 .*not supported"):
        read_image_bytes(bytes(data))


def test_header_fields_are_read(v3_name):
    info = load_heap(v3_name).info
    assert info.version in (6502, 6505)
    assert info.header_size == 64 and info.file_offset == 0 and info.little_endian
    assert info.data_size + 64 == os.path.getsize(image_path(v3_name))
    w, h = info.window_extent()
    assert 100 < w < 5000 and 100 < h < 5000
    assert info.specials_oop > info.old_base


def test_shared_images_cover_every_format_and_header_kind():
    """The round-trip tests above exercise every object format, odd byte lengths and all
    three header kinds (checked here so that they would notice if they did not)."""
    from ozvm.memory.heap import v3_header_words
    formats, headers, odd = set(), set(), False
    for name in V3_IMAGES:
        heap = load_heap(name)
        compact = heap.compact_classes()
        for o in heap.all_objects():
            formats.add(o.fmt)
            headers.add(v3_header_words(o, id(o.cls) in compact))
            if o.bytes is not None and len(o.bytes) % 4:
                odd = True
    assert formats >= {0, 1, 2, 3, 6, 8, 12}      # no shared image holds a weak object:
    assert headers == {1, 2, 3} and odd            # test_weak_objects_round_trip makes some


@pytest.mark.parametrize("little", [True, False], ids=["little", "big"])
def test_weak_objects_round_trip(little):
    heap = load_heap("squeak2.2-mini.image")
    arr_cls = heap.special(7)
    weak = SqObject(arr_cls, 4, 77, ptrs=[heap.nil, 5, heap.specials])
    big_weak = SqObject(arr_cls, 4, 78, ptrs=[heap.true] * 70)          # 3-word header
    heap.specials.ptrs[38] = heap.new_array([weak, big_weak])   # the external objects array
    again = read_image_bytes(encode_image(heap, little))
    assert_isomorphic(heap, again)
    objs = again.all_objects()
    w = next(o for o in objs if o.fmt == 4 and o.hash == 77)
    assert w.ptrs[1] == 5 and w.ptrs[2] is again.specials and w.cls is again.special(7)


def _raw_float_words(data, little):
    """The two raw words of the first Float 1.0 found in an encoded image."""
    import struct
    order = "<" if little else ">"
    one = (0x3FF00000, 0)
    n = (len(data) - 64) // 4
    words = struct.unpack_from(order + "%dI" % n, data, 64)
    for i in range(n - 1):
        if (words[i], words[i + 1]) in (one, one[::-1]) and words[i - 1] & 3 != 2:
            hdr = words[i - 1]
            if (hdr >> 8) & 15 == 6 and (hdr >> 2) & 63 == 3:     # a 2-word word object
                return words[i], words[i + 1]
    return None


@pytest.mark.parametrize("version,little,expected", [
    (6505, True, (0, 0x3FF00000)),          # 6505: float words in platform order
    (6505, False, (0x3FF00000, 0)),
    (6504, True, (0x3FF00000, 0)),          # 6502/6504: most significant word first
    (6502, True, (0x3FF00000, 0)),
])
def test_float_word_order_by_format(version, little, expected):
    heap = load_heap("pharocandle.image")
    heap.info.version = version
    heap.specials.ptrs[38] = heap.new_array([heap.new_float(1.0)])
    data = encode_image(heap, little)
    assert _raw_float_words(data, little) == expected
    again = read_image_bytes(data)
    assert again.info.version == version
    fc = again.special(9)
    assert 1.0 in [again.float_value(o) for o in again.all_objects() if o.cls is fc]


def test_image_with_a_512_byte_prefix():
    """Old Mac images start with a 512-byte resource-fork prefix; offsets count it."""
    with open(image_path("pharocandle.image"), "rb") as f:
        data = f.read()
    heap = read_image_bytes(b"\0" * 512 + data)
    assert heap.info.file_offset == 512
    assert_isomorphic(read_image_bytes(data), heap)
    from ozvm.errors import ImageFormatError
    with pytest.raises(ImageFormatError) as e:
        read_image_bytes(b"\0" * 512 + data[:1000])
    assert e.value.offset == 512 + 8
