"""Mirrors on classes and their parts: ClassMirror, MetaclassMirror, ClassPoolMirror,
MethodDictionaryMirror, MethodMirror (see mirrors.py for the membrane's rules).

Where a class keeps its name, instance variable names, class pool... comes from the
space's Layout (found from the image's own instance variable names), never from
constants, so Squeak 2.2 and PharoCandle both work.
"""
from __future__ import annotations

from ..compiler.disassembler import format_lines, method_bytecode_set
from ..errors import MembraneError, MirrorIndexError, MirrorKeyError
from ..memory.contexts import is_method
from ..memory.objects import (
    FMT_BYTES, FMT_DOUBLE_WORDS, FMT_EPHEMERON, FMT_FIXED_VAR, FMT_METHOD, FMT_SHORTS, FMT_VAR,
    FMT_WEAK, FMT_WORDS, FORMAT_NAMES, SqObject,
)
from .layout import FORMAT, METHOD_DICT, SUPERCLASS, is_bytes, text_of
from .mirrors import ObjectMirror, fixed_fields


class ClassMirror(ObjectMirror):
    """A class (seed: ClassMirror): `name`, `superclass`, `instanceVariableNames`,
    `format`, `classSide`, `methodDictionary`, `selectors`, `lookup:` (with inheritance),
    `classPool`, `category`."""

    __slots__ = ()

    def name(self) -> str:
        """`name`"""
        return self.space.layout.class_name_of(self.obj)

    def superclass(self):
        """`superclass`: a ClassMirror, or None for the root class."""
        sup = self.obj.ptrs[SUPERCLASS]
        if sup is self.space.heap.nil:
            return None
        m = self.space.mirror_on(sup)
        if not isinstance(m, ClassMirror):
            raise MembraneError("malformed class: the superclass of %s is %s, not a class"
                                % (self.name(), m.describe()))
        return m

    def superclasses(self) -> list:
        """The superclass chain, nearest first."""
        out = []
        sup = self.superclass()
        seen = {id(self.obj)}
        while sup is not None:
            if id(sup.obj) in seen:
                raise MembraneError("malformed class: the superclass chain of %s has a cycle" % self.name())
            seen.add(id(sup.obj))
            out.append(sup)
            sup = sup.superclass()
        return out

    def inherits_from(self, other) -> bool:
        target = self.space.guest_value(other)
        return any(c.obj is target for c in self.superclasses())

    def instance_variable_names(self) -> list:
        """`instanceVariableNames`: the names this class adds."""
        return self.space.layout.inst_var_names(self.obj)

    def all_instance_variable_names(self) -> list:
        """`allInstVarNames`: inherited names first."""
        return self.space.layout.all_inst_var_names(self.obj)

    # --- format -----------------------------------------------------------------
    def format(self) -> int:
        """`format`: the Behavior format SmallInteger."""
        value = self.obj.ptrs[FORMAT]
        if value.__class__ is not int:
            raise MembraneError("malformed class: the format of %s is not a SmallInteger" % self.name())
        return value

    def inst_spec(self) -> int:
        """`instSpec` as the image's family stores it. V3: 0 empty, 1 fixed, 2 indexable,
        3 fixed+indexable, 4 weak, 6 words, 8-11 bytes, 12-15 compiled method. Spur: 0-4
        as V3, 5 ephemeron, 7 immediate, 9 64-bit, 10-11 32-bit, 12-15 16-bit, 16-23
        bytes, 24-31 compiled method."""
        return self.space.heap.family.class_inst_spec(self.format())

    def inst_size(self) -> int:
        """`instSize`: number of named instance variables of instances."""
        return self.space.heap.family.class_inst_size(self.format())

    def compact_class_index(self) -> int:
        """V3's compact class index (0 for none, and always in Spur images)."""
        return self.space.heap.family.class_compact_index(self.format())

    def instance_format(self):
        """The storage format of instances (objects.FMT_*), or None if invalid."""
        return self.space.heap.family.object_format(self.inst_spec())

    def is_variable(self) -> bool:
        fmt = self.instance_format()
        return fmt is not None and fmt >= FMT_VAR and fmt != FMT_EPHEMERON and fmt != 7

    def format_description(self) -> str:
        spec = self.inst_spec()
        return FORMAT_NAMES.get(self.instance_format(), "format %d" % spec)

    def definition_kind(self) -> str:
        """The class-definition message: subclass:, variableSubclass:, ..."""
        fmt = self.instance_format()
        if fmt in (FMT_VAR, FMT_FIXED_VAR):
            return "variableSubclass:"
        if fmt == FMT_WEAK:
            return "weakSubclass:"
        if fmt == FMT_EPHEMERON:
            return "ephemeronSubclass:"
        if fmt == FMT_WORDS:
            return "variableWordSubclass:"
        if fmt == FMT_DOUBLE_WORDS:
            return "variableDoubleWordSubclass:"
        if fmt == FMT_SHORTS:
            return "variableDoubleByteSubclass:"
        if fmt == FMT_BYTES:
            return "variableByteSubclass:"
        if fmt == 7:
            return "immediateSubclass:"
        return "subclass:"

    # --- sides ---------------------------------------------------------------
    def is_metaclass(self) -> bool:
        return False

    def class_side(self):
        """`classSide`: the MetaclassMirror of this class."""
        return self.space.mirror_on(self.obj.cls)

    def instance_side(self):
        return self

    # --- methods -------------------------------------------------------------
    def method_dictionary(self):
        """`methodDictionary`: a MethodDictionaryMirror (None if the slot is nil)."""
        md = self.obj.ptrs[METHOD_DICT]
        if md is self.space.heap.nil:
            return None
        from .mirror_dispatch import as_method_dictionary
        mirror = as_method_dictionary(self.space, md)
        mirror.check()
        return mirror

    def selectors(self) -> list:
        """`selectors`: the selectors this class defines, sorted."""
        md = self.method_dictionary()
        return sorted(md.selectors()) if md is not None else []

    def method_categories(self) -> list:
        """[(category, [selectors])] of this class's methods (its organization; selectors it
        does not list under 'as yet unclassified')."""
        from .browsing import method_categories
        return method_categories(self.space, self.obj)

    def includes_selector(self, selector: str) -> bool:
        md = self.method_dictionary()
        return md is not None and md.includes(selector)

    def compiled_method_at(self, selector: str):
        """`compiledMethodAt:` (no inheritance): a MethodMirror or None."""
        md = self.method_dictionary()
        return md.at(selector) if md is not None else None

    def lookup(self, selector: str):
        """`lookupSelector:`: the method found from this class up the superclass chain,
        as a MethodMirror, or None."""
        cls = self
        guard = 0
        while cls is not None and guard < 10000:
            m = cls.compiled_method_at(selector)
            if m is not None:
                return m
            cls = cls.superclass()
            guard += 1
        return None

    def install_method(self, selector: str, method) -> None:
        """`addSelector:withMethod:`: put a compiled method (a MethodMirror or guest
        method of this space) in this class's method dictionary."""
        md = self.method_dictionary()
        if md is None:
            raise MembraneError("%s has no method dictionary" % self.name())
        md.at_put(selector, method)

    # --- class variables and organisation ---------------------------------------
    def class_pool(self):
        """`classPool`: a ClassPoolMirror, or None when the class has none."""
        layout = self.space.layout
        i = layout.class_pool
        ptrs = self.obj.ptrs
        if i is None or i >= len(ptrs) or ptrs[i] is self.space.heap.nil:
            return None
        return ClassPoolMirror(self.space, ptrs[i])

    def class_variable_names(self) -> list:
        pool = self.class_pool()
        return sorted(pool.keys()) if pool is not None else []

    def shared_pool_names(self) -> list:
        i = self.space.layout.class_shared_pools
        ptrs = self.obj.ptrs
        if i is None or i >= len(ptrs) or ptrs[i] is self.space.heap.nil:
            return []
        from ..compiler.codegen import collection_items
        names = []
        for p in collection_items(self.space, ptrs[i]):
            owner = self.space.global_name_of(p)
            names.append(owner or self.space.describe(p))
        return names

    def category(self):
        """The class's category: its own `category` slot, or else the image's
        `SystemOrganization` (Squeak 2.2); None when the image has neither."""
        layout = self.space.layout
        i = layout.class_category
        if i is not None and i < len(self.obj.ptrs):
            cat = self.obj.ptrs[i]
            if is_bytes(cat):
                return text_of(cat)
        return self.space.system_category_of(self.name())

    def subclasses(self) -> list:
        """Direct subclasses (found by scanning the space's classes), sorted by name."""
        return [self.space.mirror_on(c) for c in self.space.classes()
                if c.ptrs[SUPERCLASS] is self.obj]

    def instance_count(self) -> int:
        return len(self.space.heap.all_instances(self.obj))

    def new(self, size: int = 0):
        """`basicNew` / `basicNew:`: a mirror on a new instance (nil, zero bytes or words)."""
        try:
            return self.space.mirror_on(self.space.heap.instantiate(self.obj, size))
        except ValueError as e:
            raise MembraneError("%s basicNew: %s" % (self.name(), e)) from None


class MetaclassMirror(ClassMirror):
    """A metaclass (seed: MetaclassMirror): `thisClass` / `soleInstance` -> this_class."""

    __slots__ = ()

    def is_metaclass(self) -> bool:
        return True

    def this_class(self):
        """`thisClass` / `soleInstance`: the ClassMirror of the class this describes."""
        m = self.space.mirror_on(self.obj.ptrs[self.space.layout.meta_this_class])
        if not isinstance(m, ClassMirror) or isinstance(m, MetaclassMirror):
            raise MembraneError("malformed metaclass: its sole instance is %s, not a class" % m.describe())
        return m

    sole_instance = this_class

    def instance_side(self):
        return self.this_class()

    def class_side(self):
        return self

    def class_pool(self):
        return self.this_class().class_pool()

    def category(self):
        return self.this_class().category()


class _HashedCollectionMirror(ObjectMirror):
    """Shared by dictionaries whose fixed fields are `tally` and `array`."""

    __slots__ = ()

    def _field(self, name):
        i = self.space.layout.field_index(self.obj.cls, name)
        if i is None:
            raise MembraneError("%s has no %r field" % (self.describe(), name))
        return i

    def tally(self) -> int:
        return self.obj.ptrs[self._field("tally")]


class ClassPoolMirror(_HashedCollectionMirror):
    """A class pool (seed: ClassPoolMirror): a Dictionary of Associations name -> value.
    `keys`, `at:` (a mirror on the value), `association_at`, `at:put:` (existing names)."""

    __slots__ = ()

    def associations(self) -> list:
        nil = self.space.heap.nil
        arr = self.obj.ptrs[self._field("array")]
        return [a for a in arr.ptrs if a is not nil]

    def keys(self) -> list:
        """The variable names, sorted."""
        return sorted(text_of(a.ptrs[0]) if is_bytes(a.ptrs[0]) else self.space.describe(a.ptrs[0])
                      for a in self.associations())

    def association_at(self, name: str):
        for a in self.associations():
            if is_bytes(a.ptrs[0]) and text_of(a.ptrs[0]) == name:
                return a
        return None

    def includes_key(self, name: str) -> bool:
        return self.association_at(name) is not None

    def at(self, name: str):
        a = self.association_at(name)
        if a is None:
            raise MirrorKeyError("no class variable %r" % name)
        return self.space.mirror_on(a.ptrs[1])

    def at_put(self, name: str, value) -> None:
        a = self.association_at(name)
        if a is None:
            raise MirrorKeyError("no class variable %r (adding one needs the guest's hashing)" % name)
        a.ptrs[1] = self.space.guest_value(value)

    def items(self) -> list:
        return sorted((k, self.at(k)) for k in self.keys())


class MethodDictionaryMirror(_HashedCollectionMirror):
    """A MethodDictionary (seed: MethodDictionaryMirror): the indexable part holds the
    selectors, the fixed field `array` the methods at the same indices; nil is an empty
    slot. Lookup and insertion probe from `selector identityHash \\\\ size + 1` as the
    image's own `scanFor:` does."""

    __slots__ = ()

    def _parts(self):
        o = self.obj
        fixed = fixed_fields(self.space, o)
        return fixed, o.ptrs, o.ptrs[self._field("array")]

    def check(self) -> None:
        """MembraneError unless this is a well-formed method dictionary: a pointer object
        whose `array` field is a pointer object as long as its indexable part."""
        o = self.obj
        fmt = o.cls.ptrs[FORMAT] if o.__class__ is SqObject and o.cls.ptrs else None
        ok = o.__class__ is SqObject and o.ptrs is not None and fmt.__class__ is int
        if ok:
            i = self.space.layout.field_index(o.cls, "array")
            fixed = self.space.heap.family.class_inst_size(fmt)
            arr = o.ptrs[i] if i is not None and i < len(o.ptrs) else None
            ok = (arr.__class__ is SqObject and arr.ptrs is not None and arr.fmt != FMT_METHOD
                  and fixed <= len(o.ptrs) and len(arr.ptrs) == len(o.ptrs) - fixed)
        if not ok:
            raise MembraneError("malformed method dictionary: %s" % self.describe())

    def capacity(self) -> int:
        fixed, ptrs, _ = self._parts()
        return len(ptrs) - fixed

    def _scan(self, selector_obj):
        """The 0-based slot holding `selector_obj` or the empty slot where it would go, or -1."""
        fixed, ptrs, _ = self._parts()
        n = len(ptrs) - fixed
        if n == 0:
            return -1
        nil = self.space.heap.nil
        start = selector_obj.hash % n
        for k in list(range(start, n)) + list(range(0, start)):
            key = ptrs[fixed + k]
            if key is nil or key is selector_obj:
                return k
        return -1

    def selector_objects(self) -> list:
        fixed, ptrs, _ = self._parts()
        nil = self.space.heap.nil
        return [k for k in ptrs[fixed:] if k is not nil]

    def selectors(self) -> list:
        return [text_of(k) if is_bytes(k) else self.space.describe(k) for k in self.selector_objects()]

    def items(self) -> list:
        """(selector, MethodMirror) pairs in slot order."""
        fixed, ptrs, arr = self._parts()
        nil = self.space.heap.nil
        out = []
        for k in range(len(ptrs) - fixed):
            key = ptrs[fixed + k]
            if key is not nil:
                out.append((text_of(key) if is_bytes(key) else self.space.describe(key),
                            self._method(arr.ptrs[k])))
        return out

    def includes(self, selector: str) -> bool:
        return self.at(selector) is not None

    def at(self, selector: str):
        """The MethodMirror for `selector`, or None."""
        sym = self.space.symbol_named(selector)
        if sym is None:
            return None
        k = self._scan(sym)
        fixed, ptrs, arr = self._parts()
        if k < 0 or ptrs[fixed + k] is not sym:
            return None
        return self._method(arr.ptrs[k])

    def _method(self, obj):
        m = self.space.mirror_on(obj)
        if not isinstance(m, MethodMirror):
            raise MembraneError("malformed method dictionary %s: it holds %s where a method should be"
                                % (self.space.describe(self.obj), m.describe()))
        return m

    def at_put(self, selector: str, method) -> None:
        """Add or replace the method for `selector` (the symbol is interned in the guest);
        grows the dictionary (doubling, rehashing) when it would be more than 3/4 full."""
        m = self.space.guest_value(method)
        if m.__class__ is not SqObject or m.fmt != FMT_METHOD:
            raise MembraneError("a method dictionary holds compiled methods, not %s"
                                % self.space.describe(m))
        sym = self.space.intern_symbol(selector)
        fixed, ptrs, arr = self._parts()
        k = self._scan(sym)
        if k >= 0 and ptrs[fixed + k] is sym:
            arr.ptrs[k] = m
            self.space.methods_changed(sym)
            return
        if k < 0 or 4 * (self.tally() + 1) > 3 * self.capacity():
            self._grow()
            fixed, ptrs, arr = self._parts()
            k = self._scan(sym)
        ptrs[fixed + k] = sym
        arr.ptrs[k] = m
        ptrs[self._field("tally")] += 1
        self.space.methods_changed(sym)

    def _grow(self) -> None:
        fixed, ptrs, arr = self._parts()
        nil = self.space.heap.nil
        old = [(ptrs[fixed + k], arr.ptrs[k]) for k in range(len(ptrs) - fixed) if ptrs[fixed + k] is not nil]
        size = max(2 * (len(ptrs) - fixed), 4)
        del ptrs[fixed:]
        ptrs.extend([nil] * size)
        arr.ptrs[:] = [nil] * size
        for key, value in old:
            k = self._scan(key)
            ptrs[fixed + k] = key
            arr.ptrs[k] = value


class MethodMirror(ObjectMirror):
    """A CompiledMethod (seed: MethodMirror): header fields (`numArgs`, `numTemps`,
    `numLiterals`, `primitive`, `frameSize`), `literals`, `bytecodes` and a readable
    disassembly. pcs are the image's (1-based, counting header and literal frame)."""

    __slots__ = ()

    def header(self) -> int:
        return self.obj.ptrs[0]

    def _family(self):
        return self.space.heap.family

    def _literal_bytes(self) -> int:
        """Bytes the header and literal frame count for in pcs (word size per slot)."""
        return self._family().word_size * len(self.obj.ptrs)

    def num_args(self) -> int:
        return self._family().method_num_args(self.header())

    def num_temps(self) -> int:
        """`numTemps`: arguments included."""
        return self._family().method_num_temps(self.header())

    def num_literals(self) -> int:
        return self._family().method_num_literals(self.header())

    def large_frame(self) -> bool:
        return self._family().method_large_frame(self.header())

    def frame_size(self) -> int:
        return 56 if self.large_frame() else 16

    def primitive(self) -> int:
        """`primitive`: the primitive index (0 for none; in Spur images read from the
        callPrimitive bytecode)."""
        return self._family().method_primitive(self.obj)

    def uses_alternate_bytecodes(self) -> bool:
        """Whether the header selects the alternate bytecode set (Sista V1 in Spur)."""
        return self._family().method_alternate_bytecodes(self.header())

    def literal_objects(self) -> list:
        return list(self.obj.ptrs[1:])

    def literals(self) -> list:
        """`literals`: mirrors on the literal frame."""
        m = self.space.mirror_on
        return [m(x) for x in self.obj.ptrs[1:]]

    def literal_at(self, index: int):
        """`literalAt:` (1-based)."""
        if not 1 <= index < len(self.obj.ptrs):
            raise MirrorIndexError("literal %d outside 1..%d" % (index, len(self.obj.ptrs) - 1))
        return self.space.mirror_on(self.obj.ptrs[index])

    # --- indexing as Smalltalk's `at:` on a CompiledMethod: byte i of the whole object,
    # the header and literal frame counting as the first W * (numLiterals + 1) bytes ------
    def variable_size(self) -> int:
        """`basicSize`: header and literal frame bytes plus the bytecodes and trailer."""
        return self._literal_bytes() + len(self.obj.bytes)

    def _byte_index(self, index):
        first = self.initial_pc()
        if index.__class__ is not int or not first <= index <= self.variable_size():
            raise MirrorIndexError("byte index %r outside %d..%d of %s (the literal frame is read with "
                             "literal_at)" % (index, first, self.variable_size(), self.describe()))
        return index - first

    def at(self, index: int) -> int:
        """`at:` a bytecode or trailer byte, at its pc (initial_pc()..variable_size())."""
        return self.obj.bytes[self._byte_index(index)]

    def at_put(self, index: int, value) -> None:
        """`at:put:` a bytecode or trailer byte (0..255) at its pc."""
        k = self._byte_index(index)
        if value.__class__ is not int or not 0 <= value <= 255:
            raise MembraneError("a method's bytes are integers 0..255, not %r" % (value,))
        self.obj.bytes[k] = value
        self.obj.cache = None           # a decoded form (interpreter) is stale now

    def initial_pc(self) -> int:
        """`initialPC`: pc of the first bytecode (1-based, counting the literal frame)."""
        return self._literal_bytes() + 1

    def end_pc(self) -> int:
        """`endPC`: pc of the last bytecode, excluding the source trailer (as the image's
        CompiledMethod>>endPC: a last byte of 0 means up to 4 zero bytes, below 252 that
        many bytes of encoded temp names plus the flag, 252-255 a 4-byte source pointer;
        in an image without Squeak source pointers, Pharo's trailers that give their own
        size, an embedded source among them: sources.pharo_trailer_size)."""
        code = self.obj.bytes
        n = len(code)
        base = self._literal_bytes()
        if n == 0:
            return base
        if not self.space.keeps_source_pointers():
            from .sources import pharo_trailer_size
            size = pharo_trailer_size(code)
            if size is not None:
                return base + n - size
        flag = code[-1]
        if flag == 0:
            k = n - 1
            while k > 0 and n - k <= 4 and code[k - 1] == 0:
                k -= 1
            return base + k
        if flag < 252:
            return base + max(n - flag - 1, 0)
        return base + max(n - 4, 0)

    def bytecodes(self) -> bytes:
        """The bytecodes, without the trailer."""
        return bytes(self.obj.bytes[:self.end_pc() - self._literal_bytes()])

    def trailer(self) -> bytes:
        return bytes(self.obj.bytes[self.end_pc() - self._literal_bytes():])

    def owner(self):
        """(ClassMirror, selector) of the class whose method dictionary holds this method,
        or None."""
        found = self.space.method_owner(self.obj)
        if found is None:
            return None
        return self.space.mirror_on(found[0]), found[1]

    def selector(self):
        found = self.space.method_owner(self.obj)
        return found[1] if found else None

    def method_class(self):
        found = self.owner()
        return found[0] if found else None

    def instructions(self) -> list:
        """The bytecodes as `Instr`s (pcs 0-based; ops 'unknown'/'truncated' where damaged)."""
        code_set = method_bytecode_set(self.space.heap.family, self.obj)
        return code_set.decode_tolerant(self.bytecodes(), self.space.info.has_closures)

    def disassembly(self, inst_var_names=None) -> list:
        """Readable lines 'pc  bytes  instruction' (pc as a context would show it), then
        those of the method's full blocks (Sista V1: CompiledBlocks among its literals)."""
        space = self.space
        ivars = inst_var_names
        if ivars is None:
            owner = space.method_owner(self.obj)
            ivars = space.layout.all_inst_var_names(owner[0]) if owner else None

        def describe(obj, variable=False):
            if variable and obj.__class__ is SqObject and obj.ptrs is not None and len(obj.ptrs) == 2 \
                    and is_bytes(obj.ptrs[0]):
                return text_of(obj.ptrs[0])
            return space.describe(obj)

        lines = format_lines(self.bytecodes(), self.obj.ptrs[1:], describe, self.instructions(),
                             self.initial_pc(), inst_var_names=ivars,
                             special_names=space.special_selector_names())
        quick = self.quick_return()
        if quick is not None:
            if quick.startswith("field") and ivars is not None and self.primitive() - 264 < len(ivars):
                quick = "%s (%s)" % (ivars[self.primitive() - 264], quick)
            lines.insert(0, "%5s  %-12s %s" % ("", "", "quick method: answers %s (primitive %d)"
                                                % (quick, self.primitive())))
        for i, lit in enumerate(self.obj.ptrs[1:]):
            if is_method(lit) and lit.ptrs[-1] is self.obj:        # one of its full blocks
                lines.append("%5s  %-12s full block (literal %d):" % ("", "", i))
                lines.extend("    " + line for line in space.mirror_on(lit).disassembly(ivars))
        return lines

    def quick_return(self):
        """What a quick method (primitive 256-519) answers without running bytecodes:
        'self', 'true', 'false', 'nil', '-1', '0', '1', '2' or 'field N' (0-based); else None."""
        p = self.primitive()
        if 256 <= p <= 263:
            return ("self", "true", "false", "nil", "-1", "0", "1", "2")[p - 256]
        if 264 <= p <= 519:
            return "field %d" % (p - 264)
        return None

    def header_description(self) -> str:
        return ("%d args, %d temps, %d literals, primitive %d, %s frame, %d bytecodes"
                % (self.num_args(), self.num_temps(), self.num_literals(), self.primitive(),
                   "large" if self.large_frame() else "small", len(self.bytecodes())))
