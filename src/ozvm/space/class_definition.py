"""Making a class through the membrane, for images that have no class-definition code of
their own (PharoCandle: no ClassBuilder, no `subclass:instanceVariableNames:...`).

    define_class(space, kind, superclass, name, instance_variables, class_variables=(),
                 pools=(), category='', selector=None)

makes what the image's classes are made of, read from the image's own layout: a metaclass
(an instance of Metaclass whose superclass is the superclass's metaclass, an empty method
dictionary of the image's MethodDictionary class, the superclass metaclass's format, its
`thisClass`/`soleInstance` set) and the class (an instance of that metaclass: superclass,
empty method dictionary, format from the kind and the instance variables, name a Symbol,
instance variable names as the image keeps them, a class pool of the image's Dictionary
class). A class with this name that already exists is updated only where that needs no
instance to change (same superclass and shape): its class variables are added; anything
else is refused with an OzError, since reshaping instances is the image's ClassBuilder's job.
kind 'class side' sets class-side instance variables of a class without instances of its
metaclass to change (only when they are unchanged, for the same reason).

The class is kept alive as the symbols made through the membrane are (an extra root of the
heap: `allInstances` and the image file see it) and bound where ozvm's compiler finds
globals of such images (`space.global_association`).
"""
from __future__ import annotations

from ..errors import OzError
from ..memory.objects import (FMT_BYTES, FMT_EMPTY, FMT_FIXED, FMT_FIXED_VAR, FMT_VAR, FMT_WEAK,
                              FMT_WORDS, format_inst_size, format_inst_spec, make_format_value)
from .layout import FORMAT, METHOD_DICT, SUPERCLASS

METHOD_DICTIONARY_SIZE = 4


def inst_spec_for(kind: str, inst_size: int) -> int:
    """The instance format of a class-definition message."""
    if kind == "subclass:":
        return FMT_FIXED if inst_size else FMT_EMPTY
    if kind == "variableSubclass:":
        return FMT_FIXED_VAR if inst_size else FMT_VAR
    if kind == "weakSubclass:":
        return FMT_WEAK
    if kind == "variableWordSubclass:":
        return FMT_WORDS
    if kind == "variableByteSubclass:":
        return FMT_BYTES
    raise OzError("unknown class definition %r" % kind)


def define_class(space, kind, superclass, name, instance_variables, class_variables=(), pools=(),
                 category="", selector=None):
    """Make (or check and update) class `name` (see the module docstring); answer it."""
    layout = space.layout
    if kind == "class side":
        cls = space.class_named(name)
        if cls is None:
            raise OzError("no class named %s" % name)
        have = layout.inst_var_names(cls.cls)
        if have != list(instance_variables):
            raise OzError("changing the class-side instance variables of %s (%s -> %s) needs the "
                          "image's class builder, which this image lacks"
                          % (name, " ".join(have) or "none", " ".join(instance_variables) or "none"))
        return cls
    if pools:
        raise OzError("pool dictionaries are not supported for a class made without the image's "
                      "class builder")
    sup = space.nil if superclass == "nil" else space.class_named(superclass)
    if sup is None:
        raise OzError("no superclass named %s" % superclass)
    sup_size = format_inst_size(sup.ptrs[FORMAT]) if sup is not space.nil else 0
    inherited = layout.all_inst_var_names(sup) if sup is not space.nil else []
    clash = [v for v in instance_variables if v in inherited or instance_variables.count(v) > 1]
    if clash:
        raise OzError("instance variable %s is already defined" % clash[0])
    spec = inst_spec_for(kind, sup_size + len(instance_variables))
    sup_spec = format_inst_spec(sup.ptrs[FORMAT]) if sup is not space.nil else FMT_EMPTY
    if sup_spec >= FMT_VAR and spec != sup_spec and not (sup_spec == FMT_FIXED_VAR and spec == FMT_FIXED_VAR):
        raise OzError("%s cannot be a %s of %s, whose instances are indexable" % (name, kind[:-1], superclass))
    fmt = make_format_value(spec, sup_size + len(instance_variables))
    existing = space.class_named(name)
    if existing is not None:
        return _update(space, existing, sup, fmt, instance_variables, class_variables)
    meta_cls = layout.metaclass
    sup_meta = sup.cls if sup is not space.nil else layout.class_class
    meta = space.heap.instantiate(meta_cls)
    meta.ptrs[SUPERCLASS] = sup_meta
    meta.ptrs[METHOD_DICT] = _method_dictionary(space)
    meta.ptrs[FORMAT] = sup_meta.ptrs[FORMAT]
    cls = space.heap.instantiate(meta)
    meta.ptrs[layout.meta_this_class] = cls
    cls.ptrs[SUPERCLASS] = sup
    cls.ptrs[METHOD_DICT] = _method_dictionary(space)
    cls.ptrs[FORMAT] = fmt
    cls.ptrs[layout.class_name] = space.intern_symbol(name)
    cls.ptrs[layout.class_inst_vars] = (space.heap.new_array([space.heap.new_string(v) for v in instance_variables])
                                        if instance_variables else space.nil)
    if layout.class_pool is not None:
        cls.ptrs[layout.class_pool] = _class_pool(space, sup, class_variables)
    if layout.class_category is not None and category:
        cls.ptrs[layout.class_category] = space.intern_symbol(category)
    space.heap.extra_roots.append(cls)
    space.invalidate_indexes()
    _bind(space, name, cls)
    return cls


def _update(space, cls, sup, fmt, instance_variables, class_variables):
    layout = space.layout
    name = layout.class_name_of(cls)
    if cls.ptrs[SUPERCLASS] is not sup or cls.ptrs[FORMAT] != fmt \
            or layout.inst_var_names(cls) != list(instance_variables):
        raise OzError("redefining %s with another superclass or shape needs the image's class "
                      "builder, which this image lacks" % name)
    pool = space.mirror_on(cls).class_pool()
    missing = [v for v in class_variables if pool is None or not pool.includes_key(v)]
    if missing:
        raise OzError("adding class variables (%s) to the existing class %s needs the image's "
                      "class builder, which this image lacks" % (" ".join(missing), name))
    return cls


def _method_dictionary(space):
    """An empty MethodDictionary of the image's class (tally 0, `array` of nils)."""
    sample = space.layout.object_class.ptrs[METHOD_DICT]
    md = space.heap.instantiate(sample.cls, METHOD_DICTIONARY_SIZE)
    fixed = len(md.ptrs) - METHOD_DICTIONARY_SIZE
    names = space.layout.all_inst_var_names(sample.cls)
    if fixed != 2 or names[:2] != ["tally", "array"]:
        raise OzError("this image's method dictionaries are not (tally, array, selectors...)")
    md.ptrs[0] = 0
    md.ptrs[1] = space.heap.new_array([space.nil] * METHOD_DICTIONARY_SIZE)
    return md


def _class_pool(space, sup, class_variables):
    """A class pool like the superclass's (a Dictionary: tally, array of Associations)."""
    layout = space.layout
    sample = sup.ptrs[layout.class_pool] if sup is not space.nil else space.nil
    if class_variables and sample is space.nil:
        raise OzError("cannot make a class pool: the superclass has none to take its kind from")
    if sample is space.nil:
        return space.nil
    names = layout.all_inst_var_names(sample.cls)
    if names[:2] != ["tally", "array"]:
        raise OzError("this image's class pools are not (tally, array) dictionaries")
    pool = space.heap.instantiate(sample.cls)
    size = 4
    while size * 3 < len(class_variables) * 4:
        size *= 2
    pool.ptrs[0] = 0
    pool.ptrs[1] = space.heap.new_array([space.nil] * size)
    for v in class_variables:
        _pool_add(space, pool, v)
    return pool


def _pool_add(space, pool, name) -> None:
    """Add `name -> nil` where the image's Dictionary finds it (key hash mod size, linear)."""
    assoc_cls = _association_class(space)
    key = space.intern_symbol(name)
    assoc = space.heap.instantiate(assoc_cls)
    assoc.ptrs[0] = key
    array = pool.ptrs[1].ptrs
    i = key.hash % len(array)
    while array[i] is not space.nil:
        i = (i + 1) % len(array)
    array[i] = assoc
    pool.ptrs[0] += 1


def _association_class(space):
    for name in ("Association", "PCAssociation"):
        c = space.class_named(name)
        if c is not None:
            return c
    raise OzError("cannot find the image's Association class")


def _bind(space, name, cls) -> None:
    """A global binding `#name -> cls` where ozvm's compiler looks (images without a
    globals dictionary keep no other)."""
    assoc = space.heap.instantiate(_association_class(space))
    assoc.ptrs[0] = space.intern_symbol(name)
    assoc.ptrs[1] = cls
    space.heap.extra_roots.append(assoc)
    space.invalidate_indexes()
