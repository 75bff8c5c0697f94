"""Object access and storage primitives: indexing (60-64, 143-145), objectAt: (68-69),
instantiation (70-71, 79), become (72, 128, 248, 249), instVarAt: (73-74), identity (75,
110, 111, 169), stackp: (76), enumeration (77-78, 138-139), replaceFrom:to:with:startingAt:
(105), memory (112, 129-131), pointsTo: (132), shallowCopy (148), asCharacter (170).

Semantics follow the C interpreter VM (squeak-vm 4.10, the oracle): indexing counts the
indexable fields after the named ones; a context's size is its stack pointer; at: on a
CompiledMethod counts the bytes of its header and literal words first (V3: a SmallInteger's
word answers as squeak-vm's little-endian memory holds it, an object literal's address does
not exist here and fails; Spur: those indices fail, as on SqueakJS); at:put: fails there;
instVarAt: reaches the named fields only;
non-indexable objects and SmallIntegers have no size (62 fails).

Enumeration (someInstance, nextInstance, someObject, nextObject) follows the heap's memory
order, garbage included until a collection (130, 131) takes it out (memory/gc.py).

Become: two-way (128) swaps the bodies of the objects, keeping each identity hash with its
references (the C VM's copyHash); one-way (72, 248, 249) replaces every reference to each
source object, in every reachable object, the active stack and the roots, by its target.
An interpreter that caches fields of its receiver or method must reload its registers
after these primitives.
"""
from __future__ import annotations

from ..memory import specials as S
from ..memory.objects import (
    FLAG_IMMUTABLE, FLAG_PINNED, FMT_BYTES, FMT_EPHEMERON, FMT_IMMEDIATE, FMT_METHOD, FMT_VAR,
    FMT_WEAK, FMT_WORDS, SqObject,
)
from .base import PrimitiveFailed, primitive, raw_primitive
from .values import (
    boolean, boolean_value, character, character_value, is_class, positive32_object,
    positive32_value, register_failing, small_value,
)

# The largest object basicNew: makes (bytes); larger requests fail as when the C VM is out
# of memory, so that the image's low-space handling runs instead of the host thrashing.
MAX_ALLOCATION_BYTES = 256 * 1024 * 1024

# The object memory ozvm lets an image believe it has (bytes); bytesLeft answers this
# minus the space the image's objects would take in a V3 object memory.
MEMORY_LIMIT = 512 * 1024 * 1024

CONTEXT_FIXED_FIELDS = 6

# replaceFrom:to:with:startingAt: (105) copies at most this many fields (or bytes) in one
# primitive: about 10 ms on CPython; a longer copy fails and the image's own Smalltalk
# loop (its fallback code) does it, interruptibly. Copies past BEAT_AFTER_FIELDS bring the
# interpreter's heartbeat forward (interp.beat_soon), so that a loop of them is interrupted
# in time.
MAX_COPY_FIELDS = 1 << 20
MAX_COPY_BYTES = 1 << 26
BEAT_AFTER_FIELDS = 1 << 16


# --- shapes ------------------------------------------------------------------------------

def is_context(heap, obj) -> bool:
    c = obj.cls
    sp = heap.specials.ptrs
    return c is sp[S.CLASS_METHOD_CONTEXT] or c is sp[S.CLASS_BLOCK_CONTEXT]


def context_stackp(interp, ctx) -> int:
    """The stack pointer of a context (live for the active context)."""
    if ctx.ptrs is interp.stack:
        return interp.sp - CONTEXT_FIXED_FIELDS + 1
    sp = ctx.ptrs[2]
    return sp if sp.__class__ is int else 0


def indexable_range(interp, obj):
    """(offset, size) of the indexable part of a pointer object, or None if it has none."""
    fmt = obj.fmt
    if fmt < FMT_VAR:
        return None
    if fmt == FMT_EPHEMERON:
        return None
    fixed = interp.heap.family.class_inst_size(obj.cls.ptrs[2])
    if fmt == 3 and is_context(interp.heap, obj):
        return fixed, context_stackp(interp, obj)
    return fixed, len(obj.ptrs) - fixed


def basic_size(interp, obj) -> int:
    """Smalltalk basicSize; raises PrimitiveFailed for non-indexable objects."""
    if obj.__class__ is not SqObject:
        raise PrimitiveFailed()
    fmt = obj.fmt
    if fmt == FMT_BYTES:
        return len(obj.bytes)
    if fmt == FMT_WORDS:
        return len(obj.words)
    if fmt == FMT_METHOD:
        return interp.heap.family.word_size * len(obj.ptrs) + len(obj.bytes)
    r = indexable_range(interp, obj)
    if r is None:
        raise PrimitiveFailed()
    return r[1]


def _index(obj) -> int:
    if obj.__class__ is int:
        return obj
    raise PrimitiveFailed()


# --- at: at:put: size -------------------------------------------------------------------

def basic_at(interp, rcvr, index):
    i = _index(index)
    if rcvr.__class__ is not SqObject:
        raise PrimitiveFailed()
    fmt = rcvr.fmt
    if fmt == FMT_BYTES:
        if 1 <= i <= len(rcvr.bytes):
            return rcvr.bytes[i - 1]
    elif fmt == FMT_WORDS:
        if 1 <= i <= len(rcvr.words):
            return positive32_object(interp.heap, rcvr.words[i - 1])
    elif fmt == FMT_METHOD:
        family = interp.heap.family
        j = i - family.word_size * len(rcvr.ptrs) - 1
        if 0 <= j < len(rcvr.bytes):
            return rcvr.bytes[j]
        if j < 0 < i and not family.is_spur:
            return _method_word_byte(family.word_size, rcvr, i - 1)
    else:
        r = indexable_range(interp, rcvr)
        if r is not None and 1 <= i <= r[1]:
            return rcvr.ptrs[r[0] + i - 1]
    raise PrimitiveFailed()


def _method_word_byte(word_size: int, method, k: int) -> int:
    """Byte `k` (0-based) of a V3 CompiledMethod's header and literal words, as squeak-vm
    answers at: there: the bytes of the word in its memory, little-endian as on its host
    (whatever the image file's order). A SmallInteger's word is exact (the header's, a
    SmallInteger literal's); an object's is an address ozvm does not have: that fails."""
    value = method.ptrs[k // word_size]
    if value.__class__ is not int:
        raise PrimitiveFailed()
    return ((value << 1 | 1) >> (8 * (k % word_size))) & 0xFF


def writable(rcvr) -> None:
    """Fail unless `rcvr` is an object a primitive may store into: not read-only (the
    Spur VM's PrimErrNoModification; V3 objects are never read-only)."""
    if rcvr.__class__ is not SqObject or rcvr.flags & FLAG_IMMUTABLE:
        raise PrimitiveFailed()


def basic_at_put(interp, rcvr, index, value):
    i = _index(index)
    writable(rcvr)
    fmt = rcvr.fmt
    if fmt == FMT_BYTES or fmt == FMT_METHOD:
        if value.__class__ is not int or not 0 <= value <= 255:
            raise PrimitiveFailed()
        if fmt == FMT_METHOD:
            i -= interp.heap.family.word_size * len(rcvr.ptrs)
        if 1 <= i <= len(rcvr.bytes):
            rcvr.bytes[i - 1] = value
            return value
    elif fmt == FMT_WORDS:
        if 1 <= i <= len(rcvr.words):
            rcvr.words[i - 1] = positive32_value(interp.heap, value)
            return value
    else:
        r = indexable_range(interp, rcvr)
        if r is not None and 1 <= i <= r[1]:
            rcvr.ptrs[r[0] + i - 1] = value
            return value
    raise PrimitiveFailed()


def string_at(interp, rcvr, index):
    i = _index(index)
    if rcvr.__class__ is SqObject:
        if rcvr.fmt == FMT_BYTES:
            if 1 <= i <= len(rcvr.bytes):
                return character(interp.heap, rcvr.bytes[i - 1])
        elif rcvr.fmt == FMT_WORDS:
            if 1 <= i <= len(rcvr.words) and rcvr.words[i - 1] < 256:
                return character(interp.heap, rcvr.words[i - 1])
    raise PrimitiveFailed()


@primitive(64, argc=2)
def string_at_put(interp, rcvr, index, value):
    i = _index(index)
    code = character_value(interp.heap, value)
    writable(rcvr)
    if rcvr.__class__ is SqObject:
        if rcvr.fmt == FMT_BYTES:
            if 1 <= i <= len(rcvr.bytes) and 0 <= code <= 255:
                rcvr.bytes[i - 1] = code
                return value
        elif rcvr.fmt == FMT_WORDS:
            if 1 <= i <= len(rcvr.words) and 0 <= code <= 0xFFFFFFFF:
                rcvr.words[i - 1] = code
                return value
    raise PrimitiveFailed()


# Fast paths for the hot cases (Arrays and byte objects); everything else goes through
# the general functions above, which the numbered primitives end up in.

def _fast_at(interp, argc):
    if argc != 1:
        return False
    stack = interp.stack
    sp = interp.sp
    rcvr = stack[sp - 1]
    i = stack[sp]
    if i.__class__ is int and rcvr.__class__ is SqObject:
        fmt = rcvr.fmt
        if fmt == FMT_VAR:
            p = rcvr.ptrs
            if 0 < i <= len(p):
                stack[sp - 1] = p[i - 1]
                interp.sp = sp - 1
                return True
            return False
        if fmt == FMT_BYTES:
            b = rcvr.bytes
            if 0 < i <= len(b):
                stack[sp - 1] = b[i - 1]
                interp.sp = sp - 1
                return True
            return False
    try:
        value = basic_at(interp, rcvr, i)
    except PrimitiveFailed:
        return False
    interp.pop_push(2, value)
    return True


def _fast_at_put(interp, argc):
    if argc != 2:
        return False
    stack = interp.stack
    sp = interp.sp
    rcvr = stack[sp - 2]
    i = stack[sp - 1]
    value = stack[sp]
    if i.__class__ is int and rcvr.__class__ is SqObject and not rcvr.flags:
        fmt = rcvr.fmt
        if fmt == FMT_VAR:
            p = rcvr.ptrs
            if 0 < i <= len(p):
                p[i - 1] = value
                stack[sp - 2] = value
                interp.sp = sp - 2
                return True
            return False
        if fmt == FMT_BYTES:
            b = rcvr.bytes
            if 0 < i <= len(b) and value.__class__ is int and 0 <= value <= 255:
                b[i - 1] = value
                stack[sp - 2] = value
                interp.sp = sp - 2
                return True
            return False
    try:
        value = basic_at_put(interp, rcvr, i, value)
    except PrimitiveFailed:
        return False
    interp.pop_push(3, value)
    return True


def _fast_size(interp, argc):
    if argc != 0:
        return False
    stack = interp.stack
    sp = interp.sp
    rcvr = stack[sp]
    if rcvr.__class__ is SqObject:
        fmt = rcvr.fmt
        if fmt == FMT_VAR:
            stack[sp] = len(rcvr.ptrs)
            return True
        if fmt == FMT_BYTES:
            stack[sp] = len(rcvr.bytes)
            return True
    try:
        value = positive32_object(interp.heap, basic_size(interp, rcvr))
    except PrimitiveFailed:
        return False
    stack[sp] = value
    return True


def _fast_string_at(interp, argc):
    if argc != 1:
        return False
    stack = interp.stack
    sp = interp.sp
    rcvr = stack[sp - 1]
    i = stack[sp]
    if i.__class__ is int and rcvr.__class__ is SqObject and rcvr.fmt == FMT_BYTES:
        b = rcvr.bytes
        if 0 < i <= len(b):
            stack[sp - 1] = interp.heap.character(b[i - 1])
            interp.sp = sp - 1
            return True
        return False
    try:
        value = string_at(interp, rcvr, i)
    except PrimitiveFailed:
        return False
    interp.pop_push(2, value)
    return True


raw_primitive(60)(_fast_at)
raw_primitive(61)(_fast_at_put)
raw_primitive(62)(_fast_size)
raw_primitive(63)(_fast_string_at)


# Stream primitives next, nextPut:, atEnd: the image's Smalltalk code does the work.
register_failing(65, 66, 67)


# --- CompiledMethod literals --------------------------------------------------------------

@primitive(68, argc=1)
def object_at(interp, rcvr, index):
    """CompiledMethod objectAt: (1 is the header, then the literals)."""
    i = _index(index)
    if rcvr.__class__ is SqObject and rcvr.fmt == FMT_METHOD and 1 <= i <= len(rcvr.ptrs):
        return rcvr.ptrs[i - 1]
    raise PrimitiveFailed()


@primitive(69, argc=2)
def object_at_put(interp, rcvr, index, value):
    i = _index(index)
    writable(rcvr)
    if rcvr.__class__ is SqObject and rcvr.fmt == FMT_METHOD and 1 <= i <= len(rcvr.ptrs):
        rcvr.ptrs[i - 1] = value
        if i == 1:
            rcvr.cache = None    # the interpreter's decoded header is stale
        return value
    raise PrimitiveFailed()


# --- instantiation ----------------------------------------------------------------------------

def _instantiate(interp, cls, size: int):
    if not is_class(cls):
        raise PrimitiveFailed()
    family = interp.heap.family
    spec = family.object_format(family.class_inst_spec(cls.ptrs[2]))
    if spec is None or spec == FMT_METHOD or spec == FMT_IMMEDIATE:
        raise PrimitiveFailed()
    if size:
        if spec < FMT_VAR or spec == FMT_EPHEMERON:
            raise PrimitiveFailed()
        unit = 1 if spec == FMT_BYTES else (4 if spec <= FMT_WORDS else 8)
        if size * unit > MAX_ALLOCATION_BYTES:
            raise PrimitiveFailed()
    return interp.heap.instantiate(cls, size)


@raw_primitive(70)
def basic_new(interp, argc):
    """Behavior basicNew (hot: written against the raw convention)."""
    if argc != 0:
        return False
    stack = interp.stack
    sp = interp.sp
    cls = stack[sp]
    if cls.__class__ is SqObject:
        p = cls.ptrs
        if p is not None and len(p) > 2 and cls.fmt <= FMT_WEAK:
            f = p[2]
            if f.__class__ is int:
                family = interp.heap.family
                if family.is_spur:
                    spec = family.object_format(family.class_inst_spec(f))
                    ok = spec is not None and spec != FMT_METHOD and spec != FMT_IMMEDIATE
                else:
                    spec = (f >> 7) & 15
                    ok = spec < 12 and spec != 5 and spec != 7
                if ok:
                    stack[sp] = interp.heap.instantiate(cls, 0)
                    return True
    return False


@primitive(71, argc=1)
def basic_new_size(interp, cls, size):
    n = positive32_value(interp.heap, size)
    return _instantiate(interp, cls, n)


@primitive(79, argc=2)
def new_method(interp, cls, byte_count, header):
    """CompiledMethod class newMethod: byteCount header: header (literals nil, bytes 0)."""
    n = small_value(byte_count)
    h = small_value(header)
    if not is_class(cls) or n < 0 or n > MAX_ALLOCATION_BYTES:
        raise PrimitiveFailed()
    heap = interp.heap
    return heap.new_method(cls, h, [heap.nil] * heap.family.method_num_literals(h), n)


# --- named instance variables -------------------------------------------------------------------

def _fixed_fields(interp, obj) -> int:
    if obj.__class__ is not SqObject or (obj.fmt > FMT_WEAK and obj.fmt != FMT_EPHEMERON):
        return 0
    return interp.heap.family.class_inst_size(obj.cls.ptrs[2])


@primitive(73, argc=1)
def inst_var_at(interp, rcvr, index):
    i = _index(index)
    if 1 <= i <= _fixed_fields(interp, rcvr):
        return rcvr.ptrs[i - 1]
    raise PrimitiveFailed()


@primitive(74, argc=2)
def inst_var_at_put(interp, rcvr, index, value):
    i = _index(index)
    if 1 <= i <= _fixed_fields(interp, rcvr):
        writable(rcvr)
        rcvr.ptrs[i - 1] = value
        if i == 1:
            rcvr.cache = None    # the interpreter's decoded header is stale
        return value
    raise PrimitiveFailed()


def _pointer_slot(rcvr, index):
    """slotAt:'s slot of `rcvr` (0-based) if it is a pointer object, None for a bits object
    (whose slots are its elements, as at: reaches them); fails for a CompiledMethod or an
    immediate, and out of bounds."""
    if rcvr.fmt == FMT_METHOD or rcvr.fmt == FMT_IMMEDIATE:
        raise PrimitiveFailed()
    if rcvr.ptrs is None:
        return None
    i = _index(index)
    if 1 <= i <= len(rcvr.ptrs):
        return i - 1
    raise PrimitiveFailed()


@primitive(173, argc=1)
def slot_at(interp, rcvr, index):
    """slotAt: (Spur): the index-th of all pointer slots, named and indexed; of a bits object
    its index-th element as at: answers it. Fails in V3 (no such primitive there)."""
    if not interp.heap.family.is_spur or rcvr.__class__ is not SqObject:
        raise PrimitiveFailed()
    i = _pointer_slot(rcvr, index)
    if i is None:
        return basic_at(interp, rcvr, index)
    return rcvr.ptrs[i]


@primitive(174, argc=2)
def slot_at_put(interp, rcvr, index, value):
    """slotAt:put: (Spur), as slotAt: reads; fails in V3 and on a read-only receiver."""
    if not interp.heap.family.is_spur:
        raise PrimitiveFailed()
    writable(rcvr)
    i = _pointer_slot(rcvr, index)
    if i is None:
        return basic_at_put(interp, rcvr, index, value)
    rcvr.ptrs[i] = value
    return value


# --- identity ----------------------------------------------------------------------------------------

@primitive(75, argc=0)
def identity_hash(interp, rcvr):
    """identityHash. Spur: fails for immediates; a hash of 0 means 'not assigned yet' and
    gets one now, as the Spur VM assigns hashes lazily."""
    if rcvr.__class__ is not SqObject or rcvr.fmt == FMT_IMMEDIATE:
        raise PrimitiveFailed()
    if rcvr.hash == 0 and interp.heap.family.is_spur:
        rcvr.hash = interp.heap.new_hash()
    return rcvr.hash


# --- Spur: immediates and class indices (sound primitives in V3 images: they fail) ----

@primitive(171, argc=0)
def immediate_as_integer(interp, rcvr):
    """Character>>value (asInteger) of an immediate Character (Spur)."""
    if rcvr.__class__ is not SqObject or rcvr.fmt != FMT_IMMEDIATE or rcvr.words is not None:
        raise PrimitiveFailed()
    return rcvr.ptrs[0]


@primitive(175, argc=0)
def behavior_hash(interp, rcvr):
    """A class's identity hash, which in Spur is its class index (entered in the class
    table now if it has none)."""
    heap = interp.heap
    if not heap.family.is_spur or rcvr.__class__ is not SqObject or rcvr.ptrs is None \
            or len(rcvr.ptrs) < 3 or rcvr.ptrs[2].__class__ is not int:
        raise PrimitiveFailed()
    return heap.class_index(rcvr)


@primitive(176, argc=0)
def max_identity_hash(interp, rcvr):
    """The largest identity hash (Spur: 22 bits)."""
    if not interp.heap.family.is_spur:
        raise PrimitiveFailed()
    return (1 << interp.heap.family.hash_bits) - 1


@primitive(110, argc=1)
def identical(interp, rcvr, arg):
    heap = interp.heap
    if rcvr.__class__ is int:
        return boolean(heap, arg.__class__ is int and rcvr == arg)
    return boolean(heap, rcvr is arg)


@raw_primitive(169)
def not_identical(interp, argc):
    """~~ in images with closures (169 is a file primitive in older ones: it fails)."""
    if argc != 1 or not interp.heap.info.has_closures:
        return False
    stack = interp.stack
    a = stack[interp.sp - 1]
    b = stack[interp.sp]
    same = (a == b) if a.__class__ is int else (a is b)
    heap = interp.heap
    interp.pop_push(2, heap.false if same else heap.true)
    return True


@primitive(111, argc=0)
def class_prim(interp, rcvr):
    return interp.class_of(rcvr)


@raw_primitive(170)
def as_character(interp, argc):
    """SmallInteger asCharacter in images with closures (a sound primitive before: fails);
    in Spur images also `Character value: n` (the code as the argument)."""
    if not interp.heap.info.has_closures or argc > 1 or (argc == 1 and not interp.heap.family.is_spur):
        return False
    code = interp.stack[interp.sp]
    if code.__class__ is not int or not 0 <= code <= 0x3FFFFFFF:
        return False
    interp.pop_push(argc + 1, character(interp.heap, code))     # Spur: the immediate Character
    return True


# --- context stack pointer -----------------------------------------------------------------------

@primitive(76, argc=1)
def store_stackp(interp, ctx, new_sp):
    """Context stackp: n; new slots become nil. The active context cannot be changed."""
    n = small_value(new_sp)
    if (ctx.__class__ is not SqObject or ctx.fmt > FMT_WEAK or ctx.ptrs is interp.stack
            or not is_context(interp.heap, ctx) or n < 0
            or n + CONTEXT_FIXED_FIELDS > len(ctx.ptrs)):
        raise PrimitiveFailed()
    p = ctx.ptrs
    old = p[2] if p[2].__class__ is int else 0
    nil = interp.heap.nil
    for i in range(old + 1, n + 1):
        p[CONTEXT_FIXED_FIELDS + i - 1] = nil
    p[2] = n
    return ctx


# --- enumeration --------------------------------------------------------------------------------------

def _found(obj):
    """What an enumeration found; it fails where it found nothing (None)."""
    if obj is None:
        raise PrimitiveFailed()
    return obj


@primitive(77, argc=0)
def some_instance(interp, cls):
    """The first instance of `cls` in memory order (see memory/gc.py)."""
    if cls.__class__ is not SqObject:
        raise PrimitiveFailed()
    return _found(interp.heap.gc.first_instance(cls))


@primitive(78, argc=0)
def next_instance(interp, obj):
    if obj.__class__ is not SqObject:
        raise PrimitiveFailed()
    return _found(interp.heap.gc.instance_after(obj))


@primitive(138, argc=0)
def some_object(interp, rcvr):
    return _found(interp.heap.gc.first_object())


@primitive(139, argc=0)
def next_object(interp, obj):
    """The object after `obj` in memory order, 0 after the last one."""
    if obj.__class__ is not SqObject:
        raise PrimitiveFailed()
    nxt = interp.heap.gc.object_after(obj)
    return 0 if nxt is None else nxt


def all_objects(interp) -> list:
    """Every object reachable from the heap's roots and the active context (and its
    stack up to the stack pointer), each once, as Heap.all_objects orders them."""
    extra = []
    ctx = getattr(interp, "ctx", None)
    if ctx.__class__ is SqObject:
        extra.append(ctx)
    stack = interp.stack
    if stack is not None:
        extra.extend(stack[:interp.sp + 1])
    return interp.heap.all_objects(extra)


# --- become -----------------------------------------------------------------------------------------------

def _become_arrays(rcvr, arg, two_way=False, copy_hash=False):
    """The two Arrays of a become, checked as the Spur VM checks them: no immediate, no
    pinned and no read-only object among the objects that change (the receiver's, and
    the argument's for a two-way become); for a one-way become copying the hash, no
    read-only target."""
    if (rcvr.__class__ is not SqObject or arg.__class__ is not SqObject
            or rcvr.fmt != FMT_VAR or arg.fmt != FMT_VAR or len(rcvr.ptrs) != len(arg.ptrs)):
        raise PrimitiveFailed()
    a = rcvr.ptrs
    b = arg.ptrs
    for x in a:
        if x.__class__ is not SqObject or x.flags:
            raise PrimitiveFailed()
    for x in b:
        if x.__class__ is not SqObject or ((two_way or copy_hash) and x.flags & FLAG_IMMUTABLE) \
                or (two_way and x.flags & FLAG_PINNED):
            raise PrimitiveFailed()
    return list(a), list(b)


def become_two_way(sources, targets) -> None:
    """Exchange identities; each identity hash stays with the references (copyHash)."""
    done = set()
    for a, b in zip(sources, targets):
        if a is b or (id(a), id(b)) in done:
            continue
        done.add((id(a), id(b)))
        done.add((id(b), id(a)))
        ha, hb = a.hash, b.hash
        a.become(b)
        a.hash, b.hash = ha, hb


def become_one_way(interp, sources, targets, copy_hash: bool) -> None:
    """Make every reference to sources[i] a reference to targets[i]."""
    heap = interp.heap
    forward = {}
    for a, b in zip(sources, targets):
        if a is not b:
            forward[id(a)] = b
            if copy_hash:
                b.hash = a.hash
    if not forward:
        return
    objects = all_objects(interp)
    get = forward.get
    for obj in objects:
        c = get(id(obj.cls))
        if c is not None:
            obj.cls = c
        p = obj.ptrs
        if p is not None:
            for i, x in enumerate(p):
                if x.__class__ is SqObject:
                    y = get(id(x))
                    if y is not None:
                        p[i] = y
    stack = interp.stack
    if stack is not None:
        for i, x in enumerate(stack):
            if x.__class__ is SqObject:
                y = get(id(x))
                if y is not None:
                    stack[i] = y
    roots = heap.extra_roots
    for i, x in enumerate(roots):
        y = get(id(x))
        if y is not None:
            roots[i] = y
    s = get(id(heap.specials))
    if s is not None:
        heap.specials = s
    heap.refresh_specials()
    interp.flush_method_cache_after_become(list(sources) + list(targets))


@primitive(128, argc=1)
def array_become(interp, rcvr, arg):
    a, b = _become_arrays(rcvr, arg, two_way=True)
    become_two_way(a, b)
    account = interp.heap.account
    for x, y in zip(a, b):
        account.swapped(x, y)       # a big body tracked for its memory moves with it
    interp.flush_method_cache_after_become(a + b)
    return rcvr


def _forward(interp, rcvr, arg, copy_hash: bool):
    """A one-way become of the receiver's objects into the argument's."""
    a, b = _become_arrays(rcvr, arg, copy_hash=copy_hash)
    become_one_way(interp, a, b, copy_hash)
    return rcvr


@primitive(72, argc=1)
def array_become_one_way(interp, rcvr, arg):
    return _forward(interp, rcvr, arg, True)


@primitive(248, argc=1)
def array_become_one_way_no_hash(interp, rcvr, arg):
    return _forward(interp, rcvr, arg, False)


@primitive(249)
def array_become_one_way_copy_hash(interp, rcvr, arg, *flag):
    """elementsForwardIdentityTo: [copyHash:] (copyHash defaults to true)."""
    if len(flag) > 1:
        raise PrimitiveFailed()
    return _forward(interp, rcvr, arg, boolean_value(interp.heap, flag[0]) if flag else True)


# --- replaceFrom:to:with:startingAt: -------------------------------------------------------------------

@primitive(105, argc=4)
def replace_from_to_with_starting_at(interp, rcvr, start, stop, repl, repl_start):
    """Copy repl[replStart ..] into rcvr[start .. stop] (same storage format)."""
    start = _index(start)
    stop = _index(stop)
    repl_start = _index(repl_start)
    writable(rcvr)
    if repl.__class__ is not SqObject:
        raise PrimitiveFailed()
    fmt = rcvr.fmt
    if fmt != repl.fmt or fmt == FMT_METHOD:
        raise PrimitiveFailed()
    if fmt == FMT_BYTES:
        dst, src, d0, dn, s0, sn = rcvr.bytes, repl.bytes, 0, len(rcvr.bytes), 0, len(repl.bytes)
    elif fmt == FMT_WORDS:
        dst, src, d0, dn, s0, sn = rcvr.words, repl.words, 0, len(rcvr.words), 0, len(repl.words)
    else:
        rd = indexable_range(interp, rcvr)
        rs = indexable_range(interp, repl)
        if rd is None or rs is None:
            raise PrimitiveFailed()
        dst, src = rcvr.ptrs, repl.ptrs
        d0, dn = rd
        s0, sn = rs
    count = stop - start + 1
    if start < 1 or count < 0 or stop > dn or repl_start < 1 or repl_start - 1 + count > sn:
        raise PrimitiveFailed()
    if count > (MAX_COPY_BYTES if fmt == FMT_BYTES else MAX_COPY_FIELDS):
        raise PrimitiveFailed()         # too long for one primitive: the image's loop copies
    if count > BEAT_AFTER_FIELDS:
        interp.beat_soon()
    if count:
        di = d0 + start - 1
        si = s0 + repl_start - 1
        if dst is src and si < di < si + count:
            for k in range(count):          # the C VM copies forwards, element by element
                dst[di + k] = src[si + k]
        else:
            dst[di:di + count] = src[si:si + count]
    return rcvr


# --- memory ------------------------------------------------------------------------------------------------

def bytes_left(interp, used=None) -> int:
    """Bytes free under the memory limit (the space's, else MEMORY_LIMIT), the space's
    objects taking `used` bytes (default: measured now)."""
    if used is None:
        used = interp.heap.memory_use()[1]
    limit = getattr(getattr(interp, "space", None), "memory_limit", None) or MEMORY_LIMIT
    return max(0, limit - used)


@primitive(112, argc=0)
def bytes_left_prim(interp, rcvr):
    return positive32_object(interp.heap, bytes_left(interp))


@primitive(129, argc=0)
def special_objects_array(interp, rcvr):
    return interp.heap.specials


def _garbage_collect(interp, argc: int, incremental: bool) -> bool:
    """A full collection (memory/gc.py): weak fields referring to garbage become nil.
    Answers the bytes free under the memory limit; then, if weak fields were cleared, the
    finalization semaphore is signalled (its process may preempt the caller)."""
    if argc != 0:
        return False
    heap = interp.heap
    cleared = heap.gc.collect(incremental)
    interp.pop_push(1, positive32_object(heap, bytes_left(interp, heap.gc.live_bytes())))
    if cleared:
        interp.signal_special_semaphore(S.THE_FINALIZATION_SEMAPHORE)
    return True


@raw_primitive(130)
def full_gc(interp, argc):
    """garbageCollect"""
    return _garbage_collect(interp, argc, False)


@raw_primitive(131)
def incremental_gc(interp, argc):
    """incrementalGC (garbageCollectMost): a full collection too"""
    return _garbage_collect(interp, argc, True)


@primitive(132, argc=1)
def points_to(interp, rcvr, arg):
    heap = interp.heap
    if rcvr.__class__ is not SqObject or rcvr.ptrs is None:
        return heap.false
    p = rcvr.ptrs
    if rcvr.fmt == 3 and is_context(heap, rcvr):
        p = p[:CONTEXT_FIXED_FIELDS + context_stackp(interp, rcvr)]
    if arg.__class__ is int:
        return boolean(heap, any(x.__class__ is int and x == arg for x in p))
    return boolean(heap, any(x is arg for x in p))


# --- shorts, fill, copy ---------------------------------------------------------------------------------

def _short_count(rcvr) -> int:
    if rcvr.__class__ is SqObject:
        if rcvr.fmt == FMT_WORDS:
            return 2 * len(rcvr.words)
        if rcvr.fmt == FMT_BYTES:
            return len(rcvr.bytes) // 2
    raise PrimitiveFailed()


@primitive(143, argc=1)
def short_at(interp, rcvr, index):
    """The index-th signed 16-bit value (little-endian memory, as on the oracle's host)."""
    i = _index(index)
    if not 1 <= i <= _short_count(rcvr):
        raise PrimitiveFailed()
    i -= 1
    if rcvr.fmt == FMT_WORDS:
        v = (rcvr.words[i >> 1] >> (16 * (i & 1))) & 0xFFFF
    else:
        v = rcvr.bytes[2 * i] | (rcvr.bytes[2 * i + 1] << 8)
    return v - 0x10000 if v & 0x8000 else v


@primitive(144, argc=2)
def short_at_put(interp, rcvr, index, value):
    i = _index(index)
    v = small_value(value)
    if not 1 <= i <= _short_count(rcvr) or not -0x8000 <= v <= 0x7FFF:
        raise PrimitiveFailed()
    writable(rcvr)
    i -= 1
    u = v & 0xFFFF
    if rcvr.fmt == FMT_WORDS:
        shift = 16 * (i & 1)
        w = rcvr.words[i >> 1]
        rcvr.words[i >> 1] = (w & ~(0xFFFF << shift) & 0xFFFFFFFF) | (u << shift)
    else:
        rcvr.bytes[2 * i] = u & 0xFF
        rcvr.bytes[2 * i + 1] = u >> 8
    return value


@primitive(145, argc=1)
def constant_fill(interp, rcvr, value):
    v = positive32_value(interp.heap, value)
    if rcvr.__class__ is not SqObject:
        raise PrimitiveFailed()
    if rcvr.fmt == FMT_BYTES:
        if v > 255:
            raise PrimitiveFailed()
        rcvr.bytes[:] = bytes((v,)) * len(rcvr.bytes)
    elif rcvr.fmt == FMT_WORDS:
        rcvr.words[:] = [v] * len(rcvr.words)
    else:
        raise PrimitiveFailed()
    return rcvr


def shallow_copy(heap, obj):
    """A copy of `obj` with its own fields and a new identity hash."""
    return heap.copy_of(obj)


@primitive(148, argc=0)
def clone(interp, rcvr):
    if rcvr.__class__ is not SqObject:
        return rcvr
    if rcvr.ptrs is interp.stack:
        interp_copy = shallow_copy(interp.heap, rcvr)
        interp_copy.ptrs[2] = context_stackp(interp, rcvr)
        return interp_copy
    return shallow_copy(interp.heap, rcvr)
