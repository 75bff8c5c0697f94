"""Arithmetic primitives against answers of the C VM (squeak-vm 4.10, see the oracle)."""
from __future__ import annotations

import math

from ozvm.memory import specials as S
from ozvm.prims.values import float_of, int_value, new_float
from prims_fake import FAILED, big, call, vm  # noqa: F401  (vm: the fixture)


def F(vm, x):
    return new_float(vm.heap, x)


def fval(obj):
    return float_of(obj)


def test_small_integer_arithmetic(vm):
    h = vm.heap
    assert call(vm, 1, 3, 4) == 7
    assert call(vm, 1, 2**30 - 1, 1) is FAILED          # overflow: fallback makes a LargeInteger
    assert call(vm, 2, -2**30, 1) is FAILED
    assert call(vm, 2, 3, 10) == -7
    assert call(vm, 9, 2**15, 2**14) == 2**29
    assert call(vm, 9, 2**15, 2**15) is FAILED
    assert call(vm, 10, 8, 2) == 4
    assert call(vm, 10, 7, 2) is FAILED                 # oracle: inexact / fails
    assert call(vm, 10, -2**30, -1) is FAILED
    assert call(vm, 11, -7, 2) == 1                     # oracle
    assert call(vm, 11, 7, 0) is FAILED                 # oracle
    assert call(vm, 12, -7, 2) == -4                    # oracle
    assert call(vm, 13, -7, 2) == -3                    # oracle
    assert call(vm, 13, 7, 0) is FAILED
    assert call(vm, 3, 1, 2) is h.true
    assert call(vm, 7, 7, 7) is h.true
    assert call(vm, 8, 7, 7) is h.false
    assert call(vm, 1, 3, F(vm, 1.0)) is FAILED
    assert call(vm, 3, 3, h.nil) is FAILED


def test_bit_operations_positive_32_bits(vm):
    h = vm.heap
    assert call(vm, 14, -1, 7) is FAILED                # oracle: negative operands fail
    assert call(vm, 14, 12, 10) == 8
    assert call(vm, 14, big(vm, 2**31), 255) == 0       # oracle
    assert call(vm, 14, big(vm, 2**40), 255) is FAILED  # oracle
    r = call(vm, 15, big(vm, 2**31), 7)                 # oracle 2147483655
    assert int_value(h, r) == 2**31 + 7 and r.cls is h.special(S.CLASS_LARGE_POSITIVE_INTEGER)
    assert call(vm, 16, 5, 3) == 6
    assert int_value(h, call(vm, 17, 2**30 - 1, 1)) == 2147483646   # oracle
    assert call(vm, 17, big(vm, 2**31), -3) == 268435456            # oracle
    assert call(vm, 17, big(vm, 2**31), 1) is FAILED                # oracle
    assert int_value(h, call(vm, 17, 1, 31)) == 2**31               # oracle
    assert call(vm, 17, 1, 32) is FAILED                            # oracle
    assert call(vm, 17, 5, -40) is FAILED                           # oracle
    assert call(vm, 17, -16, -2) is FAILED                          # oracle


def test_make_point(vm):
    pt = call(vm, 18, 3, 4)
    assert pt.cls is vm.heap.special(S.CLASS_POINT) and pt.ptrs[:2] == [3, 4]
    assert call(vm, 18, vm.heap.nil, 4) is FAILED
    assert call(vm, 18, F(vm, 1.5), vm.heap.nil).ptrs[1] is vm.heap.nil


def test_large_integer_primitives(vm):
    h = vm.heap
    e40 = big(vm, 2**40)
    assert int_value(h, call(vm, 21, e40, 1)) == 2**40 + 1          # oracle
    assert int_value(h, call(vm, 22, e40, -1)) == 2**40 + 1         # oracle
    assert int_value(h, call(vm, 22, e40, 1)) == 2**40 - 1          # oracle
    assert call(vm, 21, 7, 7) == 14                                 # oracle
    assert call(vm, 29, big(vm, 2**62), 4) is FAILED                # oracle: beyond 64 bits
    assert call(vm, 21, big(vm, 2**70), 4) is FAILED                # oracle
    assert call(vm, 21, e40, F(vm, 4.0)) is FAILED                  # oracle
    assert call(vm, 32, e40, 7) == 157073089682 or int_value(h, call(vm, 32, e40, 7)) == 157073089682
    assert int_value(h, call(vm, 30, e40, 8)) == 137438953472       # oracle
    assert call(vm, 30, e40, 7) is FAILED                           # oracle
    assert call(vm, 31, e40, 7) == 2                                # oracle
    assert call(vm, 31, e40, -7) == -5                              # oracle
    assert call(vm, 33, e40, 0) is FAILED
    assert call(vm, 27, e40, 7) is h.false                          # oracle
    assert call(vm, 23, e40, 3) is h.false                          # oracle
    assert call(vm, 23, big(vm, 2**80), 3) is FAILED                # oracle
    assert call(vm, 34, e40, 255) == 0                              # oracle
    assert int_value(h, call(vm, 35, e40, 7)) == 2**40 + 7          # oracle
    # negative results are normalised LargeNegativeIntegers, small ones SmallIntegers
    r = call(vm, 22, e40, big(vm, 2**41))
    assert r.cls.ptrs[0] is not None and int_value(h, r) == -2**40 and bytes(r.bytes) == (2**40).to_bytes(6, "little")
    assert call(vm, 22, e40, big(vm, 2**40 - 5)) == 5
    assert 20 not in __import__("ozvm.prims.base", fromlist=["x"]).PRIMITIVES  # no rem: primitive (oracle)


def test_float_arithmetic(vm):
    h = vm.heap
    assert fval(call(vm, 41, 3, 4)) == 7.0                          # oracle: SmallInteger receiver
    assert fval(call(vm, 41, F(vm, 3.0), 4)) == 7.0
    assert fval(call(vm, 49, F(vm, 1e308), 10)) == math.inf         # oracle
    assert call(vm, 50, F(vm, 1.0), 0) is FAILED                    # oracle
    assert call(vm, 50, F(vm, 1.0), F(vm, 0.0)) is FAILED           # oracle
    assert fval(call(vm, 50, F(vm, 1.0), 4)) == 0.25
    assert call(vm, 43, F(vm, 1.0), 2) is h.true                    # oracle
    assert call(vm, 47, 1, F(vm, 1.0)) is h.true                    # oracle
    assert call(vm, 47, F(vm, math.nan), F(vm, math.nan)) is h.false
    assert call(vm, 48, F(vm, math.nan), F(vm, math.nan)) is h.true
    assert call(vm, 41, F(vm, 1.0), h.nil) is FAILED
    assert fval(call(vm, 40, 3)) == 3.0                             # oracle
    assert call(vm, 40, F(vm, 1.5)) is FAILED                       # oracle
    assert call(vm, 40, big(vm, 2**40)) is FAILED                   # oracle


def test_float_functions_bit_exact(vm):
    assert call(vm, 51, F(vm, 2.5)) == 2 and call(vm, 51, F(vm, -2.5)) == -2   # oracle
    assert call(vm, 51, F(vm, 1e10)) is FAILED                      # oracle
    assert call(vm, 51, F(vm, math.nan)) is FAILED
    assert call(vm, 51, F(vm, 1073741823.9)) == 1073741823
    assert fval(call(vm, 52, F(vm, -3.5))) == -0.5                  # oracle
    assert fval(call(vm, 52, F(vm, 3.75))) == 0.75                  # oracle
    assert call(vm, 53, F(vm, 0.0)) == -1                           # oracle
    assert call(vm, 53, F(vm, 1e300)) == 996                        # oracle
    assert call(vm, 53, F(vm, 1.0)) == 0                            # oracle
    assert call(vm, 53, F(vm, 5e-324)) == -1074
    assert call(vm, 53, 3) is FAILED                                # oracle
    assert fval(call(vm, 54, F(vm, 1e20), 2000)) == math.inf        # oracle
    assert fval(call(vm, 54, F(vm, 1.0), -1076)) == 0.0
    assert fval(call(vm, 54, F(vm, 1.5), -1075)) == 5e-324
    assert fval(call(vm, 54, F(vm, 0.75), 3)) == 6.0
    assert call(vm, 54, F(vm, 1.0), F(vm, 2.0)) is FAILED           # oracle
    assert call(vm, 55, F(vm, -2.5)) is FAILED                      # oracle
    assert call(vm, 55, 3) is FAILED                                # oracle
    assert fval(call(vm, 55, F(vm, 2.0))) == math.sqrt(2.0)
    assert fval(call(vm, 58, F(vm, 0.0))) == -math.inf              # oracle
    assert math.isnan(fval(call(vm, 58, F(vm, -1.0))))              # oracle
    assert fval(call(vm, 59, F(vm, 1000.0))) == math.inf
    assert math.isnan(fval(call(vm, 56, F(vm, math.inf))))
    assert fval(call(vm, 57, F(vm, 1.0))) == math.atan(1.0)


def test_float_words_38_39(vm):
    f = F(vm, 1.5)
    assert call(vm, 38, f, 1) == 1073217536                         # oracle (basicAt: 1)
    assert call(vm, 38, f, 2) == 0
    assert call(vm, 38, f, 3) is FAILED
    assert call(vm, 39, f, 2, 1) == 1 and f.words[1] == 1
