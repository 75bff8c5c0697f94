"""The object memory of a space read from a Spur image.

Beside what every heap has, a Spur heap keeps the class table: class index -> class. An
object's class index is its class's identity hash (the table's inverse); indices 1-4 name
the classes of the immediates (SmallInteger, Character, SmallInteger again on 32-bit,
SmallFloat64). Immediate Characters and SmallFloat64s are SqObjects of format
FMT_IMMEDIATE (objects.py); Characters are unique per code point, made by `character`.
"""
from __future__ import annotations

from .heap import Heap
from .objects import FMT_FIXED_VAR, FMT_IMMEDIATE, FMT_WORDS, SqObject, small_float_oop, words_of_float

CHARACTER_INDEX = 2
SMALL_FLOAT_INDEX = 4
FIRST_FREE_INDEX = 1024     # the first page of the class table is the VM's own


class SpurHeap(Heap):
    def __init__(self, specials: SqObject, info, class_table: dict, characters=None, objects=None):
        self.class_table = class_table          # index -> class
        self._index_of = {}     # id(class) -> its index: its hash, else the lowest (puns)
        for index in sorted(class_table):
            cls = class_table[index]
            if cls.hash == index or id(cls) not in self._index_of:
                self._index_of[id(cls)] = index
        self._chars: dict = dict(characters or {})     # code point -> Character
        super().__init__(specials, info, objects)

    # --- class indices ---------------------------------------------------------
    def class_index(self, cls: SqObject) -> int:
        """`cls`'s index in the class table, entering it there first if it has none
        (as the Spur VM does when a class gets its first instance): its hash becomes
        the index."""
        index = self._index_of.get(id(cls))
        if index is not None and self.class_table.get(index) is cls:
            return index
        index = cls.hash
        if not (FIRST_FREE_INDEX <= index < 1 << 22) or index in self.class_table:
            index = FIRST_FREE_INDEX
            while index in self.class_table:
                index += 1
            if index >= 1 << 22:
                raise MemoryError("the class table is full")
        self.class_table[index] = cls
        self._index_of[id(cls)] = index
        cls.hash = index
        return index

    def class_at_index(self, index: int):
        return self.class_table.get(index)

    def forget_classes(self, keep) -> None:
        """Drop the class table entries of classes not in `keep` (ids of live objects),
        as the VM's collector does with classes that have become garbage."""
        for index in [i for i, c in self.class_table.items() if id(c) not in keep]:
            cls = self.class_table.pop(index)
            if self._index_of.get(id(cls)) == index:
                del self._index_of[id(cls)]

    # --- new objects -------------------------------------------------------------
    def new_hash(self) -> int:
        """The next identity hash (22 bits, never 0: 0 means 'not yet assigned')."""
        h = self.last_hash = (self.last_hash * 16807) % 0x7FFFFFFF or 1
        return (h & 0x3FFFFF) or 1

    def instantiate(self, cls: SqObject, size: int = 0) -> SqObject:
        obj = super().instantiate(cls, size)
        self.class_index(cls)
        return obj

    def new_closure(self, cls: SqObject, copied: int) -> SqObject:
        """A closure is always indexable with named fields, whatever its class's format
        says (the Spur VM allocates it so; PharoCandle-Spur64's block class is fixed)."""
        fixed = self.family.class_inst_size(cls.ptrs[2])
        self.class_index(cls)
        return self.new_object(cls, FMT_FIXED_VAR, ptrs=[self.nil] * (fixed + copied))

    def character(self, code: int) -> SqObject:
        """The immediate Character with this code point (one per code point)."""
        ch = self._chars.get(code)
        if ch is None:
            ch = self._chars[code] = SqObject(self.class_table[CHARACTER_INDEX], FMT_IMMEDIATE,
                                              code, ptrs=[code])
        return ch

    def new_float(self, value: float) -> SqObject:
        """A SmallFloat64 when the 64-bit family can hold `value` immediately, else a
        boxed Float (always boxed in an image without a SmallFloat64 class)."""
        if self.family.has_small_floats and SMALL_FLOAT_INDEX in self.class_table:
            words = words_of_float(value)
            if small_float_oop((words[0] << 32) | words[1]) is not None:
                return self.small_float(words)      # an immediate: not in the heap's list
        return super().new_float(value)

    def small_float(self, words) -> SqObject:
        return SqObject(self.class_table[SMALL_FLOAT_INDEX], FMT_IMMEDIATE, 0, words=list(words))

    # --- listing and measuring -----------------------------------------------------
    def compact_classes(self) -> dict:
        return {}

    def object_sizer(self):
        return self.object_bytes

    def object_bytes(self, obj: SqObject) -> int:
        """Bytes `obj` takes in a Spur image: an 8-byte header (16 with the overflow word
        of 255 slots or more) and its slots rounded up to 8 bytes, at least 8."""
        slots = self.num_slots(obj)
        body = max(8, (slots * self.family.word_size + 7) & ~7)
        return body + (16 if slots >= 255 else 8)

    def num_slots(self, obj: SqObject) -> int:
        """Size of `obj` in slots (words of the family's size)."""
        w = self.family.word_size
        fmt = obj.fmt
        if obj.ptrs is not None and obj.bytes is None:
            return len(obj.ptrs)
        if fmt == FMT_WORDS:
            return (4 * len(obj.words) + w - 1) // w
        if obj.bytes is not None:
            n = len(obj.bytes) + (w * len(obj.ptrs) if obj.ptrs is not None else 0)
            return (n + w - 1) // w
        unit = 8 if fmt == 9 else 2
        return (unit * len(obj.words) + w - 1) // w
