"""The Sista V1 bytecode set (the alternate set of Spur images), beside the V3 hot loop of
interp/interpreter.py.

A method (or CompiledBlock) whose header selects the alternate set gets, from
`decode_method`, bytecodes of its own kind (`memory.contexts.AlternateCode`): the V3 loop
stops at its first one and `Interpreter.run` hands the active context to `run_sista`
here, which runs until the active context is a V3 method again (answering `OTHER_SET`) or
the run stops for a V3-loop reason ('limit', 'quit', ...). Both loops share the registers
(ctx, stack, sp, pc), the process paths of the Interpreter and its heartbeat (every CHUNK
bytecodes, at a send or a backward jump). Every send and return of this loop goes out of
line to the V3 loop's tail (`Interpreter.tail`: the method cache, primitives, the
activation point, returns and unwinding, dead contexts kept for reuse), and everything
that calls out (heartbeat, send, return) ends in one place that takes the registers back.

Full block closures: pushFullClosure (249) makes a FullBlockClosure (the class in special
object 37) with the CompiledBlock of the literal, the outer context (nil for a block
that does not need it: clean blocks), the receiver and the copied values; the closure
primitives 207-209 (prims/full_blocks.py) run one in a new context whose method is the
CompiledBlock. A ^-return inside one returns from the home of its outer-context chain,
as in V3 closures (`Interpreter.home_context`).

Facts: the class comment of EncoderForSistaV1 (the table), VMMaker's StackInterpreter
(extension arithmetic, the inline class and == bytecodes, mustBeBoolean after a
conditional jump, directed super sends), SqueakJS's vm.interpreter.js.
"""
from __future__ import annotations

from ..errors import VMError
from ..memory import specials as S
from ..memory.contexts import METHOD, AlternateCode, decode_method
from ..memory.objects import SqObject

OTHER_SET = "other bytecode set"      # run_sista's answer: the active method is V3 again
CHUNK = 4000


def _bad(b, pc):
    raise VMError("bytecode %d (pc %d) is not supported by ozvm's Sista V1 interpreter" % (b, pc))


def _is_switch_point(code, pc) -> bool:
    """Is the instruction at pc a send or a backward jump (where the C VM checks for
    interrupts)?"""
    b = code[pc]
    ext_b = 0
    first = True
    while b == 224 or b == 225:
        if b == 225:
            byte = code[pc + 1]
            ext_b = byte - 256 if first and byte > 127 else (ext_b << 8) + byte
            first = False
        pc += 2
        b = code[pc]
    if 96 <= b < 176 or b == 234 or b == 235:
        return True
    return b == 237 and code[pc + 1] + (ext_b << 8) < 0


def run_sista(interp, limit, deadline) -> str:
    """Interpret the active context, a Sista V1 one, and what follows, until the active
    method is a V3 one (OTHER_SET) or the run stops (the reasons of Interpreter.run)."""
    heap = interp.heap
    nil = interp.nil
    true = interp.true
    false = interp.false
    SqObj = SqObject
    int_ = int
    si_class = interp.smallint_class
    float_class = interp.float_class
    specials = heap.specials.ptrs
    specsel = interp.special_selectors
    MINI = heap.family.small_int_min
    MAXI = heap.family.small_int_max
    exact = interp.exact
    interp.stop_reason = None

    ctx = interp.ctx
    stack = interp.stack
    code = ctx.ptrs[METHOD].bytes
    lits = interp.lits
    rcvr = interp.receiver
    sp = interp.sp
    pc = interp.pc
    count = interp.bytecodes
    beat_at = count + CHUNK
    if limit is not None and limit < beat_at:
        beat_at = limit

    argc = 0                    # a send's arguments; a return's value and kind:
    val = None
    to_caller = False

    def reload():
        c = interp.ctx
        return (c, interp.stack, c.ptrs[METHOD].bytes, interp.lits, interp.receiver, interp.sp,
                interp.pc)

    while True:
        if count >= beat_at and (exact or _is_switch_point(code, pc)):
            # ------------------------------------------------------------------ heartbeat
            interp.bytecodes = count
            interp.ctx = ctx
            interp.stack = stack
            interp.sp = sp
            interp.pc = pc
            interp._heartbeat(limit, deadline)
            if interp.stop_reason == "beat":    # asked for during this heartbeat
                interp.stop_reason = None
            beat_at = count + CHUNK
            if limit is not None and limit < beat_at:
                beat_at = limit
        else:
            count += 1
            start = pc
            b = code[pc]
            pc += 1
            ext_a = ext_b = 0
            if b >= 224 and b <= 225:
                first = True
                while b == 224 or b == 225:
                    byte = code[pc]
                    if b == 224:
                        ext_a = (ext_a << 8) + byte
                    else:
                        ext_b = byte - 256 if first and byte > 127 else (ext_b << 8) + byte
                        first = False
                    pc += 1
                    b = code[pc]
                    pc += 1
            # ------------------------------------------------------------ one-byte bytecodes
            sel = None
            super_class = None
            if b < 88 or b == 95:
                if b < 16:
                    sp += 1
                    stack[sp] = rcvr.ptrs[b]
                elif b < 32:
                    sp += 1
                    stack[sp] = lits[b - 15].ptrs[1]
                elif b < 64:
                    sp += 1
                    stack[sp] = lits[b - 31]
                elif b < 76:
                    sp += 1
                    stack[sp] = stack[b - 58]
                elif b < 82:
                    sp += 1
                    stack[sp] = (rcvr, true, false, nil, 0, 1)[b - 76]
                elif b == 82:
                    if ext_b:
                        _bad(b, start)      # push thisProcess (extB 1): not used by the images
                    interp.ctx = ctx
                    interp.stack = stack
                    interp.sp = sp
                    interp.pc = pc
                    interp.store_registers()
                    sp += 1
                    stack[sp] = ctx
                elif b == 83:
                    stack[sp + 1] = stack[sp]
                    sp += 1
                elif b != 95:
                    _bad(b, start)
                continue
            if b < 96:
                # returns (88-94): out of line
                if b == 92 or b == 94:
                    val = stack[sp]
                else:
                    val = (rcvr, true, false, nil, 0, nil)[b - 88]
                if b == 94 and ext_a:
                    _bad(b, start)
                to_caller = b >= 93
            elif b < 128:
                # special selectors 0-31
                i = b - 96
                c = stack[sp]
                if i < 16:
                    a = stack[sp - 1]
                    if a.__class__ is int_ and c.__class__ is int_:
                        r = None
                        if i < 8:
                            if i == 0:
                                r = a + c
                            elif i == 1:
                                r = a - c
                            else:
                                if i == 2:
                                    t = a < c
                                elif i == 3:
                                    t = a > c
                                elif i == 4:
                                    t = a <= c
                                elif i == 5:
                                    t = a >= c
                                elif i == 6:
                                    t = a == c
                                else:
                                    t = a != c
                                sp -= 1
                                stack[sp] = true if t else false
                                continue
                        elif i == 8:
                            r = a * c
                        elif i == 9:
                            if c and a % c == 0:
                                r = a // c
                        elif i == 10:
                            if c:
                                r = a % c
                        elif i == 11:
                            r = None            # @: a Point, through the primitive
                        elif i == 12:
                            if c >= 0:
                                if c < 8 * heap.family.word_size:
                                    r = a << c
                            else:
                                r = a >> -c if c > -64 else (-1 if a < 0 else 0)
                        elif i == 13:
                            if c:
                                r = a // c
                        elif i == 14:
                            r = a & c
                        else:
                            r = a | c
                        if r is not None and MINI <= r <= MAXI:
                            sp -= 1
                            stack[sp] = r
                            continue
                    elif i < 10 and (a.__class__ is SqObj and a.cls is float_class
                                     or c.__class__ is SqObj and c.cls is float_class):
                        r = interp.float_bytecode(0xB0 + i, a, c)
                        if r is not None:
                            sp -= 1
                            stack[sp] = r
                            continue
                elif i == 22:                               # ==
                    a = stack[sp - 1]
                    sp -= 1
                    stack[sp] = true if (a is c or (a.__class__ is int_ and a == c)) else false
                    continue
                elif i == 23:                               # class, without a send
                    stack[sp] = c.cls if c.__class__ is SqObj else si_class
                    continue
                elif i == 24:
                    _bad(b, start)
                sel = specsel[i * 2]
                argc = specsel[i * 2 + 1]
            elif b < 176:
                sel = lits[(b & 15) + 1]
                argc = (b - 128) >> 4
            elif b < 200:
                if b < 184:
                    pc += (b & 7) + 1
                    continue
                a = stack[sp]
                if a is (true if b < 192 else false):
                    sp -= 1
                    pc += (b & 7) + 1
                    continue
                if a is (false if b < 192 else true):
                    sp -= 1
                    continue
                sel = specials[S.SELECTOR_MUST_BE_BOOLEAN]
                argc = 0
            elif b < 208:
                if not rcvr.flags & 1:
                    rcvr.ptrs[b - 200] = stack[sp]
                    sp -= 1
                    continue
                # read-only (Spur): not stored; rcvr attemptToAssign: value withIndex: i
                sp = interp.refuse_store(stack, sp, rcvr, b - 200, True)
                sel = specials[S.SELECTOR_ATTEMPT_TO_ASSIGN]
                argc = 2
            elif b < 216:
                stack[b - 202] = stack[sp]
                sp -= 1
                continue
            elif b == 216:
                sp -= 1
                continue
            elif b < 248:
                # ------------------------------------------------------------ two-byte bytecodes
                c = code[pc]
                pc += 1
                if b == 226:
                    sp += 1
                    stack[sp] = rcvr.ptrs[c + (ext_a << 8)]
                    continue
                if b == 227:
                    sp += 1
                    stack[sp] = lits[c + (ext_a << 8) + 1].ptrs[1]
                    continue
                if b == 228:
                    sp += 1
                    stack[sp] = lits[c + (ext_a << 8) + 1]
                    continue
                if b == 229:
                    sp += 1
                    stack[sp] = stack[c + 6]
                    continue
                if b == 231:
                    count_ = c & 127
                    arr = heap.instantiate(interp.array_class, count_)
                    if c > 127:
                        arr.ptrs[:] = stack[sp - count_ + 1:sp + 1]
                        sp -= count_
                    sp += 1
                    stack[sp] = arr
                    continue
                if b == 232:
                    sp += 1
                    stack[sp] = c + (ext_b << 8)
                    continue
                if b == 233:
                    sp += 1
                    stack[sp] = heap.character(c + (ext_b << 8))
                    continue
                if b == 234:
                    sel = lits[(c >> 3) + (ext_a << 5) + 1]
                    argc = (c & 7) + (ext_b << 3)
                elif b == 235:
                    sel = lits[(c >> 3) + (ext_a << 5) + 1]
                    if ext_b >= 64:                         # directed: the class is on the stack
                        argc = (c & 7) + ((ext_b & 63) << 3)
                        super_class = stack[sp].ptrs[0]
                        sp -= 1
                    else:
                        argc = (c & 7) + (ext_b << 3)
                        super_class = lits[-1].ptrs[1].ptrs[0]
                elif b == 237:
                    pc += c + (ext_b << 8)
                    continue
                elif b == 238 or b == 239:
                    a = stack[sp]
                    if a is (true if b == 238 else false):
                        sp -= 1
                        pc += c + (ext_b << 8)
                        continue
                    if a is (false if b == 238 else true):
                        sp -= 1
                        continue
                    sel = specials[S.SELECTOR_MUST_BE_BOOLEAN]
                    argc = 0
                elif b == 240 or b == 243 or b == 241 or b == 244:
                    i = c + (ext_a << 8)
                    target = rcvr if b == 240 or b == 243 else lits[i + 1]
                    if b == 241 or b == 244:
                        i = 1                   # a binding's value
                    if not target.flags & 1:
                        target.ptrs[i] = stack[sp]
                        if b == 240 or b == 241:
                            sp -= 1
                        continue
                    # read-only (Spur): not stored; target attemptToAssign: value withIndex: i + 1
                    sp = interp.refuse_store(stack, sp, target, i, b == 240 or b == 241)
                    sel = specials[S.SELECTOR_ATTEMPT_TO_ASSIGN]
                    argc = 2
                elif b == 242 or b == 245:
                    stack[c + 6] = stack[sp]
                    if b == 242:
                        sp -= 1
                    continue
                else:
                    _bad(b, start)
            else:
                # ---------------------------------------------------------- three-byte bytecodes
                c = code[pc]
                d = code[pc + 1]
                pc += 2
                if b == 251:
                    if d & 128:
                        _bad(b, start)
                    sp += 1
                    stack[sp] = stack[d + 6].ptrs[c]
                    continue
                if b == 252 or b == 253:
                    if d & 128:
                        _bad(b, start)
                    stack[d + 6].ptrs[c] = stack[sp]
                    if b == 253:
                        sp -= 1
                    continue
                if b == 249:
                    block = lits[c + (ext_a << 8) + 1]
                    if d & 128:
                        _bad(b, start)      # receiver on the stack: not emitted by the compilers
                    ncopied = d & 63
                    cls = specials[S.CLASS_FULL_BLOCK_CLOSURE]
                    if cls is nil:
                        raise VMError("pushFullClosure: the image has no FullBlockClosure class in "
                                      "its special objects (index %d)" % S.CLASS_FULL_BLOCK_CLOSURE)
                    clo = heap.new_closure(cls, ncopied)
                    cp = clo.ptrs
                    if not d & 64:
                        cp[0] = ctx
                    cp[1] = block
                    cp[2] = heap.family.method_num_args(block.ptrs[0])
                    cp[3] = rcvr
                    if ncopied:
                        cp[4:4 + ncopied] = stack[sp - ncopied + 1:sp + 1]
                        sp -= ncopied
                    sp += 1
                    stack[sp] = clo
                    continue
                if b == 250:
                    nargs = (c & 7) + (ext_a % 16) * 8
                    ncopied = ((c >> 3) & 7) + (ext_a // 16) * 8
                    size = d + (ext_b << 8)
                    clo = heap.new_closure(interp.closure_class, ncopied)
                    cp = clo.ptrs
                    cp[0] = ctx
                    cp[1] = pc + interp.off
                    cp[2] = nargs
                    if ncopied:
                        cp[3:3 + ncopied] = stack[sp - ncopied + 1:sp + 1]
                        sp -= ncopied
                    sp += 1
                    stack[sp] = clo
                    pc += size
                    continue
                if b == 248:
                    if d & 128:
                        _bad(b, start)      # inline primitives (Sista's optimiser)
                    continue                # the method's primitive failed (or it had none)
                _bad(b, start)
            # ------------------------------------------------ out of line: send or return
            interp.ctx = ctx
            interp.stack = stack
            interp.sp = sp
            interp.pc = pc
            interp.bytecodes = count
            interp.tail(sel, argc, super_class, val, to_caller)
        # ---------------------------------------- after a call-out (heartbeat, send, return)
        if interp.stop_reason:
            reason = interp.stop_reason
            interp.stop_reason = None
            if reason == "beat":
                beat_at = count         # the heartbeat at the next send or backward jump
            else:
                interp.store_registers()
                return reason
        if interp.ctx is not ctx:
            if interp.ctx is None or interp.code.__class__ is not AlternateCode:
                interp.store_registers()
                return OTHER_SET
            ctx, stack, code, lits, rcvr, sp, pc = reload()
        else:
            sp = interp.sp
            pc = interp.pc
