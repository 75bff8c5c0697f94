"""Mirrors: the only way the host touches guest objects (the membrane of the Oz model).

`space.mirror_on(x)` (seed: `ObjectSpace>>mirrorOn:`) answers the most specific mirror on
a guest object `x` of that space:

    ObjectMirror             any object, SmallIntegers included
      ByteObjectMirror       byte objects (Strings, Symbols, ByteArrays, LargeIntegers)
      WordObjectMirror       word objects (Floats, Bitmaps)
      ClassMirror            classes                     (class_mirrors.py)
        MetaclassMirror      metaclasses
      ClassPoolMirror        a class's class pool (a Dictionary of Associations)
      MethodDictionaryMirror method dictionaries
      MethodMirror           compiled methods
      ContextMirror          MethodContexts and (6502) BlockContexts   (process_mirrors.py)
      ProcessMirror          Processes
      ProcessSchedulerMirror the ProcessorScheduler

Indices are 1-based as in Smalltalk (`instVarAt:`, `at:`). Getters answer mirrors for
object fields and host ints for bytes and words; setters accept only mirrors of the
same space, guest objects of the space, or host literals (converted by `from_local`):
anything else raises MembraneError, so a host Python object can never be stored into a
guest. A mirror of another space is refused.

A mirror holds its space (`.space`) and the guest object (`.obj`: a SqObject or an
int); two mirrors are equal when they mirror the same object of the same space.
"""
from __future__ import annotations

import math

from ..errors import MembraneError, MirrorIndexError, MirrorKeyError
from ..memory import specials as S
from ..memory.objects import (
    FMT_DOUBLE_WORDS, FMT_EPHEMERON, FMT_METHOD, FMT_SHORTS, FMT_VAR, FMT_WORDS, FORMAT_NAMES,
    SqObject,
)
from .layout import FORMAT, text_of

# the bits of one indexable unit of each word format (Spur: 16-, 32- and 64-bit)
_UNIT_BITS = {FMT_WORDS: 32, FMT_SHORTS: 16, FMT_DOUBLE_WORDS: 64}


def class_format(space, cls) -> int:
    """The format SmallInteger of class `cls`; MembraneError if `cls` has none (a
    malformed image)."""
    ptrs = cls.ptrs if cls.__class__ is SqObject else None
    value = ptrs[FORMAT] if ptrs is not None and len(ptrs) > FORMAT else None
    if value.__class__ is not int:
        raise MembraneError("malformed class %s: its format is not a SmallInteger" % space.describe(cls))
    return value


def fixed_fields(space, obj) -> int:
    """Named fields of a pointer object (its class's instSize when it is indexable),
    checked against the object."""
    if obj.fmt < FMT_VAR:
        return len(obj.ptrs)
    n = space.heap.family.class_inst_size(class_format(space, obj.cls))
    if not 0 <= n <= len(obj.ptrs):
        raise MembraneError("malformed object %s: its class says %d named fields, it has %d fields"
                            % (space.describe(obj), n, len(obj.ptrs)))
    return n


def what_value(value) -> str:
    """How a refused value is named in a MembraneError (no host code of it runs)."""
    if value.__class__ is SqObject:
        return "an object of another space"
    if value.__class__ is int:
        return "%d (not a SmallInteger)" % value if value.bit_length() < 64 else "a host int"
    return "a host %s" % type(value).__name__




class ObjectMirror:
    """A mirror on one guest object (seed: ObjectMirror).

    Seed names: `instVarAt:` -> inst_var_at, `instVarAt:put:` -> inst_var_at_put,
    `at:` / `at:put:` -> at / at_put, `fixedSize`, `variableSize`, `getClass` /
    `classMirror` -> get_class, `setClass:` -> set_class, `isNilObject`,
    `isSmallInteger`, `asBoolean`, `identityHash`.
    """

    __slots__ = ("space", "obj")

    def __init__(self, space, obj):
        # unforgeable: only an object of this space's heap (or a SmallInteger) is mirrored
        owns = getattr(space, "owns", None)
        if owns is None or not owns(obj):
            raise MembraneError("a mirror is made only on an object of its space, not on %s"
                                % what_value(obj))
        self.space = space
        self.obj = obj

    # --- identity -----------------------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, ObjectMirror) or other.space is not self.space:
            return False
        if self.obj.__class__ is int:
            return other.obj.__class__ is int and other.obj == self.obj
        return other.obj is self.obj

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.obj) if self.obj.__class__ is int else id(self.obj)

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.readable())

    def __str__(self):
        return self.readable()

    def readable(self) -> str:
        """What a debugger shows for the object: literals, classes and methods as the host
        describes them; other objects by the guest's own printString when cheap and safe
        (execution.safe_print_string: bounded, on a copy), else 'a ClassName'."""
        text = self.space.describe(self.obj)
        if self.obj.__class__ is SqObject and (text.startswith("a ") or text.startswith("an ")) \
                and type(self) in (ObjectMirror, ByteObjectMirror, WordObjectMirror):
            from .execution import safe_print_string
            printed = safe_print_string(self.space, self.obj)
            if printed:
                return printed
        return text

    def describe(self) -> str:
        """A short printString-like description, computed on the host side (no guest
        code runs)."""
        return self.space.describe(self.obj)

    def identity_hash(self) -> int:
        """`identityHash`: the object's hash bits (a SmallInteger's value for SmallIntegers)."""
        o = self.obj
        return o if o.__class__ is int else o.hash

    def is_small_integer(self) -> bool:
        """`isSmallInteger`"""
        return self.obj.__class__ is int

    def is_nil_object(self) -> bool:
        """`isNilObject`"""
        return self.obj is self.space.heap.nil

    def as_boolean(self) -> bool:
        """`asBoolean`: True/False for the guest's true/false; MembraneError otherwise."""
        if self.obj is self.space.heap.true:
            return True
        if self.obj is self.space.heap.false:
            return False
        raise MembraneError("%s is not a Boolean" % self.describe())

    def to_local(self):
        """The host value of this literal (`toLocal`), see ObjectSpace.to_local."""
        return self.space.to_local(self.obj)

    # --- class --------------------------------------------------------------
    def get_class(self):
        """`getClass` / `classMirror`: a ClassMirror on the object's class."""
        return self.space.mirror_on(self.space.class_of(self.obj))

    def set_class(self, cls) -> None:
        """`setClass:`: make the object an instance of `cls` (a ClassMirror or class of this
        space). The new class must describe the object's shape: same storage format and,
        for pointer objects, the same number of named fields. MembraneError otherwise."""
        o = self._heap_object("change the class of")
        new = self.space.guest_value(cls)
        if not self.space.layout.is_class(new):
            raise MembraneError("set_class: %s is not a class" % self.space.describe(new))
        fmt_value = class_format(self.space, new)
        family = self.space.heap.family
        spec = family.object_format(family.class_inst_spec(fmt_value))
        if spec != o.fmt and not (spec <= 1 and o.fmt <= 1):
            raise MembraneError("set_class: %s has format %s, instances of %s have %s" % (
                self.describe(), FORMAT_NAMES.get(o.fmt, o.fmt),
                self.space.layout.class_name_of(new), FORMAT_NAMES.get(spec, spec)))
        if o.fmt <= FMT_EPHEMERON:
            fixed = family.class_inst_size(fmt_value)
            if fixed != self.fixed_size():
                raise MembraneError("set_class: %s has %d named fields, instances of %s have %d"
                                    % (self.describe(), self.fixed_size(),
                                       self.space.layout.class_name_of(new), fixed))
        o.cls = new

    # --- shape ----------------------------------------------------------------
    def _heap_object(self, what="index"):
        o = self.obj
        if o.__class__ is int:
            raise MembraneError("cannot %s a SmallInteger (%d)" % (what, o))
        return o

    def fixed(self) -> int:
        """How many of the object's fields are named ones (its class's fixed fields)."""
        return fixed_fields(self.space, self.obj)

    def fixed_size(self) -> int:
        """`fixedSize`: number of named instance variables."""
        o = self.obj
        if o.__class__ is int:
            return 0
        if o.fmt <= FMT_EPHEMERON:
            return fixed_fields(self.space, o)
        return 0

    def variable_size(self) -> int:
        """`variableSize` / `basicSize`: number of indexable fields (bytes, words or
        pointers; MethodMirror counts a method's literal frame as Smalltalk does)."""
        o = self.obj
        if o.__class__ is int:
            return 0
        fmt = o.fmt
        if fmt <= FMT_EPHEMERON:
            return len(o.ptrs) - self.fixed_size()
        if o.words is not None:
            return len(o.words)
        return len(o.bytes)

    def size(self) -> int:
        return self.variable_size()

    # --- named fields -----------------------------------------------------------
    def inst_var_at(self, index: int):
        """`instVarAt:` (1-based) a mirror on named field `index`."""
        o = self._heap_object("read fields of")
        if index.__class__ is not int or not 1 <= index <= self.fixed_size():
            raise MirrorIndexError("instVarAt: %r outside 1..%d of %s" % (index, self.fixed_size(), self.describe()))
        return self.space.mirror_on(o.ptrs[index - 1])

    def inst_var_at_put(self, index: int, value) -> None:
        """`instVarAt:put:` (1-based); `value` a mirror or guest object of this space or a
        host literal."""
        o = self._heap_object("write fields of")
        if index.__class__ is not int or not 1 <= index <= self.fixed_size():
            raise MirrorIndexError("instVarAt: %r outside 1..%d of %s" % (index, self.fixed_size(), self.describe()))
        o.ptrs[index - 1] = self.space.guest_value(value)

    def inst_var_names(self) -> list:
        """Names of the named fields, from the class (layout of this image)."""
        return self.space.layout.all_inst_var_names(self.space.class_of(self.obj))

    def inst_var_named(self, name: str):
        """A mirror on the named field called `name` (KeyError if the class has none)."""
        names = self.inst_var_names()
        if name not in names:
            raise MirrorKeyError("%s has no instance variable %r" % (self.describe(), name))
        return self.inst_var_at(names.index(name) + 1)

    def inst_var_named_put(self, name: str, value) -> None:
        names = self.inst_var_names()
        if name not in names:
            raise MirrorKeyError("%s has no instance variable %r" % (self.describe(), name))
        self.inst_var_at_put(names.index(name) + 1, value)

    # --- indexable fields --------------------------------------------------------
    def _check_index(self, index):
        n = self.variable_size()
        if index.__class__ is not int or not 1 <= index <= n:
            raise MirrorIndexError("index %r outside 1..%d of %s" % (index, n, self.describe()))

    def at(self, index: int):
        """`at:` / `basicAt:` (1-based): a mirror for pointer objects, an int for bytes and
        words."""
        o = self._heap_object()
        self._check_index(index)
        fmt = o.fmt
        if fmt <= FMT_EPHEMERON:
            return self.space.mirror_on(o.ptrs[self.fixed_size() + index - 1])
        if o.words is not None:
            return o.words[index - 1]
        return o.bytes[index - 1]

    def at_put(self, index: int, value) -> None:
        """`at:put:` / `basicAt:put:` (1-based)."""
        o = self._heap_object()
        self._check_index(index)
        fmt = o.fmt
        if fmt <= FMT_EPHEMERON:
            o.ptrs[self.fixed_size() + index - 1] = self.space.guest_value(value)
        elif o.words is not None:
            bits = _UNIT_BITS.get(fmt, 32)
            if value.__class__ is not int or not 0 <= value < (1 << bits):
                raise MembraneError("a %d-bit word object holds integers 0..2**%d-1, not %r"
                                    % (bits, bits, value))
            o.words[index - 1] = value
        else:
            if value.__class__ is not int or not 0 <= value <= 255:
                raise MembraneError("a byte object holds integers 0..255, not %r" % (value,))
            o.bytes[index - 1] = value

    def fields(self) -> list:
        """Mirrors on every pointer field (named then indexable); [] for non-pointer objects."""
        o = self.obj
        if o.__class__ is int or o.ptrs is None or o.fmt == FMT_METHOD:
            return []
        m = self.space.mirror_on
        return [m(p) for p in o.ptrs]


class ByteObjectMirror(ObjectMirror):
    """A byte object (String, Symbol, ByteArray, LargeInteger...): `at:` answers ints
    0..255; `as_bytes` / `as_string` copy the contents out."""

    __slots__ = ()

    def as_bytes(self) -> bytes:
        return bytes(self.obj.bytes)

    def as_string(self) -> str:
        return text_of(self.obj)

    def set_bytes(self, data) -> None:
        """Replace the whole contents (the size may change)."""
        if not isinstance(data, (bytes, bytearray)):
            raise MembraneError("set_bytes takes bytes, not %s" % type(data).__name__)
        self.obj.bytes[:] = data


class WordObjectMirror(ObjectMirror):
    """A word object (Float, Bitmap...): `at:` answers 32-bit unsigned ints."""

    __slots__ = ()

    def as_words(self) -> list:
        return list(self.obj.words)

    def is_float(self) -> bool:
        return self.obj.cls is self.space.special(S.CLASS_FLOAT)

    def as_float(self) -> float:
        if not self.is_float():
            raise MembraneError("%s is not a Float" % self.describe())
        return self.space.heap.float_value(self.obj)


def _integer_text(n: int) -> str:
    """Decimal digits of `n`; for a huge integer (decimal conversion is quadratic, and
    Python refuses it past 4300 digits) an approximation and its size in bits instead."""
    if n.bit_length() <= 12000:
        return str(n)
    m = abs(n)
    shift = m.bit_length() - 64
    total = math.log10(m >> shift) + shift * math.log10(2)
    exponent = int(math.floor(total))
    return "%s%.6fe+%d (%d bits)" % ("-" if n < 0 else "", 10 ** (total - exponent), exponent,
                                     m.bit_length())


def describe_object(space, obj, depth: int = 0) -> str:
    """A host-side printString of a guest object: literals as Smalltalk prints them,
    classes by name, other objects as 'a Foo'."""
    if obj.__class__ is int:
        return str(obj)
    heap = space.heap
    if obj is heap.nil:
        return "nil"
    if obj is heap.true:
        return "true"
    if obj is heap.false:
        return "false"
    if obj.__class__ is not SqObject:
        return "<host %s>" % type(obj).__name__
    layout = space.layout
    cls = obj.cls
    if cls is None:
        return "<an object without class>"
    if layout.is_class(obj):
        return layout.class_name_of(obj)
    sp = heap.specials.ptrs
    try:
        if cls is sp[S.CLASS_CHARACTER] and obj.ptrs and obj.ptrs[0].__class__ is int:
            return "$" + chr(obj.ptrs[0]) if 32 < obj.ptrs[0] < 127 else "Character value: %d" % obj.ptrs[0]
        if cls is space.symbol_class():
            return "#" + text_of(obj)
        if cls is sp[S.CLASS_STRING]:
            text = text_of(obj)
            if len(text) > 60:
                text = text[:57] + "..."
            return "'" + text.replace("'", "''") + "'"
        if (cls is sp[S.CLASS_FLOAT] or obj.fmt == 7) and obj.words is not None and len(obj.words) == 2:
            return repr(heap.float_value(obj))
        if cls is sp[S.CLASS_LARGE_POSITIVE_INTEGER] and obj.bytes is not None:
            return _integer_text(int.from_bytes(obj.bytes, "little"))
        if cls is space.large_negative_integer_class() and obj.bytes is not None:
            return _integer_text(-int.from_bytes(obj.bytes, "little"))
        if obj.fmt == FMT_METHOD:
            owner = space.method_owner(obj)
            if owner is not None:
                return "%s>>%s" % (layout.class_name_of(owner[0]), owner[1])
        if depth == 0 and obj.ptrs is not None and len(obj.ptrs) == 2 and obj.fmt != FMT_METHOD \
                and layout.all_inst_var_names(cls)[:2] == ["key", "value"]:
            return "%s->%s" % (describe_object(space, obj.ptrs[0], 1), describe_object(space, obj.ptrs[1], 1))
    except (IndexError, AttributeError, TypeError):
        pass
    name = layout.class_name_of(cls)
    return ("an " if name[:1] in "AEIOU" else "a ") + name
