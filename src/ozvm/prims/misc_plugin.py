"""MiscPrimitivePlugin: string comparison, search, hashing and translation, Bitmap run-length
compression, 8-bit sound conversion — as named primitives and under the old numbers the C
VM still maps to them (234-237, 243-246; PharoCandle and Squeak 2.2 call those numbers).

Semantics are the plugin's (see SqueakJS plugins/MiscPrimitivePlugin.js, generated from the
same Slang source): indexes are 1-based, 0 means "not found", comparisons answer 1/2/3 for
<, =, >. Where the C code would read or write outside an object (a start index below 1, a
table shorter than 256 bytes, a range past the end, a destination too small) the primitive
fails instead, so the image's Smalltalk code runs and reports the error.
"""
from __future__ import annotations

from ..memory.objects import FMT_BYTES, FMT_WORDS, SqObject
from .base import PrimitiveFailed, named_primitive, raw_primitive, simple_primitive

MODULE = "MiscPrimitivePlugin"


def _bytes(obj):
    if obj.__class__ is SqObject and obj.fmt == FMT_BYTES:
        return obj.bytes
    raise PrimitiveFailed()


def _words(obj):
    if obj.__class__ is SqObject and obj.fmt == FMT_WORDS:
        return obj.words
    raise PrimitiveFailed()


def _int(obj):
    if obj.__class__ is int:
        return obj
    raise PrimitiveFailed()


def _table(obj):
    t = _bytes(obj)
    if len(t) < 256:
        raise PrimitiveFailed()
    return t


def compare_string(interp, rcvr, string1, string2, order):
    """1, 2 or 3 as string1 is <, = or > string2 under the collation `order`."""
    s1 = _bytes(string1)
    s2 = _bytes(string2)
    table = _table(order)
    for a, b in zip(s1, s2):
        c1 = table[a]
        c2 = table[b]
        if c1 != c2:
            return 1 if c1 < c2 else 3
    if len(s1) == len(s2):
        return 2
    return 1 if len(s1) < len(s2) else 3


def find_first_in_string(interp, rcvr, string, inclusion_map, start):
    """Index of the first byte at or after start whose inclusion_map entry is not 0."""
    s = _bytes(string)
    table = _bytes(inclusion_map)
    i = _int(start)
    if len(table) != 256:
        return 0
    if i < 1:
        raise PrimitiveFailed()
    n = len(s)
    while i <= n and table[s[i - 1]] == 0:
        i += 1
    return 0 if i > n else i


def index_of_ascii_in_string(interp, rcvr, code, string, start):
    value = _int(code)
    s = _bytes(string)
    i = _int(start)
    if i < 1:
        raise PrimitiveFailed()
    if not 0 <= value <= 255:
        return 0
    found = s.find(bytes((value,)), i - 1)
    return found + 1 if found >= 0 else 0


def find_substring(interp, rcvr, key, body, start, match_table):
    """First index at or after start where key occurs in body, comparing bytes through
    match_table (e.g. case-insensitively); 0 if none."""
    k = _bytes(key)
    b = _bytes(body)
    first = _int(start)
    table = _table(match_table)
    if not k:
        return 0
    if first < 1:
        raise PrimitiveFailed()
    mk = [table[c] for c in k]
    n = len(k)
    for s in range(first, len(b) - n + 2):
        base = s - 1
        for j in range(n):
            if table[b[base + j]] != mk[j]:
                break
        else:
            return s
    return 0


def string_hash(interp, rcvr, byte_array, species_hash):
    """The hash of a byte collection, hashMultiply-ing each byte into species_hash."""
    data = _bytes(byte_array)
    h = _int(species_hash) & 0xFFFFFFF
    for byte in data:
        h += byte
        low = h & 16383
        h = (9741 * low + ((9741 * (h >> 14) + 101 * low) & 16383) * 16384) & 0xFFFFFFF
    return h


def translate_string_with_table(interp, rcvr, string, start, stop, table):
    """Replace string[start..stop] bytes through table, in place; answers the receiver."""
    s = _bytes(string)
    i = _int(start)
    j = _int(stop)
    t = _table(table)
    if i <= j:
        if i < 1 or j > len(s):
            raise PrimitiveFailed()
        s[i - 1:j] = s[i - 1:j].translate(bytes(t[:256]))
    return rcvr


def _encode_int(value, out):
    if value <= 223:
        out.append(value)
    elif value <= 7935:
        out.append((value >> 8) + 224)
        out.append(value & 255)
    else:
        out.append(255)
        out += (value & 0xFFFFFFFF).to_bytes(4, "big")


def compress_to_byte_array(interp, rcvr, bitmap, byte_array):
    """Run-length encode the words of bitmap into byte_array; answer the bytes used."""
    bm = _words(bitmap)
    ba = _bytes(byte_array)
    out = bytearray()
    size = len(bm)
    _encode_int(size, out)
    k = 1
    while k <= size:
        word = bm[k - 1]
        low = word & 255
        eq_bytes = ((word >> 8) & 255) == low and ((word >> 16) & 255) == low and (word >> 24) == low
        j = k
        while j < size and word == bm[j]:
            j += 1
        if j > k:
            if eq_bytes:
                _encode_int((j - k + 1) * 4 + 1, out)
                out.append(low)
            else:
                _encode_int((j - k + 1) * 4 + 2, out)
                out += word.to_bytes(4, "big")
            k = j + 1
        elif eq_bytes:
            _encode_int(1 * 4 + 1, out)
            out.append(low)
            k += 1
        else:
            while j < size and bm[j - 1] != bm[j]:
                j += 1
            if j == size:
                j += 1
            _encode_int((j - k) * 4 + 3, out)
            for m in range(k, j):
                out += bm[m - 1].to_bytes(4, "big")
            k = j
    if len(out) > len(ba):
        raise PrimitiveFailed()
    ba[:len(out)] = out
    return len(out)


def decompress_from_byte_array(interp, rcvr, bitmap, byte_array, index):
    """Decode byte_array from index into the words of bitmap; answers the receiver."""
    bm = _words(bitmap)
    ba = _bytes(byte_array)
    i = _int(index)
    if i < 1:
        raise PrimitiveFailed()
    end = len(ba)
    k = 1
    past_end = len(bm) + 1
    try:
        while i <= end:
            n = ba[i - 1]
            i += 1
            if n > 223:
                if n <= 254:
                    n = (n - 224) * 256 + ba[i - 1]
                    i += 1
                else:
                    n = int.from_bytes(ba[i - 1:i + 3], "big")
                    if i + 3 > end:
                        raise PrimitiveFailed()
                    i += 4
            count = n >> 2
            if k + count > past_end:
                raise PrimitiveFailed()
            code = n & 3
            if code == 1:
                data = ba[i - 1] * 0x01010101
                i += 1
                bm[k - 1:k - 1 + count] = [data] * count
                k += count
            elif code == 2:
                if i + 3 > end:
                    raise PrimitiveFailed()
                data = int.from_bytes(ba[i - 1:i + 3], "big")
                i += 4
                bm[k - 1:k - 1 + count] = [data] * count
                k += count
            elif code == 3:
                if i - 1 + 4 * count > end:
                    raise PrimitiveFailed()
                for m in range(count):
                    bm[k - 1] = int.from_bytes(ba[i - 1:i + 3], "big")
                    i += 4
                    k += 1
    except IndexError:
        raise PrimitiveFailed()
    return rcvr


def convert_8bit_signed(interp, rcvr, byte_array, sound_buffer):
    """Signed 8-bit samples -> signed 16-bit samples (two per word, little-endian halves)."""
    src = _bytes(byte_array)
    dst = _words(sound_buffer)
    if len(src) > 2 * len(dst):
        raise PrimitiveFailed()
    for i, s in enumerate(src):
        v = (s << 8) & 0xFFFF      # (s - 256) << 8 and s << 8 have the same 16 bits
        w = i >> 1
        if i & 1:
            dst[w] = (dst[w] & 0x0000FFFF) | (v << 16)
        else:
            dst[w] = (dst[w] & 0xFFFF0000) | v
    return rcvr


_PRIMS = [
    ("primitiveCompareString", compare_string, 3, 235),
    ("primitiveFindFirstInString", find_first_in_string, 3, 244),
    ("primitiveIndexOfAsciiInString", index_of_ascii_in_string, 3, 245),
    ("primitiveFindSubstring", find_substring, 4, 246),
    ("primitiveStringHash", string_hash, 2, None),
    ("primitiveTranslateStringWithTable", translate_string_with_table, 4, 243),
    ("primitiveCompressToByteArray", compress_to_byte_array, 2, 237),
    ("primitiveDecompressFromByteArray", decompress_from_byte_array, 3, 234),
    ("primitiveConvert8BitSigned", convert_8bit_signed, 2, 236),
]


for _name, _fn, _argc, _number in _PRIMS:
    _prim = simple_primitive(_fn, _argc)
    named_primitive(MODULE, _name, raw=True)(_prim)
    if _number is not None:
        raw_primitive(_number)(_prim)
