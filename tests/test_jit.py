"""The translation tier (interp/translator.py, interp/jit.py; docs/jit.md) on the real images:
squeak-vm's answers with every method translated at its first activation, the same answers
and the same stacks as the interpreter where the tier hands over (deoptimisation, process
switches, non-local returns, deep recursion, heartbeats), and translations dropped when a
method changes. `OZ_JIT=always ./test.sh` runs the whole suite with the tier forced on;
this file runs a CI-cheap part of the differential suites that way in the default run."""
from __future__ import annotations

import os
import sys

import pytest

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.interp import jit as jit_module, translator
from ozvm.interp.jit import Jit, Site
from ozvm.memory.contexts import REUSE_CONTEXTS
from ozvm.space import execution as X
from ozvm.vm import VM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_interp_oracle as ORACLE  # noqa: E402

MINI = "squeak2.2-mini.image"
CANDLE = "pharocandle.image"


def tier(space, threshold):
    """Set the space's tier: None (interpreter only), 0 (always), or a threshold."""
    interp = X.interpreter_for(space)
    interp.jit = None if threshold is None else Jit(interp, threshold)
    return interp.jit


def answer(space, expr):
    try:
        return ("RESULT", X.print_string(space, expr, timeout=120))
    except GuestError as e:
        return ("ERROR", e.message)


def test_most_methods_translate_and_compile():
    """Every 7th method of the closure-less and the closure image: those left to the
    interpreter are ones without a regular stack (primitive-only methods whose bytes are
    a filler)."""
    for name in (MINI, CANDLE):
        space = VM().load(image_path(name))
        jit = tier(space, 0)
        methods = [o for o in space.heap.objects if o.fmt == 12][::7]
        made = [m for m in methods if jit.code_for(m) is not None]
        assert len(made) > 0.85 * len(methods), name
        for m, why in jit.untranslatable.items():
            assert "falls off" in why or "out of" in why or "empty stack" in why \
                or len(m.bytes) <= 8, (name, why, list(m.bytes))


def test_squeak_vm_answers_with_every_method_translated():
    """A quarter of the squeak-vm differential suite (tests/data/oracle_expressions.txt)
    with the tier forced on."""
    space = VM().load(image_path(MINI))
    jit = tier(space, 0)
    X.evaluate(space, "Delay startUp")
    mismatches = []
    for expr, kind, text in ORACLE.expected_outputs()[::4]:
        got = answer(space, expr)
        if got != (kind, text):
            mismatches.append("%s\n    squeak-vm: %s %s\n    ozvm:      %s %s" % ((expr, kind, text) + got))
    assert not mismatches, "%d differences:\n%s" % (len(mismatches), "\n".join(mismatches))
    assert jit.translated > 300


@pytest.fixture(params=[MINI, CANDLE])
def spaces(request):
    """The same image twice: interpreter only, and the tier forced on."""
    out = []
    for threshold in (None, 0):
        s = VM().load(image_path(request.param))
        root = s.class_named("Object") or s.class_named("PCObject")
        s.install(root, "ozTruth: x ^ x ifTrue: [1] ifFalse: [2]")
        s.install(root, "ozDeep: n ^ n = 0 ifTrue: [0] ifFalse: [(self ozDeep: n - 1) + 1]")
        s.install(root, "ozFind: c ^ c inject: 0 into: [:a :e | e > 2 ifTrue: [^ e]. a + e]")
        s.install(root, "ozCtx | c | c := thisContext. ^ c method == (self class compiledMethodAt: #ozCtx)")
        s.install(root, "ozFloat: x ^ (x * 2.5) + 1 < 100")
        s.install(root, "ozBig: x ^ (x * x * x) - x")
        s.install(root, "ozLoop: n | s i | s := 0. i := 0. [i < n] whileTrue: [i := i + 1. s := s + (i \\\\ 7)]. ^ s")
        tier(s, threshold)
        out.append(s)
    return out


@pytest.mark.parametrize("expr", [
    "nil ozTruth: 3",                       # mustBeBoolean: the tier hands over to the interpreter
    "nil ozDeep: 300",                      # deeper than the tier nests Python frames
    "nil ozFind: #(1 2 3 4)",               # a non-local return out of a block
    "nil ozCtx",                            # thisContext in translated code
    "nil ozFloat: 3.0",
    "nil ozBig: 123456",                    # SmallInteger overflow into LargeIntegers
    "nil ozLoop: 5000",                     # heartbeats at backward jumps
    "(1 to: 50) inject: 0 into: [:a :b | a + (b * b)]",
    "#(3 1 2) asSortedCollection asArray",
    "nil foo",                              # doesNotUnderstand: from translated code
])
def test_same_answers_as_the_interpreter(spaces, expr):
    plain, jitted = spaces
    assert answer(jitted, expr) == answer(plain, expr)


def test_a_changed_method_drops_its_translation():
    space = VM().load(image_path(CANDLE))
    jit = tier(space, 0)
    root = space.class_named("PCObject")
    space.install(root, "ozValue ^ 1 + 1")
    space.install(root, "ozUse ^ self ozValue * 10")
    assert space.evaluate("nil ozUse").to_local() == 20
    assert space.evaluate("nil ozUse").to_local() == 20
    old = space.mirror_on(root).lookup("ozUse").obj
    assert jit.code_for(old) is not None
    space.install(root, "ozValue ^ 3")             # a new method in the dictionary
    assert space.evaluate("nil ozUse").to_local() == 30
    space.install(root, "ozUse ^ self ozValue * 100")
    assert space.evaluate("nil ozUse").to_local() == 300


def test_processes_switch_inside_translated_code():
    """A semaphore and yields between two processes running translated code: the same
    interleaving as in the interpreter."""
    expr = ("[:s :r | [1 to: 5 do: [:i | r add: i. s signal. Processor yield]] fork. "
            "1 to: 5 do: [:k | s wait. r add: k * 10]. r asArray] "
            "value: Semaphore new value: OrderedCollection new")
    answers = []
    for threshold in (None, 0):
        space = VM().load(image_path(MINI))
        tier(space, threshold)
        answers.append(answer(space, expr))
    assert answers[0] == answers[1] and answers[0][0] == "RESULT"


def test_generated_code_is_ordinary_python():
    """The translation of SmallInteger>>benchFib: inline SmallInteger paths with overflow
    checks, sends through the send helper, a return to the Python caller."""
    space = VM().load(image_path(MINI))
    interp = X.interpreter_for(space)
    meth = space.mirror_on(space.class_named("SmallInteger")).lookup("benchFib").obj
    from ozvm.memory.contexts import decode_method
    src, plan = translator.source_of(meth, decode_method(meth, interp.heap),
                                     interp.special_selectors, interp.has_closures)
    assert "MINI <= (r := rcvr - (1)) <= MAXI" in src
    assert "SEND(ctx, p," in src and "return v" in src
    assert plan.entries[0] == 0


def test_spur_image_starts_as_on_squeakjs_with_every_method_translated(capsys):
    """spur32-headless's own startup (V3PlusClosures on Spur, callPrimitive skipped) prints
    what SqueakJS printed (tests/data/squeakjs_spur.txt)."""
    from ozvm.space.objectspace import ObjectSpace
    from squeakjs_spur_record import read_records
    space = ObjectSpace.load(image_path("spur32-headless.image"))
    interp = X.interpreter_for(space)
    jit = tier(space, 0)
    X.let_guest_handle_errors(space)
    assert interp.run(max_bytecodes=2000000) == "quit"
    assert capsys.readouterr().out == read_records()[("spur32-headless.image", "original")]["output"]
    assert jit.translated > 10


def test_61_bit_small_integers_inline_in_64_bit_spur():
    from ozvm.space.objectspace import ObjectSpace
    space = ObjectSpace.load(image_path("pharo8-kernel-spur64.image"))
    tier(space, 0)
    run = X.run_send
    assert run(space, 1 << 40, "+", [1 << 40]) == 1 << 41
    assert run(space, 1 << 30, "*", [1 << 29]) == 1 << 59
    over = run(space, (1 << 60) - 1, "+", [1])
    assert over.__class__ is not int and space.to_local(over) == 1 << 60


def snapshot(p):
    """What a debugger sees of a process: every frame's method, pc, stack pointer and
    slots (arguments, temps, stack)."""
    out = []
    for f in p.frames():
        out.append((f.describe(), f.pc(), f.stack_pointer(), [v.describe() for v in f.frame()]))
    return out


def stops_of(space, p, times, step, finish=0, counted=None, printed=False):
    """Process `p` of `space` run `times` times for `step` bytecodes: each stop's reason and
    what a debugger sees then (with `counted`, an interpreter, its bytecode count too); with
    `finish`, then run that many more bytecodes and the answer it left in #OzAnswer appended
    (`printed`: its printString)."""
    stops = []
    for _ in range(times):
        reason = space.transfer_control(bytecodes=step)
        if counted is None:
            stops.append((reason, snapshot(p)))
        else:
            stops.append((reason, counted.bytecodes, snapshot(p)))
    if finish:
        space.transfer_control(bytecodes=finish)
        answer = "(Smalltalk at: #OzAnswer ifAbsent: [nil])" + (" printString" if printed else "")
        stops.append(space.evaluate(answer).to_local())
    return stops


@pytest.mark.parametrize("name", [MINI, CANDLE])
def test_a_debugger_sees_the_same_stacks_at_every_stop(name):
    """A process stopped every 1500 bytecodes (a heartbeat at the next send or backward
    jump): with every method translated, and with a threshold of 2 (callees not hot yet
    running nested in the interpreter under translated callers), the same frames, pcs,
    stack pointers and slots as with the interpreter only."""
    source = ("nil ozLoop: 400. nil ozDeep: 60. (1 to: 40) inject: 0 into: [:a :b | a + (nil ozTruth: b odd)]. "
              "#(3 1 2 5 4) asSortedCollection asArray")
    seen = []
    for threshold in (None, 0, 2):
        s = VM().load(image_path(name))
        root = s.class_named("Object") or s.class_named("PCObject")
        s.install(root, "ozTruth: x ^ x ifTrue: [1] ifFalse: [2]")
        s.install(root, "ozDeep: n ^ n = 0 ifTrue: [0] ifFalse: [(self ozDeep: n - 1) + 1]")
        s.install(root, "ozLoop: n | s i | s := 0. i := 0. [i < n] whileTrue: [i := i + 1. s := s + (i \\\\ 7)]. ^ s")
        jit = tier(s, threshold)
        p = s.create_process(source, priority=80)
        seen.append(stops_of(s, p, 14, 1500))
        if jit is not None:
            assert jit.translated >= 3
            if threshold:           # callees not hot yet ran in the interpreter, nested
                assert jit.nested > 0
    assert seen[0] == seen[1] == seen[2]


def test_non_local_returns_pass_no_exception_through_translated_frames(monkeypatch):
    """A ^ from a block to a home context waiting in a translated frame comes back to that
    frame as jit.UNWOUND answered by each translated frame in between, not as a Python
    exception (on PyPy an exception forces every JIT frame it passes through into a real
    frame): the same answers as the interpreter, and no Unwind made on the way."""
    made = []
    init = jit_module.Unwind.__init__

    def counted(self, *args):
        made.append(type(self).__name__)
        init(self, *args)
    monkeypatch.setattr(jit_module.Unwind, "__init__", counted)
    answers = []
    for threshold in (None, 0):
        space = VM().load(image_path(MINI))
        root = space.class_named("Object")
        space.install(root, "ozFind: c ^ c inject: 0 into: [:a :e | e > 2 ifTrue: [^ e]. a + e]")
        space.install(root, "ozDetect: c ^ c detect: [:e | e > 1] ifNone: [0]")
        space.install(root, "ozAll: n ^ (1 to: n) inject: 0 into: [:a :k | a + (self ozFind: "
                            "(Array with: k \\\\ 4 with: 3 with: 4)) + (self ozDetect: (Array with: k with: 2))]")
        tier(space, threshold)
        answers.append(answer(space, "nil ozAll: 300"))
    assert answers[0] == answers[1] and answers[0][0] == "RESULT"
    assert made == []


def test_a_cold_callee_runs_nested_in_the_interpreter():
    """A translated method's callee that is not hot runs in the interpreter nested under
    its translated caller (jit.py, nest): it is not translated for being called from
    translated code, and the answers are the interpreter's (a return, a non-local return
    out of the nested run, a process switch inside it)."""
    methods = [
        "ozCold: k ^ k * 3",
        "ozNlr: k #(1 2 3) do: [:e | e = 2 ifTrue: [^ k + e]]. ^ 0",
        "ozHot: k ^ k \\\\ 10 = 0 ifTrue: [(self ozCold: k) + (self ozNlr: k)] ifFalse: [k]",
        "ozYield: k k = 50 ifTrue: [Processor yield]. ^ k",
        "ozOuter | s | s := 0. 1 to: 100 do: [:k | s := s + (self ozHot: k) + (self ozYield: k)]. ^ s",
    ]
    answers = []
    for threshold in (None, 40):
        space = VM().load(image_path(MINI))
        jit = tier(space, threshold)
        root = space.class_named("Object")
        for m in methods:
            space.install(root, m)
        answers.append(answer(space, "nil ozOuter"))
        if jit is not None:
            mirror = space.mirror_on(root)
            assert jit.code_for(mirror.lookup("ozHot:").obj, 0) is not None
            for cold in ("ozCold:", "ozNlr:"):       # 10 calls: below the threshold
                assert jit.code_for(mirror.lookup(cold).obj, 0) is None
            assert jit.nested >= 10
    assert answers[0] == answers[1] and answers[0][0] == "RESULT"


def sites_of(jit):
    """The inline caches (jit.Site) of the translations made so far."""
    out = []
    for _info, fn in jit.fns.values():
        if fn is not None:
            out.extend(v for k, v in fn.__globals__.items() if k.startswith("ic") and k[2:].isdigit())
    return out


def test_sends_made_at_the_site_see_the_same_stacks():
    """Sends the send site makes itself: primitives called as the interpreter calls them
    (String at: and size, =, new:, printString's and , 's primitives, basicSize's primitive
    62, which fails for nil and runs its method), WriteStream nextPut:'s method (its
    primitive 66 exists only to fail: the site runs the method), quick primitives answering
    an instance variable, a constant or the receiver (Association value, isNil, yourself),
    value to a non-block. A process stopped every 700 bytecodes: with every method
    translated, the same frames, pcs, stack pointers and slots as with the interpreter
    only, and the same answer."""
    seen = []
    for threshold in (None, 0):
        s = VM().load(image_path(MINI))
        s.install(s.class_named("Object"),
                  "ozStrings: n | s w d | s := 0. w := WriteStream on: (String new: 2). d := 3 -> 4. "
                  "1 to: n do: [:i | w nextPut: $a; nextPutAll: i printString. "
                  "s := s + (i printString , 'x') size + ('abc' at: 2) asciiValue + d value. "
                  "(w contents = 'zz') ifTrue: [s := 0]. s := s + (Array new: 3) size. "
                  "i isNil ifFalse: [s := s + 1]. s := s + i yourself + nil basicSize]. ^ s + w contents size")
        jit = tier(s, threshold)
        failed = []
        if jit is not None:
            done = jit.primitive_done

            def counted(ctx, p, sp, argc, e, ok, *rest):
                if not ok:
                    failed.append(e[1])
                return done(ctx, p, sp, argc, e, ok, *rest)
            jit.primitive_done = counted        # (the translations' PRIMDONE)
        p = s.create_process("Smalltalk at: #OzAnswer put: (nil ozStrings: 15)", priority=80)
        seen.append(stops_of(s, p, 16, 700, 1000000))
        if jit is not None:
            kinds = {site.q if site.q < 0 else "ivar" for site in sites_of(jit) if site.k is not None}
            assert {Site.TRANSLATED, Site.PRIMITIVE, Site.CONSTANT, Site.SELF, "ivar"} <= kinds
            assert 62 in failed and 66 not in failed    # (nextPut:'s method ran, no primitive)
    assert isinstance(seen[0][-1], int)
    assert seen[0] == seen[1]


SPUR64 = "pharocandle-spur64.image"


@pytest.mark.parametrize("code,kind", [
    ([0x70, 0x77, 0x61, 0x7C], "ivar"),                 # self; 2; popIntoRcvr: 1; returnTop
    ([0x70, 0x77, 0x81, 0x01, 0x87, 0x7C], "ivar"),     # self; 2; store rcvr var 1; pop; returnTop
    ([0x70, 0x77, 0x84, 0xC0, 0x01, 0x7C], "ivar"),     # self; 2; doubleExtended storeAndPop rcvr var 1
    ([0x77, 0x81, 0xC0, 0x7C], "litvar"),               # 2; store litVar 0; returnTop
    # self; 2; 2; at:put:; pop; the same again (through the selector's cache); returnTop
    ([0x70, 0x77, 0x77, 0xC1, 0x87, 0x70, 0x77, 0x77, 0xC1, 0x7C], "at:put:"),
])
def test_translated_stores_into_a_read_only_object(code, kind):
    """Stores made inline by translated code honour Spur's read-only bit as the interpreter
    does (#attemptToAssign:withIndex: for a store bytecode, primitive 61's failure for
    at:put:): the same answers, the same object, with and without the tier."""
    from ozvm.memory import specials as S
    from ozvm.memory.objects import FLAG_IMMUTABLE
    seen = []
    for threshold in (None, 0):
        space = VM().load(image_path(SPUR64))
        heap = space.heap
        jit = tier(space, threshold)
        # Object>>attemptToAssign: value withIndex: index answers index
        handler = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD),
                                  heap.family.make_method_header(2, 2, 0), [], bytes([0x11, 0x7C]))
        space.mirror_on(space.class_named("PCObject")).method_dictionary().at_put(
            "attemptToAssign:withIndex:", handler)
        if kind == "litvar":
            target = heap.instantiate(space.class_named("PCAssociation"))
            rcvr = heap.nil
        elif kind == "ivar":
            target = rcvr = heap.instantiate(space.class_named("PCPoint"))
        else:
            target = rcvr = heap.new_array([heap.nil, heap.nil])
        method = heap.new_method(heap.special(S.CLASS_COMPILED_METHOD),
                                 heap.family.make_method_header(0, 0, 1), [target], bytes(code))
        for cls in ("PCObject", "PCArray"):     # sent, so that the tier sees an activation
            space.mirror_on(space.class_named(cls)).method_dictionary().at_put("ozStore", method)
        runs = []
        for flags in (0, FLAG_IMMUTABLE):      # (the first fills the selectors' caches)
            target.ptrs[1] = heap.nil
            target.flags = flags
            try:
                r = X.run_send(space, rcvr, "ozStore", [], timeout=30, max_bytecodes=100000)
                r = "self" if r is rcvr else space.mirror_on(r).describe()
            except GuestError as e:
                r = "error: " + e.message
            runs.append((r, space.mirror_on(target.ptrs[1]).describe()))
        if jit is not None:
            assert jit.fns[method][1] is not None       # translated
        seen.append(runs)
    assert seen[0] == seen[1]
    writable, read_only = seen[0]
    assert read_only[1] == "nil" and writable[1] == "2"
    if kind != "at:put:":
        assert read_only[0] == "2"                      # attemptToAssign:withIndex:'s answer


@pytest.mark.skipif(not REUSE_CONTEXTS, reason="contexts are reused only where reference counts "
                                               "tell that nothing refers to them (CPython)")
def test_translated_methods_called_by_the_interpreter_leave_their_contexts_for_reuse():
    """A loop left to the interpreter (one activation, no heartbeat) sends to a method
    translated after 50 activations, 150 times more: each call runs as the tier's base frame
    and returns through the return helper, which keeps the dead context for the next
    activation as the interpreter's return does (counted contexts: not one a call); the
    same answer and bytecodes as the interpreter alone."""
    runs = []
    for threshold in (None, 50):
        space = VM().load(image_path(MINI))
        root = space.class_named("Object")
        callee = space.install(root, "ozMax: x ^ x > 3 ifTrue: [x] ifFalse: [3]")
        caller = space.install(root, "ozCalls: n | s | s := 0. 1 to: n do: [:i | s := s + (self ozMax: i)]. ^ s")
        jit = tier(space, threshold)
        interp = X.interpreter_for(space)
        made = []
        new_context = space.heap.new_context

        def counting(cls, ptrs, made=made, new_context=new_context):
            made.append(cls)
            return new_context(cls, ptrs)

        space.heap.new_context = counting
        before = interp.bytecodes
        answer = X.run_send(space, None, "ozCalls:", [200])
        runs.append((answer, interp.bytecodes - before))
        if jit is not None:
            assert jit.code_for(caller, 0) is None and jit.code_for(callee, 0) is not None
            assert len(made) < 20
    assert runs[0] == runs[1]


def test_inline_caches_follow_become_and_flushes():
    """A send site's inline cache (receiver class -> method) misses when the receiver is
    another object after become:, and when its method's bytes changed and the method was
    flushed (primitive 116): the same answers as the interpreter."""
    body = ("ozTest | a b r m i | r := OrderedCollection new. a := 3@4. b := Object new. "
            "r add: (nil ozCall: a); add: (nil ozCall: a). a become: b. "
            "r add: (nil ozCall: a); add: (nil ozCall: b). "
            "r add: (nil ozX: 5@6); add: (nil ozX: 7@8). "
            "r add: nil ozUseK; add: nil ozUseK. "
            "m := Object compiledMethodAt: #ozK. "
            "i := (m initialPC to: m size) detect: [:k | (m at: k) = 176]. "
            "m at: i put: 177. m ozFlush. r add: nil ozUseK. "
            "^ r asArray")
    answers = []
    for threshold in (None, 0):
        space = VM().load(image_path(MINI))
        jit = tier(space, threshold)
        obj = space.class_named("Object")
        space.install(obj, "ozWho ^ #object")
        space.install(space.class_named("Point"), "ozWho ^ #point")
        space.install(obj, "ozCall: o ^ o ozWho")
        space.install(obj, "ozX: p ^ p x")
        space.install(obj, "ozK ^ 3 + 4")
        space.install(obj, "ozUseK ^ self ozK")
        space.install(space.class_named("CompiledMethod"), "ozFlush <primitive: 116>")
        space.install(obj, body)
        answers.append(answer(space, "nil ozTest"))
        if jit is not None:
            assert jit.translated > 5
    assert answers[0] == answers[1] and answers[0][0] == "RESULT"
    assert answers[0][1].endswith("7 7 7 -1 )"), answers[0]


POLY_METHODS = [
    # one selector answered by a primitive (failing for nil), a translated method, a quick
    # primitive answering an instance variable, one answering the receiver
    ("Object", "ozMixed <primitive: 62> ^ -1"),
    ("Point", "ozMixed ^ x + y"),
    ("Association", "ozMixed ^ key"),
    ("Character", "ozMixed ^ self"),
    ("Object", "ozWho ^ 3 + 4"),
    ("Point", "ozWho ^ 10 + 20"),
    ("Association", "ozWho ^ #association"),
    ("Object", "ozCall: o ^ o ozWho"),
    ("Point", "ozUp ^ super ozMixed + super ozWho"),      # super sends: a primitive, a method
    ("Object", "ozUse: o ^ o ozMixed"),
    ("Object", "ozRcvrs ^ (Array with: nil with: 3 @ 4 with: 1 -> 2 with: $a), "
               "(Array with: 5 with: 'abc' with: #(1 2) with: Object new), (Array with: 2.5)"),
    ("CompiledMethod", "ozFlush <primitive: 116>"),
]


def poly_space(threshold):
    space = VM().load(image_path(MINI))
    jit = tier(space, threshold)
    for cls, source in POLY_METHODS:
        space.install(space.class_named(cls), source)
    return space, jit


def test_polymorphic_sites_follow_become_and_flushes():
    """A send site that meets several receiver classes keeps a case for each (a polymorphic
    inline cache: jit.Site's `more`), at most Site.MORE + 1 of them (nine classes here: the
    other three are sent through the helper); each case misses when its method was swapped
    with another by become:, or changed in place and flushed (primitive 116): the same
    answers as the interpreter."""
    body = ("ozTest | r m i | r := OrderedCollection new. "
            "1 to: 3 do: [:k | nil ozRcvrs do: [:o | r add: (nil ozCall: o); add: (nil ozUse: o)]. r add: (3 @ 4) ozUp]. "
            "(Point compiledMethodAt: #ozWho) become: (Object compiledMethodAt: #ozWho). "
            "nil ozRcvrs do: [:o | r add: (nil ozCall: o); add: (nil ozUse: o)]. r add: (3 @ 4) ozUp. "
            "m := Point compiledMethodAt: #ozWho. "
            "i := (m initialPC to: m size) detect: [:k | (m at: k) = 176]. "
            "m at: i put: 177. m ozFlush. "
            "nil ozRcvrs do: [:o | r add: (nil ozCall: o); add: (nil ozUse: o)]. r add: (3 @ 4) ozUp. "
            "^ r asArray")
    answers = []
    for threshold in (None, 0):
        space, jit = poly_space(threshold)
        space.install(space.class_named("Object"), body)
        answers.append(answer(space, "nil ozTest"))
        if jit is not None:
            widest = max(len(site.cases()) for site in sites_of(jit))
            assert widest == Site.MORE + 1
    assert answers[0] == answers[1] and answers[0][0] == "RESULT"
    words = answers[0][1].strip("#()").split()
    first, swapped, flushed = words[:19], words[57:76], words[76:]
    # Point>>ozUp: Object's ozMixed (its primitive fails: -1) + Object's ozWho
    assert (first[-1], swapped[-1], flushed[-1]) == ("6", "29", "29")
    # nil, a Point, an Association: their ozWho, then Object's and Point's swapped by
    # become:, then Point's (Object's body: 3 + 4) changed to 3 - 4
    assert first[0:6:2] == ["7", "30", "association"]
    assert swapped[0:6:2] == ["30", "7", "association"]
    assert flushed[0:6:2] == ["30", "-1", "association"]


def test_polymorphic_sites_see_the_same_stacks():
    """A process stopped every 400 bytecodes while polymorphic sites (a translated method,
    a primitive that succeeds and fails, quick primitives, by receiver class) make its
    sends: with every method translated and with a threshold of 2, the same frames, pcs,
    stack pointers and slots as with the interpreter only, and the same answer."""
    seen = []
    for threshold in (None, 0, 2):
        space, jit = poly_space(threshold)
        p = space.create_process(
            "Smalltalk at: #OzAnswer put: ((1 to: 12) inject: 0 into: [:a :k | nil ozRcvrs "
            "inject: a + (3 @ 4) ozUp into: [:b :o | b + (nil ozCall: o) size + (nil ozUse: o) hash]])",
            priority=80)
        seen.append(stops_of(space, p, 20, 400, 2000000))
        if threshold == 0:
            kinds = {frozenset(c.q if c.q < 0 else "ivar" for c in site.cases())
                     for site in sites_of(jit)}
            assert any({Site.TRANSLATED, Site.PRIMITIVE, Site.SELF, "ivar"} <= k for k in kinds)
    assert isinstance(seen[0][-1], int)
    assert seen[0] == seen[1] == seen[2]


def test_special_selectors_sent_from_their_slow_path_count_as_the_interpreter():
    """A special selector whose inline path does not apply (at:put: to a Dictionary, = to
    Strings, < on Fractions before a jump, + to nil's basicSize, whose primitive fails) is
    sent from translated code with its bytecodes charged first, as the interpreter counts
    them: a process stopped every 13 bytecodes has the same frames and the same bytecode
    count at every stop with every method translated as with the interpreter only."""
    seen = []
    for threshold in (None, 0):
        space = VM().load(image_path(MINI))
        space.install(space.class_named("Object"),
                      "ozSlow: n | d s | d := Dictionary new. s := 0. 1 to: n do: [:i | d at: i put: i. "
                      "('ab' = 'ab') ifTrue: [s := s + nil basicSize]. "
                      "(i / 3) < (1 / 2) ifTrue: [s := s + 1]]. ^ s + d size")
        tier(space, threshold)
        interp = X.interpreter_for(space)
        p = space.create_process("Smalltalk at: #OzAnswer put: (nil ozSlow: 6)", priority=80)
        seen.append(stops_of(space, p, 60, 13, counted=interp))
    assert seen[0] == seen[1]


def test_points_made_inline_and_at_sent_from_its_site_see_the_same_stacks():
    """@ on two SmallIntegers makes its Point in translated code (as the interpreter's
    bytecode does), and is sent through an inline cache otherwise (a Float receiver:
    primitive 18 at the site); Point and Fraction arithmetic is sent through the helper. A
    process stopped every 29 bytecodes: with every method translated and with a threshold
    of 2, the same frames, pcs, stack pointers, slots and bytecode counts at every stop as
    with the interpreter only, and the same answer."""
    source = ("ozPts: n | s p f | s := 0 @ 0. p := 1 @ 2. f := 0. 1 to: n do: [:i | "
              "s := s + (i @ (i + 1)) - p. s := s + (2.5 @ i) + (p * 2) - (i @ 3). "
              "f := f + (i / 3). (f < (1 / 2)) ifTrue: [f := f - (1 / 5)]]. ^ Array with: s with: f")
    seen = []
    for threshold in (None, 0, 2):
        space = VM().load(image_path(MINI))
        space.install(space.class_named("Object"), source)
        jit = tier(space, threshold)
        interp = X.interpreter_for(space)
        p = space.create_process("Smalltalk at: #OzAnswer put: (nil ozPts: 4)", priority=80)
        seen.append(stops_of(space, p, 95, 29, finish=2000000, counted=interp, printed=True))
        if jit is not None:
            specsel = interp.special_selectors
            cases = [(c.q, c.d) for site in sites_of(jit) for c in site.cases()]
            assert (Site.PRIMITIVE, specsel[22].cache) in cases         # Float @ (primitive 18)
    assert seen[0][-1] == "(14.0@20 (47/15) )"
    assert seen[0] == seen[1] == seen[2]


def test_blocks_run_from_the_value_site():
    """value and value: to a BlockContext whose home method has a translation run the
    block's translation from the send site, as primitive 81 starts it (not through the
    helper, jit.special); with the same answers as the interpreter for blocks that return,
    a ^ out of a block, a block whose home method is not translated yet (run through the
    helper), and a block sent value with the wrong argument count (primitive 81 fails)."""
    methods = ["ozEach: c | s | s := 0. c do: [:e | s := s + e]. ^ s",
               "ozFirst: c c do: [:e | e > 1 ifTrue: [^ e]]. ^ 0",
               "ozApply: b ^ (b value: 3) + ([:x | x] value: 4) + [5] value",
               "ozWrong ^ [:a | a] value"]
    answers = []
    for threshold in (None, 0, 2):
        space = VM().load(image_path(MINI))
        jit = tier(space, threshold)
        for m in methods:
            space.install(space.class_named("Object"), m)
        helped = []
        if jit is not None:
            special = jit.special

            def counted(ctx, p, sp, b, *rest):
                if b in (0xC9, 0xCA):
                    a = p[sp - (b - 0xC9)]
                    if getattr(a, "cls", None) is X.interpreter_for(space).block_context_class:
                        helped.append(b)
                return special(ctx, p, sp, b, *rest)
            jit.special = counted           # (the translations' SPECIAL)
        got = [answer(space, "(1 to: 5) collect: [:k | (nil ozEach: #(1 2 3)) + (nil ozFirst: #(1 2 3)) "
                             "+ (nil ozApply: [:x | x * k])]")]
        if threshold == 0:
            assert helped == []
        got.append(answer(space, "nil ozWrong"))
        if threshold == 0:
            assert helped == [0xC9]         # the wrong argument count: primitive 81 fails
        answers.append(got)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == ("RESULT", "(20 23 26 29 32 )"), answers[0]
    assert answers[0][1][0] == "ERROR"
