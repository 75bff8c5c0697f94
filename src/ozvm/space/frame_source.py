"""Where a frame is in its method's source, for a debugger's view: the source (the image's
.changes/.sources, else decompiled) and the span of the send or return the frame stops at.

    view = frame_source(frame)      # a ContextMirror
    view.source, view.origin        # the text; 'source' (the image's files) or 'decompiled'
    view.span                       # (start, end) offsets of the selector or '^', or None
    view.next                       # 'send #at:put:', 'return', or the next instruction

Debugger steps stop at a send or a return (space/debugger.py). The frame's next bytecode
is decoded (for a frame below the top, the send it is in: the one before its pc); a send of selector S that is the n-th real send of S in the method's bytecodes
is shown at the n-th place the source sends S (the scanner's tokens: a unary selector's
name after an operand, a binary operator, a keyword selector's first keyword); a return
at the n-th '^' (an implicit return of self, at the end, has no place in the source).
Sends the compiler adds for inlined constructs (to:do:'s `<=` and `+`, ifNil:'s `==`)
have no place in the source either; counting skips nothing for them, so after such a
construct a send of the same selector may be shown at an earlier place: the `next` text
always names the real instruction.
"""
from __future__ import annotations

from ..compiler.disassembler import decode_tolerant, special_selector_name
from ..compiler.scanner import Scanner
from ..errors import OzError
from ..memory.contexts import decode_method

_SENDS = ("send", "superSend", "sendSpecial")
_RETURNS = ("returnSelf", "returnConst", "returnTop")


class FrameSource:
    __slots__ = ("source", "origin", "span", "next")

    def __init__(self, source, origin, span, next_):
        self.source, self.origin, self.span, self.next = source, origin, span, next_

    def as_dict(self) -> dict:
        return {"source": self.source, "origin": self.origin,
                "span": list(self.span) if self.span else None, "next": self.next}


def method_text(space, method, receiver_class=None) -> tuple:
    """(source, origin) of a MethodMirror: the image's own source, else decompiled (a
    method in no class, such as a do-it, as a DoIt of `receiver_class`)."""
    text = space.method_source(method)
    if text is not None:
        return text, "source"
    from ..compiler.decompiler import decompile
    cls = selector = None
    if space.method_owner(method.obj) is None and receiver_class is not None:
        cls, selector = receiver_class, "DoIt"
    try:
        return decompile(space, method.obj, cls, selector), "decompiled"
    except OzError as e:
        return "(no source: %s)" % e, "none"


def _selector(space, meth, ins) -> str | None:
    if ins.op == "sendSpecial":
        from ..compiler.decompiler import special_selectors
        names = [name for name, _ in special_selectors(space)]
        return special_selector_name(ins.arg, names)
    lit = meth.ptrs[1 + ins.arg]
    if getattr(lit, "bytes", None) is not None:
        return lit.bytes.decode("latin-1")
    return None


def next_instruction(space, ctx):
    """(instructions before the frame's pc, the instruction at it) of a ContextMirror's
    method; (None, None) for a dead frame or a pc outside the bytecodes."""
    pc = ctx.pc()
    meth = ctx.method()
    if pc is None or meth is None:
        return None, None
    info = decode_method(meth.obj, space.heap)
    code, here = info[2], pc - info[3]
    before = []
    for ins in decode_tolerant(code, space.info.has_closures):
        if ins.pc == here:
            return before, ins
        if ins.pc > here:
            break
        before.append(ins)
    return None, None


def _send_places(tokens, selector: str) -> list:
    """(start, end) of each place in the tokens where `selector` is sent."""
    out = []
    if selector.endswith(":"):
        first = selector[:selector.index(":") + 1]
        for t in tokens:
            if t.kind == "keyword" and t.value == first:
                out.append((t.pos, t.end))
    elif selector[:1].isalpha() or selector[:1] == "_":
        operand_end = ("name", "literal", "rparen", "rbracket", "rbrace")
        for prev, t in zip(tokens, tokens[1:]):
            if t.kind == "name" and t.value == selector and prev.kind in operand_end:
                out.append((t.pos, t.end))
    else:
        for t in tokens:
            if t.kind == "binary" and t.value == selector:
                out.append((t.pos, t.end))
    return out


def frame_source(frame, top: bool = True) -> FrameSource:
    """The source of the frame's method and the span of where it stands (module doc). A
    frame below the top (`top` false) stands in the send it made, the instruction before
    its pc: that send is shown."""
    space = frame.space
    meth = frame.method()
    if meth is None:
        return FrameSource("(no method)", "none", None, "")
    receiver = frame.receiver()
    text, origin = method_text(space, meth, space.class_of(receiver.obj if receiver is not None
                                                           else space.nil))
    before, ins = next_instruction(space, frame)
    if ins is None:
        return FrameSource(text, origin, None, "(the frame has returned)" if frame.pc() is None else "")
    try:
        tokens = Scanner(text, space.info.version == 6502).tokens()
    except OzError:
        tokens = []
    span = None
    if not top and before and before[-1].op in _SENDS:
        ins = before.pop()
    if ins.op in _SENDS:
        selector = _selector(space, meth.obj, ins)
        what = "send #%s" % selector
        if selector is not None:
            n = sum(1 for i in before if i.op in _SENDS and _selector(space, meth.obj, i) == selector)
            places = _send_places(tokens, selector)
            if n < len(places):
                span = places[n]
    elif ins.op in _RETURNS:
        what = "return"
        n = sum(1 for i in before if i.op in _RETURNS)
        carets = [(t.pos, t.end) for t in tokens if t.kind == "caret"]
        if n < len(carets):
            span = carets[n]
    elif ins.op == "blockReturn":
        what = "return from the block"
    else:
        what = ins.op
    return FrameSource(text, origin, span, what)
