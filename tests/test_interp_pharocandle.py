"""The interpreter on PharoCandle (6505: closures, no compiler): direct sends and the
image's own startup (`oz run`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


@pytest.fixture(scope="module")
def space():
    return ObjectSpace.load(image_path("pharocandle.image"))


def text(obj):
    return obj.bytes.decode("latin-1")


def test_arithmetic_and_sends(space):
    assert X.run_send(space, 3, "+", [4]) == 7
    assert X.run_send(space, 20, "benchFib") == 21891


def test_closures_and_non_local_return(space):
    arr = space.from_local([3, 1, 2])
    # includes: runs a closure with a non-local return (anySatisfy:/do:)
    assert X.run_send(space, arr, "includes:", [2]) is space.true
    assert X.run_send(space, arr, "includes:", [5]) is space.false
    assert text(X.run_send(space, arr, "printString")) == "#(3 1 2 )"
    # the sieve: closures inside loops
    assert X.run_send(space, 3, "benchmark") == 1028


def test_large_integer_result(space):
    big = X.run_send(space, 1000000000, "*", [1000000000])
    assert space.to_local(big) == 10 ** 18


def test_does_not_understand(space):
    with pytest.raises(GuestError) as info:
        X.run_send(space, 3, "foo")
    assert info.value.message == "Message not understood: foo"
    assert info.value.stack[0] == "PCObject>>doesNotUnderstand:"
    # the space is still usable
    assert X.run_send(space, 3, "+", [4]) == 7


@pytest.mark.slow
def test_oz_run_startup_log(tmp_path):
    """`oz run` resumes PCSystem start: log.txt as squeak-vm writes it (the benchmark line varies)."""
    image = tmp_path / "pharocandle.image"
    shutil.copy(image_path("pharocandle.image"), image)
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))
    out = subprocess.run([sys.executable, "-m", "ozvm.cli", "run", str(image), "--timeout", "300"],
                         env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr
    lines = (tmp_path / "log.txt").read_bytes().decode("latin-1").split("\r")
    assert lines[0] == "Welcome to Pharo Candle edition!"
    assert lines[1].endswith(" sends/sec") and " bytecodes/sec; " in lines[1]
    assert lines[2] == "800@600"


def test_evaluate_with_the_host_compiler(space):
    """PharoCandle has no Compiler: evaluate compiles the DoIt with ozvm's compiler."""
    assert X.evaluate_and_print(space, "| t | t := 0. #(1 2 3) do: [:x | t := t + x]. t") == "6"
    assert X.print_string(space, "[:x | x > 2 ifTrue: [#big] ifFalse: [#small]] value: 3") == "big"
    assert X.print_string(space, "[:a :b | a * b] valueWithArguments: #(6 7)") == "42"


def test_closures_share_outer_temporaries(space):
    src = ("| counter inc | counter := 0. inc := [counter := counter + 1]. "
           "inc value. inc value. [:k | counter := counter + k] value: 10. counter")
    assert X.evaluate_and_print(space, src) == "12"


def test_non_local_return_from_nested_closure(space):
    X.evaluate(space, "nil")        # the compiler is available
    from ozvm.compiler.api import install
    install(space, space.class_named("PCObject"),
            "ozFind: n in: coll\n\tcoll do: [:x | x = n ifTrue: [^#found]]. ^#missing")
    arr = space.from_local([1, 2, 3])
    assert text(X.run_send(space, 3, "ozFind:in:", [2, arr])) == "found"
    assert text(X.run_send(space, 3, "ozFind:in:", [7, arr])) == "missing"


def test_cannot_return(space):
    block = X.evaluate(space, "[:b | b] value: [^3]")
    with pytest.raises(GuestError) as info:
        X.run_send(space, block, "value")
    assert info.value.message == "Message not understood: cannotReturn:"


def test_must_be_boolean(space):
    with pytest.raises(GuestError) as info:
        X.print_string(space, "3 ifTrue: [1] ifFalse: [2]")
    assert info.value.message == "NonBoolean receiver."
    assert info.value.stack[:2] == ["PCObject>>error:", "PCObject>>mustBeBoolean"]


def test_unwind_marked_context_gets_about_to_return(space):
    """A ^-return through a context whose method has primitive 198 (ensure:) is not done
    by the VM: it sends aboutToReturn: value through: thatContext to the returning context."""
    from ozvm.compiler.api import install
    ensure = install(space, space.class_named("PCBlock"),
                     "ozEnsure: aBlock\n\t<primitive: 198>\n\t| r | r := self value. aBlock value. ^r")
    about = install(space, space.class_named("PCMethodContext"),
                    "aboutToReturn: result through: aContext\n\t^nil")
    interp = X.interpreter_for(space)
    seen = []

    def hook(interp, argc, meth):
        stack, sp = interp.stack, interp.sp
        seen.append((stack[sp - 2], stack[sp - 1], stack[sp]))
        interp.guest_error = GuestError("aboutToReturn:through:")
        interp.pop_push(argc + 1, interp.nil)
        interp.request_stop("error")
        return True

    interp.add_hook(about, hook)
    try:
        with pytest.raises(GuestError):
            X.evaluate(space, "[^3] ozEnsure: [4]. 5")
    finally:
        interp.remove_hook(about)
    (returning, value, marked), = seen
    assert value == 3
    assert marked.ptrs[3] is ensure           # the ozEnsure: activation
    assert returning.ptrs[4] is not space.nil  # sent to the block's context
    # without a ^-return the marked method just runs
    assert X.print_string(space, "[3] ozEnsure: [4]") == "3"


def test_context_slot_primitives(space):
    assert X.evaluate_and_print(space, "| a b | a := 3. b := 4. thisContext tempAt: 2 put: 7. a + b") == "10"
    # out of range the primitive fails; the fallback code answers the context itself
    assert X.evaluate_and_print(space, "(thisContext tempAt: 1000 put: 7) == thisContext") == "true"


def test_object_as_method_gets_run_with_in(space):
    """A non-CompiledMethod in a method dictionary is sent run: selector with: args in: receiver."""
    from ozvm.compiler.api import add_to_method_dictionary, install
    assoc_class = space.class_named("PCAssociation")
    install(space, assoc_class, "run: aSelector with: args in: aReceiver\n\t^ PCArray with: aSelector with: args with: aReceiver")
    holder = space.heap.instantiate(assoc_class)
    add_to_method_dictionary(space, space.class_named("PCObject"), space.intern_symbol("ozViaObject:"), holder)
    X.interpreter_for(space).flush_method_cache()
    result = X.run_send(space, 3, "ozViaObject:", [5])
    sel, args, rcvr = result.ptrs
    assert text(sel) == "ozViaObject:" and args.ptrs == [5] and rcvr == 3


def test_console_output_reaches_stdout(space, capsys):
    X.evaluate(space, "3 putString: 'hello console'; putcr")
    assert "hello console\n" in capsys.readouterr().out


@pytest.mark.slow
def test_run_in_quanta_resumes_exactly(tmp_path):
    """run(max_bytecodes=N) again and again gives the same startup as one run."""
    image = tmp_path / "pharocandle.image"
    shutil.copy(image_path("pharocandle.image"), image)
    space = ObjectSpace.load(str(image))
    interp = X.interpreter_for(space)
    quanta = 0
    while True:
        reason = interp.run(max_bytecodes=200000)
        quanta += 1
        if reason != "limit":
            break
        assert quanta < 10000
    assert reason == "quit" and quanta > 10
    lines = (tmp_path / "log.txt").read_bytes().decode("latin-1").split("\r")
    assert lines[0] == "Welcome to Pharo Candle edition!" and lines[2] == "800@600"
