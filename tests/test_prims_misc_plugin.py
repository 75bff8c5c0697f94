"""MiscPrimitivePlugin primitives (named and the old numbers 234-246)."""
from __future__ import annotations

import pytest

from conftest import load_heap
from prims_fake import FAILED, FakeInterp, call

M = "MiscPrimitivePlugin"


@pytest.fixture(scope="module")
def vm():
    return FakeInterp(load_heap("squeak2.2-mini.image"))


def b(vm, data):
    return vm.heap.new_string(bytes(data))


def words(vm, values):
    obj = vm.heap.new_float(0.0)
    obj.words = list(values)
    return obj


IDENTITY = bytes(range(256))
CASELESS = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))


def test_compare_string(vm):
    h = vm.heap
    for index in ((M, "primitiveCompareString"), 235):
        assert call(vm, index, h.nil, b(vm, b"abc"), b(vm, b"abd"), b(vm, IDENTITY)) == 1
        assert call(vm, index, h.nil, b(vm, b"abc"), b(vm, b"abc"), b(vm, IDENTITY)) == 2
        assert call(vm, index, h.nil, b(vm, b"abcd"), b(vm, b"abc"), b(vm, IDENTITY)) == 3
        assert call(vm, index, h.nil, b(vm, b"ABC"), b(vm, b"abc"), b(vm, CASELESS)) == 2
        assert call(vm, index, h.nil, b(vm, b"a"), 3, b(vm, IDENTITY)) is FAILED
        assert call(vm, index, h.nil, b(vm, b"a"), b(vm, b"a"), b(vm, b"short")) is FAILED


def test_searching(vm):
    h = vm.heap
    incl = bytearray(256)
    incl[ord("c")] = 1
    assert call(vm, (M, "primitiveFindFirstInString"), h.nil, b(vm, b"abcabc"), b(vm, incl), 1) == 3
    assert call(vm, 244, h.nil, b(vm, b"abcabc"), b(vm, incl), 4) == 6
    assert call(vm, 244, h.nil, b(vm, b"abcabc"), b(vm, incl), 7) == 0
    assert call(vm, 244, h.nil, b(vm, b"abc"), b(vm, b"xy"), 1) == 0      # map not 256: 0
    assert call(vm, 244, h.nil, b(vm, b"abc"), b(vm, incl), 0) is FAILED
    assert call(vm, 245, h.nil, ord("b"), b(vm, b"abcabc"), 1) == 2
    assert call(vm, (M, "primitiveIndexOfAsciiInString"), h.nil, ord("b"), b(vm, b"abcabc"), 3) == 5
    assert call(vm, 245, h.nil, ord("z"), b(vm, b"abc"), 1) == 0
    assert call(vm, 246, h.nil, b(vm, b"BC"), b(vm, b"abcabc"), 3, b(vm, CASELESS)) == 5
    assert call(vm, (M, "primitiveFindSubstring"), h.nil, b(vm, b"bc"), b(vm, b"abcabc"), 1, b(vm, IDENTITY)) == 2
    assert call(vm, 246, h.nil, b(vm, b""), b(vm, b"abc"), 1, b(vm, IDENTITY)) == 0
    assert call(vm, 246, h.nil, b(vm, b"abcd"), b(vm, b"abc"), 1, b(vm, IDENTITY)) == 0
    assert call(vm, 246, h.nil, b(vm, b"c"), b(vm, b"abc"), 3, b(vm, IDENTITY)) == 3


def test_string_hash_matches_hash_multiply(vm):
    def reference(data, seed):
        h = seed & 0xFFFFFFF
        for c in data:
            h = ((h + c) * 1664525) & 0xFFFFFFF        # SmallInteger>>hashMultiply
        return h
    for data, seed in ((b"", 5), (b"hello", 1234), (bytes(range(200)), 0xFFFFFFF)):
        assert call(vm, (M, "primitiveStringHash"), vm.heap.nil, b(vm, data), seed) == reference(data, seed)


def test_translate(vm):
    h = vm.heap
    s = b(vm, b"Hello World")
    upper = bytes(c - 32 if 97 <= c <= 122 else c for c in range(256))
    assert call(vm, 243, h.nil, s, 2, 5, b(vm, upper)) is h.nil and bytes(s.bytes) == b"HELLO World"
    assert call(vm, (M, "primitiveTranslateStringWithTable"), h.nil, s, 7, 12, b(vm, upper)) is FAILED
    assert call(vm, 243, h.nil, s, 3, 2, b(vm, upper)) is h.nil


def test_compress_decompress_round_trip(vm):
    h = vm.heap
    data = [0, 0, 0, 0x01010101, 0x12345678, 0x12345678, 1, 2, 3, 0xFFFFFFFF] + [7] * 300 + [5]
    bm = words(vm, data)
    ba = b(vm, bytes(2000))
    n = call(vm, 237, h.nil, bm, ba)
    assert 0 < n < 200
    out = words(vm, [9] * len(data))
    assert call(vm, (M, "primitiveDecompressFromByteArray"), h.nil, out, ba, 1 + (2 if len(data) > 223 else 1)) is h.nil
    assert out.words == data
    assert call(vm, 237, h.nil, bm, b(vm, bytes(3))) is FAILED      # destination too small
    assert call(vm, 234, h.nil, words(vm, [0]), ba, 3) is FAILED     # runs past the bitmap


def test_convert_8bit_signed(vm):
    h = vm.heap
    buf = words(vm, [0, 0])
    assert call(vm, 236, h.nil, b(vm, bytes([1, 255, 128])), buf) is h.nil
    assert buf.words == [0x0100 | (0xFF00 << 16), 0x8000]
