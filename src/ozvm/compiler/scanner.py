"""The Smalltalk scanner: source text -> tokens with their positions.

Token kinds (Token.kind):
    name      identifier                     value: the text
    keyword   identifier followed by ':'     value: 'at:' (one part; the parser joins them)
    binary    binary operator                value: '+', '->', '|', '<', ...
    literal   number, character, string, symbol
              value: a host literal (see literals.py: int, float, ScaledDecimal, Char,
              str, Symbol); `-3` is one literal when '-' cannot end an operand
    assign    ':=' or '_' (old assignment)
    litarray  '#('    bytearray '#['    lbrace '{'   rbrace '}'
    caret '^'  colon ':'  period '.'  semicolon ';'
    lparen '(' rparen ')'  lbracket '['  rbracket ']'
    eof
"""
from __future__ import annotations

from ..errors import CompileError
from .literals import Char, ScaledDecimal, Symbol

BINARY_CHARS = "+-*/\\<>=~@%&?!,|"


class Token:
    __slots__ = ("kind", "value", "pos", "end")

    def __init__(self, kind, value, pos, end):
        self.kind = kind
        self.value = value
        self.pos = pos
        self.end = end

    def __repr__(self) -> str:
        return "Token(%s, %r, %d)" % (self.kind, self.value, self.pos)


def is_digit(c: str) -> bool:
    """An ASCII decimal digit (str.isdigit also answers true for '²' and other scripts')."""
    return len(c) == 1 and "0" <= c <= "9"


def line_col(source: str, pos: int):
    """1-based line and column of offset `pos`."""
    line = source.count("\n", 0, pos) + 1
    start = source.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def error_at(source: str, pos: int, message: str) -> CompileError:
    line, col = line_col(source, pos)
    return CompileError(message, line, col, pos)


class Scanner:
    """Turns a source string into a list of tokens (all at once)."""

    def __init__(self, source: str, underscore_assigns: bool = True):
        self.src = source
        self.n = len(source)
        self.underscore_assigns = underscore_assigns

    def error(self, pos, message):
        return error_at(self.src, pos, message)

    # --- helpers ----------------------------------------------------------------
    def _peek(self, i):
        return self.src[i] if i < self.n else ""

    def _skip_blanks(self, i):
        src, n = self.src, self.n
        while i < n:
            c = src[i]
            if c.isspace():
                i += 1
            elif c == '"':
                j = src.find('"', i + 1)
                if j < 0:
                    raise self.error(i, "unmatched comment quote")
                i = j + 1
            else:
                break
        return i

    def _ident_char(self, c):
        return c.isalnum() or (c == "_" and not self.underscore_assigns)

    def _ident_start(self, c):
        return c.isalpha() or (c == "_" and not self.underscore_assigns)

    # --- main loop --------------------------------------------------------------
    def tokens(self) -> list:
        out = []
        i = self._skip_blanks(0)
        while i < self.n:
            tok = self._next(i, out[-1] if out else None)
            out.append(tok)
            i = self._skip_blanks(tok.end)
        out.append(Token("eof", None, self.n, self.n))
        return out

    def _next(self, i, prev):
        src = self.src
        c = src[i]
        if self._ident_start(c):
            j = i + 1
            while j < self.n and self._ident_char(src[j]):
                j += 1
            if self._peek(j) == ":" and self._peek(j + 1) != "=":
                return Token("keyword", src[i:j + 1], i, j + 1)
            return Token("name", src[i:j], i, j)
        if is_digit(c):
            value, j = self._number(i)
            return Token("literal", value, i, j)
        if c == "$":
            if i + 1 >= self.n:
                raise self.error(i, "character expected after $")
            return Token("literal", Char(src[i + 1]), i, i + 2)
        if c == "'":
            text, j = self._string(i)
            return Token("literal", text, i, j)
        if c == "#":
            return self._hash(i)
        if c == ":":
            if self._peek(i + 1) == "=":
                return Token("assign", ":=", i, i + 2)
            return Token("colon", ":", i, i + 1)
        if c == "_":
            return Token("assign", "_", i, i + 1)
        if c == "^":
            return Token("caret", c, i, i + 1)
        simple = {"(": "lparen", ")": "rparen", "[": "lbracket", "]": "rbracket",
                  "{": "lbrace", "}": "rbrace", ".": "period", ";": "semicolon"}
        if c in simple:
            return Token(simple[c], c, i, i + 1)
        if c in BINARY_CHARS:
            if c == "-" and is_digit(self._peek(i + 1)) and not _ends_operand(prev):
                value, j = self._number(i + 1)
                return Token("literal", -value, i, j)
            j = i + 1
            while j < self.n and src[j] in BINARY_CHARS and not (
                    src[j] == "-" and is_digit(self._peek(j + 1))):
                j += 1
            return Token("binary", src[i:j], i, j)
        raise self.error(i, "unexpected character %r" % c)

    def _string(self, i):
        src = self.src
        j = i + 1
        parts = []
        while True:
            k = src.find("'", j)
            if k < 0:
                raise self.error(i, "unmatched string quote")
            parts.append(src[j:k])
            if self._peek(k + 1) == "'":
                parts.append("'")
                j = k + 2
            else:
                return "".join(parts), k + 1

    def _hash(self, i):
        src = self.src
        c = self._peek(i + 1)
        if c == "(":
            return Token("litarray", "#(", i, i + 2)
        if c == "[":
            if self.underscore_assigns:
                raise self.error(i, "literal expected (Squeak 2.2 has no #[ ] byte array literals)")
            return Token("bytearray", "#[", i, i + 2)
        if c == "'":
            text, j = self._string(i + 1)
            if self.underscore_assigns:     # Squeak 2.2 answers a String for #'...'
                return Token("literal", text, i, j)
            return Token("literal", Symbol(text), i, j)
        if self._ident_start(c):
            j = i + 1
            while True:
                while j < self.n and (self._ident_char(src[j])):
                    j += 1
                if self._peek(j) == ":":
                    j += 1
                    if j < self.n and self._ident_start(src[j]):
                        continue
                break
            return Token("literal", Symbol(src[i + 1:j]), i, j)
        if c and c in BINARY_CHARS:
            j = i + 1
            while j < self.n and src[j] in BINARY_CHARS:
                j += 1
            return Token("literal", Symbol(src[i + 1:j]), i, j)
        if c == "#":
            return self._hash(i + 1)
        raise self.error(i + 1, "symbol, ( or [ expected after #")

    # --- numbers ------------------------------------------------------------------
    def _digits(self, i, radix, allow_upper_only=True):
        """Value and end of a run of digits in `radix` starting at i (None if none)."""
        src = self.src
        j = i
        value = 0
        while j < self.n:
            c = src[j]
            if is_digit(c):
                d = ord(c) - 48
            elif "A" <= c <= "Z":
                d = ord(c) - 55
            else:
                break
            if d >= radix:
                break
            value = value * radix + d
            j += 1
        if j == i:
            return None, i
        return value, j

    def _number(self, i):
        src = self.src
        value, j = self._digits(i, 10)
        radix = 10
        negative = False
        if self._peek(j) == "r":
            radix = value
            if not 2 <= radix <= 36:
                raise self.error(i, "radix %d outside 2..36" % radix)
            k = j + 1
            if self._peek(k) == "-":
                negative = True
                k += 1
            value, j2 = self._digits(k, radix)
            if value is None:
                raise self.error(k, "digit of radix %d expected" % radix)
            j = j2
        result = value
        is_float = False
        frac_digits = 0
        if self._peek(j) == "." and self._peek(j + 1) and self._digit_value(self._peek(j + 1)) < radix:
            frac, k = self._digits(j + 1, radix)
            frac_digits = k - (j + 1)
            from fractions import Fraction
            result = Fraction(value) + Fraction(frac, radix ** frac_digits)
            is_float = True
            j = k
        if self._peek(j) == "e" and (is_digit(self._peek(j + 1)) or
                                     (self._peek(j + 1) == "-" and is_digit(self._peek(j + 2)))):
            k = j + 1
            sign = 1
            if src[k] == "-":
                sign = -1
                k += 1
            exp, k = self._digits(k, 10)
            from fractions import Fraction
            result = Fraction(result) * (Fraction(radix) ** (sign * exp))
            j = k
        if self._peek(j) == "s" and not self.underscore_assigns:
            k = j + 1
            scale, k2 = self._digits(k, 10)
            if scale is None:
                scale, k2 = frac_digits, k
            from fractions import Fraction
            v = Fraction(result)
            return ScaledDecimal(-v if negative else v, scale), k2
        if is_float:
            if radix == 10:
                # correctly rounded, also for exponents beyond a Fraction's float range
                text = src[i:j].replace("r", "")
                result = float(text[2:] if text.startswith("10") and src[i:i + 3] == "10r" else text)
            else:
                result = float(result)
        elif not isinstance(result, int):
            # integer with a negative exponent: Squeak answers a Fraction/Float; take Float
            result = int(result) if result.denominator == 1 else float(result)
        if negative:
            result = -result
        return result, j

    @staticmethod
    def _digit_value(c):
        if is_digit(c):
            return ord(c) - 48
        if "A" <= c <= "Z":
            return ord(c) - 55
        return 99


def _ends_operand(tok) -> bool:
    return tok is not None and tok.kind in ("name", "literal", "rparen", "rbracket", "rbrace")
