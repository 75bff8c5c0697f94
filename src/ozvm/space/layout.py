"""Per-image membrane configuration: where the image's classes keep their fields.

Nothing here is a constant for one image. The VM fixes only a few slots (Behavior's
superclass/methodDict/format, the context and process fields the interpreter uses);
everything else (a class's name, instance variable names, class pool, a metaclass's
sole instance, a process's priority...) is found from the image's own instance variable
names, so Squeak 2.2 and PharoCandle, which differ, both work.
"""
from __future__ import annotations

from ..errors import ImageFormatError
from ..memory import specials as S
from ..memory.objects import SqObject

SUPERCLASS, METHOD_DICT, FORMAT = 0, 1, 2       # fixed by the VM in every V3 and Spur image


def is_bytes(obj) -> bool:
    return obj.__class__ is SqObject and obj.bytes is not None and obj.ptrs is None


def text_of(obj) -> str:
    return obj.bytes.decode("latin-1")


class Layout:
    """Field indices (0-based) of the kernel classes of one image, found by name."""

    def __init__(self, heap):
        self.heap = heap
        try:
            self._discover(heap)
        except ImageFormatError:
            raise
        except (IndexError, AttributeError, TypeError, ValueError, KeyError, RecursionError) as e:
            raise ImageFormatError("the kernel classes are malformed (%s: %s); expected classes with "
                                   "superclass, methodDict, format and instance variable names"
                                   % (type(e).__name__, e), heap.offset_of(heap.specials)) from None

    def _fail(self, message, obj):
        raise ImageFormatError(message, self.heap.offset_of(obj))

    def _check_class(self, obj, what):
        """`obj` must be a pointer object with superclass, methodDict and a SmallInteger format."""
        if obj.__class__ is not SqObject or obj.ptrs is None or obj.fmt > 4 or len(obj.ptrs) < 3 \
                or obj.ptrs[FORMAT].__class__ is not int:
            self._fail("%s is not a class (expected a pointer object with superclass, methodDict "
                       "and a SmallInteger format)" % what, obj if obj.__class__ is SqObject else self.heap.specials)
        return obj

    def _chain(self, cls, what) -> list:
        """The superclass chain of `cls` (itself first), checked: classes all the way, no cycle."""
        nil = self.heap.nil
        chain = []
        seen = set()
        while cls is not nil:
            if chain and (cls.__class__ is not SqObject or cls.ptrs is None):
                self._fail("the superclass of a class in the chain of %s is not a class" % what, chain[-1])
            self._check_class(cls, "a superclass of " + what)
            if id(cls) in seen:
                self._fail("the superclass chain of %s has a cycle" % what, cls)
            seen.add(id(cls))
            chain.append(cls)
            cls = cls.ptrs[SUPERCLASS]
        return chain

    def _discover(self, heap):
        nil = heap.nil
        small_int = self._check_class(heap.special(S.CLASS_SMALLINTEGER), "SmallInteger (special object 5)")
        self._chain(small_int, "SmallInteger")
        self._check_class(small_int.cls, "the class of SmallInteger")
        self.metaclass = self._check_class(small_int.cls.cls, "Metaclass")
        self._chain(small_int.cls, "SmallInteger class")
        self._chain(self.metaclass, "Metaclass")
        self.class_inst_vars = self._find_inst_vars_index(nil)
        # `Class` is the superclass of `Object class` (first metaclass whose superclass is no metaclass)
        meta = small_int.cls
        while meta.ptrs[SUPERCLASS].cls is self.metaclass:
            meta = meta.ptrs[SUPERCLASS]
        self.class_class = meta.ptrs[SUPERCLASS]
        if self.class_class is nil:
            self._fail("the metaclass hierarchy does not end in Class", meta)
        self.object_class = self._root_class(small_int)
        cls_names = self.all_inst_var_names(self.class_class)
        meta_names = self.all_inst_var_names(self.metaclass)
        self.class_name = self._index(cls_names, "name", "Class")
        self.class_pool = self._first(cls_names, ("classPool", "classVariables"))
        self.class_shared_pools = self._first(cls_names, ("sharedPools",))
        self.class_subclasses = self._first(cls_names, ("subclasses",))
        self.class_organization = self._first(cls_names, ("organization",))
        self.class_category = self._first(cls_names, ("category",))
        self.meta_this_class = self._first(meta_names, ("thisClass", "soleInstance"))
        if self.meta_this_class is None:
            self._fail("Metaclass has neither thisClass nor soleInstance", self.metaclass)

    # --- discovery ----------------------------------------------------------
    def _root_class(self, cls):
        return self._chain(cls, self.class_name_of(cls) if hasattr(self, "class_name") else "a class")[-1]

    def _find_inst_vars_index(self, nil) -> int:
        """The field of a class holding its instance variable names: the one that, for
        Metaclass and for its superclass, holds exactly as many names as each adds.
        Either an array of names (Squeak, PharoCandle), or (Pharo 7 and later) a class
        layout whose slot scope (its field 1) lists the slots the class adds after the
        parent scope, each slot with its name in field 0."""
        meta = self.metaclass
        sup = meta.ptrs[SUPERCLASS]
        self.names_in_slots = False
        for slots in (False, True):
            for i in range(3, len(meta.ptrs)):
                if all(self._names_match(c, i, nil, slots) for c in (meta, sup)):
                    self.names_in_slots = slots
                    return i
        self._fail("cannot find where classes keep their instance variable names "
                   "(expected a field of Metaclass holding its names)", meta)

    def _names_match(self, cls, i, nil, slots) -> bool:
        if i >= len(cls.ptrs):
            return False
        inst_size = self.heap.family.class_inst_size
        own = inst_size(cls.ptrs[FORMAT])
        sup = cls.ptrs[SUPERCLASS]
        added = own - (inst_size(sup.ptrs[FORMAT]) if sup is not nil else 0)
        names = self._slot_names(cls.ptrs[i]) if slots else cls.ptrs[i]
        if names is nil:
            return added == 0
        return (names.__class__ is SqObject and names.ptrs is not None and len(names.ptrs) == added
                and added > 0 and all(is_bytes(n) for n in names.ptrs)) if not slots else \
            (names is not None and len(names) == added and added > 0)

    @staticmethod
    def _slot_names(layout):
        """The names of the slots a class layout's scope adds (None if it is no layout)."""
        if layout.__class__ is not SqObject or layout.ptrs is None or len(layout.ptrs) < 2:
            return None
        scope = layout.ptrs[1]
        if scope.__class__ is not SqObject or scope.ptrs is None or not scope.ptrs:
            return None
        names = []
        for slot in scope.ptrs[1:]:
            if slot.__class__ is not SqObject or not slot.ptrs or not is_bytes(slot.ptrs[0]):
                return None
            names.append(slot.ptrs[0])
        return names

    def inst_var_names(self, cls) -> list:
        """The instance variable names `cls` adds ([] where it keeps none)."""
        ptrs = cls.ptrs
        if ptrs is None or len(ptrs) <= self.class_inst_vars:
            return []    # e.g. PharoCandle's metaclasses have no instVarNames slot
        if self.names_in_slots:
            return [text_of(n) for n in self._slot_names(ptrs[self.class_inst_vars]) or ()]
        names = ptrs[self.class_inst_vars]
        if names.__class__ is not SqObject or names is self.heap.nil or names.ptrs is None:
            return []
        return [text_of(n) if is_bytes(n) else "?" for n in names.ptrs]

    def all_inst_var_names(self, cls) -> list:
        """Every instance variable name of instances of `cls`, inherited ones first."""
        chain = []
        nil = self.heap.nil
        seen = set()
        while cls is not nil and cls.__class__ is SqObject and cls.ptrs and id(cls) not in seen:
            seen.add(id(cls))
            chain.append(cls)
            cls = cls.ptrs[SUPERCLASS]
        names = []
        for c in reversed(chain):
            names.extend(self.inst_var_names(c))
        return names

    def _index(self, names, name, owner) -> int:
        if name not in names:
            self._fail("%s has no instance variable %r" % (owner, name), self.class_class)
        return names.index(name)

    @staticmethod
    def _first(names, candidates):
        for n in candidates:
            if n in names:
                return names.index(n)
        return None

    # --- questions about classes ----------------------------------------------
    def is_metaclass(self, obj) -> bool:
        return obj.__class__ is SqObject and obj.cls is self.metaclass

    def is_class(self, obj) -> bool:
        """A class or metaclass object."""
        return obj.__class__ is SqObject and (obj.cls is self.metaclass or obj.cls.cls is self.metaclass)

    def class_name_of(self, cls) -> str:
        """The class's name ('Foo class' for a metaclass)."""
        if cls.__class__ is not SqObject or cls.ptrs is None:
            return "a non-class"
        if cls.cls is self.metaclass:
            ptrs = cls.ptrs
            inst = ptrs[self.meta_this_class] if len(ptrs) > self.meta_this_class else None
            if inst.__class__ is not SqObject or inst.cls is self.metaclass:
                return "a metaclass"
            return self.class_name_of(inst) + " class"
        name = cls.ptrs[self.class_name] if len(cls.ptrs) > self.class_name else None
        return text_of(name) if is_bytes(name) else "a class without a name"

    def field_index(self, cls, name: str):
        """Index of instance variable `name` in instances of `cls`, or None."""
        names = self.all_inst_var_names(cls)
        return names.index(name) if name in names else None
