"""The ObjectSpace facade: one guest image as seen from the host (seed: ObjectSpace).

A space owns the heap of one image and answers the questions a host asks about it:
its nil/false/true, special objects, classes, globals and symbols, and converts literals
between host values and guest objects. Guest objects reach the host only as mirrors
(see mirrors.py) or as converted literals.
"""
from __future__ import annotations

from ..errors import MembraneError, OzError
from ..image.formats import read_image, write_image
from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_VAR, FMT_WORDS, SqObject
from .layout import Layout, is_bytes, text_of


class Symbol(str):
    """A host-side marker for a Smalltalk Symbol (from_local makes a guest Symbol of it)."""


class Char(str):
    """A host-side marker for a Smalltalk Character (a one-character string)."""


class ObjectSpace:
    """One guest image loaded into the VM."""

    def __init__(self, heap, vm=None):
        self.heap = heap
        self.vm = vm
        self.layout = Layout(heap)
        self._class_index = None
        self._symbol_index = None
        self._binding_index = None

    # --- loading and saving ------------------------------------------------
    @classmethod
    def load(cls, path: str, vm=None) -> "ObjectSpace":
        """Read the image at `path` (the file is never written)."""
        return cls(read_image(path), vm)

    def save(self, path: str, little_endian: bool | None = None) -> None:
        """Write this space as an image file of its format, atomically (temp file + rename)."""
        write_image(self.heap, path, little_endian)

    @property
    def info(self):
        return self.heap.info

    # --- well-known objects (seed: nilObject, trueObject, falseObject, specialObjectsArray)
    @property
    def nil(self) -> SqObject:
        return self.heap.nil

    @property
    def true(self) -> SqObject:
        return self.heap.true

    @property
    def false(self) -> SqObject:
        return self.heap.false

    @property
    def specials(self) -> SqObject:
        return self.heap.specials

    def special(self, index: int):
        """Entry `index` of the special objects array; nil where the array is shorter
        (Squeak 2.2's ends at 40)."""
        ptrs = self.heap.specials.ptrs
        return ptrs[index] if index < len(ptrs) else self.heap.nil

    def large_negative_integer_class(self) -> SqObject:
        cls = self.special(S.CLASS_LARGE_NEGATIVE_INTEGER)
        if cls is self.nil:
            cls = self.class_named("LargeNegativeInteger")
        return cls

    def class_of(self, obj) -> SqObject:
        if obj.__class__ is int:
            return self.heap.specials.ptrs[S.CLASS_SMALLINTEGER]
        return obj.cls

    # --- classes (seed: classNamed:, compactClassAt:) ------------------------
    def invalidate_indexes(self) -> None:
        """Forget cached class/symbol/binding indexes (after the guest changed)."""
        self._class_index = self._symbol_index = self._binding_index = None

    def classes(self) -> list:
        """Every class (not metaclass) of the space, sorted by name."""
        return [c for _, c in sorted(self._classes().items())]

    def _classes(self) -> dict:
        if self._class_index is None:
            meta = self.layout.metaclass
            index = {}
            for obj in self.heap.all_objects():
                if obj.cls.cls is meta and obj.cls is not meta or obj is meta:
                    index.setdefault(self.layout.class_name_of(obj), obj)
            self._class_index = index
        return self._class_index

    def class_named(self, name: str):
        """The class called `name` ('Foo class' answers the metaclass), or None."""
        if name.endswith(" class"):
            base = self.class_named(name[:-6])
            return base.cls if base is not None else None
        return self._classes().get(name)

    def compact_class_at(self, index: int):
        """The class at 1-based `index` of the compact classes array, or None."""
        table = self.special(S.COMPACT_CLASSES).ptrs
        if not 1 <= index <= len(table):
            raise IndexError("compact class index %d outside 1..%d" % (index, len(table)))
        c = table[index - 1]
        return None if c is self.nil else c

    # --- globals -----------------------------------------------------------
    def globals_dictionary(self):
        """`Smalltalk` (a SystemDictionary), or None for images without one (PharoCandle)."""
        d = self.special(S.SMALLTALK_DICTIONARY)
        return None if d is self.nil else d

    def global_association(self, name: str):
        """The association that binds global `name` (as compiled methods refer to it), or None."""
        d = self.globals_dictionary()
        if d is not None:
            for assoc in d.ptrs[1].ptrs:
                if assoc is not self.nil and is_bytes(assoc.ptrs[0]) and text_of(assoc.ptrs[0]) == name:
                    return assoc
            return None
        return self._bindings().get(name)

    def _bindings(self) -> dict:
        """For images without a globals dictionary: the bindings compiled methods hold."""
        if self._binding_index is None:
            symbol_cls = self.symbol_class()
            index = {}
            for obj in self.heap.all_objects():
                if obj.fmt == 12:
                    for lit in obj.ptrs[1:]:
                        if (lit.__class__ is SqObject and lit.ptrs is not None and len(lit.ptrs) == 2
                                and lit.ptrs[0].__class__ is SqObject and lit.ptrs[0].cls is symbol_cls):
                            index.setdefault(text_of(lit.ptrs[0]), lit)
            self._binding_index = index
        return self._binding_index

    def global_named(self, name: str):
        """The value of global `name`; for images without a globals dictionary the class of
        that name. None if there is no such global."""
        assoc = self.global_association(name)
        if assoc is not None:
            return assoc.ptrs[1]
        if self.globals_dictionary() is None:
            return self.class_named(name)
        return None

    # --- symbols -----------------------------------------------------------
    def symbol_class(self) -> SqObject:
        return self.special(S.SELECTOR_DOES_NOT_UNDERSTAND).cls

    def _symbols(self) -> dict:
        if self._symbol_index is None:
            sym = self.symbol_class()
            self._symbol_index = {text_of(o): o for o in self.heap.all_objects() if o.cls is sym}
        return self._symbol_index

    def symbol_named(self, name: str):
        """The existing guest Symbol `name`, or None."""
        return self._symbols().get(name)

    def intern_symbol(self, name: str) -> SqObject:
        """The guest Symbol `name`, made and registered in the guest's symbol table if new."""
        found = self.symbol_named(name)
        if found is not None:
            return found
        sym = self._intern_in_guest(name)
        self._symbols()[name] = sym
        return sym

    def _intern_in_guest(self, name: str) -> SqObject:
        interning = getattr(self, "guest_intern", None)
        if interning is not None:
            return interning(name)
        sym = SqObject(self.symbol_class(), FMT_BYTES, self.heap.new_hash(),
                       bytes=bytearray(name.encode("latin-1")))
        self.heap.extra_roots.append(sym)
        return sym

    # --- literal conversion (seed: fromLocal: / toLocal:) ----------------------
    def from_local(self, value):
        """A guest object for a host literal: int, float, bool, None, str, Symbol, Char,
        bytes, list/tuple of those. Guest objects (SqObject) pass through; mirrors give
        their object if they belong to this space."""
        if value.__class__ is SqObject:
            return value
        if value is None:
            return self.nil
        if value is True:
            return self.true
        if value is False:
            return self.false
        if isinstance(value, int):
            if -0x40000000 <= value < 0x40000000:
                return value
            return self._large_integer(value)
        if isinstance(value, float):
            return self.heap.new_float(value)
        if isinstance(value, Symbol):
            return self.intern_symbol(str(value))
        if isinstance(value, Char):
            if len(value) != 1:
                raise MembraneError("a Char holds one character, not %r" % str(value))
            return self.character(ord(value))
        if isinstance(value, str):
            return self.heap.new_string(value)
        if isinstance(value, (bytes, bytearray)):
            return SqObject(self.special(S.CLASS_BYTE_ARRAY), FMT_BYTES, self.heap.new_hash(),
                            bytes=bytearray(value))
        if isinstance(value, (list, tuple)):
            return self.heap.new_array([self.from_local(v) for v in value])
        owner = getattr(value, "space", None)
        if owner is not None and hasattr(value, "obj"):
            if owner is not self:
                raise MembraneError("a mirror of another space cannot cross into this one")
            return value.obj
        raise MembraneError("cannot convert a host %s into a guest object" % type(value).__name__)

    def _large_integer(self, value: int) -> SqObject:
        cls = self.special(S.CLASS_LARGE_POSITIVE_INTEGER) if value > 0 else self.large_negative_integer_class()
        mag = abs(value)
        return SqObject(cls, FMT_BYTES, self.heap.new_hash(),
                        bytes=bytearray(mag.to_bytes((mag.bit_length() + 7) // 8, "little")))

    def character(self, code: int) -> SqObject:
        """The guest Character with this code (from the character table below 256)."""
        if 0 <= code < 256:
            return self.special(S.CHARACTER_TABLE).ptrs[code]
        ch = self.heap.instantiate(self.special(S.CLASS_CHARACTER))
        ch.ptrs[0] = code
        return ch

    def to_local(self, obj):
        """The host value of a guest literal (see from_local); other objects raise MembraneError."""
        if obj.__class__ is int:
            return obj
        if obj is self.nil:
            return None
        if obj is self.true:
            return True
        if obj is self.false:
            return False
        sp = self.heap.specials.ptrs
        cls = obj.cls
        if cls is sp[S.CLASS_FLOAT]:
            return self.heap.float_value(obj)
        if cls is sp[S.CLASS_LARGE_POSITIVE_INTEGER]:
            return int.from_bytes(obj.bytes, "little")
        if cls is self.large_negative_integer_class():
            return -int.from_bytes(obj.bytes, "little")
        if cls is sp[S.CLASS_CHARACTER]:
            return Char(chr(obj.ptrs[0]))
        if cls is self.symbol_class():
            return Symbol(text_of(obj))
        if cls is sp[S.CLASS_STRING]:
            return text_of(obj)
        if cls is sp[S.CLASS_BYTE_ARRAY]:
            return bytes(obj.bytes)
        if cls is sp[S.CLASS_ARRAY]:
            return [self.to_local(x) for x in obj.ptrs]
        raise MembraneError("a %s is not a literal; use a mirror" % self.layout.class_name_of(cls))
