"""The Sista V1 bytecode set: what compiler/sista_encoder.py writes, compiler/sista_disassembler.py
reads back as the same instruction (operands, extensions, jump targets), and the listing
names it (the table of Pharo's EncoderForSistaV1 class comment)."""
from __future__ import annotations

import pytest

from ozvm.compiler.codegen import Emitter
from ozvm.compiler.disassembler import bytecode_set, instruction_text
from ozvm.compiler.literals import Char
from ozvm.compiler.sista_disassembler import decode, decode_one, decode_tolerant
from ozvm.compiler.sista_encoder import SistaEncoder
from ozvm.errors import CompileError
from ozvm.memory.families import SPUR64, V3


def one(emit):
    e = Emitter()
    emit(e)
    ins = decode_one(bytes(e.code) + b"\x5c", 0)
    assert ins.next == len(e.code), (bytes(e.code), ins)
    return ins


ENC = SistaEncoder(SPUR64)


@pytest.mark.parametrize("index", [0, 11, 12, 15, 31, 32, 255, 256, 300, 70000])
def test_indices_round_trip(index):
    assert one(lambda e: ENC.push_literal(e, index)).operands() == ("pushLit", index)[1:]
    assert one(lambda e: ENC.push_literal(e, index)).op == "pushLit"
    assert (one(lambda e: ENC.push_litvar(e, index)).op, one(lambda e: ENC.push_litvar(e, index)).arg) == ("pushLitVar", index)
    assert (one(lambda e: ENC.push_inst(e, index)).op, one(lambda e: ENC.push_inst(e, index)).arg) == ("pushRcvr", index)
    for pop in (False, True):
        ins = one(lambda e: ENC.store_inst(e, index, pop))
        assert (ins.op, ins.arg) == ("popRcvr" if pop else "storeRcvr", index)
        ins = one(lambda e: ENC.store_litvar(e, index, pop))
        assert (ins.op, ins.arg) == ("popLitVar" if pop else "storeLitVar", index)
    for nargs in (0, 1, 2, 3, 7, 8, 15):
        for sup in (False, True):
            ins = one(lambda e: ENC.send(e, index, nargs, sup))
            assert (ins.op, ins.arg, ins.arg2) == ("superSend" if sup else "send", index, nargs)
    ins = one(lambda e: ENC.full_closure(e, index, 3, True))
    assert (ins.op, ins.arg, ins.arg2, ins.arg3) == ("pushFullClosure", index, 3, 1)


@pytest.mark.parametrize("i", [0, 7, 8, 11, 12, 63])
def test_temps(i):
    assert (one(lambda e: ENC.push_temp(e, i)).op, one(lambda e: ENC.push_temp(e, i)).arg) == ("pushTemp", i)
    for pop in (False, True):
        ins = one(lambda e: ENC.store_temp(e, i, pop))
        assert (ins.op, ins.arg) == ("popTemp" if pop else "storeTemp", i)
        ins = one(lambda e: ENC.store_remote(e, i, 5, pop))
        assert (ins.op, ins.arg, ins.arg2) == ("popRemote" if pop else "storeRemote", i, 5)


@pytest.mark.parametrize("value", [0, 1, 2, -1, 127, 128, 255, 256, -128, -129, -256, -257,
                                   1000, -1000, 32767, -32768])
def test_inline_integers(value):
    assert not ENC.needs_literal(value)
    ins = one(lambda e: ENC.push_inline_constant(e, value))
    assert ins.op in ("pushInteger", "pushConst") and ins.arg == value


def test_literals_needed():
    assert ENC.needs_literal(32768) and ENC.needs_literal(-32769) and ENC.needs_literal(1 << 40)
    assert ENC.needs_literal("abc") and not ENC.needs_literal(Char("a"))
    for code in (0, 65, 255, 256, 32767):
        ins = one(lambda e: ENC.push_inline_constant(e, Char(chr(code))))
        assert (ins.op, ins.arg) == ("pushChar", code)


@pytest.mark.parametrize("dist", [1, 8, 9, 255, 256, 1000, 32767])
def test_forward_jumps(dist):
    e = Emitter()
    ENC.jump(e, dist)
    assert len(e.code) == ENC.jump_size(dist)
    ins = decode_one(bytes(e.code), 0)
    assert ins.op == "jump" and ins.arg == len(e.code) + dist
    for on_true in (False, True):
        e = Emitter()
        ENC.branch(e, on_true, dist)
        ins = decode_one(bytes(e.code), 0)
        assert ins.op == ("jumpTrue" if on_true else "jumpFalse") and ins.arg == len(e.code) + dist


@pytest.mark.parametrize("back", [0, 1, 250, 252, 256, 5000])
def test_backward_jumps(back):
    e = Emitter()
    e.add(*([95] * back))           # nops
    ENC.jump_back(e, 0)
    ins = decode(bytes(e.code), back, len(e.code))[0]
    assert ins.op == "jump" and ins.arg == 0 and ins.next == len(e.code)


def test_limits():
    with pytest.raises(CompileError):
        ENC.jump(Emitter(), 40000)
    with pytest.raises(CompileError):
        ENC.full_closure(Emitter(), 0, 64, False)
    with pytest.raises(CompileError):
        SistaEncoder(V3)


def test_whole_table_decodes_tolerantly():
    # every byte value as the first of a 3-byte instruction: decoded or 'unknown', never raising
    for b in range(256):
        ins = decode_tolerant(bytes([b, 1, 2]))
        assert ins and ins[0].op
    assert decode_tolerant(bytes([0x78]))[0].op == "unknown"     # 120: blockCopy:'s old slot
    assert decode_tolerant(bytes([0xF9, 1]))[-1].op == "truncated"


def test_listing_texts():
    lits = ["#foo", "a CompiledBlock"]

    def describe(x, variable=False):
        return x

    def text(emit):
        return instruction_text(one(emit), lits, describe)
    assert text(lambda e: ENC.full_closure(e, 1, 2, True)) == \
        "push full closure a CompiledBlock (2 copied, no outer context)"
    assert text(lambda e: ENC.push_inline_constant(e, -300)) == "push -300"
    assert text(lambda e: ENC.push_inline_constant(e, Char("a"))) == "push $a"
    assert text(lambda e: ENC.send(e, 0, 9, False)) == "send foo (9 args)"
    assert bytecode_set(True).decode is decode
