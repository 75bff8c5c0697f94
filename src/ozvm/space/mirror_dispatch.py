"""Choosing the most specific mirror for a guest object (`ObjectSpace.mirror_on`).

The choice depends only on the object's class (and, through it, its format), so it is
made once per class and cached in the space.
"""
from __future__ import annotations

from ..memory import specials as S
from ..memory.objects import FMT_BYTES, FMT_METHOD, FMT_WORDS
from .class_mirrors import ClassMirror, MetaclassMirror, MethodDictionaryMirror, MethodMirror
from .layout import METHOD_DICT
from .mirrors import ByteObjectMirror, ObjectMirror, WordObjectMirror
from .process_mirrors import ContextMirror, ProcessMirror, ProcessSchedulerMirror


def mirror_class_for(space, obj):
    """The mirror class for a guest object (not a SmallInteger) of `space`."""
    cls = obj.cls
    cache = space._mirror_kinds
    entry = cache.get(id(cls))
    if entry is not None and entry[0] is cls:
        kind = entry[1]
    else:
        kind = _kind_for_class(space, cls)
        cache[id(cls)] = (cls, kind)
    if kind is None:       # decided by the object's own format
        fmt = obj.fmt
        if fmt == FMT_METHOD:
            return MethodMirror
        if fmt == FMT_BYTES:
            return ByteObjectMirror
        if fmt == FMT_WORDS:
            return WordObjectMirror
        return ObjectMirror
    return kind


def _kind_for_class(space, cls):
    layout = space.layout
    heap = space.heap
    meta = layout.metaclass
    if cls is meta:
        return MetaclassMirror
    if cls.cls is meta:
        return ClassMirror
    context_classes = [space.special(S.CLASS_METHOD_CONTEXT), space.special(S.CLASS_BLOCK_CONTEXT)]
    if any(cls is c or space.inherits(cls, c) for c in context_classes if c is not heap.nil):
        return ContextMirror
    process_cls = space.special(S.CLASS_PROCESS)
    if process_cls is not heap.nil and (cls is process_cls or space.inherits(cls, process_cls)):
        return ProcessMirror
    assoc = space.special(S.SCHEDULER_ASSOCIATION)
    if assoc is not heap.nil and assoc.ptrs and len(assoc.ptrs) > 1 and assoc.ptrs[1].__class__ is not int \
            and cls is assoc.ptrs[1].cls:
        return ProcessSchedulerMirror
    md_cls = method_dictionary_class(space)
    if md_cls is not None and (cls is md_cls or space.inherits(cls, md_cls)):
        return MethodDictionaryMirror
    return None


def method_dictionary_class(space):
    """The class of the root class's method dictionary (MethodDictionary / PCMethodDictionary)."""
    md = space.layout.object_class.ptrs[METHOD_DICT]
    return None if md is space.heap.nil else md.cls


def as_method_dictionary(space, md):
    return MethodDictionaryMirror(space, md)
