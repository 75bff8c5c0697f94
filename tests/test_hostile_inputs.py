"""Hostile input: every failure is a clear OzError (no other host exception leaves the API
or the CLI), nothing of the host crosses the membrane, and no host file changes.

The fuzzers (hypothesis, derandomized: the same cases every run) throw token soup at the
compiler, odd host values at the membrane and random bytes at the interpreter through a
MethodMirror; each case must answer or raise an OzError."""
from __future__ import annotations

import enum
import hashlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import IMAGES, image_path
from ozvm.compiler.api import compile_doit, generate
from ozvm.errors import CompileError, GuestError, MembraneError, OzError, VMError
from ozvm.prims import base
from ozvm.space.execution import run_method
from ozvm.space.mirrors import ObjectMirror
from ozvm.space.objectspace import MAX_NESTING, Char, Symbol
from ozvm.vm import VM

FUZZ = settings(derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def _digest(folder):
    found = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and name.endswith((".image", ".changes", ".sources")):
            st_ = os.stat(path)
            with open(path, "rb") as f:
                found[name] = (st_.st_mode, st_.st_mtime_ns, hashlib.sha256(f.read()).hexdigest())
    return found


@pytest.fixture(scope="module", autouse=True)
def host_files_unchanged():
    """No case of this module changes an image (or its .changes/.sources) of the images
    folder (log.txt there is PharoCandle's, written by any run of it)."""
    image_path("pharocandle.image")
    before = _digest(IMAGES)
    yield
    assert _digest(IMAGES) == before


@pytest.fixture(scope="module")
def vm():
    return VM()


@pytest.fixture(scope="module")
def candle(vm):
    return vm.load(image_path("pharocandle.image"))


@pytest.fixture(scope="module")
def mini(vm):
    return vm.load(image_path("squeak2.2-mini.image"))


@pytest.fixture(params=["candle", "mini"])
def space(request, candle, mini):
    return candle if request.param == "candle" else mini


# --- primitives --------------------------------------------------------------------------

def test_a_python_error_inside_a_primitive_is_a_loud_vmerror(candle, monkeypatch):
    """Not a silent primitive failure: the run stops with a VMError naming the primitive."""
    def broken(interp, argc):
        raise TypeError("a bug")
    broken.__name__ = "prim_broken"
    base.load_all()
    monkeypatch.setitem(base.PRIMITIVES, 40, broken)       # SmallInteger>>asFloat
    with pytest.raises(VMError, match=r"primitive 40 \(prim_broken\) raised TypeError: a bug"):
        candle.evaluate("3 asFloat", timeout_ms=5000)


# --- evaluation and the compiler ----------------------------------------------------------

@pytest.mark.parametrize("source", ["", '"a comment"', "  ", "nil", "\n"])
def test_empty_doits_answer_nil(space, source):
    assert space.evaluate(source, timeout_ms=5000).is_nil_object()


def test_empty_doit_through_the_image_compiler(mini):
    assert mini.evaluate('"only a comment"', timeout=120).is_nil_object()


def test_deep_nesting_is_a_compile_error(space):
    with pytest.raises(CompileError, match="nested too deeply"):
        space.evaluate("(" * 500 + "1" + ")" * 500, timeout_ms=5000)
    # a nesting the compiler handles still answers
    assert space.evaluate("(" * 40 + "1" + ")" * 40, timeout_ms=5000).to_local() == 1


@pytest.mark.parametrize("how", ["host compiler", "image compiler", "print_string"])
def test_a_character_without_a_byte_code_is_named(mini, how):
    source = "'日本語' size"
    with pytest.raises(CompileError, match=r"line 1, column 2: the character '日' \(U\+65E5\)"):
        if how == "host compiler":
            mini.evaluate(source, timeout_ms=5000)
        elif how == "image compiler":
            mini.evaluate(source, timeout=60)
        else:
            mini.print_string(source, timeout=60)
    # Latin-1 characters are bytes of the guest's Strings
    assert mini.evaluate("'déjà' size", timeout_ms=5000).to_local() == 4


def test_source_must_be_a_str(space):
    for bad in (3, None, b"3 + 4", ["3"]):
        with pytest.raises(CompileError, match="source must be a str"):
            space.evaluate(bad, timeout_ms=5000)
        with pytest.raises(CompileError):
            space.print_string(bad)


def _keywords(n, arg="x"):
    return " ".join("a%d: %s%d" % (i, arg, i) for i in range(n))


def test_argument_limits_as_the_image_compilers(space):
    """Squeak 2.2's own compiler refuses a 16-argument method and compiles a 31-argument
    send (numArgs has 4 bits in a method header, 5 in bytecode 132)."""
    obj = space.class_of(space.nil)
    compiled = space.compile(obj, _keywords(15) + " ^x14")
    assert space.mirror_on(compiled).num_args() == 15
    with pytest.raises(CompileError, match="a method takes at most 15 arguments, not 20"):
        space.compile(obj, _keywords(20) + " ^x0")
    with pytest.raises(CompileError, match="a block takes at most 15 arguments, not 16"):
        space.compile(obj, "foo ^[" + " ".join(":b%d" % i for i in range(16)) + " | 1]")
    with pytest.raises(CompileError, match="a message takes at most 31 arguments, not 32"):
        space.compile(obj, "foo ^nil " + " ".join("a%d: %d" % (i, i) for i in range(32)))
    # a 20-argument send is compiled with its 20 arguments: the guest says it is not understood
    with pytest.raises(GuestError, match="a0:a1:.*a19:"):
        space.evaluate("3 " + " ".join("a%d: %d" % (i, i) for i in range(20)), timeout_ms=5000)
    with pytest.raises(CompileError, match="a primitive number is"):
        space.compile(obj, "foo <primitive: 5000> ^nil")


def test_squeak22_compiler_refuses_a_16_argument_method(mini):
    """The reference for the limit: the image's own compiler."""
    ok = "Object compile: '%s ^x0' classified: 'test' notifying: nil" % _keywords(15)
    assert mini.print_string(ok, timeout=120) == "".join("a%d:" % i for i in range(15))
    with pytest.raises(GuestError):
        mini.print_string("Object compile: '%s ^x0' classified: 'test' notifying: nil"
                          % _keywords(16), timeout=120)


TOKENS = ["x", "y", "self", "super", "nil", "true", "thisContext", "3", "-4", "2r101", "16rFF",
          "1.5e3", "1e100", "$a", "$'", "'str'", "'it''s'", "#sym", "#at:put:", "#(1 $a foo)",
          "#[1 2]", "(", ")", "[", "]", "{", "}", ":", ":=", "_", "^", ".", ";", "|", "||", "+",
          "-", "*", "//", "==>", "at:", "put:", "value", "value:", "ifTrue:", "ifFalse:",
          "whileTrue:", "to:", "do:", "timesRepeat:", "<primitive: 60>", "\"c\"", "'", "\"", "#",
          "$", "16r", "1e", "é", "日", "\x00", "\t", " ", "\n"]


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=25), st.booleans(), st.booleans())
def test_fuzz_compiler(candle, mini, tokens, spaced, use_mini):
    space = mini if use_mini else candle
    source = (" " if spaced else "").join(tokens)
    for doit in (True, False):
        try:
            generate(space, space.class_of(space.nil), source, doit=doit)
        except CompileError:
            pass


@FUZZ
@given(st.text(max_size=60))
def test_fuzz_compiler_any_text(candle, text):
    try:
        compile_doit(candle, text)
    except CompileError:
        pass


# --- the membrane ----------------------------------------------------------------------

class Colour(enum.IntEnum):
    RED = 1


class MyStr(str):
    pass


class MyInt(int):
    def __index__(self):
        raise RuntimeError("host code ran")


@pytest.mark.parametrize("value", [Colour.RED, MyInt(3), MyStr("x"), type("S", (Symbol,), {})("s"),
                                   type("F", (float,), {})(1.5), type("L", (list,), {})([1]),
                                   type("B", (bytes,), {})(b"x"), object(), {1: 2}, {1}, 1j,
                                   enum.Enum("E", "A").A])
def test_only_exact_literals_cross(space, value):
    arr = space.mirror_on([1, 2, 3])
    with pytest.raises(MembraneError):
        arr.at_put(1, value)
    with pytest.raises(MembraneError):
        space.mirror_on(value)
    obj = space.mirror_on(space.class_named("Object" if space.class_named("Object") else "PCObject"))
    with pytest.raises(MembraneError):
        obj.inst_var_at_put(1, value)
    assert arr.at(1).obj == 1


def test_exact_literals_convert(space):
    values = [0, -1, 2 ** 40, -(2 ** 40), 1.5, "text", Symbol("hostSym"), Char("c"), b"\x00\xff",
              True, False, None, [1, [2, ["three"]]], (4, 5)]
    for v in values:
        back = space.to_local(space.from_local(v))
        assert back == (list(v) if isinstance(v, tuple) else v)


def test_cycles_and_deep_nesting_are_refused(space):
    cyclic = [1]
    cyclic.append(cyclic)
    with pytest.raises(MembraneError, match="cyclic"):
        space.mirror_on(cyclic)
    pair = [[]]
    pair[0].append(pair)
    with pytest.raises(MembraneError, match="cyclic"):
        space.from_local(pair)
    deep = []
    for _ in range(MAX_NESTING + 5):
        deep = [deep]
    with pytest.raises(MembraneError, match="nested deeper"):
        space.from_local(deep)
    shared = [1]
    assert space.to_local(space.from_local([shared, shared])) == [[1], [1]]   # a DAG is fine


def test_non_latin1_strings_and_symbols_are_refused(space):
    with pytest.raises(MembraneError, match=r"U\+65E5"):
        space.from_local("日本")
    with pytest.raises(MembraneError, match=r"U\+20AC"):
        space.from_local(Symbol("€uro"))


def test_mirrors_cannot_be_forged(space, vm):
    other = [s for s in vm.spaces if s is not space][0]
    for obj in (object(), None, "x", 2 ** 40, other.nil, other.class_named("Object") or other.nil):
        with pytest.raises(MembraneError):
            ObjectMirror(space, obj)
    with pytest.raises(MembraneError):
        ObjectMirror(object(), space.nil)
    m = space.mirror_on([1])
    m.obj = object()            # a mirror tampered with after it was made
    with pytest.raises(MembraneError):
        space.mirror_on([1]).at_put(1, m)
    assert ObjectMirror(space, space.nil).is_nil_object()


def test_mirror_indices_are_oz_errors(space):
    arr = space.mirror_on([1, 2])
    for bad in (0, 3, -1, "1", 1.0, None):
        with pytest.raises(OzError):
            arr.at(bad)
        with pytest.raises(IndexError):         # also an IndexError, as for a sequence
            arr.at_put(bad, 1)
    point = space.mirror_on(space.evaluate("3 @ 4", timeout_ms=5000))
    with pytest.raises(OzError):
        point.inst_var_at("x")
    with pytest.raises(OzError):
        point.inst_var_named("nonexistent")


def test_check_isolation_notices_a_host_value_in_a_guest_slot(vm, space):
    vm.check_isolation()
    arr = space.mirror_on([1, 2, 3])
    holder = space.global_association("Transcript") or space.global_association("PCTranscript")
    if holder is None:
        holder = space.heap.specials.ptrs[0]     # nil cannot hold: use the specials array
    slot = space.heap.specials.ptrs
    spare = len(slot) - 1
    old = slot[spare]
    try:
        slot[spare] = arr.obj
        arr.obj.ptrs[1] = Colour.RED             # behind the membrane's back
        with pytest.raises(OzError, match="a host value is stored .* field 2 \\(a host Colour\\)"):
            vm.check_isolation()
        arr.obj.ptrs[1] = 2 ** 40                # not a SmallInteger either
        with pytest.raises(OzError, match="field 2 \\(a host int\\)"):
            vm.check_isolation()
        arr.obj.ptrs[1] = 2
        vm.check_isolation()
    finally:
        slot[spare] = old


def test_huge_integers_are_described_without_host_errors(space):
    big = space.mirror_on(10 ** 1000000)
    assert repr(big) == "<ByteObjectMirror 1.000000e+1000000 (3321929 bits)>"
    assert space.to_local(big) == 10 ** 1000000
    assert space.describe(space.from_local(-(10 ** 20))) == "-100000000000000000000"


LEAVES = st.one_of(st.integers(), st.floats(allow_nan=False), st.text(max_size=5),
                   st.binary(max_size=5), st.booleans(), st.none(),
                   st.builds(Symbol, st.text(min_size=1, max_size=5)),
                   st.builds(Char, st.characters(max_codepoint=255)),
                   st.sampled_from([Colour.RED, MyStr("m"), MyInt(1), object(), 1j, {1: 1}]))


@FUZZ
@given(st.recursive(LEAVES, lambda inner: st.lists(inner, max_size=4), max_leaves=12))
def test_fuzz_membrane(candle, value):
    try:
        guest = candle.from_local(value)
    except MembraneError:
        return
    candle.mirror_on(guest).describe()
    back = candle.to_local(guest)
    assert back == value or back != back


# --- random method bytes --------------------------------------------------------------------

@FUZZ
@given(st.binary(min_size=1, max_size=24), st.booleans())
def test_fuzz_method_bytes(candle, mini, code, use_mini):
    """Bytes written through a MethodMirror, then run: an answer or an OzError (GuestError,
    GuestTimeout, VMError), never a host exception."""
    space = mini if use_mini else candle
    method = space.compile(space.class_of(space.nil), "fuzz: a | t u | ^#(1 $a 'lit' #sym) -> a")
    m = space.mirror_on(method)
    first = m.initial_pc()
    n = min(len(code), m.end_pc() - first + 1)
    for i in range(n):
        m.at_put(first + i, code[i])
    try:
        run_method(space, method, space.nil, [3], timeout=5, max_bytecodes=2000)
    except OzError:
        pass


def test_a_simple_primitive_sent_with_the_wrong_argument_count_fails(candle):
    """It fails (the fallback code runs) instead of raising a host TypeError."""
    from prims_fake import FAILED, FakeInterp, call
    vm = FakeInterp(candle.heap)
    arr = candle.heap.new_array([1, 2])
    assert call(vm, 60, arr, 1) == 1
    assert call(vm, 60, arr) is FAILED and call(vm, 60, arr, 1, 2, 3) is FAILED
    assert call(vm, 249, arr) is FAILED


def test_a_compiled_method_as_a_selector_is_looked_up_without_caching(candle):
    """perform: with a selector that is no Symbol: a lookup that finds nothing (the guest's
    doesNotUnderstand:), as on the C VM; the method's own decoded form is left alone."""
    from ozvm.space.control import interpreter
    meth = candle.compile(candle.class_of(candle.nil), "probe ^nil")
    interp = interpreter(candle)
    decoded = interp.cache_entry(candle.class_of(3), meth)
    assert decoded is None
    assert meth.cache is None or meth.cache.__class__ is tuple


def test_ownership_of_an_object_with_a_corrupted_class_chain(candle):
    from ozvm.memory.objects import FMT_FIXED, SqObject
    odd = SqObject(SqObject(7, FMT_FIXED, 1, []), FMT_FIXED, 1, [])
    assert not candle.owns(odd)
    with pytest.raises(MembraneError):
        ObjectMirror(candle, odd)
