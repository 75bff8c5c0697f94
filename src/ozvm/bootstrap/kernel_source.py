"""Reading the kernel's Smalltalk sources (src/ozvm/kernel/*.st; format in kernel/README.md).

A file is a sequence of top-level items, each starting at column 0 and running over the
indented (or blank) lines below it (a comment runs to its closing quote):

    "a comment"                                   (skipped)
    Object subclass: #Point                       (a class definition)
        instanceVariableNames: 'x y'
        classVariableNames: ''
        comment: 'I am a point of the plane.'
    Point >> x                                    (a method of Point; `Point class >> ...`
        ^ x                                        for the class side)

`read_kernel(directory)` answers a Kernel: the class definitions in superclass-first order and
the methods in file order. Files are read in name order, so the result is deterministic.
"""
from __future__ import annotations

import os
import re

from ..errors import OzError

KINDS = {
    "subclass:": "pointers",
    "variableSubclass:": "variable",
    "variableByteSubclass:": "bytes",
    "variableWordSubclass:": "words",
    "weakSubclass:": "weak",
    "compiledMethodSubclass:": "method",
}
DEFINITION_KEYWORDS = ("instanceVariableNames:", "classVariableNames:", "comment:")

_DEFINITION = re.compile(r"^(\w+)\s+(%s)\s+#(\w+)\s*$" % "|".join(re.escape(k) for k in KINDS))
_METHOD = re.compile(r"^(\w+)( class)?\s+>>\s+(.*\S)\s*$")


class KernelSourceError(OzError):
    """A kernel source file does not follow the kernel source format."""

    def __init__(self, path, line, message):
        super().__init__("%s:%d: %s" % (path, line, message))


class ClassDefinition:
    __slots__ = ("name", "superclass", "kind", "inst_vars", "class_vars", "comment", "path", "line")

    def __init__(self, name, superclass, kind, inst_vars, class_vars, comment, path, line):
        self.name = name
        self.superclass = superclass      # None for the root
        self.kind = kind                  # a value of KINDS
        self.inst_vars = inst_vars
        self.class_vars = class_vars
        self.comment = comment
        self.path = path
        self.line = line


class MethodSource:
    __slots__ = ("class_name", "meta", "source", "path", "line")

    def __init__(self, class_name, meta, source, path, line):
        self.class_name = class_name
        self.meta = meta
        self.source = source              # selector pattern, newline, body
        self.path = path
        self.line = line


class Kernel:
    def __init__(self, classes, methods):
        self.classes = classes            # superclass first
        self.methods = methods


def kernel_directory() -> str:
    """The kernel sources shipped in the package."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kernel")


def read_kernel(directory: str | None = None) -> Kernel:
    directory = directory or kernel_directory()
    names = sorted(n for n in os.listdir(directory) if n.endswith(".st"))
    if not names:
        raise OzError("no kernel sources (*.st) in %s" % directory)
    classes, methods = [], []
    for name in names:
        path = os.path.join(directory, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        _parse_file(path, text, classes, methods)
    return Kernel(_superclass_first(classes), methods)


def _items(path, text):
    """(line number, [lines]) of each top-level item."""
    item, start = None, 0
    for number, line in enumerate(text.split("\n"), 1):
        if item is not None and item[0].startswith('"') and "\n".join(item).count('"') % 2:
            item.append(line)           # a comment runs to its closing quote
        elif line.strip() and not line[0].isspace():
            if item is not None:
                yield start, item
            item, start = [line], number
        elif item is not None:
            item.append(line)
        elif line.strip():
            raise KernelSourceError(path, number, "indented line outside any item")
    if item is not None:
        yield start, item


def _parse_file(path, text, classes, methods):
    for line, lines in _items(path, text):
        head = lines[0]
        if head.startswith('"'):
            if not "\n".join(lines).rstrip().endswith('"'):
                raise KernelSourceError(path, line, "unterminated comment")
            continue
        m = _DEFINITION.match(head)
        if m:
            classes.append(_definition(path, line, m, lines[1:]))
            continue
        m = _METHOD.match(head)
        if m:
            body = _dedent(path, line, lines[1:])
            methods.append(MethodSource(m.group(1), bool(m.group(2)), m.group(3) + "\n" + body, path, line))
            continue
        raise KernelSourceError(path, line, "expected a comment, a class definition "
                                "('Super subclass: #Name') or a method ('Class >> pattern'), found %r" % head)


def _dedent(path, line, lines) -> str:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if not lines:
        raise KernelSourceError(path, line, "method without a body")
    return "\n".join(l[4:] if l.startswith("    ") else l.lstrip("\t") for l in lines)


_TOKEN = re.compile(r"\s*(?:(\w+:)|'((?:[^']|'')*)')", re.S)


def _definition(path, line, match, lines) -> ClassDefinition:
    superclass, kind, name = match.group(1), KINDS[match.group(2)], match.group(3)
    text = "\n".join(lines)
    fields, pos = {}, 0
    while text[pos:].strip():
        m = _TOKEN.match(text, pos)
        if not m or not m.group(1):
            raise KernelSourceError(path, line, "class %s: expected a keyword at %r" % (name, text[pos:pos + 30]))
        keyword = m.group(1)
        m2 = _TOKEN.match(text, m.end())
        if keyword not in DEFINITION_KEYWORDS or not m2 or m2.group(2) is None:
            raise KernelSourceError(path, line, "class %s: expected one of %s followed by a string"
                                    % (name, ", ".join(DEFINITION_KEYWORDS)))
        fields[keyword] = m2.group(2).replace("''", "'")
        pos = m2.end()
    missing = [k for k in DEFINITION_KEYWORDS if k not in fields]
    if missing:
        raise KernelSourceError(path, line, "class %s: missing %s" % (name, ", ".join(missing)))
    return ClassDefinition(name, None if superclass == "nil" else superclass, kind,
                           fields["instanceVariableNames:"].split(),
                           fields["classVariableNames:"].split(),
                           " ".join(fields["comment:"].split()), path, line)


def _superclass_first(classes) -> list:
    by_name = {}
    for c in classes:
        if c.name in by_name:
            raise KernelSourceError(c.path, c.line, "class %s is defined twice" % c.name)
        by_name[c.name] = c
    ordered, done = [], set()

    def visit(c, seen):
        if c.name in done:
            return
        if c.name in seen:
            raise KernelSourceError(c.path, c.line, "class %s inherits from itself" % c.name)
        if c.superclass is not None:
            if c.superclass not in by_name:
                raise KernelSourceError(c.path, c.line, "class %s: unknown superclass %s" % (c.name, c.superclass))
            visit(by_name[c.superclass], seen | {c.name})
        done.add(c.name)
        ordered.append(c)

    for c in classes:
        visit(c, frozenset())
    return ordered
