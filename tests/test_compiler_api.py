"""The compiler's API on the real images: parsing, errors, literals made in the guest,
installing into method dictionaries, do-its, and running what it compiles (both block styles)."""
from __future__ import annotations

import pytest

from conftest import image_path

_spaces = {}


def space(name):
    """A fresh space per test module and image (tests here change the guest)."""
    if name not in _spaces:
        from ozvm.space.objectspace import ObjectSpace
        _spaces[name] = ObjectSpace.load(image_path(name))
    return _spaces[name]


def sq22():
    return space("squeak2.2-mini.image")


def pc():
    return space("pharocandle.image")


# --- scanner and parser -----------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("16r1F", 31), ("2r1010", 10), ("36rZZ", 1295), ("1e10", 10 ** 10), ("-3", -3),
    ("1.5e-3", 0.0015), ("2r1.1", 1.5), ("123.456", 123.456), ("16r-1F", -31),
    ("12345678901234567890", 12345678901234567890),
])
def test_number_literals(text, value):
    from ozvm.compiler.scanner import Scanner
    toks = Scanner(text, underscore_assigns=False).tokens()
    assert toks[0].kind == "literal" and toks[0].value == value and toks[1].kind == "eof"


def test_scaled_decimal_and_symbols():
    from ozvm.compiler.literals import ScaledDecimal, Symbol
    from ozvm.compiler.scanner import Scanner
    toks = Scanner("1.5s2 #at:put: #+ #'odd one' #foo:bar $a 'it''s'", underscore_assigns=False).tokens()
    sd = toks[0].value
    assert isinstance(sd, ScaledDecimal) and sd.scale == 2 and float(sd.value) == 1.5
    assert [t.value for t in toks[1:4]] == ["at:put:", "+", "odd one"]
    assert all(t.value.__class__ is Symbol for t in toks[1:4])
    assert toks[4].value == "foo:bar"
    assert toks[5].value == "a" and toks[6].value == "it's"


def test_negative_literals_and_binary_minus():
    from ozvm.compiler.parser import parse_method
    m = parse_method("foo ^ 3 - -2", underscore_assigns=False)
    send = m.body.statements[0].expr
    assert send.selector == "-" and send.args[0].value == -2
    m = parse_method("foo ^ x-1", underscore_assigns=False)
    send = m.body.statements[0].expr
    assert send.selector == "-" and send.args[0].value == 1


def test_literal_array_contents():
    from ozvm.compiler.literals import ByteArrayLit, Char, Symbol
    from ozvm.compiler.parser import parse_method
    m = parse_method("foo ^ #(foo bar: #baz $a 'str' (1 2) #[1 2] true false nil -3 at:put: #+ +)",
                     underscore_assigns=False)
    v = m.body.statements[0].expr.value
    assert v[0] == "foo" and v[0].__class__ is Symbol
    assert v[1] == "bar:" and v[2] == "baz" and v[3] == "a" and v[3].__class__ is Char
    assert v[4] == "str" and v[4].__class__ is str
    assert v[5] == (1, 2) and v[6] == ByteArrayLit(b"\x01\x02")
    assert v[7] is True and v[8] is False and v[9] is None and v[10] == -3
    assert v[11] == "at:put:" and v[12] == "+" and v[13] == "+"


def test_pragmas_and_primitives():
    from ozvm.compiler.parser import parse_method
    m = parse_method("foo <primitive: 60> ^ 1", underscore_assigns=False)
    assert m.primitive.args == [60]
    m = parse_method("foo | a | <primitive: 'prim' module: 'Mod'> ^ a", underscore_assigns=False)
    assert m.primitive.selector == "primitive:module:" and m.primitive.args == ["prim", "Mod"]
    m = parse_method("foo <primitive: 118 error: code> ^ code", underscore_assigns=False)
    assert m.primitive.args == [118, "code"]
    m = parse_method("foo <primitive: 'prim' module: 'Mod' error: ec> ^ ec", underscore_assigns=False)
    assert m.primitive.selector == "primitive:module:error:" and m.primitive.args == ["prim", "Mod", "ec"]
    m = parse_method("foo <primitive: 'prim' error: ec> ^ ec", underscore_assigns=False)
    assert m.primitive.selector == "primitive:error:" and m.primitive.args == ["prim", "ec"]


@pytest.mark.parametrize("name", ["pharocandle.image", "pharocandle-spur64.image"])
def test_named_primitives_with_an_error_code(name):
    """`<primitive: 'f' module: 'm' error: ec>` (Pharo 8's FileAttributesPlugin methods):
    primitive 117 with its (module, function) literal first, the error code stored into the
    temp after the arguments by the first bytecode; decompiled back to the same pragma."""
    from ozvm.compiler.api import compile_method
    from ozvm.compiler.decompiler import decompile
    from ozvm.space.objectspace import ObjectSpace
    sp = ObjectSpace.load(image_path(name))
    cls = sp.class_named("PCObject")
    fam = sp.heap.family
    for source, module in (("foo: x <primitive: 'primFoo' module: 'FooPlugin' error: ec> ^ ec", "FooPlugin"),
                           ("foo: x <primitive: 'primFoo' error: ec> ^ ec", None)):
        m = compile_method(sp, cls, source)
        assert fam.method_primitive(m) == 117 and fam.method_num_temps(m.ptrs[0]) == 2
        spec = m.ptrs[1]
        assert sp.describe(spec.ptrs[1]) == "#primFoo"
        assert (spec.ptrs[0] is sp.nil) == (module is None)
        text = decompile(sp, m, cls, "foo:")
        assert ("<primitive: 'primFoo' module: 'FooPlugin' error: t1>" if module
                else "<primitive: 'primFoo' error: t1>") in text, text
        again = compile_method(sp, cls, text)
        assert again.ptrs[0] == m.ptrs[0] and bytes(again.bytes) == bytes(m.bytes)


@pytest.mark.parametrize("source,line,col,expect", [
    ("foo ^ 3 +", 1, 10, "expression expected"),
    ("foo\n  ^ (3 + 4", 2, 11, "')' expected"),
    ("foo ^ [:x x]", 1, 11, "'|' after the block arguments"),
    ("foo ^ 'abc", 1, 7, "unmatched string quote"),
    ("foo ^ #(1 2", 1, 12, "')' closing the literal array"),
    ("foo | a b", 1, 10, "'|' closing the temporaries"),
    ("foo: x x := 3", 1, 8, "cannot store into argument"),
    ("foo ^ undeclaredThing", 1, 7, "undeclared variable 'undeclaredThing'"),
    ("foo | a a | ^ a", 1, 9, "already defined"),
    ("foo self := 3", 1, 5, "cannot store into self"),
    ("foo ^ 3. 4", 1, 10, "end of method expected"),
])
def test_compile_errors_name_line_column_and_expectation(source, line, col, expect):
    from ozvm.compiler.api import compile_method
    from ozvm.errors import CompileError, OzError
    sp = pc()
    with pytest.raises(CompileError) as info:
        compile_method(sp, sp.class_named("PCObject"), source)
    err = info.value
    assert isinstance(err, OzError)
    assert (err.line, err.column) == (line, col), str(err)
    assert expect in str(err)


def test_bad_source_leaves_guest_unchanged():
    from ozvm.compiler.api import install
    from ozvm.errors import CompileError
    sp = sq22()
    cls = sp.class_named("Object")
    md = cls.ptrs[1]
    keys_before = list(md.ptrs)
    roots_before = len(sp.heap.extra_roots)
    hash_before = sp.heap.last_hash
    for bad in ("zork ^ #brandNewSymbolZork1 , undeclaredZork", "zork2 ^ (", "zork3 ^ #brandNewZork2 foo: ]"):
        with pytest.raises(CompileError):
            install(sp, cls, bad)
    assert md.ptrs == keys_before
    assert len(sp.heap.extra_roots) == roots_before and sp.heap.last_hash == hash_before
    assert sp.symbol_named("brandNewSymbolZork1") is None and sp.symbol_named("zork") is None


# --- literals in the guest ---------------------------------------------------------------------

def test_literals_are_made_in_the_guest():
    from ozvm.compiler.api import compile_method
    sp = pc()
    m = compile_method(sp, sp.class_named("PCObject"),
                       "foo ^ #(#sym 'str' $c 2.5 12345678901234567890 (1 2) #[7 8]) -> #yourself")
    lits = m.ptrs[1:]
    arr = lits[1]
    assert m.cls is sp.special(16)
    assert sp.to_local(arr) == [sp.to_local(sp.intern_symbol("sym")), "str", "c", 2.5,
                                12345678901234567890, [1, 2], b"\x07\x08"]
    assert arr.ptrs[0] is sp.symbol_named("sym")             # interned in the guest
    assert lits[0] is sp.symbol_named("->")
    assert lits[2] is sp.symbol_named("yourself")
    assert lits[-2] is sp.symbol_named("foo")                  # selector slot
    assert lits[-1] is sp.global_association("PCObject")       # class binding


def test_globals_class_variables_and_pools_are_bindings():
    from ozvm.compiler.api import compile_method
    sp = sq22()
    m = compile_method(sp, sp.class_named("Object"), "foo ^ Transcript")
    assert m.ptrs[1] is sp.global_association("Transcript")
    m = compile_method(sp, sp.class_named("Character"), "foo ^ CharacterTable")
    pool = sp.class_named("Character").ptrs[sp.layout.class_pool]
    assert m.ptrs[1] in [a for a in pool.ptrs[1].ptrs if a is not sp.nil]
    # a class variable seen from the metaclass
    m2 = compile_method(sp, sp.class_named("Character").cls, "foo ^ CharacterTable")
    assert m2.ptrs[1] is m.ptrs[1]


# --- installing ------------------------------------------------------------------------------------

def test_install_puts_the_method_in_the_dictionary_and_grows_it():
    from ozvm.compiler.api import install
    from ozvm.space.execution import run_send
    sp = pc()
    cls = sp.class_named("PCOrderedCollection")
    md = cls.ptrs[1]
    size_before = len(md.ptrs) - 2
    methods = [install(sp, cls, "ozTest%d ^ %d" % (i, i * 7)) for i in range(40)]
    assert len(md.ptrs) - 2 > size_before             # grown
    keys = md.ptrs[2:]
    for i, m in enumerate(methods):
        sym = sp.symbol_named("ozTest%d" % i)
        assert sym in keys and md.ptrs[1].ptrs[keys.index(sym)] is m
    coll = run_send(sp, cls, "new")
    assert run_send(sp, coll, "ozTest13") == 91
    # replacing a method flushes the interpreter's cache
    install(sp, cls, "ozTest13 ^ 1000")
    assert run_send(sp, coll, "ozTest13") == 1000
    assert run_send(sp, coll, "ozTest39") == 273


def test_install_with_category_in_squeak22():
    """The mini image keeps no class organizations (every class's is nil): the category is
    recorded where an organizer exists, and its absence is no error."""
    from ozvm.compiler.api import install
    from ozvm.space.execution import run_send
    sp = sq22()
    cls = sp.class_named("Object")
    install(sp, cls, "ozCategorised ^ 42", category="oz testing")
    assert run_send(sp, 3, "ozCategorised") == 42
    install(sp, cls, "ozFib: n ^ n < 2 ifTrue: [n] ifFalse: [(self ozFib: n - 1) + (self ozFib: n - 2)]")
    assert run_send(sp, 0, "ozFib:", [20]) == 6765


def test_objectspace_compile_and_install():
    sp = pc()
    cls = sp.class_named("PCObject")
    m = sp.compile(cls, "ozTwice: x ^ x * 2")
    from ozvm.space.execution import run_method
    assert run_method(sp, m, 5, [21]) == 42
    sp.install(cls, "ozThrice: x ^ x * 3")
    from ozvm.space.execution import run_send
    assert run_send(sp, 1, "ozThrice:", [5]) == 15


# --- running compiled code ----------------------------------------------------------------------

RUN_CASES = [
    # (source, receiver, args, expected host value)
    ("foo ^ 3 + 4 * 2", None, [], 14),
    ("foo: x ^ x > 3 ifTrue: ['big'] ifFalse: ['small']", None, [5], "big"),
    ("foo: x ^ (x > 3 and: [x < 10]) | (x = 0)", None, [12], False),
    ("foo | s | s := 0. 1 to: 10 do: [:i | s := s + i]. ^ s", None, [], 55),
    ("foo | s | s := 0. 10 to: 1 by: -2 do: [:i | s := s + i]. ^ s", None, [], 30),
    ("foo | i s | i := 0. s := 0. [i < 5] whileTrue: [i := i + 1. s := s + i]. ^ s", None, [], 15),
    ("foo | i | i := 10. [i <= 0] whileFalse: [i := i - 3]. ^ i", None, [], -2),
    ("foo ^ [:a :b | a * b] value: 6 value: 7", None, [], 42),
    ("foo | b | b := [:x | x > 2 ifTrue: [^ x * 100]. x]. ^ (b value: 1) + (b value: 5)", None, [], 500),
    # Squeak 2.2 blocks share the method's temps: each block sees the last i
    ("foo | acc blocks | acc := 0. blocks := (1 to: 3) collect: [:i | [acc := acc + i]]. "
     "blocks do: [:b | b value]. ^ acc", None, [], 9),
    ("foo ^ #(1 $a 'x' #y (2 3)) size", None, [], 5),
    ("foo ^ 12345678901234567890 - 12345678901234567889", None, [], 1),
    ("foo ^ 2.5 * 2", None, [], 5.0),
    ("foo | a | a := Array new: 3. a at: 1 put: 10; at: 2 put: 20; at: 3 put: 30. ^ a inject: 0 into: [:x :y | x + y]",
     None, [], 60),
    ("foo ^ thisContext == nil", None, [], False),
    ("foo: x ^ x isNil ifTrue: [0] ifFalse: [x]", None, [None], 0),
]


@pytest.mark.parametrize("source,receiver,args,expected", RUN_CASES, ids=[c[0][:40] for c in RUN_CASES])
def test_compiled_methods_run_in_squeak22(source, receiver, args, expected):
    from ozvm.compiler.api import compile_method
    from ozvm.space.execution import run_method
    sp = sq22()
    m = compile_method(sp, sp.class_named("Object"), source)
    result = run_method(sp, m, receiver, args, timeout=60)
    assert sp.to_local(result) == expected


PC_RUN_CASES = [c for c in RUN_CASES if "Array new:" not in c[0] and "1 to: 3) collect:" not in c[0]
                and "12345678901234567890" not in c[0] and "2.5" not in c[0]] + [
    ("foo | a s | a := PCArray new: 3. a at: 1 put: 10; at: 2 put: 20; at: 3 put: 30. "
     "s := 0. a do: [:x | s := s + x]. ^ s", None, [], 60),
    # closures: each block has its own i
    ("foo | acc blocks | acc := 0. blocks := PCOrderedCollection new. 1 to: 3 do: [:i | blocks add: [acc := acc + i]]. "
     "blocks do: [:b | b value]. ^ acc", None, [], 6),
    ("foo: n | fib | fib := [:k | k < 2 ifTrue: [k] ifFalse: [(fib value: k - 1) + (fib value: k - 2)]]. "
     "^ fib value: n", None, [15], 610),
    ("foo | acc | acc := 0. #(1 2 3) do: [:i | acc := acc + i]. ^ acc", None, [], 6),
    ("foo | blocks s | blocks := PCOrderedCollection new. 1 to: 3 do: [:i | | t | t := i * 10. "
     "blocks add: [t]]. s := 0. blocks do: [:b | s := s + b value]. ^ s", None, [], 60),
    ("foo: x ^ x ifNil: [7] ifNotNil: [:y | y * 2]", None, [4], 8),
    ("foo: x ^ x ifNil: [7] ifNotNil: [:y | y * 2]", None, [None], 7),
    ("foo: x ^ x ifNil: [7]", None, [None], 7),
    ("foo: x ^ x ifNotNil: [:y | y + 1]", None, [1], 2),
    ("foo ^ {1. 2 + 3. #x} size", None, [], 3),
    ("foo | outer | outer := 1. ^ [:a | [:b | outer := outer + a + b. outer] value: 10] value: 100", None, [], 111),
    ("foo | i | i := 0. [i := i + 1. i >= 5] whileFalse. ^ i", None, [], 5),
    ("foo | i | i := 0. [i := i + 1. i < 5 ifFalse: [^ i * 10]] repeat", None, [], 50),
]


@pytest.mark.parametrize("source,receiver,args,expected", PC_RUN_CASES, ids=[c[0][:40] for c in PC_RUN_CASES])
def test_compiled_methods_run_in_pharocandle(source, receiver, args, expected):
    from ozvm.compiler.api import compile_method
    from ozvm.space.execution import run_method
    sp = pc()
    m = compile_method(sp, sp.class_named("PCObject"), source)
    result = run_method(sp, m, receiver, args, timeout=60)
    assert sp.to_local(result) == expected


def test_doit_answers_the_last_value():
    from ozvm.compiler.api import compile_doit
    from ozvm.space.execution import run_method
    for sp in (sq22(), pc()):
        m = compile_doit(sp, "| a b | a := 3. b := 4. a * a + (b * b)")
        assert run_method(sp, m, None, (), timeout=60) == 25
        sel = m.ptrs[-2] if sp.info.has_closures else None
        if sel is not None:
            assert sel is sp.symbol_named("DoIt")


def test_super_sends_and_class_side():
    from ozvm.compiler.api import install
    from ozvm.space.execution import run_send
    sp = pc()
    coll = sp.class_named("PCOrderedCollection")
    install(sp, coll, "ozSelf ^ super yourself == self")
    oc = run_send(sp, coll, "new")
    assert run_send(sp, oc, "ozSelf") is sp.true
    install(sp, coll.cls, "ozMake ^ self new add: 3; add: 4; yourself")
    made = run_send(sp, coll, "ozMake")
    assert run_send(sp, made, "size") == 2


def test_oz_compile_command(capsys):
    from ozvm.tools.cmd_compile import cmd_compile
    import argparse
    args = argparse.Namespace(image=image_path("squeak2.2-mini.image"), cls="Object",
                              source="foo ^ 3 + 4", file=None, doit=None)
    assert cmd_compile(args) == 0
    out = capsys.readouterr().out
    assert "Object>>foo" in out and "push const 3" in out and "send +" in out and "return top" in out
    args.source = "foo ^ (3 +"
    assert cmd_compile(args) == 1
    assert "line 1, column 11" in capsys.readouterr().err


@pytest.mark.parametrize("source,expect", [
    ("foo ^ [:x | | t | t := x]", "cannot declare temporaries"),
    ("foo <primitive: 'prim' module: 'Mod'> ^ 1", "no named primitives"),
    ("foo ^ #[1 2 3]", "no #[ ] byte array literals"),
    ("foo <primitive: 60 error: ec> ^ ec", "no primitive error codes"),
    ("foo ^ super foo; bar", "cannot cascade messages to super"),
])
def test_squeak22_rejects_what_its_compiler_rejects(source, expect):
    from ozvm.compiler.api import compile_method
    from ozvm.errors import CompileError
    sp = sq22()
    with pytest.raises(CompileError) as info:
        compile_method(sp, sp.class_named("Object"), source)
    assert expect in str(info.value)


def test_unsupported_pragmas_fail_loudly():
    from ozvm.compiler.api import compile_method
    from ozvm.errors import CompileError
    sp = pc()
    with pytest.raises(CompileError) as info:
        compile_method(sp, sp.class_named("PCObject"), "foo <menu: 'x'> ^ 1")
    assert "pragma <menu:> is not supported" in str(info.value)


def test_closure_forms_of_22_errors_compile():
    from ozvm.compiler.api import compile_method
    sp = pc()
    cls = sp.class_named("PCObject")
    m = compile_method(sp, cls, "foo <primitive: 'prim' module: 'Mod'> ^ #[1 2 3]")
    assert (m.ptrs[0] & 0x1FF) == 117
    assert sp.to_local(m.ptrs[1]) == [sp.to_local(sp.intern_symbol("Mod")), sp.to_local(sp.intern_symbol("prim")), 0, 0]
    compile_method(sp, cls, "foo ^ [:x | | t | t := x]")
