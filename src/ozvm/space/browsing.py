"""The browser's cross-reference queries on one space: implementors, senders, references
to a global or class variable, the class hierarchy, method categories.

    all_methods(space)                 every (class, selector, method) of every class and metaclass
    implementors(space, selector)      MethodRefs of the methods with that selector
    senders(space, selector)           MethodRefs of the methods that send it (a literal, or the
                                       special-selector bytecode for + == at: ...)
    references_to(space, name)         MethodRefs of the methods that read or write the global
                                       or class variable `name` (its binding is a literal)
    hierarchy(space, cls)              [(depth, ClassMirror)]: superclasses from the root, the
                                       class, then its subclasses depth first, sorted by name
    method_categories(space, cls)      [(category, [selectors])] from the class organization;
                                       selectors no category holds under 'as yet unclassified'

Everything is read through the image's own structures (method dictionaries, the class
organization as Squeak's ClassOrganizer keeps it), the same ones the image's browser uses.
"""
from __future__ import annotations

from ..compiler.decompiler import method_dictionary_items
from ..compiler.disassembler import method_bytecode_set
from ..errors import OzError
from ..memory.objects import FMT_METHOD, SqObject
from .layout import SUPERCLASS, is_bytes, text_of

UNCLASSIFIED = "as yet unclassified"


class MethodRef:
    """One method found by a query: `class_name` ('Foo' or 'Foo class'), `selector`,
    `cls` (the guest class or metaclass) and `method` (the guest CompiledMethod);
    `str()` is 'Foo>>bar'. `mirror()` answers a MethodMirror, `class_mirror()` a ClassMirror."""

    __slots__ = ("space", "class_name", "selector", "cls", "method")

    def __init__(self, space, class_name, selector, cls, method):
        self.space = space
        self.class_name = class_name
        self.selector = selector
        self.cls = cls
        self.method = method

    def mirror(self):
        return self.space.mirror_on(self.method)

    def class_mirror(self):
        return self.space.mirror_on(self.cls)

    def __str__(self):
        return "%s>>%s" % (self.class_name, self.selector)

    def __repr__(self):
        return "<MethodRef %s>" % self

    def __eq__(self, other):
        return isinstance(other, MethodRef) and other.method is self.method and other.cls is self.cls

    def __hash__(self):
        return id(self.method)


def all_methods(space):
    """(class, selector text, method) for every method of every class and metaclass,
    classes sorted by name, instance side before class side."""
    for cls in space.classes():
        for c in (cls, cls.cls):
            for sel, m in method_dictionary_items(space, c):
                yield c, sel, m


def _refs(space, found) -> list:
    name = space.layout.class_name_of
    refs = [MethodRef(space, name(c), sel, c, m) for c, sel, m in found]
    refs.sort(key=lambda r: (r.class_name, r.selector))
    return refs


def implementors(space, selector: str) -> list:
    """The methods whose selector is `selector`, sorted by class name."""
    return _refs(space, [(c, s, m) for c, s, m in all_methods(space) if s == selector])


def senders(space, selector: str) -> list:
    """The methods that send `selector`: it is one of their literals (also inside literal
    arrays, as `perform: #foo` or `#(foo)` would be found by the image's browser), or it is
    one of the 32 special selectors and they use its send bytecode. A `DoIt` left in a
    method dictionary is not a sender (as in the image's own `allCallsOn:`)."""
    sym = space.symbol_named(selector)
    specials = space.special_selector_names()
    special_index = specials.index(selector) if selector in specials else None
    if sym is None and special_index is None:
        return []
    array_cls = space.special(7)
    has_closures = space.info.has_closures
    found = []
    for c, s, m in all_methods(space):
        if s == "DoIt":
            continue
        if sym is not None and _has_literal(m.ptrs, 1, sym, array_cls, 0):
            found.append((c, s, m))
        elif special_index is not None and _sends_special(space, m, special_index, has_closures):
            found.append((c, s, m))
    return _refs(space, found)


def _has_literal(ptrs, start, target, array_cls, depth) -> bool:
    for i in range(start, len(ptrs)):
        x = ptrs[i]
        if x is target:
            return True
        if x.__class__ is SqObject and x.cls is array_cls and depth < 8 and x.ptrs:
            if _has_literal(x.ptrs, 0, target, array_cls, depth + 1):
                return True
    return False


def _sends_special(space, method, index, has_closures) -> bool:
    code = space.mirror_on(method).bytecodes()
    code_set = method_bytecode_set(space.heap.family, method)
    if code_set.special_send_bytecode(index) not in code:
        return False
    return any(i.op == "sendSpecial" and i.arg == index for i in code_set.decode_tolerant(code, has_closures))


def references_to(space, name: str) -> list:
    """The methods referring to the global or class variable `name` (a class, a global such
    as Transcript, a class variable): their literal frame holds its binding (`DoIt`s left
    out, as for senders)."""
    found = []
    for c, s, m in all_methods(space):
        if s == "DoIt":
            continue
        for x in m.ptrs[1:]:
            if (x.__class__ is SqObject and x.ptrs is not None and len(x.ptrs) == 2
                    and x.fmt != FMT_METHOD and is_bytes(x.ptrs[0]) and text_of(x.ptrs[0]) == name):
                found.append((c, s, m))
                break
    return _refs(space, found)


def hierarchy(space, cls) -> list:
    """[(depth, ClassMirror)]: the superclass chain from the root class (depth 0), the class
    itself, then its subclasses depth first (each level sorted by name)."""
    target = space.guest_value(cls)
    if not space.layout.is_class(target):
        raise OzError("%s is not a class" % space.describe(target))
    chain = []
    c = target
    nil = space.nil
    while c is not nil and len(chain) < 10000:
        chain.append(c)
        c = c.ptrs[SUPERCLASS]
    chain.reverse()
    out = [(d, space.mirror_on(c)) for d, c in enumerate(chain)]
    children = {}
    classes = space.classes()
    if space.layout.is_metaclass(target):
        classes = [x.cls for x in classes]
    for x in classes:
        children.setdefault(id(x.ptrs[SUPERCLASS]), []).append(x)
    name = space.layout.class_name_of

    def walk(c, depth):
        for sub in sorted(children.get(id(c), []), key=name):
            out.append((depth, space.mirror_on(sub)))
            walk(sub, depth + 1)

    walk(target, len(chain))
    return out


def organization(space, cls):
    """The class organization of `cls` (a metaclass has its own, as ClassDescription's
    `organization`) as [(category, [selector symbols])], or None when the image keeps none
    (a ClassOrganizer with categoryArray, categoryStops, elementArray)."""
    layout = space.layout
    if layout.class_organization is None or layout.class_organization >= len(cls.ptrs):
        return None
    org = cls.ptrs[layout.class_organization]
    if org is space.nil or org.__class__ is not SqObject or org.ptrs is None:
        return None
    names = layout.all_inst_var_names(org.cls)
    try:
        cats, stops, elems = (org.ptrs[names.index(n)] for n in
                              ("categoryArray", "categoryStops", "elementArray"))
    except ValueError:
        return None
    if any(x.__class__ is not SqObject or x.ptrs is None for x in (cats, stops, elems)):
        return None
    out = []
    start = 0
    for cat, stop in zip(cats.ptrs, stops.ptrs):
        if not is_bytes(cat) or stop.__class__ is not int:
            return None
        out.append((text_of(cat), elems.ptrs[start:stop]))
        start = stop
    return out


def method_categories(space, cls) -> list:
    """[(category, [selectors])] of the methods `cls` defines, in the organization's order;
    selectors the organization does not list (or every selector, when the image keeps no
    organization) come last under 'as yet unclassified'. Categories with no method of
    `cls` are left out."""
    cls = space.guest_value(cls)
    own = [s for s, _ in method_dictionary_items(space, cls)]
    left = set(own)
    out = []
    for cat, syms in organization(space, cls) or []:
        sels = [text_of(s) for s in syms if is_bytes(s) and text_of(s) in left]
        if sels:
            left.difference_update(sels)
            out.append((cat, sels))
    rest = sorted(s for s in own if s in left)
    if rest:
        for i, (cat, sels) in enumerate(out):
            if cat == UNCLASSIFIED:
                out[i] = (cat, sels + rest)
                break
        else:
            out.append((UNCLASSIFIED, rest))
    return out


def category_of_method(space, cls, selector: str) -> str:
    """The category of `cls`>>`selector` ('as yet unclassified' when none lists it)."""
    for cat, sels in method_categories(space, cls):
        if selector in sels:
            return cat
    return UNCLASSIFIED
