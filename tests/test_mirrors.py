"""Mirrors: the most specific kind for each object, their API (1-based as in Smalltalk),
the membrane's refusals, and layout knowledge found per image (Squeak 2.2 and PharoCandle)."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import MembraneError
from ozvm.memory import specials as S
from ozvm.space.class_mirrors import (
    ClassMirror, ClassPoolMirror, MetaclassMirror, MethodDictionaryMirror, MethodMirror,
)
from ozvm.space.mirrors import ByteObjectMirror, ObjectMirror, WordObjectMirror
from ozvm.space.objectspace import ObjectSpace, Symbol
from ozvm.space.process_mirrors import ContextMirror, ProcessMirror, ProcessSchedulerMirror

SQ, PC = "squeak2.2-mini.image", "pharocandle.image"
PREFIX = {SQ: "", PC: "PC"}


@pytest.fixture(scope="module")
def spaces():
    return {n: ObjectSpace.load(image_path(n)) for n in (SQ, PC)}


@pytest.fixture(params=[SQ, PC])
def sp(request, spaces):
    space = spaces[request.param]
    space.prefix = PREFIX[request.param]
    return space


def cls(space, name):
    return space.mirror_on(space.class_named(space.prefix + name))


def test_most_specific_mirror(sp):
    m = sp.mirror_on
    assert type(m(sp.nil)) is ObjectMirror
    assert type(m(3)) is ObjectMirror and m(3).is_small_integer()
    assert type(m("abc")) is ByteObjectMirror
    assert type(m(Symbol("size"))) is ByteObjectMirror
    assert type(m(2.5)) is WordObjectMirror and m(2.5).as_float() == 2.5
    assert type(m(sp.class_named(sp.prefix + "Object"))) is ClassMirror
    obj_class = sp.class_named(sp.prefix + "Object").cls
    assert type(m(obj_class)) is MetaclassMirror
    assert type(m(sp.layout.metaclass)) is MetaclassMirror or type(m(sp.layout.metaclass)) is ClassMirror
    assert type(cls(sp, "Object").method_dictionary()) is MethodDictionaryMirror
    assert type(cls(sp, "Object").lookup("printString")) is MethodMirror
    assert type(sp.scheduler()) is ProcessSchedulerMirror
    assert type(sp.scheduler().active_process()) is ProcessMirror
    assert type(sp.scheduler().active_process().suspended_context()) is ContextMirror
    assert sp.mirror_on(sp.nil) == sp.mirror_on(sp.nil) and hash(m(5)) == hash(m(5))


def test_object_mirror_fields(sp):
    pt = sp.mirror_on(sp.heap.instantiate(sp.special(S.CLASS_POINT)))
    assert pt.fixed_size() == 2 and pt.variable_size() == 0
    assert pt.inst_var_names() == ["x", "y"]
    assert pt.inst_var_at(1).is_nil_object()
    pt.inst_var_at_put(1, 3)
    pt.inst_var_named_put("y", 4.5)
    assert pt.inst_var_at(1).to_local() == 3 and pt.inst_var_named("y").to_local() == 4.5
    with pytest.raises(IndexError):
        pt.inst_var_at(0)
    with pytest.raises(IndexError):
        pt.inst_var_at(3)
    with pytest.raises(IndexError):
        pt.at(1)
    assert pt.get_class().name() == sp.prefix + "Point"
    assert pt.identity_hash() == pt.obj.hash and sp.mirror_on(42).identity_hash() == 42
    assert sp.mirror_on(sp.true).as_boolean() is True and sp.mirror_on(sp.false).as_boolean() is False
    with pytest.raises(MembraneError):
        pt.as_boolean()
    with pytest.raises(MembraneError):
        sp.mirror_on(7).inst_var_at(1)


def test_indexable_mirrors(sp):
    arr = sp.mirror_on([1, 2, 3])
    assert arr.variable_size() == 3 and arr.fixed_size() == 0
    assert arr.at(1).to_local() == 1 and arr.at(3).to_local() == 3
    arr.at_put(2, "two")
    arr.at_put(3, arr)                         # a mirror of the same space
    assert arr.at(2).to_local() == "two" and arr.at(3) == arr
    with pytest.raises(IndexError):
        arr.at(4)
    s = sp.mirror_on("abc")
    assert s.at(1) == ord("a") and s.variable_size() == 3
    s.at_put(1, ord("x"))
    assert s.as_string() == "xbc"
    with pytest.raises(MembraneError):
        s.at_put(1, 256)
    with pytest.raises(MembraneError):
        s.at_put(1, "x")
    f = sp.mirror_on(1.0)
    assert f.variable_size() == 2 and f.at(1) == 0x3FF00000 and f.at(2) == 0
    with pytest.raises(MembraneError):
        f.at_put(1, -1)


def test_membrane_refuses_host_objects(sp, spaces):
    arr = sp.mirror_on([1, 2])
    for bad in (object(), {1: 2}, ObjectSpace, [object()]):
        with pytest.raises(MembraneError):
            arr.at_put(1, bad)
    other = spaces[PC if sp is spaces[SQ] else SQ]
    with pytest.raises(MembraneError):
        arr.at_put(1, other.mirror_on(other.nil))
    with pytest.raises(MembraneError):
        arr.at_put(1, other.true)
    assert arr.at(1).to_local() == 1          # unchanged after the refusals


def test_set_class_checks_the_format(sp):
    pt = sp.mirror_on(sp.heap.instantiate(sp.special(S.CLASS_POINT)))
    assoc_cls = cls(sp, "Association")
    pt.set_class(assoc_cls)                   # two named fields both
    assert pt.get_class() == assoc_cls
    with pytest.raises(MembraneError):
        pt.set_class(cls(sp, "Array"))        # indexable
    with pytest.raises(MembraneError):
        pt.set_class(cls(sp, "Object"))       # no fields
    with pytest.raises(MembraneError):
        pt.set_class(sp.mirror_on(3))         # not a class
    s = sp.mirror_on("abc")
    s.set_class(sp.mirror_on(sp.symbol_class()))
    with pytest.raises(MembraneError):
        s.set_class(cls(sp, "Array"))


def test_class_mirror(sp):
    string = cls(sp, "String")
    assert string.name() == sp.prefix + "String"
    assert sp.prefix + "Object" in [c.name() for c in string.superclasses()]
    assert string.inherits_from(cls(sp, "Object"))
    assert 8 <= string.inst_spec() < 12 and string.is_variable() and string.inst_size() == 0
    assert string.definition_kind() == "variableByteSubclass:"
    side = string.class_side()
    assert isinstance(side, MetaclassMirror) and side.this_class() == string
    assert side.name() == sp.prefix + "String class" and side.instance_side() == string
    assert "size" in string.lookup("size").owner()[1]
    sels = string.selectors()
    assert sels == sorted(sels) and sels
    m = string.compiled_method_at(sels[0])
    assert m.owner() == (string, sels[0])
    # lookup follows the superclass chain; compiled_method_at does not
    obj = cls(sp, "Object")
    sel = next(s for s in obj.selectors() if not string.includes_selector(s)
               and all(not c.includes_selector(s) for c in string.superclasses()[:-1]))
    assert string.compiled_method_at(sel) is None and string.lookup(sel) == obj.compiled_method_at(sel)
    assert string.lookup("noSuchSelectorAnywhere") is None
    assert cls(sp, "Object").superclass() is None


def test_process_layout_differs_and_is_found(spaces):
    """Process fields by name: Squeak 2.2 and PharoCandle have different layouts."""
    sq = spaces[SQ].mirror_on(spaces[SQ].special(S.CLASS_PROCESS)).all_instance_variable_names()
    pc = spaces[PC].mirror_on(spaces[PC].special(S.CLASS_PROCESS)).all_instance_variable_names()
    assert sq != pc and "priority" in sq and "priority" in pc
    for space in spaces.values():
        for p in space.processes():
            assert p.priority() == p.inst_var_named("priority").to_local()


def test_class_pool_and_category():
    space = ObjectSpace.load(image_path(SQ))
    symbol = space.mirror_on(space.class_named("Symbol"))
    pool = symbol.class_pool()
    assert isinstance(pool, ClassPoolMirror)
    assert pool.keys() and set(pool.keys()) >= {"SelectorTables", "OtherTable", "SingleCharSymbols"}
    assert pool.at("SingleCharSymbols").variable_size() == 128
    old = pool.at("OtherTable")
    pool.at_put("OtherTable", old)
    with pytest.raises(KeyError):
        pool.at("NoSuchVariable")
    assert symbol.category() == "Collections-Text"
    assert space.mirror_on(space.class_named("Object")).category() == "Kernel-Objects"
    pcs = ObjectSpace.load(image_path(PC))
    assert pcs.mirror_on(pcs.class_named("PCObject")).category() is None


def test_method_dictionary_consistent_with_guest_hashing(sp):
    """at(selector) probes as the image's scanFor: does; it finds every entry."""
    checked = 0
    for c in sp.classes()[:60]:
        for side in (sp.mirror_on(c), sp.mirror_on(c).class_side()):
            md = side.method_dictionary()
            for sel, method in md.items():
                assert md.at(sel) == method
                checked += 1
    assert checked > 100


def test_method_dictionary_at_put_and_grow(sp):
    c = cls(sp, "Point")
    md = c.method_dictionary()
    donor = cls(sp, "Object").lookup("printString")
    cap = md.capacity()
    names = ["ozvmMethod%d" % i for i in range(cap)]
    for n in names:
        c.install_method(n, donor)
    assert md.capacity() > cap
    assert all(c.lookup(n) == donor for n in names)
    assert all(c.compiled_method_at(n) == donor for n in names)
    before = c.selectors()
    assert md.tally() == len(before)
    c.install_method(names[0], cls(sp, "Object").lookup("yourself"))     # replace
    assert c.compiled_method_at(names[0]) == cls(sp, "Object").lookup("yourself")
    assert md.tally() == len(before)
    for sel, _ in md.items():
        assert md.at(sel) is not None
    with pytest.raises(MembraneError):
        c.install_method("x", sp.mirror_on(3))


def test_every_method_disassembles(sp):
    count = 0
    for c in sp.classes():
        for side in (sp.mirror_on(c), sp.mirror_on(c).class_side()):
            for sel, m in side.method_dictionary().items():
                assert m.num_literals() == len(m.literals())
                assert m.initial_pc() == 4 * (m.num_literals() + 1) + 1
                ins = m.instructions()
                if not ins:     # quick methods (return self, a constant, a field) may have none
                    assert 256 <= m.primitive() < 520, (side.name(), sel)
                    continue
                assert not any(i.op in ("unknown", "truncated") for i in ins), (side.name(), sel)
                assert ins[-1].op in ("returnTop", "returnConst", "returnSelf", "blockReturn", "jump"), \
                    (side.name(), sel, ins[-1])
                count += 1
    # the methods with bytecodes: PharoCandle has 739, Squeak 2.2 many more
    assert count > (800 if sp.prefix == "" else 700)


def test_method_mirror_details(sp):
    m = cls(sp, "Object").lookup("printString")
    assert m.selector() == "printString" and m.method_class() == cls(sp, "Object")
    assert m.num_args() == 0 and m.primitive() == 0
    lines = m.disassembly()
    assert lines[0].split()[0] == str(m.initial_pc())
    assert any("send" in l for l in lines)
    # at: counts the literal frame, as Smalltalk's CompiledMethod>>at: does
    pc = m.initial_pc()
    assert m.at(pc) == m.bytecodes()[0] and m.variable_size() == 4 * (m.num_literals() + 1) + len(m.obj.bytes)
    with pytest.raises(IndexError):
        m.at(pc - 1)
    with pytest.raises(IndexError):
        m.at(m.variable_size() + 1)
    first = m.at(pc)
    m.at_put(pc, first)
    with pytest.raises(MembraneError):
        m.at_put(pc, 300)
    prim = cls(sp, "Object").lookup("class")
    assert prim.primitive() == 111
    add = sp.mirror_on(sp.special(S.CLASS_SMALLINTEGER)).lookup("+")
    assert add.primitive() == 1 and add.num_args() == 1


def test_squeak22_processes_and_contexts(spaces):
    space = spaces[SQ]
    sched = space.scheduler()
    active = sched.active_process()
    assert active.is_active() and active.priority() == 4 and active.state() == "active"
    frames = active.frames()
    top = frames[0]
    assert top.method().describe() == "SystemDictionary>>snapshot:andQuit:"
    assert top.receiver().obj is space.globals_dictionary()
    assert [a.to_local() for a in top.args()] == [True, False]
    assert top.stack_pointer() == len(top.frame()) == top.num_temps() + len(top.stack_values())
    assert top.sender() == frames[1] and frames[-1].sender() is None
    # the old BlockContexts: method and receiver are their home's
    blocks = [f for f in frames if f.is_block_context()]
    assert blocks and all(b.home().method() == b.method() for b in blocks)
    assert all(m.pc() is None or m.method().initial_pc() <= m.pc() <= m.method().end_pc() + 1 for m in frames)
    procs = space.processes()
    assert len(procs) == 5
    assert sorted(p.priority() for p in procs) == [1, 4, 6, 6, 8]
    ready = [p for _, ps in sched.ready_lists() for p in ps]
    assert [p.priority() for p in ready] == [1] and ready[0].state() == "ready"
    assert sum(1 for p in procs if p.state().startswith("waiting on")) == 3


def test_pharocandle_closure_contexts(spaces):
    space = spaces[PC]
    active = space.scheduler().active_process()
    ctx = active.suspended_context()
    assert ctx.closure() is not None and not ctx.is_block_context()
    assert ctx.method().selector() == "installStartProcess"
    assert ctx.home() != ctx and ctx.home().closure() is None
    assert ctx.num_args() == 0 and ctx.pc() == 42
    assert len(space.scheduler().ready_lists()) == 5
