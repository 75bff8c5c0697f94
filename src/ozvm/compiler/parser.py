"""The Smalltalk parser: tokens -> parse tree (ast.py) for a method or a do-it."""
from __future__ import annotations

from . import ast as A
from .literals import ByteArrayLit, Symbol
from .scanner import Scanner, error_at

# the pragmas that give a method its primitive (numbered or named, with an error code temp)
PRIMITIVE_PRAGMAS = ("primitive:", "primitive:module:", "primitive:error:", "primitive:module:error:")

PSEUDO = ("self", "super", "true", "false", "nil", "thisContext")
MAX_ARGS = 15         # a method's or block's arguments: 4 bits in a method header and in 143
MAX_SEND_ARGS = 31    # a send's arguments: 5 bits in bytecode 132 (the image compilers' limits)


class Parser:
    def __init__(self, source: str, underscore_assigns: bool = True):
        self.source = source
        self.toks = Scanner(source, underscore_assigns).tokens()
        self.i = 0

    # --- token helpers ----------------------------------------------------------
    @property
    def tok(self):
        return self.toks[self.i]

    def advance(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, kind, value=None):
        t = self.toks[self.i]
        return t.kind == kind and (value is None or t.value == value)

    def error(self, expected, tok=None):
        tok = tok or self.tok
        found = "end of source" if tok.kind == "eof" else repr(self.source[tok.pos:tok.end])
        return error_at(self.source, tok.pos, "%s expected, found %s" % (expected, found))

    def expect(self, kind, what, value=None):
        if not self.at(kind, value):
            raise self.error(what)
        return self.advance()

    # --- methods ----------------------------------------------------------------
    def parse_method(self) -> A.MethodNode:
        t = self.tok
        args = []
        if t.kind == "name":
            selector = self.advance().value
        elif t.kind == "binary":
            selector = self.advance().value
            args.append(self._arg_decl())
        elif t.kind == "keyword":
            parts = []
            while self.at("keyword"):
                parts.append(self.advance().value)
                args.append(self._arg_decl())
            selector = "".join(parts)
        else:
            raise self.error("message pattern")
        if len(args) > MAX_ARGS:
            raise error_at(self.source, t.pos, "a method takes at most %d arguments, not %d"
                           % (MAX_ARGS, len(args)))
        return self._method_rest(selector, args)

    def parse_doit(self) -> A.MethodNode:
        return self._method_rest(None, [])

    def _arg_decl(self):
        t = self.expect("name", "argument name")
        if t.value in PSEUDO:
            raise error_at(self.source, t.pos, "argument name expected, found reserved word %r" % t.value)
        return A.TempDecl(t.value, t.pos)

    def _method_rest(self, selector, args):
        pos = self.tok.pos
        pragmas = []
        temps = None
        while True:
            if self.at("binary", "<") and selector is not None:
                pragmas.append(self._pragma())
            elif self.at("binary", "|") and temps is None:
                temps = self._temporaries()
            elif self.at("binary", "||") and temps is None:
                self.advance()
                temps = []
            else:
                break
        statements = self._statements(in_block=False)
        if not self.at("eof"):
            raise self.error("end of method" if selector else "end of expression")
        body = A.Block([], temps or [], statements, pos)
        primitive = None
        for p in pragmas:
            if p.selector in PRIMITIVE_PRAGMAS:
                if primitive is not None:
                    raise error_at(self.source, p.pos, "only one primitive per method")
                primitive = p
        return A.MethodNode(selector, args, body, pragmas, primitive, self.source)

    def _pragma(self):
        start = self.advance()   # '<'
        if self.at("name"):
            sel, args = self.advance().value, []
        elif self.at("keyword"):
            parts, args = [], []
            while self.at("keyword"):
                parts.append(self.advance().value)
                if parts[-1] == "error:" and parts[0] == "primitive:" and self.at("name"):
                    args.append(self.advance().value)     # the temp that gets the error code
                else:
                    args.append(self._pragma_literal())
            sel = "".join(parts)
        else:
            raise self.error("pragma selector")
        if not self.at("binary", ">"):
            raise self.error("'>' closing the pragma")
        self.advance()
        if sel in ("primitive:", "primitive:module:"):
            if sel == "primitive:" and not (args[0].__class__ is int or isinstance(args[0], str)):
                raise error_at(self.source, start.pos, "primitive number or name expected")
        return A.Pragma(sel, args, start.pos)

    def _pragma_literal(self):
        t = self.tok
        if t.kind == "literal":
            self.advance()
            return t.value
        if t.kind == "name" and t.value in ("true", "false", "nil"):
            self.advance()
            return {"true": True, "false": False, "nil": None}[t.value]
        if t.kind in ("litarray", "bytearray"):
            return self._literal_array_or_bytes()
        raise self.error("literal pragma argument")

    def _temporaries(self):
        self.advance()  # '|'
        names = []
        while self.at("name"):
            t = self.advance()
            if t.value in PSEUDO:
                raise error_at(self.source, t.pos, "temporary name expected, found reserved word %r" % t.value)
            names.append(A.TempDecl(t.value, t.pos))
        if self.at("binary", "|"):
            self.advance()
            return names
        raise self.error("'|' closing the temporaries or a temporary name")

    # --- statements -------------------------------------------------------------
    def _statements(self, in_block):
        stmts = []
        while True:
            while self.at("period"):
                self.advance()
            t = self.tok
            if t.kind == "eof" or (in_block and t.kind == "rbracket") or t.kind == "rbrace":
                return stmts
            if t.kind == "caret":
                self.advance()
                expr = self._expression()
                stmts.append(A.Return(expr, t.pos))
                while self.at("period"):
                    self.advance()
                end = self.tok
                if not (end.kind == "eof" or (in_block and end.kind == "rbracket")):
                    raise self.error("end of block" if in_block else "end of method")
                return stmts
            stmts.append(self._expression())
            if self.at("period"):
                continue
            return stmts

    def _expression(self):
        t = self.tok
        if t.kind == "name" and self.toks[self.i + 1].kind == "assign":
            self.advance()
            self.advance()
            if t.value in PSEUDO:
                raise error_at(self.source, t.pos, "cannot store into %s" % t.value)
            value = self._expression()
            return A.Assign(A.Variable(t.value, t.pos), value, t.pos)
        receiver = self._primary()
        expr = self._messages(receiver)
        if self.at("semicolon"):
            if expr.kind != "send" or expr is receiver:
                raise self.error("message before the cascade")
            parts = [A.Send(None, expr.selector, expr.args, expr.pos)]
            recv = expr.receiver
            while self.at("semicolon"):
                self.advance()
                part = self._messages(None, cascade=True)
                parts.append(part)
            return A.Cascade(recv, parts, expr.pos)
        return expr

    def _messages(self, receiver, cascade=False):
        expr = receiver
        first = True
        while self.at("name"):
            t = self.advance()
            expr = A.Send(expr, t.value, [], t.pos)
            first = False
        while self.at("binary"):
            t = self.advance()
            arg = self._unary_chain()
            expr = A.Send(expr, t.value, [arg], t.pos)
            first = False
        if self.at("keyword"):
            pos = self.tok.pos
            parts, args = [], []
            while self.at("keyword"):
                parts.append(self.advance().value)
                arg = self._unary_chain()
                while self.at("binary"):
                    b = self.advance()
                    arg = A.Send(arg, b.value, [self._unary_chain()], b.pos)
                args.append(arg)
            if len(args) > MAX_SEND_ARGS:
                raise error_at(self.source, pos, "a message takes at most %d arguments, not %d"
                               % (MAX_SEND_ARGS, len(args)))
            expr = A.Send(expr, "".join(parts), args, pos)
            first = False
        if cascade and first:
            raise self.error("cascaded message")
        return expr

    def _unary_chain(self):
        expr = self._primary()
        while self.at("name"):
            t = self.advance()
            expr = A.Send(expr, t.value, [], t.pos)
        return expr

    def _primary(self):
        t = self.tok
        k = t.kind
        if k == "name":
            self.advance()
            return A.Variable(t.value, t.pos)
        if k == "literal":
            self.advance()
            return A.Literal(t.value, t.pos)
        if k in ("litarray", "bytearray"):
            return A.Literal(self._literal_array_or_bytes(), t.pos)
        if k == "lbracket":
            return self._block()
        if k == "lparen":
            self.advance()
            expr = self._expression()
            self.expect("rparen", "')'")
            return expr
        if k == "lbrace":
            self.advance()
            elems = self._statements(in_block=False)
            for e in elems:
                if e.kind == "return":
                    raise error_at(self.source, e.pos, "no return inside a brace array")
            self.expect("rbrace", "'}' or '.'")
            return A.Brace(elems, t.pos)
        if k == "binary" and t.value == "-" and self.toks[self.i + 1].kind == "literal" \
                and self.toks[self.i + 1].pos == t.end and _is_number(self.toks[self.i + 1].value):
            self.advance()
            lit = self.advance()
            return A.Literal(-lit.value, t.pos)
        raise self.error("expression")

    def _block(self):
        start = self.advance()  # '['
        args = []
        while self.at("colon"):
            self.advance()
            args.append(self._arg_decl())
        if len(args) > MAX_ARGS:
            raise error_at(self.source, start.pos, "a block takes at most %d arguments, not %d"
                           % (MAX_ARGS, len(args)))
        if args:
            if self.at("binary", "|"):
                self.advance()
            elif self.at("binary", "||"):
                # `[:x || t |` : end of args then start of temporaries
                self.toks[self.i].value = "|"
            elif not self.at("rbracket"):
                raise self.error("'|' after the block arguments")
        temps = []
        if self.at("binary", "|"):
            temps = self._temporaries()
        elif self.at("binary", "||"):
            self.advance()
        stmts = self._statements(in_block=True)
        self.expect("rbracket", "']' or '.'")
        return A.Block(args, temps, stmts, start.pos)

    # --- literal arrays -------------------------------------------------------------
    def _literal_array_or_bytes(self):
        t = self.advance()
        if t.kind == "bytearray" or t.value == "[":
            return self._byte_array(t)
        return self._literal_array(t)

    def _byte_array(self, start):
        values = []
        while not self.at("rbracket"):
            t = self.tok
            if t.kind != "literal" or t.value.__class__ is not int or not 0 <= t.value <= 255:
                raise self.error("byte (0..255) or ']'")
            values.append(self.advance().value)
        self.advance()
        return ByteArrayLit(bytes(values))

    def _literal_array(self, start):
        items = []
        while True:
            t = self.tok
            k = t.kind
            if k == "rparen":
                self.advance()
                return tuple(items)
            if k == "eof":
                raise self.error("')' closing the literal array")
            self.advance()
            if k == "literal":
                items.append(t.value)
            elif k == "name":
                items.append({"true": True, "false": False, "nil": None}.get(t.value, None)
                             if t.value in ("true", "false", "nil") else Symbol(t.value))
            elif k == "keyword":
                text = t.value
                while self.at("keyword") and self.tok.pos == self.toks[self.i - 1].end:
                    text += self.advance().value
                if self.at("name") and self.tok.pos == self.toks[self.i - 1].end:
                    text += self.advance().value
                items.append(Symbol(text))
            elif k == "binary":
                nxt = self.tok
                if t.value == "-" and nxt.kind == "literal" and nxt.pos == t.end and _is_number(nxt.value):
                    self.advance()
                    items.append(-nxt.value)
                else:
                    items.append(Symbol(t.value))
            elif k == "lparen" or k == "litarray":
                items.append(self._literal_array(t))
            elif k == "lbracket" or k == "bytearray":
                items.append(self._byte_array(t))
            elif k == "caret" or k == "colon" or k == "semicolon" or k == "period" or k == "assign":
                items.append(Symbol(t.value))
            elif k == "lbrace":
                items.append(Symbol("{"))
            elif k == "rbrace":
                items.append(Symbol("}"))
            else:
                raise self.error("literal or ')'", t)


def _is_number(v):
    from .literals import ScaledDecimal
    return (v.__class__ in (int, float, ScaledDecimal))


def parse_method(source: str, underscore_assigns: bool = True) -> A.MethodNode:
    return Parser(source, underscore_assigns).parse_method()


def parse_doit(source: str, underscore_assigns: bool = True) -> A.MethodNode:
    return Parser(source, underscore_assigns).parse_doit()
