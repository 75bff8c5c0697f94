"""Smalltalk chunk format: the `!`-delimited text of fileOuts and change sets that Squeak,
Pharo and Cuis read and write (`.st`, `.cs`).

A file is a sequence of *chunks*, each ended by a lone `!` (a `!` inside a chunk is doubled).
A chunk read at the top level is a do-it (a class definition is one). A chunk that follows
an empty `!` (written `!Foo methodsFor: 'cat'!`) is a *preamble*: its value reads the chunks
after it. The preambles understood here are the ones fileOuts write:
    !Foo methodsFor: 'cat'!               then method chunks up to an empty chunk (`! !`)
    !Foo class methodsFor: 'cat' stamp: 'x'!   class side, with a stamp (ignored)
    !Foo commentStamp: 'x' prior: 0!       then one chunk: the class comment
Line ends may be CR (Squeak), LF or CR LF; positions are reported 1-based in lines and
columns of the file as read.

    read_chunks(text, path)  -> [Item]        Item.kind: 'doit', 'methods', 'comment'
    chunk(text)              -> text + '!'    with `!` doubled
"""
from __future__ import annotations

import bisect
import re

from ..errors import OzError


class ChunkError(OzError):
    """Chunk-format text that cannot be read; names the file, line and column."""

    def __init__(self, message, path, line, column):
        self.path, self.line, self.column, self.reason = path, line, column, message
        super().__init__("%s:%d:%d: %s" % (path, line, column, message))


class Chunk:
    """The text of one chunk (`!!` read as `!`, line ends as LF) and where it starts."""

    __slots__ = ("text", "offset", "removed", "source")

    def __init__(self, text, offset, removed, source):
        self.text = text
        self.offset = offset          # offset of its first character in the (LF) text
        self.removed = removed        # offsets within `text` where a doubled `!` was read as one
        self.source = source          # the ChunkSource it comes from

    def file_offset(self, index: int) -> int:
        """Offset in the file text of character `index` of this chunk."""
        return self.offset + index + bisect.bisect_right(self.removed, index - 1)

    def position(self, index: int = 0) -> tuple:
        """(line, column) in the file of character `index` of this chunk (1-based)."""
        return self.source.line_col(self.file_offset(index))

    def start(self) -> tuple:
        """(line, column) of the first character that is not white space."""
        stripped = len(self.text) - len(self.text.lstrip())
        return self.position(min(stripped, max(len(self.text) - 1, 0)))

    def error(self, message: str, index=None) -> ChunkError:
        line, col = self.position(index) if index is not None else self.start()
        return ChunkError(message, self.source.path, line, col)


class Item:
    """A unit of a chunk file: kind 'doit' (`chunk`), 'methods' (`class_name`, `meta`,
    `category`, `chunks`: one per method, `chunk`: the preamble) or 'comment' (`class_name`,
    `chunks`: [the comment chunk])."""

    __slots__ = ("kind", "chunk", "class_name", "meta", "category", "chunks")

    def __init__(self, kind, chunk, class_name=None, meta=False, category=None, chunks=()):
        self.kind, self.chunk = kind, chunk
        self.class_name, self.meta, self.category = class_name, meta, category
        self.chunks = list(chunks)

    def __repr__(self):
        if self.kind == "doit":
            return "<Item doit %r>" % self.chunk.text[:40]
        return "<Item %s %s%s %r (%d)>" % (self.kind, self.class_name, " class" if self.meta else "",
                                          self.category, len(self.chunks))


_STRING = r"'((?:[^']|'')*)'"
_METHODS_FOR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\s+class)?\s+methodsFor:\s*" + _STRING
                          + r"(\s+stamp:\s*" + _STRING + r")?\s*$", re.S)
_COMMENT_STAMP = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)(\s+class)?\s+commentStamp:\s*" + _STRING
                            + r"(\s+prior:\s*\d+)?\s*$", re.S)


class ChunkSource:
    """The text of one file, read as chunks."""

    def __init__(self, text: str, path: str):
        self.path = path
        self.text = text.replace("\r\n", "\n").replace("\r", "\n")
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        self.pos = 0

    def line_col(self, offset: int) -> tuple:
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return i + 1, offset - self.line_starts[i] + 1

    def skip_separators(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in " \t\n\f":
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def next_chunk(self) -> Chunk:
        """The chunk from here to the next lone `!` (or the end of the text)."""
        text, n = self.text, len(self.text)
        start = self.pos
        parts, removed = [], []
        i = start
        seg = start
        while i < n:
            if text[i] == "!":
                if i + 1 < n and text[i + 1] == "!":
                    parts.append(text[seg:i + 1])
                    removed.append(sum(len(p) for p in parts) - 1)
                    i += 2
                    seg = i
                    continue
                break
            i += 1
        parts.append(text[seg:i])
        self.pos = i + 1 if i < n else n
        return Chunk("".join(parts), start, removed, self)

    def items(self) -> list:
        out = []
        while True:
            self.skip_separators()
            if self.at_end():
                return out
            if self.text[self.pos] == "!":
                self.pos += 1
                preamble = self.next_chunk()
                out.append(self._preamble(preamble))
            else:
                chunk = self.next_chunk()
                if chunk.text.strip():
                    out.append(Item("doit", chunk))

    def _preamble(self, chunk) -> Item:
        m = _METHODS_FOR.match(chunk.text)
        if m is not None:
            methods = []
            while True:
                if self.at_end():
                    raise chunk.error("the methods of this section are not ended by an empty chunk ('! !')")
                c = self.next_chunk()
                if not c.text.strip():
                    break
                methods.append(c)
            return Item("methods", chunk, m.group(1), bool(m.group(2)), m.group(3).replace("''", "'"),
                        methods)
        m = _COMMENT_STAMP.match(chunk.text)
        if m is not None:
            return Item("comment", chunk, m.group(1), bool(m.group(2)), None, [self.next_chunk()])
        if not chunk.text.strip():
            return Item("doit", chunk)          # an empty chunk: nothing to do
        raise chunk.error("unsupported preamble %r (expected 'Foo methodsFor: ...' or "
                          "'Foo commentStamp: ...')" % chunk.text.strip()[:60])


def read_chunks(text: str, path: str = "<text>") -> list:
    """The items of chunk-format `text` (see the module docstring)."""
    return ChunkSource(text, path).items()


def read_chunk_file(path: str) -> list:
    """The items of a chunk-format file (read as Latin-1, as Squeak writes it)."""
    with open(path, "rb") as f:
        data = f.read()
    return read_chunks(data.decode("latin-1"), path)


def chunk(text: str) -> str:
    """`text` as a chunk: every `!` doubled, a `!` at the end."""
    return text.replace("!", "!!") + "!"
