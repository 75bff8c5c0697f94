"""Filing code out of a space in chunk format (chunks.py), as Squeak's `fileOut` writes it.

    fileout(space, what) -> str      what: 'Foo' (a class: definition, class-side instance
                                     variables, methods by category, both sides, then
                                     `Foo initialize` when the class side defines it),
                                     'Foo>>bar' / 'Foo class>>bar' (one method), or a class
                                     category such as 'Collections-Text' (its classes,
                                     superclasses first)

Method source is the image's own (its .changes/.sources, `space.method_source`) when it has
it, else the decompiler's (compiler/decompiler.py; argument and temporary names are then
arg1, t1...), which recompiles to the same method. Line ends are CR, as Squeak writes them.
"""
from __future__ import annotations

from ..errors import OzError
from .browsing import category_of_method, method_categories
from .chunks import chunk


def fileout(space, what: str) -> str:
    """The chunk-format text for a class, a method or a class category (see above)."""
    what = what.strip()
    if ">>" in what:
        class_name, selector = (x.strip() for x in what.split(">>", 1))
        cls = _class(space, class_name)
        if cls.compiled_method_at(selector) is None:
            raise OzError("%s has no method #%s" % (class_name, selector))
        text = method_section(space, cls, category_of_method(space, cls.obj, selector), [selector])
    elif space.class_named(what) is not None:
        text = class_text(space, _class(space, what).instance_side())
    else:
        classes = [space.mirror_on(c) for c in space.classes()]
        members = [c for c in classes if c.category() == what]
        if not members:
            raise OzError("no class, category or method named %r" % what)
        text = "".join(class_text(space, c) for c in superclasses_first(members))
    return text.replace("\n", "\r")


def _class(space, name):
    cls = space.class_named(name)
    if cls is None:
        raise OzError("no class named %r" % name)
    return space.mirror_on(cls)


def superclasses_first(classes) -> list:
    """The classes sorted by name, each after those of its superclasses that are listed."""
    listed = {id(c.obj): c for c in classes}
    done, out = set(), []

    def visit(c):
        if id(c.obj) in done:
            return
        done.add(id(c.obj))
        sup = c.superclass()
        if sup is not None and id(sup.obj) in listed:
            visit(listed[id(sup.obj)])
        out.append(c)

    for c in sorted(classes, key=lambda c: c.name()):
        visit(c)
    return out


def definition(cls) -> str:
    """The class-definition do-it (`Object subclass: #Foo instanceVariableNames: ... category:`)."""
    sup = cls.superclass()
    return ("%s %s #%s\n\tinstanceVariableNames: '%s'\n\tclassVariableNames: '%s'\n"
            "\tpoolDictionaries: '%s'\n\tcategory: '%s'" % (
                sup.name() if sup is not None else "nil", cls.definition_kind(), cls.name(),
                " ".join(cls.instance_variable_names()), " ".join(cls.class_variable_names()),
                " ".join(cls.shared_pool_names()), (cls.category() or "").replace("'", "''")))


def class_text(space, cls) -> str:
    """A whole class: definition, class-side instance variables, methods of both sides."""
    out = [chunk(definition(cls)), "\n\n"]
    meta = cls.class_side()
    class_ivars = meta.instance_variable_names()
    if class_ivars:
        out += [chunk("%s class\n\tinstanceVariableNames: '%s'" % (cls.name(), " ".join(class_ivars))), "\n\n"]
    for side in (cls, meta):
        for category, selectors in method_categories(space, side.obj):
            out.append(method_section(space, side, category, selectors))
    if meta.compiled_method_at("initialize") is not None:
        out += [chunk("%s initialize" % cls.name()), "\n\n"]
    return "".join(out)


def method_section(space, cls, category: str, selectors) -> str:
    """`!Foo methodsFor: 'cat'!` then each method's chunk, then the empty chunk."""
    out = ["!", chunk("%s methodsFor: '%s'" % (cls.name(), category.replace("'", "''")))]
    for sel in selectors:
        out += ["\n", chunk(method_text(space, cls, sel))]
    out.append(" !\n\n")
    return "".join(out)


def method_text(space, cls, selector: str) -> str:
    """The source of cls>>selector: the image's own, else decompiled."""
    m = cls.compiled_method_at(selector)
    text = space.method_source(m)
    if text is None:
        from ..compiler.decompiler import decompile
        text = decompile(space, m.obj, cls.obj, selector)
    return text.replace("\r\n", "\n").replace("\r", "\n")
