"""What differs between two spaces, class by class and method by method (`oz diff`).

    diff_spaces(a, b) -> SpaceDiff      a: the old space, b: the new one
    diff_steps(a, b)                    the same in steps: yields (classes done, all), returns it
    SpaceDiff.entries                   [DiffEntry]: mark '+' (only in b), '-' (only in a),
                                        '~' (changed); kind 'class', 'method' or 'global'
    SpaceDiff.lines(source=False)       readable lines; with source, a unified diff of the
                                        decompiled source of each changed method

Two images never share objects, so everything is compared by meaning, not identity:
classes by name; a class by its superclass's name, shape (the kind of definition and the
format), instance variable names, class variable names, pools, category and class-side
instance variables; a method by its header, its bytecodes (the trailer, which holds a source
pointer or nothing, is left out) and its literals read as their meaning: symbols, strings,
numbers and characters by value, classes and metaclasses by name, bindings by their key and,
for bindings of classes or without a key (Squeak 2.2's `nil -> metaclass`), by the class they
hold; literal arrays element by element. Globals (a globals dictionary, when the image has
one) by name, and by the meaning of their value when it is no class (classes are compared as
classes).
"""
from __future__ import annotations

import difflib

from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_METHOD, FMT_WORDS, SqObject
from .class_mirrors import ClassMirror, MethodMirror
from .layout import SUPERCLASS, is_bytes, text_of


class DiffEntry:
    """One difference: `mark` '+', '-' or '~', `kind` 'class', 'method' or 'global', `name`
    ('Foo', 'Foo class>>bar', 'Transcript') and `detail` (what changed, for classes and
    globals)."""

    __slots__ = ("mark", "kind", "name", "detail")

    def __init__(self, mark, kind, name, detail=""):
        self.mark, self.kind, self.name, self.detail = mark, kind, name, detail

    def __str__(self):
        if self.kind == "method":
            return "%s %s" % (self.mark, self.name)
        return "%s %s %s%s" % (self.mark, self.kind, self.name, (": " + self.detail) if self.detail else "")

    def __repr__(self):
        return "<DiffEntry %s>" % self

    def __eq__(self, other):
        return isinstance(other, DiffEntry) and str(other) == str(self)

    def __hash__(self):
        return hash(str(self))


class SpaceDiff:
    """The differences from space `a` to space `b` (see the module docstring)."""

    def __init__(self, a, b, entries):
        self.a, self.b = a, b
        self.entries = entries

    def __bool__(self):
        return bool(self.entries)

    def __len__(self):
        return len(self.entries)

    def methods(self, mark=None) -> list:
        """'Class>>selector' of the method entries (with that mark, if given)."""
        return [e.name for e in self.entries if e.kind == "method" and (mark is None or e.mark == mark)]

    def lines(self, source: bool = False) -> list:
        out = []
        for e in self.entries:
            out.append(str(e))
            if source and e.kind == "method":
                out.extend("    " + line for line in self.source_diff(e))
        return out

    def source_diff(self, entry) -> list:
        """A unified diff of the decompiled source of a method entry (the whole source for
        a method only one side has)."""
        class_name, selector = entry.name.split(">>", 1)
        texts = []
        for space in (self.a, self.b):
            texts.append(_source(space, class_name, selector).splitlines())
        return list(difflib.unified_diff(texts[0], texts[1], "a/" + entry.name, "b/" + entry.name,
                                         lineterm="", n=3))


def _source(space, class_name, selector) -> str:
    from ..compiler.decompiler import decompile
    from ..errors import OzError
    cls = space.class_named(class_name)
    if cls is None:
        return ""
    m = ClassMirror(space, cls).compiled_method_at(selector)
    if m is None:
        return ""
    try:
        return decompile(space, m.obj, cls, selector)
    except OzError as e:
        return "(not decompiled: %s)" % e


# --- meanings ------------------------------------------------------------------------------

class _Meanings:
    """Host values standing for guest objects of one space, comparable across spaces."""

    def __init__(self, space):
        self.space = space
        self.layout = space.layout
        self.nil, self.true, self.false = space.nil, space.true, space.false
        self.symbol = space.symbol_class()
        self.array = space.special(S.CLASS_ARRAY)
        self.cache = {}

    def class_name(self, cls) -> str:
        return self.layout.class_name_of(cls)

    def literal(self, x, depth=0):
        if x.__class__ is int:
            return x
        found = self.cache.get(id(x))
        if found is not None and found[0] is x:
            return found[1]
        value = self._literal(x, depth)
        self.cache[id(x)] = (x, value)
        return value

    def _literal(self, x, depth):
        if x is self.nil:
            return ("nil",)
        if x is self.true:
            return ("true",)
        if x is self.false:
            return ("false",)
        if x.__class__ is not SqObject:
            return ("?",)
        if self.layout.is_class(x):
            return ("class", self.class_name(x))
        cls = x.cls
        if cls is self.symbol:
            return ("symbol", text_of(x))
        fmt = x.fmt
        if fmt == FMT_BYTES:
            return ("bytes", self.class_name(cls), bytes(x.bytes))
        if fmt == FMT_WORDS:
            return ("words", self.class_name(cls), tuple(x.words))
        if fmt == FMT_METHOD:
            return ("method",) + self.method(x) if depth < 4 else ("method",)
        ptrs = x.ptrs or []
        if cls is self.array and depth < 16:
            return ("array",) + tuple(self.literal(e, depth + 1) for e in ptrs)
        if len(ptrs) == 2 and depth < 16:          # a binding (Association, global or class variable)
            key, value = ptrs
            held = self.literal(value, depth + 1) if (key is self.nil or self.layout.is_class(value)) else None
            return ("binding", self.class_name(cls), self.literal(key, depth + 1), held)
        if len(ptrs) <= 4 and depth < 4:            # small objects: Characters, Fractions, Points
            return ("object", self.class_name(cls)) + tuple(self.literal(e, depth + 1) for e in ptrs)
        return ("object", self.class_name(cls))

    def method(self, m) -> tuple:
        mm = MethodMirror(self.space, m)
        return (m.ptrs[0], mm.bytecodes()) + tuple(self.literal(x) for x in m.ptrs[1:])

    def value(self, x):
        """The meaning of a global's value: a literal's, else its class's name."""
        if x.__class__ is int:
            return x
        if x.__class__ is SqObject and (x.fmt in (FMT_BYTES, FMT_WORDS) or self.layout.is_class(x)
                                        or x.cls is self.array):
            return self.literal(x)
        if x is self.nil or x is self.true or x is self.false:
            return self.literal(x)
        return ("object", self.class_name(x.cls) if x.__class__ is SqObject else "?")

    def describe(self, x) -> str:
        return self.space.describe(x)


def same_method(ma: _Meanings, mb: _Meanings, a, b) -> bool:
    """Whether two compiled methods (of two spaces) have the same content."""
    if a.ptrs[0] != b.ptrs[0] or len(a.ptrs) != len(b.ptrs):
        return False
    if MethodMirror(ma.space, a).bytecodes() != MethodMirror(mb.space, b).bytecodes():
        return False
    la, lb = ma.literal, mb.literal
    return all(la(x) == lb(y) for x, y in zip(a.ptrs[1:], b.ptrs[1:]))


# --- classes ---------------------------------------------------------------------------------

def _shape(space, cls) -> list:
    """(label, value) pairs describing a class's definition (compared between images)."""
    m = ClassMirror(space, cls)
    sup = cls.ptrs[SUPERCLASS]
    meta = cls.cls
    return [
        ("superclass", space.layout.class_name_of(sup) if sup is not space.nil else "nil"),
        ("definition", "%s (%s, %d named fields)" % (m.definition_kind(), m.format_description(), m.inst_size())),
        ("instance variables", " ".join(m.instance_variable_names())),
        ("class variables", " ".join(m.class_variable_names())),
        ("pools", " ".join(m.shared_pool_names())),
        ("category", m.category() or ""),
        ("class-side instance variables", " ".join(space.layout.inst_var_names(meta))),
    ]


def _methods(space, cls) -> dict:
    from ..compiler.decompiler import method_dictionary_items
    return dict(method_dictionary_items(space, cls))


def diff_spaces(a, b) -> SpaceDiff:
    """The differences from space `a` to space `b`, sorted: classes, then methods by class
    (instance side, then class side) and selector, then globals."""
    steps = diff_steps(a, b)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def diff_steps(a, b, classes_a_step: int = 25):
    """`diff_spaces` as a generator: it yields (classes compared, classes in all) after
    every `classes_a_step` classes, so a host serving other requests takes turns with a
    diff of big spaces, and returns the SpaceDiff."""
    ma, mb = _Meanings(a), _Meanings(b)
    ca, cb = a._classes(), b._classes()
    class_entries, method_entries = [], []
    names = sorted(set(ca) | set(cb))
    for done, name in enumerate(names):
        if done % classes_a_step == 0:
            yield done, len(names)
        x, y = ca.get(name), cb.get(name)
        if x is None:
            class_entries.append(DiffEntry("+", "class", name))
        elif y is None:
            class_entries.append(DiffEntry("-", "class", name))
        else:
            for (label, old), (_, new) in zip(_shape(a, x), _shape(b, y)):
                if old != new:
                    class_entries.append(DiffEntry("~", "class", name, "%s '%s' -> '%s'" % (label, old, new)))
        for side, (sx, sy) in ((name, (x, y)), (name + " class", (x and x.cls, y and y.cls))):
            meths_a = _methods(a, sx) if sx is not None else {}
            meths_b = _methods(b, sy) if sy is not None else {}
            for sel in sorted(set(meths_a) | set(meths_b)):
                p, q = meths_a.get(sel), meths_b.get(sel)
                if p is None:
                    method_entries.append(DiffEntry("+", "method", "%s>>%s" % (side, sel)))
                elif q is None:
                    method_entries.append(DiffEntry("-", "method", "%s>>%s" % (side, sel)))
                elif not same_method(ma, mb, p, q):
                    method_entries.append(DiffEntry("~", "method", "%s>>%s" % (side, sel)))
    return SpaceDiff(a, b, class_entries + method_entries + _global_entries(a, b, ma, mb))


def _globals(space) -> dict:
    d = space.globals_dictionary()
    if d is None:
        return {}
    out = {}
    nil = space.nil
    array = d.ptrs[1] if len(d.ptrs) > 1 else None
    if array.__class__ is not SqObject or array.ptrs is None:
        return {}
    for assoc in array.ptrs:
        if assoc is not nil and assoc.__class__ is SqObject and assoc.ptrs and len(assoc.ptrs) == 2 \
                and is_bytes(assoc.ptrs[0]):
            out[text_of(assoc.ptrs[0])] = assoc.ptrs[1]
    return out


def _global_entries(a, b, ma, mb) -> list:
    ga, gb = _globals(a), _globals(b)
    out = []
    for name in sorted(set(ga) | set(gb)):
        x, y = ga.get(name), gb.get(name)
        x_class = x is not None and a.layout.is_class(x)
        y_class = y is not None and b.layout.is_class(y)
        if x_class and y_class or (x_class and y is None) or (y_class and x is None):
            continue            # classes are compared as classes
        if x is None:
            out.append(DiffEntry("+", "global", name, mb.describe(y)))
        elif y is None:
            out.append(DiffEntry("-", "global", name, ma.describe(x)))
        elif ma.value(x) != mb.value(y):
            out.append(DiffEntry("~", "global", name, "%s -> %s" % (ma.describe(x), mb.describe(y))))
    return out
