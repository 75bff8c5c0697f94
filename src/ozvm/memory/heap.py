"""The object memory of one object space (one image) inside the VM.

A Heap knows its special objects array, nil/false/true, the image header it came from,
and how to make new objects. Its live objects are those reachable from its special
objects array (plus any roots the VM adds while running): that is how the space lists its
objects and measures its memory, and how the image writer sees it.

`heap.objects` is the heap in memory order, as a real VM's object enumeration
(someObject/nextObject, someInstance/nextInstance) sees it: the objects read from the image
file in file order, then every object made since, in allocation order, garbage included
until a garbage collection (memory/gc.py) takes it out. Every new object is made by
`allocate`, the one allocation path (an append, after the caller charged it; contexts, by the
interpreter too, through `new_context`,
and reused when they return as a real VM reuses them).
"""
from __future__ import annotations

from functools import partial

from . import gc as G
from . import specials as S
from .accounting import BIG_OBJECT, CONTEXT_BYTES, MemoryAccount, cost_of, footprint
from .contexts import REUSE_CONTEXTS, TEMP0
from .families import family_of_version
from .objects import (
    FMT_BYTES, FMT_DOUBLE_WORDS, FMT_IMMEDIATE, FMT_METHOD, FMT_SHORTS, FMT_VAR, FMT_WEAK,
    FMT_WORDS, SqObject, float_of_words, words_of_float,
)


FLOAT_BYTES = cost_of(words=2) + 64       # and its two (big) word ints


class ImageInfo:
    """What the image file said about itself (kept to write the image back)."""

    __slots__ = ("version", "little_endian", "file_offset", "header_size", "data_size",
                 "old_base", "specials_oop", "last_hash", "window_size", "flags",
                 "extra_vm_memory", "header_words", "path", "oop_table", "raw_header")

    def __init__(self, **kw):
        for name in self.__slots__:
            setattr(self, name, kw.get(name))

    @property
    def family(self):
        """The image family (memory/families.py) of this format version."""
        return family_of_version(self.version)

    @property
    def has_closures(self) -> bool:
        return self.version in (6504, 6505) or self.family.is_spur

    @property
    def native_float_words(self) -> bool:
        """6505 and Spur store Float words in platform order."""
        return self.version == 6505 or self.family.is_spur

    def window_extent(self):
        return (self.window_size >> 16) & 0xFFFF, self.window_size & 0xFFFF


class Heap:
    """One space's object memory."""

    def __init__(self, specials: SqObject, info: ImageInfo, objects=None):
        self.specials = specials
        self.info = info
        self.family = info.family
        self.last_hash = info.last_hash or 1
        self.extra_roots: list = []   # objects the VM keeps alive outside the specials
        # allocation counters (memory/accounting.py): bytes charged for new objects since
        # the heap was made; when `allocated` passes `alarm`, the account checks the limit
        self.allocated = 0
        self.alarm = 0
        self.account = MemoryAccount(self)
        if objects is None:
            objects = info.oop_table.values() if info.oop_table else ()
        self.objects: list = list(objects)  # memory order, garbage included (see above)
        self.gc = G.Collector(self)
        self.refresh_specials()

    def refresh_specials(self) -> None:
        """Re-read the cached well-known objects (after the specials array changed)."""
        sp = self.specials.ptrs
        self.nil = sp[S.NIL]
        self.false = sp[S.FALSE]
        self.true = sp[S.TRUE]

    def special(self, index: int):
        return self.specials.ptrs[index]

    def offset_of(self, obj):
        """The file offset of `obj`'s base header in the image it was read from, or None
        (for error messages about malformed images)."""
        table = self.info.oop_table
        if not table or obj.__class__ is not SqObject:
            return None
        for oop, o in table.items():
            if o is obj:
                return self.info.file_offset + self.info.header_size + (oop - self.info.old_base)
        return None

    # --- creating objects -------------------------------------------------
    def new_hash(self) -> int:
        """The next identity hash (12 bits), by the V3 VM's generator."""
        self.last_hash = h = (13849 + 27181 * self.last_hash) & 0xFFFF
        return h & 0xFFF

    def charge(self, cost: int) -> None:
        """Count `cost` bytes of a new object against the space's memory, before it is
        made: past the alarm the account checks the limit (and may refuse it, raising
        MemoryLimitError, when it is big)."""
        if self.allocated + cost > self.alarm:
            self.account.check(cost)
        self.allocated += cost

    def reserve(self, cost: int) -> None:
        """Check that an object of `cost` bytes would fit, before the work that makes
        its contents (e.g. large-integer arithmetic); it is charged when made."""
        if self.allocated + cost > self.alarm:
            self.account.check(cost)

    def charge_context(self, fields: int) -> None:
        """Count a context the interpreter makes itself (checked at its next heartbeat)."""
        self.allocated += CONTEXT_BYTES + 8 * fields

    def new_object(self, cls: SqObject, fmt: int, ptrs=None, bytes=None, words=None) -> SqObject:
        """A new object with these (already made) fields, charged to the space."""
        obj = self.allocate(cls, fmt, ptrs, bytes, words)
        cost = footprint(obj)
        self.charge(cost)
        if cost >= BIG_OBJECT:
            self.account.charge_big(obj, cost)
        return obj

    def _made(self, obj: SqObject, cost: int) -> SqObject:
        if cost >= BIG_OBJECT:
            self.account.charge_big(obj, cost)
        return obj

    def allocate(self, cls, fmt: int, ptrs=None, bytes=None, words=None) -> SqObject:
        """Make a new object with the next identity hash and list it at the end of memory:
        the one place objects are made (memory/gc.py; the callers charge it)."""
        obj = SqObject(cls, fmt, self.new_hash(), ptrs, bytes, words)
        objects = self.objects
        objects.append(obj)
        gc = self.gc
        if len(objects) > gc.young_limit or self.allocated > gc.young_bytes:
            gc.young_collection()
        return obj

    def new_context(self, cls, ptrs) -> SqObject:
        """A new context (MethodContext or BlockContext), charged. Where the interpreter
        reuses returned contexts (REUSE_CONTEXTS: CPython), it is listed and marked as listed
        (its cache is its own id) so that the interpreter counts the list's reference
        (memory/gc.py keeps the mark exact). Elsewhere (PyPy) no context is reused, and most
        die at once: it is listed only when a collection or an object enumeration finds it
        reachable (gc.Collector.list_contexts), so that short-lived ones are never held."""
        self.charge_context(len(ptrs))
        if REUSE_CONTEXTS:
            ctx = self.allocate(cls, 3, ptrs)
            ctx.cache = id(ctx)
            return ctx
        self.gc.unlisted_context(CONTEXT_BYTES + 8 * len(ptrs))
        return SqObject(cls, 3, self.new_hash(), ptrs, None, None)

    def instantiate(self, cls: SqObject, size: int = 0) -> SqObject:
        """A new instance of `cls` with `size` indexable fields (nil, zero bytes or words),
        checked against the space's memory limit before it is made."""
        family = self.family
        fmt_value = cls.ptrs[2]
        spec = family.class_inst_spec(fmt_value)
        fmt = family.object_format(spec)
        if fmt is None:
            raise ValueError("class has an invalid instance format %d" % spec)
        if fmt <= FMT_WEAK or fmt == 5:
            fixed = family.class_inst_size(fmt_value)
            if (fmt < FMT_VAR or fmt == 5) and size:
                raise ValueError("class is not indexable")
            cost = cost_of(pointers=fixed + size)
            self.charge(cost)
            return self._made(self.allocate(cls, fmt, ptrs=[self.nil] * (fixed + size)), cost)
        if fmt == FMT_WORDS or fmt == FMT_SHORTS or fmt == FMT_DOUBLE_WORDS:
            cost = cost_of(words=size)
            self.charge(cost)
            return self._made(self.allocate(cls, fmt, words=[0] * size), cost)
        if fmt == FMT_BYTES:
            cost = cost_of(nbytes=size)
            self.charge(cost)
            return self._made(self.allocate(cls, FMT_BYTES, bytes=bytearray(size)), cost)
        if fmt == FMT_METHOD:
            raise ValueError("compiled methods are made with new_method")
        raise ValueError("instances of this class are immediates")

    def new_closure(self, cls: SqObject, copied: int) -> SqObject:
        """A BlockClosure with `copied` copied values (fields nil)."""
        return self.instantiate(cls, copied)

    def character(self, code: int) -> SqObject:
        """The Character with this code point: V3 keeps one per byte value in the
        character table; others are new instances, as the V3 VM makes them."""
        if 0 <= code < 256:
            return self.specials.ptrs[S.CHARACTER_TABLE].ptrs[code]
        ch = self.instantiate(self.specials.ptrs[S.CLASS_CHARACTER])
        ch.ptrs[0] = code
        return ch

    def new_method(self, cls: SqObject, header: int, literals: list, code) -> SqObject:
        """A new compiled method; `code`: its bytecodes (bytes), or how many zero bytes."""
        size = code if code.__class__ is int else len(code)
        self.charge(cost_of(pointers=1 + len(literals), nbytes=size))
        return self.allocate(cls, FMT_METHOD, ptrs=[header] + list(literals), bytes=bytearray(code))

    def new_float(self, value: float) -> SqObject:
        self.charge(FLOAT_BYTES)
        return self.allocate(self.specials.ptrs[S.CLASS_FLOAT], FMT_WORDS, words=words_of_float(value))

    def float_value(self, obj: SqObject) -> float:
        return float_of_words(obj.words)

    def new_string(self, text) -> SqObject:
        data = text.encode("latin-1") if isinstance(text, str) else text
        return self.new_bytes(self.specials.ptrs[S.CLASS_STRING], data)

    def new_bytes(self, cls: SqObject, data) -> SqObject:
        """A new byte object of class `cls` holding `data` (checked before it is copied)."""
        cost = cost_of(nbytes=len(data))
        self.charge(cost)
        return self._made(self.allocate(cls, FMT_BYTES, bytes=bytearray(data)), cost)

    def new_array(self, items) -> SqObject:
        items = list(items)
        cost = cost_of(pointers=len(items))
        self.charge(cost)
        return self._made(self.allocate(self.specials.ptrs[S.CLASS_ARRAY], FMT_VAR, ptrs=items), cost)

    def copy_of(self, obj: SqObject) -> SqObject:
        """A shallow copy of `obj` with a new identity hash (checked before it is made)."""
        cost = footprint(obj)
        self.charge(cost)
        return self._made(self.allocate(obj.cls, obj.fmt,
                                    ptrs=None if obj.ptrs is None else list(obj.ptrs),
                                    bytes=None if obj.bytes is None else bytearray(obj.bytes),
                                    words=None if obj.words is None else list(obj.words)), cost)

    # --- listing and measuring --------------------------------------------
    def roots(self) -> list:
        return [self.specials] + list(self.extra_roots)

    def all_objects(self, extra_roots=()) -> list:
        """Every object reachable from the roots (and `extra_roots`, e.g. a running
        interpreter's context and stack), each once, in a deterministic order:
        nil, false, true, the specials array, the other roots, then depth-first."""
        sp = self.specials.ptrs
        roots = [sp[S.NIL], sp[S.FALSE], sp[S.TRUE], self.specials]
        return self.trace(roots + list(self.extra_roots) + list(extra_roots))[0]

    def trace(self, roots, weak: bool = False, frames: bool = False, active=None,
              active_sp: int = 0) -> tuple:
        """The one walk of the object graph (all_objects, and the collector's mark):
        (the objects reachable from `roots`, each once, `roots` first (those that are
        objects) then depth-first, immediates left out; the weak objects among them; the
        set of the ids of all, immediates included). `weak`: the indexable fields of weak
        objects are not traced. `frames`: a context's fields are traced up to its stack
        pointer only (`active`'s, the running context, up to index `active_sp`)."""
        sp = self.specials.ptrs
        mctx, bctx = sp[S.CLASS_METHOD_CONTEXT], sp[S.CLASS_BLOCK_CONTEXT]
        order = []
        seen = set()
        for root in roots:
            if root.__class__ is SqObject and id(root) not in seen:
                seen.add(id(root))
                order.append(root)
        stack = list(reversed(order))
        weak_objects = []
        inst_size = self.family.class_inst_size
        seen_add = seen.add
        append = order.append
        push = stack.append
        while stack:
            obj = stack.pop()
            c = obj.cls
            if id(c) not in seen:
                seen_add(id(c))
                append(c)
                push(c)
            ptrs = obj.ptrs
            if ptrs is None:
                continue
            if weak and obj.fmt == FMT_WEAK:
                weak_objects.append(obj)
                ptrs = ptrs[:inst_size(c.ptrs[2])]
            elif frames and (c is mctx or c is bctx):
                if obj is active:
                    ptrs = ptrs[:active_sp + 1]
                else:
                    n = ptrs[2]
                    ptrs = ptrs[:TEMP0 + (n if n.__class__ is int and n > 0 else 0)]   # stackp
            if len(ptrs) > 256:
                # a big object: each distinct field once, found at C speed (in the
                # same order: the first of each, from the end), e.g. a million nils
                ptrs = list(dict.fromkeys(reversed(ptrs)))
                ptrs.reverse()
            for p in reversed(ptrs):
                if p.__class__ is SqObject and id(p) not in seen:
                    seen_add(id(p))
                    if p.fmt != FMT_IMMEDIATE:
                        append(p)
                        push(p)
        return order, weak_objects, seen

    def save_order(self) -> list:
        """The objects to write in an image: every reachable object, those read from the
        image file first in their file (address) order, then new ones in reachability
        order. So a space saved without changes is written as it was read."""
        reachable = self.all_objects()
        table = self.info.oop_table
        if not table:
            return reachable
        wanted = set(map(id, reachable))
        ordered = [o for o in table.values() if id(o) in wanted]
        if len(ordered) == len(reachable):
            return ordered
        placed = set(map(id, ordered))
        ordered.extend(o for o in reachable if id(o) not in placed)
        return ordered

    def all_instances(self, cls: SqObject) -> list:
        """The live (reachable) instances of `cls`."""
        return [o for o in self.all_objects() if o.cls is cls]

    def compact_classes(self) -> dict:
        """id(class) -> compact class index (1-31) for the classes in the compact classes array."""
        table = self.specials.ptrs[S.COMPACT_CLASSES]
        nil = self.nil
        return {id(c): i + 1 for i, c in enumerate(table.ptrs) if c is not nil and c.__class__ is SqObject}

    def object_sizer(self):
        """A function answering the bytes an object takes in an image of this heap's kind
        (here V3's; SpurHeap answers Spur's)."""
        return partial(v3_bytes, compact=self.compact_classes())

    def bytes_of(self, objects) -> int:
        """Bytes `objects` take in an image of this heap's kind."""
        return sum(map(self.object_sizer(), objects))

    def memory_use(self):
        """(object count, bytes as in an image of this heap's kind, [(class, count, bytes)])."""
        size_of = self.object_sizer()
        by_class: dict = {}
        total = 0
        objects = self.all_objects()
        for obj in objects:
            size = size_of(obj)
            total += size
            entry = by_class.get(id(obj.cls))
            if entry is None:
                by_class[id(obj.cls)] = entry = [obj.cls, 0, 0]
            entry[1] += 1
            entry[2] += size
        return len(objects), total, [tuple(e) for e in by_class.values()]


def v3_bytes(obj: SqObject, compact: dict) -> int:
    """Bytes `obj` takes in a V3 image (`compact`: Heap.compact_classes())."""
    return 4 * (v3_header_words(obj, id(obj.cls) in compact) + obj.body_words())


def v3_header_words(obj: SqObject, compact: bool) -> int:
    """How many header words `obj` takes in a V3 image (1, 2 or 3)."""
    if obj.body_words() + 1 > 63:
        return 3
    return 1 if compact else 2
