"""Hostile input: every failure is a clear OzError (no other host exception leaves the API
or the CLI), and no host file changes."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import VMError
from ozvm.prims import base
from ozvm.vm import VM


@pytest.fixture(scope="module")
def candle():
    return VM().load(image_path("pharocandle.image"))


def test_a_python_error_inside_a_primitive_is_a_loud_vmerror(candle, monkeypatch):
    """Not a silent primitive failure: the run stops with a VMError naming the primitive."""
    def broken(interp, argc):
        raise TypeError("a bug")
    broken.__name__ = "prim_broken"
    base.load_all()
    monkeypatch.setitem(base.PRIMITIVES, 40, broken)       # SmallInteger>>asFloat
    with pytest.raises(VMError, match=r"primitive 40 \(prim_broken\) raised TypeError: a bug"):
        candle.evaluate("3 asFloat", timeout_ms=5000)
