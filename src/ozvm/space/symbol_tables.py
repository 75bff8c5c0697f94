"""Interning new Symbols where the guest's own code will find them.

Each image keeps its symbols its own way; a strategy per kind of table, chosen from the
image's structure (its Symbol class's class variables), stores a new symbol exactly
where the guest's `intern:` would have put it:

- Squeak 2.2 (`Symbol class>>intern:` read from its bytecodes): class variables
  `SingleCharSymbols` (one-character symbols below 128), `SelectorTables` (an Array,
  by number of arguments capped at its size, of Arrays of 26 buckets by first letter,
  for selectors starting with a-z) and `OtherTable` (an Array of buckets indexed by
  `String>>hash \\\\ size + 1`). A bucket is an Array; a new symbol replaces it by a copy
  with the symbol added at the end (`copyWith:`).
- No table (PharoCandle: `PCSymbol class>>intern:` scans `PCSymbol allInstancesDo:`): the
  new symbol only has to be an instance the space can list, so it is kept as an extra
  root of the heap (like a fresh object on a real VM, until it becomes garbage).
"""
from __future__ import annotations

from ..memory import specials as S
from ..memory.objects import SqObject
from .layout import is_bytes, text_of

_SPECIAL_CHARS = "+/\\*~<>=@%|&?!"


def _is_letter(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _tokenish(c: str) -> bool:
    return _is_letter(c) or "0" <= c <= "9" or c == ":"


def squeak22_num_args(s: str) -> int:
    """Squeak 2.2 `String>>numArgs` (-1: not a selector)."""
    if not s:
        return -1
    c = s[0]
    if _is_letter(c):
        if "A" <= c <= "Z":
            return -1
        colons = 0
        for ch in s:
            if not _tokenish(ch):
                return -1
            if ch == ":":
                colons += 1
        if s[-1] == ":":
            return colons if colons > 0 else -1
        return -1 if colons > 0 else 0
    if c in _SPECIAL_CHARS:
        if len(s) == 1:
            return 1
        if len(s) > 2:
            return -1
        return 1 if s[1] in _SPECIAL_CHARS else -1
    return 1 if s == "-" else -1


def squeak22_string_hash(s: str) -> int:
    """Squeak 2.2 `String>>hash`."""
    size = len(s)
    m = size
    if size <= 2:
        if size == 2:
            m = 3
        elif size == 1:
            return (ord(s[0]) & 127) * 106
        else:
            return 21845
    return ord(s[0]) * 48 + ord(s[m - 2]) + size


class Squeak22SymbolTable:
    """SelectorTables / OtherTable / SingleCharSymbols, as `Symbol class>>intern:` of 2.2."""

    def __init__(self, space, pool):
        self.space = space
        self.pool = pool           # a ClassPoolMirror on Symbol's class pool

    @classmethod
    def detect(cls, space, pool):
        if pool is not None and all(pool.includes_key(k) for k in
                                    ("SelectorTables", "OtherTable", "SingleCharSymbols")):
            return cls(space, pool)
        return None

    def _value(self, name):
        return self.pool.association_at(name).ptrs[1]

    def bucket_of(self, name: str):
        """(holder Array, 0-based index) of the bucket `name` belongs in, or
        (SingleCharSymbols, index) for one-character symbols below 128."""
        ascii = ord(name[0])
        if len(name) == 1 and ascii < 128:
            return self._value("SingleCharSymbols"), ascii
        if 97 <= ascii <= 122:
            n = squeak22_num_args(name)
            if n >= 0:
                tables = self._value("SelectorTables")
                holder = tables.ptrs[min(n + 1, len(tables.ptrs)) - 1]
                return holder, ascii - 97
        other = self._value("OtherTable")
        return other, squeak22_string_hash(name) % len(other.ptrs)

    def find(self, name: str):
        holder, index = self.bucket_of(name)
        entry = holder.ptrs[index]
        if len(name) == 1 and ord(name) < 128:
            return entry if entry is not self.space.heap.nil else None
        for sym in entry.ptrs:
            if is_bytes(sym) and text_of(sym) == name:
                return sym
        return None

    def add(self, name: str) -> SqObject:
        space = self.space
        sym = space.heap.new_bytes(space.symbol_class(), name.encode("latin-1"))
        holder, index = self.bucket_of(name)
        bucket = holder.ptrs[index]
        if len(name) == 1 and ord(name) < 128:
            holder.ptrs[index] = sym
            return sym
        grown = space.heap.new_object(bucket.cls, bucket.fmt, ptrs=list(bucket.ptrs) + [sym])
        holder.ptrs[index] = grown
        return sym


class RootedSymbols:
    """No symbol table: keep the new symbol as an extra root so `allInstances` finds it."""

    def __init__(self, space):
        self.space = space

    def add(self, name: str) -> SqObject:
        space = self.space
        sym = space.heap.new_bytes(space.symbol_class(), name.encode("latin-1"))
        space.heap.extra_roots.append(sym)
        return sym


def kernel_string_hash(s: str) -> int:
    """`String>>stringHash` of ozvm's own kernel (kernel/Strings.st)."""
    h = len(s)
    for c in s.encode("latin-1"):
        h = (h * 31 + c) & 0x3FFFFF
    return h


class KernelSymbolTable:
    """ozvm's bootstrapped kernel (`Symbol class>>intern:` in kernel/Strings.st): class
    variable `SymbolTable`, an Array used as an open-addressing table probed linearly from
    `stringHash \\ size + 1`, doubled (entries re-placed in table order) when more than
    three quarters full."""

    def __init__(self, space, pool):
        self.space = space
        self.pool = pool

    @classmethod
    def detect(cls, space, pool):
        if pool is not None and pool.includes_key("SymbolTable"):
            table = pool.association_at("SymbolTable").ptrs[1]
            if table.__class__ is SqObject and table.cls is space.heap.special(S.CLASS_ARRAY) and table.ptrs:
                return cls(space, pool)
        return None

    def _table(self):
        return self.pool.association_at("SymbolTable").ptrs[1]

    def _slot(self, table, name: str) -> int:
        nil = self.space.heap.nil
        slots = table.ptrs
        i = kernel_string_hash(name) % len(slots)
        while slots[i] is not nil and text_of(slots[i]) != name:
            i = (i + 1) % len(slots)
        return i

    def find(self, name: str):
        table = self._table()
        sym = table.ptrs[self._slot(table, name)]
        return None if sym is self.space.heap.nil else sym

    def add(self, name: str) -> SqObject:
        space = self.space
        nil = space.heap.nil
        sym = space.heap.new_bytes(space.symbol_class(), name.encode("latin-1"))
        table = self._table()
        table.ptrs[self._slot(table, name)] = sym
        symbols = [s for s in table.ptrs if s is not nil]
        if len(symbols) * 4 > len(table.ptrs) * 3:
            grown = space.heap.new_object(table.cls, table.fmt, ptrs=[nil] * (2 * len(table.ptrs)))
            for s in symbols:
                grown.ptrs[self._slot(grown, text_of(s))] = s
            self.pool.association_at("SymbolTable").ptrs[1] = grown
        return sym


def symbol_table_for(space):
    """The strategy for `space`: a known table if its Symbol class has one, else None."""
    pool = space.mirror_on(space.symbol_class()).class_pool()
    return Squeak22SymbolTable.detect(space, pool) or KernelSymbolTable.detect(space, pool)
