"""ozvm's compiler on the Spur images (V3PlusClosures): Spur method headers (the primitive
flag, the number in a leading callPrimitive bytecode, quick methods with their bytecodes),
SmallInteger literals of the family's range, the class binding the image's compiler makes;
and everything built on the compiler (compile, install, evaluate, `oz eval`, filein, a
debugger's evaluate-in-frame, transplant) working on the three shared Spur images."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.cli import main
from ozvm.compiler.decompiler import method_dictionary_items
from ozvm.space import control
from ozvm.vm import VM

SPUR = {"spur32-headless.image": "Object", "pharocandle-spur64.image": "PCObject",
        "pharo8-kernel-spur64.image": "Object"}
_spaces = {}


def space(name):
    if name not in _spaces:
        _spaces[name] = VM().load(image_path(name))
    return _spaces[name]


@pytest.fixture(params=sorted(SPUR))
def spur(request):
    return request.param


def test_spur_method_headers_and_primitives(spur):
    s = space(spur)
    fam = s.heap.family
    root = SPUR[spur]
    m = s.install(root, "ozPrim: x\n\t<primitive: 60>\n\t^ x + 1", "oz")
    header = m.ptrs[0]
    assert header & 0x10000 and fam.method_num_literals(header) == len(m.ptrs) - 1
    assert list(m.bytes[:3]) == [139, 60, 0] and fam.method_primitive(m) == 60
    # no primitive: no flag, no callPrimitive
    plain = s.install(root, "ozPlain ^ 3 + 4", "oz")
    assert not plain.ptrs[0] & 0x10000 and plain.bytes[0] != 139
    # a quick method: callPrimitive 256-519, then the same answer in bytecodes
    quick = s.install(root, "ozQuickSelf ^ self", "oz")
    assert list(quick.bytes[:4]) == [139, 0, 1, 120] and fam.method_primitive(quick) == 256
    assert s.print_string("3 ozPlain") == "7" and s.print_string("5 ozQuickSelf") == "5"
    # a primitive number beyond V3's 10 bits fits the two operand bytes
    big = s.compile(root, "ozBigPrim <primitive: 1100> ^ nil")
    assert list(big.bytes[:3]) == [139, 1100 & 255, 1100 >> 8]


def test_the_same_bytes_as_the_images_own_methods(spur):
    """Methods the image's compiler made: ozvm compiles their source (written here in the
    image's words) to the same header, bytecodes and literals (class binding included)."""
    s = space(spur)
    cases = {
        "spur32-headless.image": [
            ("Association", "value", "value\n\t^ value"),
            ("Object", "printString", "printString\n\t| t1 |\n\tt1 := WriteStream on: (String new: 100)."
                                      "\n\tself printOn: t1.\n\t^ t1 contents"),
            ("Association class", "key:value:", "key: arg1 value: arg2\n\t^ self new key: arg1 value: arg2"),
            ("SmallInteger", "+", "+ arg1\n\t<primitive: 1>\n\targ1 isInteger ifTrue: [^ super + arg1]."
                                  "\n\t^ arg1 adaptToInteger: self andSend: #+"),
        ],
        "pharocandle-spur64.image": [
            ("PCPoint", "x", "x\n\t^ x"),
            ("PCObject", "yourself", "yourself\n\t^ self"),
            ("PCPoint class", "x:y:", "x: arg1 y: arg2\n\t^ self new setX: arg1 setY: arg2"),
        ],
        "pharo8-kernel-spur64.image": [
            ("Point", "x", "x\n\t^ x"),
            ("Point class", "x:y:", "x: arg1 y: arg2\n\t^ self basicNew setX: arg1 setY: arg2"),
            ("Object", "printString", "printString\n\t^ self printStringLimitedTo: 50000"),
            ("SmallInteger", "gcd:", "gcd: arg1\n\t| t1 t2 |\n\tt1 := self.\n\tt2 := arg1.\n\t[t1 = 0] "
                                     "whileFalse: [t1 := t2 \\\\ (t2 := t1)].\n\t^ t2 abs"),
        ],
    }[spur]
    for cname, sel, src in cases:
        cls = s.class_named(cname)
        theirs = dict(method_dictionary_items(s, cls))[sel]
        ours = s.compile(cls, src)
        assert ours.ptrs[0] == theirs.ptrs[0], (cname, sel)
        assert bytes(ours.bytes) == bytes(theirs.bytes), (cname, sel)
        assert len(ours.ptrs) == len(theirs.ptrs)
        for a, b in zip(ours.ptrs[1:], theirs.ptrs[1:]):
            if b.__class__ is int or s.layout.class_name_of(b.cls) in ("Symbol", "ByteSymbol", "PCSymbol"):
                assert a is b or a == b, (cname, sel)
            elif len(b.ptrs or ()) == 2 and b.ptrs[1].__class__ is not int and s.layout.is_class(b.ptrs[1]):
                # a binding: of the same class and key, bound to the same class (the tiny
                # image's methods hold bindings apart from its 18-entry SystemDictionary's)
                assert a.cls is b.cls and a.ptrs[1] is b.ptrs[1], (cname, sel)
                assert s.describe(a.ptrs[0]) == s.describe(b.ptrs[0]), (cname, sel)
            else:
                assert s.describe(a) == s.describe(b), (cname, sel)


def test_small_integer_literals_in_the_familys_range():
    big = (1 << 40) + 3
    for name, small in (("spur32-headless.image", False), ("pharocandle-spur64.image", True)):
        s = space(name)
        m = s.compile(SPUR[name], "ozBig ^ %d" % big)
        assert (m.ptrs[1].__class__ is int) == small
        assert s.print_string("%d - 3 = (1024 * 1024 * 1024 * 1024)" % big) == "true"
        assert s.print_string("%d" % big) == str(big)


def test_evaluate_and_the_cli(spur, capsys):
    s = space(spur)
    assert s.evaluate("| a | a := 0. #(1 2 3) do: [:e | a := a + e]. a").to_local() == 6
    assert main(["eval", image_path(spur), "(1 to: 10) inject: 0 into: [:a :b | a + b]"]) == 0
    assert capsys.readouterr().out.strip() == "55"


def test_filein_on_spur():
    s = VM().load(image_path("spur32-headless.image"))
    src = ("!Object methodsFor: 'oz'!\nozTriple: x\n\t^ x * 3! !\n\n"
           "!Object class methodsFor: 'oz'!\nozMade\n\t^ #made! !\n")
    result = s.filein(["t.st"], {"t.st": src})
    assert result.methods == ["Object>>ozTriple:", "Object class>>ozMade"]
    assert s.print_string("nil ozTriple: 14") == "42"
    assert s.print_string("Object ozMade == #made") == "true"


def test_debugger_evaluates_in_a_spur_frame():
    s = VM().load(image_path("pharocandle-spur64.image"))
    s.install("PCObject", "ozKeep: x | y | y := x. self yourself. ^ y + 1", "oz")
    p = s.create_process("nil ozKeep: 20", start=False, priority=80)
    for _ in range(20):
        f = p.step_into()
        if f.method().selector() == "ozKeep:":
            break
    names = [n for n, _ in f.variables()]
    result = f.evaluate("%s := %s + 1000. %s + %s" % (names[1], names[1], names[0], names[1]), process=p)
    assert result.to_local() == 1040
    p.proceed()
    for _ in range(100):
        if control.is_finished(p):
            break
        s.transfer_control(bytecodes=20_000)
    assert p.result().to_local() == 1021


def test_transplant_between_v3_and_spur_and_between_word_sizes():
    vm = VM()
    candle = vm.load(image_path("pharocandle.image"))
    spur64 = vm.load(image_path("pharocandle-spur64.image"))
    spur32 = vm.load(image_path("spur32-headless.image"))
    src = "ozSquares: n | t | t := 0. 1 to: n do: [:i | t := t + (i * i)]. ^ t"
    candle.install("PCObject", src, "oz")
    # V3 header -> Spur header: recompiled
    new = spur64.transplant(candle.mirror_on(candle.class_named("PCObject")).compiled_method_at("ozSquares:"))
    assert new.space is spur64
    assert spur64.print_string("nil ozSquares: 10") == "385"
    # Spur 64 -> Spur 32: copied; a 61-bit SmallInteger literal becomes a LargePositiveInteger
    pharo8 = vm.load(image_path("pharo8-kernel-spur64.image"))
    pharo8.install("Object", "ozHuge ^ %d" % (1 << 50), "oz")
    new = spur32.transplant(pharo8.mirror_on(pharo8.class_named("Object")).compiled_method_at("ozHuge"))
    assert new.bytecodes() == pharo8.mirror_on(pharo8.class_named("Object")).compiled_method_at("ozHuge").bytecodes()
    assert spur32.print_string("nil ozHuge") == str(1 << 50)
    assert spur32.print_string("nil ozHuge class") == "LargePositiveInteger"
