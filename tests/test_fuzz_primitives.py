"""The primitive fuzzer: every primitive of the interpreter's table and every named
primitive, called as a send calls it (a method whose primitive it is, run on a receiver
with arguments), with receivers and arguments drawn from real objects of the shared images
(two V3 images and a 64-bit Spur one): edge SmallIntegers, nil/true/false, Characters,
Strings, Symbols, Arrays, Floats, LargeIntegers (normalized or not), classes, methods,
contexts, blocks, processes, semaphores, Points, Forms, bitmaps...

Each call answers (the primitive succeeded), answers the method's fallback value (it
failed, as a primitive failure) or raises an OzError that is not a crash: a Python error
escaping a primitive (a VMError naming the primitive) or any other host exception is a bug
of ozvm. After the fuzz the space still works and `check_isolation()` passes.

Hypothesis is derandomized and bounded by example counts, not time. Objects that have an
identity the image depends on (nil, true, false, Characters, Symbols, classes, the special
objects array, the scheduler and its processes) are passed as themselves and put back as
they were after each call; every other object is a fresh copy, so that a primitive that
writes into its receiver or arguments (at:put:, become:, replaceFrom:...) changes nothing
the next call sees. Files are denied to the fuzzed spaces (FilePolicy.deny)."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import image_path
from ozvm.errors import OzError, VMError
from ozvm.memory import specials as S
from ozvm.memory.objects import FMT_EPHEMERON, FMT_METHOD, SqObject
from ozvm.prims import base
from ozvm.prims.file_policy import FilePolicy
from ozvm.space.control import interpreter
from ozvm.space.execution import run_method
from ozvm.vm import VM

# Primitives not called, and why (each would stop or block the host, not the guest).
EXCLUDED = {
    97: "snapshot: writes an image file (a whole-heap walk each call)",
}
EXAMPLES = 12           # examples per image; each calls every primitive once
MAX_ARGS = 5
IMAGES = ["squeak2.2-mini.image", "pharocandle.image", "pharocandle-spur64.image"]
FUZZ = settings(derandomize=True, deadline=None, database=None, max_examples=EXAMPLES,
                suppress_health_check=list(HealthCheck))


class Operands:
    """What a fuzzed call may be given in one space: makers of fresh objects (or the
    identity-bearing objects themselves), and how to put those back after a call."""

    def __init__(self, space):
        self.space = space
        heap = self.heap = space.heap
        family = heap.family
        self.makers = []
        lo, hi = family.small_int_min, family.small_int_max
        ints = [0, 1, -1, 2, 3, 7, 31, 32, 255, 256, 1023, 1024, 65535, 65536, -256, hi, lo,
                hi - 1, lo + 1, 0x3FFFFFFF, -0x40000000, 2 ** 31 - 1, -2 ** 31, 2 ** 32 - 1,
                2 ** 32, 2 ** 53 + 1, 2 ** 62, 2 ** 64 - 1, -(2 ** 70), 2 ** 100]
        for v in ints:
            self._value(v)
        self.numbers = len(self.makers)
        for v in (0.0, -0.0, 1.5, -2.5, 1e308, math.inf, -math.inf, math.nan, 5e-324, 1e20,
                  2.0 ** 62):
            self._value(v)
        for text in ("", "abc", "a longer string of some bytes\x00\xff", "x" * 300):
            self._value(text)
        self._value(b"\x00\x01\xfe\xff")
        self._value([])
        self._value([1, 2, 3])
        self._value(["abc", 4.5, None])
        for code in (0, 65, 255) + ((0x10FFFF,) if family.has_immediate_characters else ()):
            self._same(space.character(code))
        symbols = [space.intern_symbol(s) for s in
                   ("+", "yourself", "at:put:", "size", "==", "value:", "printString")]
        for s in symbols:
            self._same(s)
        for obj in (heap.nil, heap.true, heap.false):
            self._same(obj)
        classes = self._classes()
        for c in classes:
            self._same(c)
        self._same(classes[0].cls)                      # Object class (a Metaclass)
        # non-normalized and empty LargeIntegers
        lpi = heap.special(S.CLASS_LARGE_POSITIVE_INTEGER)
        for data in (b"", b"\x01\x00\x00\x00\x00", b"\xff" * 9):
            self.makers.append(lambda data=data: heap.new_bytes(lpi, data))
        self.makers += [self._object, self._objects_array, self._context, self._block,
                        self._point, self._semaphore, self._process, self._method,
                        self._bitmap, self._form, self._message]
        if family.is_spur:
            self.makers.append(self._ephemeron)
        # what is put back after each call
        self.kept = [heap.nil, heap.true, heap.false, heap.specials] + symbols + classes
        self.kept.append(classes[0].cls)
        if not family.has_immediate_characters:
            self.kept += list(heap.special(S.CHARACTER_TABLE).ptrs)
        sched = heap.special(S.SCHEDULER_ASSOCIATION).ptrs[1]
        self.kept.append(sched)
        seen = set(map(id, self.kept))
        for lst in sched.ptrs[0].ptrs:
            self.kept.append(lst)
            link = lst.ptrs[0]
            while link.__class__ is SqObject and link is not heap.nil and id(link) not in seen:
                seen.add(id(link))
                self.kept.append(link)
                link = link.ptrs[0]
        active = sched.ptrs[1]
        if id(active) not in seen:
            self.kept.append(active)
        self.saved = [self._state(o) for o in self.kept]

    # --- makers -------------------------------------------------------------------------
    def _value(self, value):
        space = self.space
        if isinstance(value, int) and self.heap.family.small_int_min <= value <= self.heap.family.small_int_max:
            self.makers.append(lambda v=value: v)
            return
        self.makers.append(lambda v=value: space.from_local(v))

    def _same(self, obj):
        self.makers.append(lambda o=obj: o)

    def _class(self, *names):
        for name in names:
            c = self.space.class_named(name) or self.space.class_named("PC" + name)
            if c is not None:
                return c
        return None

    def _classes(self):
        heap = self.heap
        found = [self._class("Object")]
        for index in (S.CLASS_ARRAY, S.CLASS_STRING, S.CLASS_SMALLINTEGER, S.CLASS_FLOAT,
                      S.CLASS_METHOD_CONTEXT, S.CLASS_POINT, S.CLASS_LARGE_POSITIVE_INTEGER,
                      S.CLASS_LARGE_NEGATIVE_INTEGER, S.CLASS_SEMAPHORE, S.CLASS_CHARACTER,
                      S.CLASS_BITMAP, S.CLASS_BYTE_ARRAY, S.CLASS_PROCESS,
                      S.CLASS_COMPILED_METHOD, S.CLASS_MESSAGE,
                      S.CLASS_BLOCK_CLOSURE if heap.info.has_closures else S.CLASS_BLOCK_CONTEXT):
            c = self._special_class(index)
            if c is not None and c not in found:
                found.append(c)
        for name in ("Symbol", "UndefinedObject", "Form", "WordArray", "Metaclass", "Boolean"):
            c = self._class(name)
            if c is not None and c not in found:
                found.append(c)
        return found

    def _new(self, cls, size=0):
        return self.heap.instantiate(cls, size)

    def _special_class(self, index, *names):
        """The class in the special objects array at `index` or, where the image left
        it nil there, the class of one of these names."""
        heap = self.heap
        c = heap.special(index) if index < len(heap.specials.ptrs) else heap.nil
        if c.__class__ is SqObject and c.ptrs is not None and len(c.ptrs) > 2 and c.ptrs[2].__class__ is int:
            return c
        return self._class(*names)

    def _object(self):
        return self._new(self._class("Object"))

    def _objects_array(self):
        return self.heap.new_array([self._object(), self.heap.new_string(b"ab"), self._object()])

    def _a_method(self):
        cls = self._class("Object")
        mdict = cls.ptrs[1]
        for m in mdict.ptrs[1].ptrs:
            if m.__class__ is SqObject and m.bytes is not None and m.ptrs is not None:
                return m
        raise AssertionError("Object has no methods")

    def _method(self):
        return self.heap.copy_of(self._a_method())

    def _context(self):
        heap = self.heap
        meth = self._a_method()
        family = heap.family
        pc = family.pc_offset(meth) + 0
        cls = heap.special(S.CLASS_METHOD_CONTEXT)
        outer = heap.new_context(cls, [heap.nil, pc, 0, meth, heap.nil, heap.nil] + [heap.nil] * 16)
        ctx = heap.new_context(cls, [outer, pc, 1, meth, heap.nil, 3] + [4] + [heap.nil] * 15)
        return ctx

    def _block(self):
        heap = self.heap
        ctx = self._context()
        if heap.info.has_closures:
            block = self._new(heap.special(S.CLASS_BLOCK_CLOSURE), 0)
            block.ptrs[0] = ctx
            block.ptrs[1] = ctx.ptrs[1]
            block.ptrs[2] = 0
            return block
        bctx = heap.special(S.CLASS_BLOCK_CONTEXT)
        return heap.new_context(bctx, [heap.nil, ctx.ptrs[1], 0, 0, ctx.ptrs[1], ctx] + [heap.nil] * 16)

    def _point(self):
        p = self._new(self._special_class(S.CLASS_POINT, "Point"))
        p.ptrs[0], p.ptrs[1] = 3, 4
        return p

    def _semaphore(self):
        return self._new(self._special_class(S.CLASS_SEMAPHORE, "Semaphore"))

    def _process(self):
        proc = self._new(self._special_class(S.CLASS_PROCESS, "Process"))
        proc.ptrs[1] = self._context()
        proc.ptrs[2] = 1
        return proc

    def _bitmap(self):
        return self._new(self._special_class(S.CLASS_BITMAP, "Bitmap", "WordArray", "ByteArray"), 16)

    def _form(self):
        cls = self._class("Form")
        if cls is None:
            return self._bitmap()
        form = self._new(cls)
        form.ptrs[0] = self._bitmap()
        form.ptrs[1], form.ptrs[2], form.ptrs[3] = 4, 4, 32
        return form

    def _ephemeron(self):
        """An ephemeron (Spur format 5): named pointer fields, the first its key."""
        return self.heap.allocate(self._class("Association"), FMT_EPHEMERON,
                                  ptrs=[self._object(), 3])

    def _message(self):
        msg = self._new(self._special_class(S.CLASS_MESSAGE, "Message"))
        msg.ptrs[0] = self.space.intern_symbol("yourself")
        msg.ptrs[1] = self.heap.new_array([])
        return msg

    def make(self, pick, position):
        """An operand for a drawn number (mixed with its position, so that equal draws
        give different operands): half the time a number of the edge list."""
        index = (pick * 2654435761 + position * 40503) >> 3
        if index & 1:
            return self.makers[(index >> 1) % self.numbers]()
        return self.makers[(index >> 1) % len(self.makers)]()

    # --- putting back -----------------------------------------------------------------
    @staticmethod
    def _state(o):
        return (o.cls, o.fmt, o.hash, o.flags, o.ptrs, None if o.ptrs is None else list(o.ptrs),
                o.bytes, None if o.bytes is None else bytes(o.bytes),
                o.words, None if o.words is None else list(o.words))

    def restore(self):
        for o, (cls, fmt, hsh, flags, ptrs, ptrs_copy, data, data_copy, words, words_copy) in zip(
                self.kept, self.saved):
            o.cls, o.fmt, o.hash, o.flags = cls, fmt, hsh, flags
            o.ptrs, o.bytes, o.words = ptrs, data, words
            if ptrs is not None and ptrs != ptrs_copy:      # identity of fields (no __eq__)
                ptrs[:] = ptrs_copy
            if data is not None and data != data_copy:
                data[:] = data_copy
            if words is not None and words != words_copy:
                words[:] = words_copy
        self.heap.refresh_specials()
        interpreter(self.space).flush_method_cache()


def _method_for(space, prim, argc, named, marker):
    """A method whose primitive is `prim` (or the named one) and whose fallback code
    answers `marker`, taking `argc` arguments."""
    heap = space.heap
    family = heap.family
    literals = [marker]
    index = prim
    if named is not None:
        module, name = named
        literals = [space.from_local([module, name, 0, 0]), marker]
        index = 117
    push = 32 + len(literals) - 1       # push the marker (the last literal); return top
    header = family.make_method_header(argc, argc, len(literals), primitive=index)
    code = bytes([push, 124])
    if family.is_spur:
        code = bytes([139, index & 0xFF, index >> 8]) + code
    return heap.new_method(heap.special(S.CLASS_COMPILED_METHOD), header, literals, code)


def _is_crash(error) -> bool:
    return isinstance(error, VMError) and str(error).startswith("primitive ") and " raised " in str(error)


@pytest.fixture(scope="module")
def vm():
    return VM(memory_limit=64 << 20, file_policy=FilePolicy.deny)


def _arity(fn):
    simple = getattr(fn, "simple", None)
    if simple is None:
        return None
    code = simple.__code__
    return None if code.co_flags & 0x04 else code.co_argcount - 2


def _arities(space) -> dict:
    """primitive number or (module, name) -> the argument counts of the image's own
    methods that call it."""
    heap = space.heap
    family = heap.family
    found = {}
    for obj in heap.objects:
        if obj.fmt != FMT_METHOD or not obj.ptrs or obj.ptrs[0].__class__ is not int:
            continue
        prim = family.method_primitive(obj)
        if not prim:
            continue
        key = prim
        if prim == 117 and len(obj.ptrs) > 1 and obj.ptrs[1].__class__ is SqObject and obj.ptrs[1].ptrs:
            desc = obj.ptrs[1].ptrs
            key = tuple(d.bytes.decode("latin-1") if d.__class__ is SqObject and d.bytes is not None
                        else "" for d in desc[:2])
        found.setdefault(key, set()).add(family.method_num_args(obj.ptrs[0]))
    return {k: sorted(v) for k, v in found.items()}


def _targets():
    base.load_all()
    targets = [(p, None) for p in sorted(base.PRIMITIVES) if p not in EXCLUDED]
    return targets + [(117, key) for key in sorted(base.NAMED)]


PICKS = 2 + MAX_ARGS        # numbers drawn per primitive and example


@pytest.mark.parametrize("image", IMAGES)
def test_fuzz_every_primitive(vm, image):
    space = vm.load(image_path(image))
    ops = Operands(space)
    marker = space.heap.new_string(b"primitive failed")
    targets = _targets()
    calls = []
    known = _arities(space)
    for prim, named in targets:
        fn = base.NAMED[named] if named else base.PRIMITIVES[prim]
        arities = known.get(named or prim)
        if arities is None:
            arity = _arity(fn)
            arities = None if arity is None else [arity]
        calls.append((prim, named, arities))
    found = []
    succeeded = set()
    examples = []

    @FUZZ
    @given(st.integers(0, (1 << 64) - 1))
    def every_primitive(seed):
        # derandomized draws repeat simple seeds: each example also gets its own number
        examples.append(seed)
        rnd = random.Random("%d/%d" % (seed, len(examples)))
        for i, (prim, named, arities) in enumerate(calls):
            draw = [rnd.getrandbits(24) for _ in range(PICKS)]
            if arities is None or draw[0] % 8 == 0:
                argc = draw[0] % (MAX_ARGS + 1)     # any count: a wrong one must fail
            else:
                argc = arities[draw[0] % len(arities)]
            values = [ops.make(p, i * PICKS + j) for j, p in enumerate(draw[1:argc + 2])]
            method = _method_for(space, prim, argc, named, marker)
            try:
                if run_method(space, method, values[0], values[1:], timeout=5,
                              max_bytecodes=3000) is not marker:
                    succeeded.add(named or prim)
            except OzError as e:
                if _is_crash(e):
                    found.append("%s argc %d on %s: %s" % (
                        named or prim, argc, [_describe(space, v) for v in values], e))
            except Exception as e:  # noqa: BLE001 - what the fuzzer looks for
                found.append("%s argc %d on %s: host %s: %s" % (
                    named or prim, argc, [_describe(space, v) for v in values], type(e).__name__, e))
            finally:
                ops.restore()
    every_primitive()
    assert not found, "\n".join(sorted(set(found))[:60]) + "\n(%d in all)" % len(found)
    # the operands reach the primitives' work, not only their checks
    assert len(succeeded) > len(targets) // 3, sorted(map(str, succeeded))
    add = _method_for(space, 1, 1, None, marker)
    assert run_method(space, add, 3, [4], timeout=5, max_bytecodes=100) == 7
    vm.check_isolation()


def _describe(space, v):
    try:
        if v.__class__ is int:
            return str(v)
        return space.describe(v)[:40]
    except Exception as e:  # noqa: BLE001 - only for a message
        return "<%s>" % type(e).__name__


# --- what the fuzzer found ---------------------------------------------------------------

@pytest.fixture(scope="module")
def candle(vm):
    return vm.load(image_path("pharocandle.image"))


def _call(space, prim, rcvr, *args):
    marker = space.heap.new_string(b"primitive failed")
    method = _method_for(space, prim, len(args), None, marker)
    result = run_method(space, method, rcvr, list(args), timeout=5, max_bytecodes=3000)
    return "failed" if result is marker else result


def test_resume_fails_on_an_object_whose_suspended_context_is_no_context(candle):
    """primitiveResume on a class (its second field a MethodDictionary, its third a
    SmallInteger: shaped like a Process) fails, as the Stack VM's check of the
    suspendedContext does; it used to run the MethodDictionary as a context."""
    assert _call(candle, 87, candle.class_named("PCByteArray")) == "failed"
    proc = candle.heap.instantiate(candle.class_named("PCProcess"))
    proc.ptrs[1] = Operands(candle)._context()
    proc.ptrs[2] = 99           # no such priority
    assert _call(candle, 87, proc) == "failed"


def test_suspend_fails_when_the_process_list_is_no_linked_list(candle):
    """primitiveSuspend of a process that is not active and whose myList is not a
    LinkedList holding it fails (it used to index a Symbol's fields)."""
    assert _call(candle, 88, candle.class_named("PCBlock")) == "failed"


def test_suspend_fails_when_my_list_is_no_object(candle):
    """A Form is shaped like a Process (its depth, a SmallInteger, where myList is)."""
    form = Operands(candle)._form()
    assert _call(candle, 88, form) == "failed"


@pytest.mark.parametrize("prim", [85, 86])
def test_signal_and_wait_fail_on_a_semaphore_without_excess_signals(candle, prim):
    """`Semaphore basicNew` has excessSignals nil: the C VM's fetchInteger: of it fails
    signal (85) and wait (86)."""
    sema = candle.heap.instantiate(candle.class_named("PCSemaphore"))
    assert _call(candle, prim, sema) == "failed"
    sema.ptrs[2] = 0
    assert _call(candle, 85, sema) is sema and sema.ptrs[2] == 1
