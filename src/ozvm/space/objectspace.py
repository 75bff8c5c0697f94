"""The ObjectSpace facade: one guest image as seen from the host (seed: ObjectSpace).

A space owns the heap of one image and answers the questions a host asks about it;
guest objects reach the host only as mirrors (mirrors.py) or as converted literals.

    ObjectSpace.load(path) / save(path, little_endian)    the file is only read; saves are atomic
    nil, true, false, specials, special(i)                 (seed: nilObject, trueObject, ...)
    classes(), class_named(name), compact_class_at(i)      (seed: classNamed:, compactClassAt:)
    global_named(name), global_association(name)           PharoCandle has no Smalltalk: bindings
    symbol_named(name), intern_symbol(name)                a new symbol goes where guest code finds it
    from_local(value) / to_local(obj)                      (seed: fromLocal: / toLocal:) literals
    mirror_on(x)                                           (seed: mirrorOn:) the most specific mirror
    guest_value(x), owns(obj)                              the membrane's checks for stores
    objects(), object_count(), memory_use()                listing and exact accounting
    scheduler(), processes()                               ProcessScheduler/Process mirrors
    describe(obj)                                          host-side printString (no guest code)
    evaluate(src), print_string(src)                       run guest code (space/execution.py)
    file_policy, file_denials(), file_table()              the host's files (prims/file_policy.py)

Several spaces may be loaded in one process: each has its own heap, and the membrane
refuses objects and mirrors of another space (`owns`: an object belongs to the space
whose Metaclass its class chain reaches).
"""
from __future__ import annotations

from ..errors import MembraneError, MirrorIndexError
from ..image.formats import read_image, write_image
from ..memory import specials as S
from ..memory.objects import FMT_METHOD, SqObject
from .layout import METHOD_DICT, SUPERCLASS, Layout, is_bytes, text_of
from .mirrors import ObjectMirror, describe_object, what_value


class Symbol(str):
    """A host-side marker for a Smalltalk Symbol (from_local makes a guest Symbol of it)."""


class Char(str):
    """A host-side marker for a Smalltalk Character (a one-character string)."""


MAX_NESTING = 100      # host lists nested deeper than this do not cross the membrane


def _base_name(value) -> str:
    for base in (bool, int, float, str, bytes, bytearray, list, tuple):
        if isinstance(value, base):
            return base.__name__
    return type(value).__name__


def guest_text(text: str) -> str:
    """`text` if every character has a byte code (0-255), as the images' byte Strings
    need; else MembraneError naming the first character that has none."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError as e:
        ch = text[e.start]
        raise MembraneError("the character %r (U+%04X) at index %d has no code 0-255: this "
                            "image's Strings hold bytes only" % (ch, ord(ch), e.start + 1)) from None
    return text


def write_space(heap, sources, path: str, little_endian: bool | None = None, protect=()) -> None:
    """`ObjectSpace.save` of a heap and its SourceFiles (a space's, or a snapshot's:
    space/sandbox.py): the image at `path`, never over a file in `protect`, then the
    `.changes` beside it when there is one."""
    changes = sources.changes_target(path)
    write_image(heap, path, little_endian, protect)
    if changes is not None:
        sources.write_changes(changes)


class ObjectSpace:
    """One guest image loaded into the VM."""

    def __init__(self, heap, vm=None):
        self.heap = heap
        self.vm = vm
        self.layout = Layout(heap)
        self._class_index = None
        self._symbol_index = None
        self._binding_index = None
        self._method_owners = None
        self._mirror_kinds: dict = {}
        self._symbol_table = False      # not looked for yet
        self._category_index = None
        self._sources = None
        self._source_pointers = None
        # ozvm's compiler: 'V3' or 'SistaV1'; None: what the image uses (compiler/api.py)
        self.bytecode_set = None

    # --- loading and saving ------------------------------------------------
    @classmethod
    def load(cls, path: str, vm=None) -> "ObjectSpace":
        """Read the image at `path` (the file is never written)."""
        return cls(read_image(path, getattr(vm, "memory_limit", None)), vm)

    def save(self, path: str, little_endian: bool | None = None) -> None:
        """Write this space as an image file of its format, atomically (temp file + rename),
        and its `.changes` beside it when it has one or the host logged source."""
        write_space(self.heap, self.sources, path, little_endian)

    def transplant(self, method, into=None, category=None):
        """Install `method`, a MethodMirror of another space, into this space, its literals
        re-bound here, or recompiled here from its source (transplant.py); a MethodMirror."""
        from .transplant import transplant
        return transplant(self, method, into, category)

    def screen(self):
        """The guest's Display as a Screen (screen.py): RGB rows, PNG."""
        from .screen import Screen
        return Screen(self)

    def input_device(self):
        """The guest's mouse, keyboard and event queue (prims/input_device.py): post
        `mouse(x, y, buttons)`, `click(x, y)`, `key(char)`, `type(text)`; the guest reads
        them when it next runs."""
        from ..prims.input_device import device_of
        from .execution import interpreter_for
        return device_of(interpreter_for(self))

    def transaction(self):
        """`with space.transaction(): ...` undoes every change the block made to this space
        (through the membrane or by guest code it ran) when it raises (transaction.py)."""
        from .transaction import Transaction
        return Transaction(self)

    # --- method source (sources.py) ------------------------------------------
    @property
    def sources(self):
        """The `.sources`/`.changes` files beside the image (space/sources.py)."""
        if self._sources is None:
            from .sources import SourceFiles
            self._sources = SourceFiles(getattr(self.heap.info, "path", None))
        return self._sources

    def keeps_source_pointers(self) -> bool:
        """Whether the image's methods point into .sources/.changes with Squeak's 4-byte
        trailer (Squeak 2.x/3.x; not Pharo's CompiledMethodTrailer, not PharoCandle)."""
        if self._source_pointers is None:
            cm = self.mirror_on(self.special(S.CLASS_COMPILED_METHOD))
            self._source_pointers = (self.class_named("CompiledMethodTrailer") is None
                                     and cm.compiled_method_at("filePosition") is not None)
        return self._source_pointers

    def method_source(self, method) -> str | None:
        """The source of a CompiledMethod (guest object or MethodMirror) as written in the
        image's .changes/.sources files, or, in an image that keeps no source pointers, in
        the method's own trailer (Pharo's #EmbeddedSource: how `install` keeps it there),
        or None (then decompile: compiler/decompiler.py)."""
        obj = getattr(method, "obj", method)
        if not self.keeps_source_pointers():
            from .sources import embedded_source
            return embedded_source(obj.bytes)
        return self.sources.source_of(obj.bytes)

    @property
    def info(self):
        return self.heap.info

    # --- well-known objects (seed: nilObject, trueObject, falseObject, specialObjectsArray)
    @property
    def nil(self) -> SqObject:
        return self.heap.nil

    @property
    def true(self) -> SqObject:
        return self.heap.true

    @property
    def false(self) -> SqObject:
        return self.heap.false

    @property
    def specials(self) -> SqObject:
        return self.heap.specials

    def special(self, index: int):
        """Entry `index` of the special objects array; nil where the array is shorter
        (Squeak 2.2's ends at 40)."""
        ptrs = self.heap.specials.ptrs
        return ptrs[index] if index < len(ptrs) else self.heap.nil

    def large_negative_integer_class(self) -> SqObject:
        cls = self.special(S.CLASS_LARGE_NEGATIVE_INTEGER)
        if cls is self.nil:
            cls = self.class_named("LargeNegativeInteger")
        return cls

    def class_of(self, obj) -> SqObject:
        if obj.__class__ is int:
            return self.heap.specials.ptrs[S.CLASS_SMALLINTEGER]
        return obj.cls

    # --- classes (seed: classNamed:, compactClassAt:) ------------------------
    def invalidate_indexes(self) -> None:
        """Forget cached class/symbol/binding indexes (after the guest changed)."""
        self._class_index = self._symbol_index = self._binding_index = None
        self._method_owners = None
        self._mirror_kinds = {}
        self._symbol_table = False
        self._category_index = None

    def classes(self) -> list:
        """Every class (not metaclass) of the space, sorted by name."""
        return [c for _, c in sorted(self._classes().items())]

    def _classes(self) -> dict:
        if self._class_index is None:
            meta = self.layout.metaclass
            index = {}
            for obj in self.heap.all_objects():
                if obj.cls.cls is meta and obj.cls is not meta or obj is meta:
                    index.setdefault(self.layout.class_name_of(obj), obj)
            self._class_index = index
        return self._class_index

    def class_named(self, name: str):
        """The class called `name` ('Foo class' answers the metaclass), or None."""
        if name.endswith(" class"):
            base = self.class_named(name[:-6])
            return base.cls if base is not None else None
        return self._classes().get(name)

    def compact_class_at(self, index: int):
        """The class at 1-based `index` of the compact classes array, or None."""
        table = self.special(S.COMPACT_CLASSES).ptrs
        if not 1 <= index <= len(table):
            raise MirrorIndexError("compact class index %d outside 1..%d" % (index, len(table)))
        c = table[index - 1]
        return None if c is self.nil else c

    # --- globals -----------------------------------------------------------
    def globals_dictionary(self):
        """`Smalltalk` (a SystemDictionary), or None for images without one (PharoCandle).
        Where the special object is a SmalltalkImage (Squeak 4 and later, the Spur images),
        the dictionary in its `globals`."""
        d = self.special(S.SMALLTALK_DICTIONARY)
        if d is self.nil:
            return None
        i = self.layout.field_index(d.cls, "globals")
        if i is not None and i < len(d.ptrs) and d.ptrs[i].__class__ is SqObject:
            d = d.ptrs[i]
        return d

    def global_association(self, name: str):
        """The association that binds global `name` (as compiled methods refer to it), or None."""
        d = self.globals_dictionary()
        if d is not None:
            i = self.layout.field_index(d.cls, "array")
            for assoc in d.ptrs[1 if i is None else i].ptrs:
                if assoc is not self.nil and is_bytes(assoc.ptrs[0]) and text_of(assoc.ptrs[0]) == name:
                    return assoc
            return None
        return self._bindings().get(name)

    def class_binding(self, cls):
        """The binding compiled methods name class `cls` by: its global association, or
        where the globals dictionary lacks it (the tiny headless Spur image keeps 18
        globals) the binding of its name that the image's methods hold; None if neither."""
        name = self.layout.class_name_of(cls)
        for a in (self.global_association(name), self.held_binding(name)):
            if a is not None and a.ptrs[1] is cls:
                return a
        return None

    def held_binding(self, name: str):
        """The binding of `name` (a Symbol key) that the image's compiled methods hold, or
        None: how ozvm's compiler finds a global its globals dictionary lacks."""
        return self._bindings().get(name)

    def _bindings(self) -> dict:
        """For images without a globals dictionary: the bindings compiled methods hold, and
        those the host made for classes it defined (extra roots of the heap,
        class_definition.py)."""
        if self._binding_index is None:
            symbol_cls = self.symbol_class()
            index = {}
            for obj in self.heap.all_objects():
                if obj.fmt == 12:
                    for lit in obj.ptrs[1:]:
                        if (lit.__class__ is SqObject and lit.ptrs is not None and len(lit.ptrs) == 2
                                and lit.ptrs[0].__class__ is SqObject and lit.ptrs[0].cls is symbol_cls):
                            index.setdefault(text_of(lit.ptrs[0]), lit)
            for lit in self.heap.extra_roots:
                if (lit.__class__ is SqObject and lit.ptrs is not None and len(lit.ptrs) == 2
                        and lit.fmt != 12 and lit.ptrs[0].__class__ is SqObject
                        and lit.ptrs[0].cls is symbol_cls):
                    index.setdefault(text_of(lit.ptrs[0]), lit)
            self._binding_index = index
        return self._binding_index

    def global_named(self, name: str):
        """The value of global `name`; for images without a globals dictionary the class of
        that name. None if there is no such global."""
        assoc = self.global_association(name)
        if assoc is not None:
            return assoc.ptrs[1]
        if self.globals_dictionary() is None:
            return self.class_named(name)
        return None

    # --- symbols -----------------------------------------------------------
    def symbol_class(self) -> SqObject:
        return self.special(S.SELECTOR_DOES_NOT_UNDERSTAND).cls

    def _symbols(self) -> dict:
        if self._symbol_index is None:
            sym = self.symbol_class()
            self._symbol_index = {text_of(o): o for o in self.heap.all_objects() if o.cls is sym}
        return self._symbol_index

    def symbol_named(self, name: str):
        """The existing guest Symbol `name`, or None."""
        return self._symbols().get(name)

    def intern_symbol(self, name: str) -> SqObject:
        """The guest Symbol `name`, made and registered in the guest's symbol table if new."""
        found = self.symbol_named(name)
        if found is not None:
            return found
        sym = self._intern_in_guest(name)
        self._symbols()[name] = sym
        return sym

    def _intern_in_guest(self, name: str) -> SqObject:
        """Make a new Symbol and store it where the guest's own `intern:` looks: in the
        image's symbol table when it has a known one (Squeak 2.2), else through the
        `guest_intern` hook (set by whoever can run guest code), else as an extra root
        of the heap, which `allInstances` scans (PharoCandle). See symbol_tables.py."""
        if not name:
            raise MembraneError("a Symbol cannot be empty")
        table = self.symbol_table()
        if table is not None:
            found = table.find(name)
            if found is not None:
                return found
            return table.add(name)
        interning = getattr(self, "guest_intern", None)
        if interning is not None:
            return interning(name)
        from .symbol_tables import RootedSymbols
        return RootedSymbols(self).add(name)

    def symbol_table(self):
        """The strategy object for the image's own symbol table, or None."""
        if self._symbol_table is False:
            from .symbol_tables import symbol_table_for
            self._symbol_table = symbol_table_for(self)
        return self._symbol_table

    # --- literal conversion (seed: fromLocal: / toLocal:) ----------------------
    def from_local(self, value, _depth: int = 0, _open=None):
        """A guest object for a host literal: exactly an int, float, bool, None, str,
        Symbol, Char, bytes, bytearray, or a list/tuple of those (nested at most
        MAX_NESTING deep, without cycles). Guest objects (SqObject) of this space pass
        through; mirrors give their object if they belong to this space.

        Only these exact classes cross: a subclass (an IntEnum member, a str subclass...)
        is refused with MembraneError rather than converted, because its own methods
        (__int__, __index__, __str__...) are host code the membrane will not run; pass
        int(x) or str(x). A str crosses as a String of bytes 0-255 (the images' Strings
        are byte strings): another character is refused, named in the MembraneError."""
        kind = value.__class__
        if kind is SqObject:
            return self._owned(value)
        if kind is int:
            family = self.heap.family
            if family.small_int_min <= value <= family.small_int_max:
                return value
            return self._large_integer(value)
        if value is None:
            return self.nil
        if value is True:
            return self.true
        if value is False:
            return self.false
        if kind is float:
            return self.heap.new_float(value)      # (a SmallFloat64 where the family has them)
        if kind is str:
            return self.heap.new_string(guest_text(value))
        if kind is Symbol:
            return self.intern_symbol(guest_text(str.__str__(value)))
        if kind is Char:
            if len(value) != 1:
                raise MembraneError("a Char holds one character, not %r" % str.__str__(value))
            return self.character(ord(value))
        if kind is bytes or kind is bytearray:
            return self.heap.new_bytes(self.special(S.CLASS_BYTE_ARRAY), value)
        if kind is list or kind is tuple:
            if _depth >= MAX_NESTING:
                raise MembraneError("a host list nested deeper than %d cannot cross" % MAX_NESTING)
            if _open is None:
                _open = set()
            if id(value) in _open:
                raise MembraneError("a cyclic host list (it contains itself) cannot cross")
            _open.add(id(value))
            items = [self.from_local(v, _depth + 1, _open) for v in value]
            _open.discard(id(value))
            return self.heap.new_array(items)
        if isinstance(value, ObjectMirror):
            if value.space is not self:
                raise MembraneError("a mirror of another space cannot cross into this one")
            return self._owned(value.obj)
        if isinstance(value, (int, float, str, bytes, bytearray, list, tuple)):
            raise MembraneError("a host %s (a subclass of %s) cannot cross: only exact %s "
                                "values do (convert it first)"
                                % (kind.__name__, _base_name(value), _base_name(value)))
        raise MembraneError("cannot convert a host %s into a guest object" % kind.__name__)

    def _large_integer(self, value: int) -> SqObject:
        cls = self.special(S.CLASS_LARGE_POSITIVE_INTEGER) if value > 0 else self.large_negative_integer_class()
        mag = abs(value)
        return self.heap.new_bytes(cls, mag.to_bytes((mag.bit_length() + 7) // 8, "little"))

    def character(self, code: int) -> SqObject:
        """The guest Character with this code (V3: from the character table below 256;
        Spur: the immediate Character)."""
        return self.heap.character(code)

    def to_local(self, obj):
        """The host value of a guest literal (see from_local); other objects raise MembraneError.
        Accepts guest objects and mirrors of this space."""
        if isinstance(obj, ObjectMirror):
            if obj.space is not self:
                raise MembraneError("a mirror of another space cannot cross into this one")
            obj = obj.obj
        if obj.__class__ is int:
            return obj
        if obj.__class__ is not SqObject:
            raise MembraneError("to_local takes a guest object or mirror, not a host %s" % type(obj).__name__)
        if obj is self.nil:
            return None
        if obj is self.true:
            return True
        if obj is self.false:
            return False
        sp = self.heap.specials.ptrs
        cls = obj.cls
        if cls is sp[S.CLASS_FLOAT]:
            return self.heap.float_value(obj)
        if cls is sp[S.CLASS_LARGE_POSITIVE_INTEGER]:
            return int.from_bytes(obj.bytes, "little")
        if cls is self.large_negative_integer_class():
            return -int.from_bytes(obj.bytes, "little")
        if cls is sp[S.CLASS_CHARACTER]:
            return Char(chr(obj.ptrs[0]))
        if cls is self.symbol_class():
            return Symbol(text_of(obj))
        if cls is sp[S.CLASS_STRING]:
            return text_of(obj)
        if cls is sp[S.CLASS_BYTE_ARRAY]:
            return bytes(obj.bytes)
        if cls is sp[S.CLASS_ARRAY]:
            return [self.to_local(x) for x in obj.ptrs]
        raise MembraneError("a %s is not a literal; use a mirror" % self.layout.class_name_of(cls))

    # --- mirrors and the membrane (seed: mirrorOn:) -----------------------------
    def mirror_on(self, value):
        """`mirrorOn:`: the most specific mirror (see mirrors.py) on a guest object of this
        space. Accepts a guest object, a SmallInteger, a mirror of this space, or a host
        literal (converted by from_local first)."""
        obj = self.guest_value(value)
        if obj.__class__ is int:
            return ObjectMirror(self, obj)
        from .mirror_dispatch import mirror_class_for
        return mirror_class_for(self, obj)(self, obj)

    def owns(self, obj) -> bool:
        """Whether a guest object belongs to this space: its class chain reaches this
        space's Metaclass (every space has its own) within three steps."""
        if obj.__class__ is int:
            family = self.heap.family
            return family.small_int_min <= obj <= family.small_int_max
        if obj.__class__ is not SqObject:
            return False
        meta = self.layout.metaclass
        c = obj.cls
        for _ in range(3):
            if c is meta:
                return True
            if c.__class__ is not SqObject:     # None, or a corrupted class chain
                return False
            c = c.cls
        return c is meta

    def _owned(self, obj):
        if not self.owns(obj):
            raise MembraneError("%s is not an object of this space" % what_value(obj))
        return obj

    def guest_value(self, value):
        """The guest object to store for `value`: a mirror of this space gives its object,
        a guest object of this space itself, a host literal its conversion (from_local).
        Anything else (mirrors or objects of another space, host objects) raises
        MembraneError: nothing of the host can be stored into a guest."""
        if value.__class__ is SqObject:
            return self._owned(value)
        return self.from_local(value)

    def describe(self, obj) -> str:
        """A short host-side printString of a guest object (literals, class names, 'a Foo'),
        computed without running guest code (compare `print_string`, which evaluates).
        Takes a guest object or a mirror of this space."""
        if isinstance(obj, ObjectMirror) and obj.space is self:
            obj = obj.obj
        return describe_object(self, obj)

    # --- listing and measuring ---------------------------------------------------
    def objects(self) -> list:
        """Mirrors on every object of the space (reachable from its special objects and
        the VM's extra roots), in the heap's deterministic order."""
        m = self.mirror_on
        return [m(o) for o in self.heap.all_objects()]

    def object_count(self) -> int:
        return len(self.heap.all_objects())

    def memory_use(self) -> "MemoryUse":
        """Exact memory accounting: objects and bytes as this space takes in a V3 image
        (header words included), in total and by class."""
        count, total, by_class = self.heap.memory_use()
        name = self.layout.class_name_of
        rows = sorted(((name(c), n, b) for c, n, b in by_class), key=lambda r: (-r[2], r[0]))
        return MemoryUse(count, total, rows)

    def inherits(self, cls, ancestor, known=None) -> bool:
        """Whether class `cls` is `ancestor` or a subclass of it (`known`: an optional set
        of ids of classes already known to inherit, extended on success)."""
        nil = self.heap.nil
        c = cls
        guard = 0
        chain = []
        while c is not nil and c.__class__ is SqObject and guard < 10000:
            if c is ancestor or (known is not None and id(c) in known):
                if known is not None:
                    known.update(chain)
                return True
            chain.append(id(c))
            ptrs = c.ptrs
            if not ptrs:
                return False
            c = ptrs[SUPERCLASS]
            guard += 1
        return False

    # --- methods --------------------------------------------------------------------
    def method_owner(self, method):
        """(class, selector) whose method dictionary holds compiled method `method`, or None."""
        if self._method_owners is None:
            index = {}
            nil = self.nil
            for cls in self._classes().values():
                for c in (cls, cls.cls):
                    md = c.ptrs[METHOD_DICT]
                    if md is nil or md.__class__ is not SqObject or not md.ptrs:
                        continue
                    arr_i = self.layout.field_index(md.cls, "array")
                    if arr_i is None:
                        continue
                    arr = md.ptrs[arr_i]
                    fixed = len(md.ptrs) - len(arr.ptrs)
                    for k, sel in enumerate(md.ptrs[fixed:]):
                        m = arr.ptrs[k]
                        if sel is not nil and m.__class__ is SqObject and m.fmt == FMT_METHOD:
                            index.setdefault(id(m), (c, text_of(sel) if is_bytes(sel) else "?", m))
            self._method_owners = index
        found = self._method_owners.get(id(method))
        if found is None or found[2] is not method:
            return None
        return found[0], found[1]

    def methods_changed(self, selector=None) -> None:
        """Called after a method dictionary changed: forgets the method index and tells
        the space's interpreter (and VM) to flush their method caches."""
        self._method_owners = None
        for runner in (getattr(self, "interpreter", None), self.vm):
            flush = getattr(runner, "flush_method_cache", None) if runner is not None else None
            if flush is not None:
                flush()

    def special_selector_names(self) -> list:
        """The 32 special selectors of the send bytecodes 176-207, from the image's table."""
        table = self.special(S.SPECIAL_SELECTORS)
        if table is self.nil or not table.ptrs:
            return []
        return [text_of(s) if is_bytes(s) else "" for s in table.ptrs[0::2]]

    # --- processes ------------------------------------------------------------------
    def scheduler(self):
        """`Processor`: a ProcessSchedulerMirror."""
        from .process_mirrors import ProcessSchedulerMirror
        assoc = self.special(S.SCHEDULER_ASSOCIATION)
        sched = assoc.ptrs[1] if assoc.__class__ is SqObject and assoc.ptrs and len(assoc.ptrs) > 1 else None
        m = self.mirror_on(sched) if sched is not None else None
        if not isinstance(m, ProcessSchedulerMirror):
            raise MembraneError("malformed image: special object 3 is not an association to the "
                                "ProcessorScheduler")
        return m

    def processes(self) -> list:
        """ProcessMirrors on every process (active, ready, waiting, suspended)."""
        return self.scheduler().all_processes()

    # --- names ------------------------------------------------------------------
    def global_name_of(self, obj):
        """The name of the global bound to `obj`, or None."""
        d = self.globals_dictionary()
        if d is None:
            if self.layout.is_class(obj):
                return self.layout.class_name_of(obj)
            return None
        for assoc in d.ptrs[1].ptrs:
            if assoc is not self.nil and assoc.ptrs[1] is obj and is_bytes(assoc.ptrs[0]):
                return text_of(assoc.ptrs[0])
        return None

    def system_category_of(self, class_name: str):
        """The category of a class in the image's `SystemOrganization` (a SystemOrganizer
        with categoryArray / categoryStops / elementArray), or None."""
        if self._category_index is None:
            self._category_index = self._system_categories()
        return self._category_index.get(class_name)

    def _system_categories(self) -> dict:
        org = self.global_named("SystemOrganization")
        if org is None or org.__class__ is not SqObject or org.ptrs is None:
            return {}
        names = self.layout.all_inst_var_names(org.cls)
        try:
            cats = org.ptrs[names.index("categoryArray")].ptrs
            stops = org.ptrs[names.index("categoryStops")].ptrs
            elements = org.ptrs[names.index("elementArray")].ptrs
        except (ValueError, AttributeError, TypeError):
            return {}
        index = {}
        start = 0
        for cat, stop in zip(cats, stops):
            if stop.__class__ is not int:
                break
            for e in elements[start:stop]:
                if is_bytes(e) and is_bytes(cat):
                    index.setdefault(text_of(e), text_of(cat))
            start = max(start, stop)
        return index


    # --- running guest code (space/execution.py; added by the interpreter work) ----
    def evaluate(self, source: str, timeout: float | None = 600.0):
        """Compile and run `source` with the guest's own compiler (ozvm's where the image has
        none); a mirror on the result (`.to_local()` for a literal's host value)."""
        from .execution import evaluate
        return self.mirror_on(evaluate(self, source, timeout))

    def print_string(self, source: str, timeout: float | None = 600.0) -> str:
        """`(source) printString` evaluated in the guest, as a Python str."""
        from .execution import print_string
        return print_string(self, source, timeout)

    # --- the host's files (prims/files.py, prims/file_policy.py) ----------------------
    @property
    def file_policy(self):
        """What guest code may do to the host's files: a FilePolicy (host, deny, read_only,
        allow, overlay); setting one closes the files the guest has open."""
        return self.file_table().policy

    @file_policy.setter
    def file_policy(self, policy) -> None:
        self.file_table().policy = policy

    def file_denials(self) -> list:
        """The file operations the policy refused (DeniedOperation: operation, path, reason)."""
        return list(self.file_table().denied)

    def file_table(self):
        """The space's own FileTable (its open files, policy and denials)."""
        from .execution import interpreter_for
        return interpreter_for(self).files

    # --- compiling (compiler/api.py) ------------------------------------------------
    def compile(self, cls, source: str):
        """A new CompiledMethod for `source` in class `cls` (ozvm's compiler; not installed).
        `cls`: a ClassMirror, a guest class or a class name ('Foo class' for the class side)."""
        from ..compiler.api import compile_method
        return compile_method(self, self.as_class(cls), source)

    def install(self, cls, source: str, category=None, log_source=None):
        """Compile `source` into `cls`'s method dictionary (`cls` as for compile); answer
        the method. Its source is kept unless `log_source` is False: in an image that keeps
        source pointers (`keeps_source_pointers`) as the image's own compiler logs it (a
        chunk for the .changes written beside the image at save, and a source pointer in
        the method's trailer); in one that keeps none (Pharo's trailers, PharoCandle) in the
        method itself, as Pharo does when it has no .changes to log it in (an
        #EmbeddedSource trailer, space/sources.py), so it is saved with the image."""
        from ..compiler.api import TRAILER, install
        cls = self.as_class(cls)
        pointers = self.keeps_source_pointers()
        trailer = TRAILER
        if log_source is not False and not pointers:
            from .sources import embedded_trailer
            trailer = embedded_trailer(source)
        method = install(self, cls, source, category, trailer=trailer)
        if log_source is not False and pointers:
            import time
            t = time.localtime()
            stamp = "ozvm %d/%d/%d %02d:%02d" % (t.tm_mon, t.tm_mday, t.tm_year, t.tm_hour, t.tm_min)
            self.sources.log_method(method, self.layout.class_name_of(cls),
                                    category or "as yet unclassified", source, stamp)
        return method

    def as_class(self, cls) -> SqObject:
        """The guest class or metaclass named by `cls`: a ClassMirror of this space, a guest
        class, or a name ('Foo class' for the metaclass); MembraneError otherwise."""
        if isinstance(cls, str):
            found = self.class_named(cls)
            if found is None:
                raise MembraneError("no class named %r in this space" % cls)
            return found
        obj = self.guest_value(cls)
        if not self.layout.is_class(obj):
            raise MembraneError("%s is not a class" % self.describe(obj))
        return obj

    # --- surgery: diff, file out, file in (diff.py, fileout.py, filein.py) ---------
    def diff(self, other):
        """What differs from this space to `other`, class by class and method by method
        (a SpaceDiff: `entries`, `lines(source=True)`; empty when they are equal)."""
        from .diff import diff_spaces
        return diff_spaces(self, other)

    def fileout(self, what: str) -> str:
        """Chunk-format source of a class ('Foo'), a method ('Foo>>bar', 'Foo class>>bar')
        or a class category, as the image's fileOut writes it (CR line ends)."""
        from .fileout import fileout
        return fileout(self, what)

    def filein(self, paths, texts=None):
        """File chunk-format files in (class definitions, methodsFor: sections, do-its), all
        or nothing: a FileInResult, or FileInError naming file:line:column with the space
        left as it was. `texts`: {name: text} to read instead of files."""
        from .filein import filein
        return filein(self, paths, texts)

    # --- browsing (space/browsing.py) ----------------------------------------------
    def implementors(self, selector: str) -> list:
        """MethodRefs ('Foo>>bar', .mirror()) of the methods with this selector."""
        from .browsing import implementors
        return implementors(self, selector)

    def senders(self, selector: str) -> list:
        """MethodRefs of the methods sending `selector` (literal or special send bytecode)."""
        from .browsing import senders
        return senders(self, selector)

    def references_to(self, name: str) -> list:
        """MethodRefs of the methods referring to the global or class variable `name`."""
        from .browsing import references_to
        return references_to(self, name)

    def hierarchy(self, cls) -> list:
        """[(depth, ClassMirror)]: superclasses from the root, `cls`, then its subclasses."""
        from .browsing import hierarchy
        return hierarchy(self, self.as_class(cls))

    def method_categories(self, cls) -> list:
        """[(category, [selectors])] of the methods `cls` defines (class organization)."""
        from .browsing import method_categories
        return method_categories(self, self.as_class(cls))

class MemoryUse:
    """A space's memory use: `objects` (count), `bytes` (as in a V3 image), and
    `by_class`: [(class name, objects, bytes)], largest first."""

    __slots__ = ("objects", "bytes", "by_class")

    def __init__(self, objects, total, by_class):
        self.objects = objects
        self.bytes = total
        self.by_class = by_class

    def top(self, n: int) -> list:
        return self.by_class[:n]

    def __repr__(self):
        return "<MemoryUse %d objects, %d bytes>" % (self.objects, self.bytes)
