"""Host-side literal values of the compiler and their materialisation in a guest space.

Host literal values: int, float, str (a String), Symbol, Char, ScaledDecimal, ByteArrayLit (bytes), tuple (a literal Array), True/False/None.
`literal_key` gives the equality the image's compiler uses to share literal slots (same class
and equal value: 1 and 1.0 and $a and 'a' and #a stay apart).
"""
from __future__ import annotations

from ..errors import CompileError

__all__ = ["Char", "Symbol", "ScaledDecimal", "ByteArrayLit", "literal_key", "materialize"]


class Symbol(str):
    """A Symbol literal (#foo) or a selector."""


class Char(str):
    """A Character literal ($a): a one-character string."""


class ScaledDecimal:
    """A scaled decimal literal `1.5s2` (value a Fraction, scale an int)."""

    __slots__ = ("value", "scale")

    def __init__(self, value, scale):
        self.value = value
        self.scale = scale

    def __neg__(self):
        return ScaledDecimal(-self.value, self.scale)

    def __repr__(self):
        return "ScaledDecimal(%s, %d)" % (self.value, self.scale)


class ByteArrayLit(bytes):
    """A literal ByteArray `#[1 2 3]`."""


def literal_key(value):
    """A hashable key: two literals share a slot iff their keys are equal."""
    if value is None or value is True or value is False:
        return ("const", repr(value))
    t = value.__class__
    if t is tuple:
        return ("array",) + tuple(literal_key(v) for v in value)
    if t is ScaledDecimal:
        return ("scaled", value.value, value.scale)
    if t is float:
        return ("float", repr(value))
    return (t.__name__, value)


def materialize(space, value):
    """The guest object for a host literal value."""
    if value.__class__ is tuple:
        return space.heap.new_array([materialize(space, v) for v in value])
    if value.__class__ is ByteArrayLit:
        return space.from_local(bytes(value))
    if value.__class__ is ScaledDecimal:
        cls = space.class_named("ScaledDecimal")
        if cls is None:
            raise CompileError("this image has no ScaledDecimal class for %r" % (value,))
        fraction_cls = space.class_named("Fraction")
        obj = space.heap.instantiate(cls)
        names = space.layout.all_inst_var_names(cls)
        v = value.value
        if "numerator" in names:
            # Pharo's ScaledDecimal is a Fraction (numerator, denominator, scale)
            obj.ptrs[names.index("numerator")] = space.from_local(v.numerator)
            obj.ptrs[names.index("denominator")] = space.from_local(v.denominator)
            obj.ptrs[names.index("scale")] = value.scale
            return obj
        if v.denominator == 1:
            num = space.from_local(int(v))
        else:
            num = space.heap.instantiate(fraction_cls)
            num.ptrs[0] = space.from_local(v.numerator)
            num.ptrs[1] = space.from_local(v.denominator)
        obj.ptrs[names.index("fraction")] = num
        obj.ptrs[names.index("scale")] = value.scale
        return obj
    if value.__class__ is str:
        return space.heap.new_string(value)
    if value.__class__ is Symbol:
        return space.intern_symbol(str(value))
    if value.__class__ is Char:
        return space.character(ord(value))
    return space.from_local(value)      # integers, floats, true, false, nil
