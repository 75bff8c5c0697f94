"""The interpreter on the real Squeak 2.2 mini image, through the guest's own compiler."""
from __future__ import annotations

import pytest

from conftest import image_path
from ozvm.errors import GuestError
from ozvm.space import execution as X
from ozvm.space.objectspace import ObjectSpace


@pytest.fixture(scope="module")
def space():
    return ObjectSpace.load(image_path("squeak2.2-mini.image"))


def ps(space, expr):
    return X.print_string(space, expr, timeout=120)


def test_send_without_compiler(space):
    assert X.run_send(space, 3, "+", [4]) == 7
    assert X.run_send(space, 20, "benchFib") == 21891


def test_three_plus_four(space):
    assert ps(space, "3 + 4") == "7"


def test_factorial(space):
    assert ps(space, "100 factorial printString size") == "158"


def test_sorted_collection(space):
    assert ps(space, "#(3 1 2) asSortedCollection asArray") == "(1 2 3 )"


def test_does_not_understand(space):
    with pytest.raises(GuestError) as info:
        ps(space, "3 foo")
    assert "foo" in info.value.message
    assert info.value.stack[0] == "Object>>doesNotUnderstand:"
    assert "Compiler class>>evaluate:" in info.value.stack


def test_error_then_more_work(space):
    with pytest.raises(GuestError):
        ps(space, "nil bar")
    assert ps(space, "2 raisedTo: 10") == "1024"


def test_non_local_return_from_block(space):
    assert ps(space, "#(1 2 3 4) detect: [:x | x > 2]") == "3"
    assert ps(space, "[:x | x > 2 ifTrue: ['big'] ifFalse: ['small']] value: 3") == "'big'"
    assert ps(space, "(1 to: 10) inject: 0 into: [:a :b | a + b]") == "55"


def test_blocks_and_recursion(space):
    assert ps(space, "(1 to: 5) collect: [:n | (1 to: n) inject: 1 into: [:a :b | a * b]]") == "(1 2 6 24 120 )"
    # 2.2 blocks are not reentrant: squeak-vm answers this error too
    with pytest.raises(GuestError) as info:
        ps(space, "[:b | b value: b value: 5] value: [:f :n | n < 2 ifTrue: [1] ifFalse: [n * (f value: f value: n - 1)]]")
    assert info.value.message == "Attempt to evaluate a block that is already being evaluated."


def test_large_integers_and_overflow(space):
    assert ps(space, "1073741823 + 1") == "1073741824"
    assert ps(space, "-1073741824 - 1") == "-1073741825"
    assert ps(space, "(1 bitShift: 40) printString size") == "13"


def test_process_and_semaphore(space):
    expr = ("[:s :r | [r add: 1. s signal] fork. r add: 0. s wait. r add: 2. r asArray] "
            "value: Semaphore new value: OrderedCollection new")
    assert ps(space, expr) == "(0 1 2 )"


def test_delay(space):
    # the mini image was saved by `snapshot:andQuit:`, whose shutDown left Delay's
    # AccessProtect taken; the startUp we skip (no display) gives it back
    X.evaluate(space, "Delay startUp")
    assert ps(space, "(Delay forMilliseconds: 20) wait; yourself") .startswith("a Delay")


def test_perform(space):
    assert ps(space, "3 perform: #+ with: 4") == "7"
    assert ps(space, "3 perform: #between:and: withArguments: #(1 5)") == "true"


def test_transcript_reaches_stdout(space, capsys):
    X.evaluate(space, "Transcript show: 'hello from the guest'; cr; show: 'bye'")
    out = capsys.readouterr().out
    assert "hello from the guest\nbye" in out


def test_statements_and_temporaries(space):
    assert X.evaluate_and_print(space, "| t | t := 3. t := t * 2. t + 1") == "7"


def test_oz_eval_cli(capsys):
    from ozvm.tools import cmd_run
    import argparse
    args = argparse.Namespace(image=image_path("squeak2.2-mini.image"), expr="3 + 4", timeout=60)
    assert cmd_run.cmd_eval(args) == 0
    assert capsys.readouterr().out.strip() == "7"
    args.expr = "3 zork"
    assert cmd_run.cmd_eval(args) == 1
    assert "Message not understood: zork" in capsys.readouterr().err


def test_benchmark_image():
    other = ObjectSpace.load(image_path("squeak2.2-benchmark.image"))
    assert X.print_string(other, "100 factorial printString size") == "158"
    assert X.print_string(other, "#(3 1 2) asSortedCollection asArray") == "(1 2 3 )"
    with pytest.raises(GuestError) as info:
        X.print_string(other, "3 foo")
    assert info.value.message == "Message not understood: foo"


def test_guest_state_survives_host_runs(space):
    """A host run leaves the image's active process as it was (not loaded, untouched)."""
    interp = X.interpreter_for(space)
    proc = interp.active_process()
    ctx = proc.ptrs[1]
    pc = ctx.ptrs[1]
    ps(space, "3 + 4")
    with pytest.raises(GuestError):
        ps(space, "3 foo")
    assert interp.active_process() is proc and proc.ptrs[1] is ctx and ctx.ptrs[1] == pc


def test_bytecode_limit(space):
    from ozvm.errors import GuestTimeout
    with pytest.raises(GuestTimeout):
        X.run_send(space, 27, "benchFib", max_bytecodes=100000)
    assert X.run_send(space, 10, "benchFib") == 177


@pytest.mark.slow
def test_tiny_benchmarks(space):
    text = ps(space, "0 tinyBenchmarks")
    assert text.endswith(" sends/sec'") and " bytecodes/sec; " in text


def test_runaway_recursion_stops_at_the_memory_limit(space):
    from ozvm.compiler.api import install
    from ozvm.interp.interpreter import resident_memory
    install(space, space.class_named("Object"), "ozRecurse\n\t^self ozRecurse + 1")
    interp = X.interpreter_for(space)
    saved = interp.memory_limit, interp.max_stack_depth
    interp.memory_limit = resident_memory() + 100 * 2 ** 20
    interp.max_stack_depth = None           # the memory limit, not the depth limit, stops it
    try:
        with pytest.raises(GuestError) as info:
            X.run_send(space, 3, "ozRecurse", timeout=120)
    finally:
        interp.memory_limit, interp.max_stack_depth = saved
    assert info.value.message.startswith("out of memory")
    assert info.value.stack[:2] == ["Object>>ozRecurse", "Object>>ozRecurse"]
    assert ps(space, "3 + 4") == "7"


def test_contexts_still_referenced_are_not_reused(space):
    """Dead contexts are recycled only when nothing refers to them (CPython refcounts)."""
    from ozvm.compiler.api import install
    meth = install(space, space.class_named("Object"), "ozContext\n\t^thisContext")
    kept = [X.run_send(space, n, "ozContext") for n in range(5)]
    for _ in range(3):
        assert X.run_send(space, 20, "benchFib") == 21891
    for n, ctx in enumerate(kept):
        assert ctx.ptrs[3] is meth and ctx.ptrs[5] == n
        assert ctx.ptrs[0] is space.nil and ctx.ptrs[1] is space.nil     # returned: dead


def test_idle_waits_for_the_timer_without_spinning(space):
    X.evaluate(space, "Delay startUp")
    interp = X.interpreter_for(space)
    before = interp.bytecodes
    assert ps(space, "(Delay forMilliseconds: 300) wait; yourself").startswith("a Delay")
    # the 300 ms were slept (the idle process relinquishes the processor), not spun: a
    # spinning loop would run millions of bytecodes in that time
    assert interp.bytecodes - before < 2000000


def test_deadlock_is_reported(space):
    # squeak-vm would wait forever; ozvm sees that nothing can ever run again
    with pytest.raises(GuestError) as info:
        ps(space, "Semaphore new wait")
    assert "nothing can wake it up" in info.value.message
    assert ps(space, "3 + 4") == "7"
