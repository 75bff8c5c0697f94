"""Building an object space from nothing, following the seed's bootstrap.

`SpaceBuilder` works on a space under construction with the seed's three operations:

    create_object_with_format(fmt, size)        a classless object (nil, true, false first)
    create_class_with_format_for_instances_of_format(fields, inst_spec, inst_size)
                                                a classless class object for such instances
    set_class(obj, cls)                         give an object its class

`Metaclass` and `Metaclass class` are made first and set as each other's class; then the
kernel classes and their metaclasses, then the objects the virtual machine needs (the special
objects array and what it holds), the globals, the methods (compiled by ozvm's compiler), the
symbol table, and the startup process. Identity hashes come from the heap's generator from a
fixed seed and everything is made in source order, so the same sources give the same image.
"""
from __future__ import annotations

from ..compiler.api import compile_method
from ..errors import OzError
from ..memory import specials as S
from ..memory.heap import Heap, ImageInfo
from ..memory.objects import (
    FMT_BYTES, FMT_EMPTY, FMT_FIXED, FMT_FIXED_VAR, FMT_METHOD, FMT_VAR, FMT_WEAK, FMT_WORDS,
    SqObject, make_format_value, method_num_literals, method_num_temps, method_large_frame,
)
from ..space.objectspace import ObjectSpace
from ..space.symbol_tables import kernel_string_hash

IMAGE_VERSION = 6505
HASH_SEED = 1
SPECIALS_SIZE = 56
WINDOW_SIZE = (640 << 16) | 480

# The compact class indexes the C virtual machine assumes for some classes (its fast paths
# test them): the same as in Squeak and PharoCandle.
COMPACT_CLASSES = {
    "CompiledMethod": 1, "Array": 3, "LargeNegativeInteger": 4, "LargePositiveInteger": 5,
    "Float": 6, "MethodDictionary": 7, "Association": 8, "Point": 9, "String": 11,
    "BlockClosure": 12, "MethodContext": 14,
}

# Special object 23: the selectors of the arithmetic and common-message bytecodes (176-207)
# with their argument counts, in bytecode order.
SPECIAL_SELECTORS = [
    ("+", 1), ("-", 1), ("<", 1), (">", 1), ("<=", 1), (">=", 1), ("=", 1), ("~=", 1),
    ("*", 1), ("/", 1), ("\\\\", 1), ("@", 1), ("bitShift:", 1), ("//", 1), ("bitAnd:", 1),
    ("bitOr:", 1), ("at:", 1), ("at:put:", 2), ("size", 0), ("next", 0), ("nextPut:", 1),
    ("atEnd", 0), ("==", 1), ("class", 0), ("blockCopy:", 1), ("value", 0), ("value:", 1),
    ("do:", 1), ("new", 0), ("new:", 1), ("x", 0), ("y", 0),
]

# Special objects that are classes of the kernel, by index.
SPECIAL_CLASSES = {
    S.CLASS_SMALLINTEGER: "SmallInteger", S.CLASS_STRING: "String", S.CLASS_ARRAY: "Array",
    S.CLASS_FLOAT: "Float", S.CLASS_METHOD_CONTEXT: "MethodContext", S.CLASS_POINT: "Point",
    S.CLASS_LARGE_POSITIVE_INTEGER: "LargePositiveInteger", S.CLASS_MESSAGE: "Message",
    S.CLASS_COMPILED_METHOD: "CompiledMethod", S.CLASS_SEMAPHORE: "Semaphore",
    S.CLASS_CHARACTER: "Character", S.CLASS_BYTE_ARRAY: "ByteArray", S.CLASS_PROCESS: "Process",
    S.CLASS_BLOCK_CLOSURE: "BlockClosure", S.CLASS_LARGE_NEGATIVE_INTEGER: "LargeNegativeInteger",
}

# Special objects that are selectors the virtual machine sends.
SPECIAL_SEND_SELECTORS = {
    S.SELECTOR_DOES_NOT_UNDERSTAND: "doesNotUnderstand:", S.SELECTOR_CANNOT_RETURN: "cannotReturn:",
    S.SELECTOR_MUST_BE_BOOLEAN: "mustBeBoolean", S.SELECTOR_CANNOT_INTERPRET: "cannotInterpret:",
    S.SELECTOR_ABOUT_TO_RETURN: "aboutToReturn:through:", S.SELECTOR_RUN_WITH_IN: "run:with:in:",
}

SPECIAL_SEMAPHORES = (S.THE_LOW_SPACE_SEMAPHORE, S.THE_TIMER_SEMAPHORE, S.THE_INTERRUPT_SEMAPHORE,
                      S.THE_FINALIZATION_SEMAPHORE)
EXTERNAL_OBJECTS_SIZE = 20
PRIORITIES = 8                  # ProcessorScheduler's priorities (see Processes.st)
USER_PRIORITY = 4

INST_SPECS = {"bytes": FMT_BYTES, "words": FMT_WORDS, "weak": FMT_WEAK, "method": FMT_METHOD}


class BootstrapError(OzError):
    """The kernel sources cannot be built into an image."""


def inst_spec(kind: str, inst_size: int) -> int:
    if kind == "pointers":
        return FMT_FIXED if inst_size else FMT_EMPTY
    if kind == "variable":
        return FMT_FIXED_VAR if inst_size else FMT_VAR
    return INST_SPECS[kind]


def power_of_two_for(count: int) -> int:
    """The smallest power of two (at least 4) keeping `count` entries at most 3/4 full."""
    size = 4
    while size * 3 < count * 4:
        size *= 2
    return size


class SpaceBuilder:
    """A space under construction (see the module docstring)."""

    def __init__(self):
        info = ImageInfo(version=IMAGE_VERSION, little_endian=True, last_hash=HASH_SEED,
                         window_size=WINDOW_SIZE, flags=0, extra_vm_memory=0, header_words=[])
        self.specials = SqObject(None, FMT_VAR, 0, ptrs=[None] * SPECIALS_SIZE)
        self.heap = Heap(self.specials, info, objects=[self.specials])
        self.specials.hash = self.heap.new_hash()
        self.nil = None
        self.classes = {}           # name -> class object
        self.definitions = {}       # name -> ClassDefinition
        self.symbols = {}           # text -> Symbol
        self.space = None

    # --- the seed's operations ----------------------------------------------------------
    def create_object_with_format(self, fmt: int, size: int = 0) -> SqObject:
        """A new object without a class: `size` fields (nil), bytes or words."""
        if fmt <= FMT_WEAK:
            return self.heap.new_object(None, fmt, ptrs=[self.nil] * size)
        if fmt == FMT_WORDS:
            return self.heap.new_object(None, fmt, words=[0] * size)
        if fmt == FMT_BYTES:
            return self.heap.new_object(None, fmt, bytes=bytearray(size))
        raise BootstrapError("cannot create an object of format %d" % fmt)

    def create_class_with_format_for_instances_of_format(self, fields: int, spec: int,
                                                         inst_size: int, compact_index: int = 0):
        """A classless class object of `fields` fields describing instances of format `spec`
        with `inst_size` named fields."""
        cls = self.create_object_with_format(FMT_FIXED, fields)
        cls.ptrs[2] = make_format_value(spec, inst_size, compact_index)
        return cls

    @staticmethod
    def set_class(obj: SqObject, cls: SqObject) -> None:
        obj.cls = cls

    # --- helpers on the space under construction ----------------------------------------
    def new(self, class_name: str, size: int = 0) -> SqObject:
        return self.heap.instantiate(self.classes[class_name], size)

    def string(self, text: str) -> SqObject:
        obj = self.new("String", len(text.encode("latin-1")))
        obj.bytes[:] = text.encode("latin-1")
        return obj

    def array(self, items) -> SqObject:
        items = list(items)
        obj = self.new("Array", len(items))
        obj.ptrs[:] = items
        return obj

    def symbol(self, text: str) -> SqObject:
        """The Symbol `text`, made once."""
        sym = self.symbols.get(text)
        if sym is None:
            if not text:
                raise BootstrapError("a Symbol cannot be empty")
            sym = self.new("Symbol", len(text))
            sym.bytes[:] = text.encode("latin-1")
            self.symbols[text] = sym
        return sym

    def association(self, key, value) -> SqObject:
        assoc = self.new("Association")
        assoc.ptrs[0:2] = [key, value]
        return assoc

    def dictionary(self, class_name: str, pairs) -> SqObject:
        """A Dictionary (HashedCollection: tally, array) of Associations with Symbol keys,
        placed as `Dictionary>>scanFor:` finds them (identity hash of the key)."""
        pairs = list(pairs)
        d = self.new(class_name)
        slots = [self.nil] * (power_of_two_for(len(pairs)) + 1)
        for key, value in pairs:
            i = key.hash % len(slots)
            while slots[i] is not self.nil:
                i = (i + 1) % len(slots)
            slots[i] = self.association(key, value)
        d.ptrs[0] = len(pairs)
        d.ptrs[1] = self.array(slots)
        return d

    def field(self, obj: SqObject, class_name: str, name: str):
        return obj.ptrs[self.all_inst_vars(class_name).index(name)]

    def set_field(self, obj: SqObject, class_name: str, name: str, value) -> None:
        obj.ptrs[self.all_inst_vars(class_name).index(name)] = value

    def all_inst_vars(self, class_name: str) -> list:
        chain = []
        d = self.definitions[class_name]
        while d is not None:
            chain.append(d)
            d = self.definitions[d.superclass] if d.superclass else None
        names = []
        for d in reversed(chain):
            names.extend(d.inst_vars)
        return names

    # --- the bootstrap ------------------------------------------------------------------
    def build(self, kernel, expressions=(), progress=None) -> ObjectSpace:
        step = progress or (lambda what, done, total: None)
        self.definitions = {d.name: d for d in kernel.classes}
        for required in ("Object", "Behavior", "ClassDescription", "Class", "Metaclass"):
            if required not in self.definitions:
                raise BootstrapError("the kernel has no class %s" % required)
        step("classes", 0, 1)
        self.make_nil_true_false()
        self.make_classes(kernel.classes)
        self.set_class(self.nil, self.classes["UndefinedObject"])
        self.set_class(self.heap.true, self.classes["True"])
        self.set_class(self.heap.false, self.classes["False"])
        self.set_class(self.specials, self.classes["Array"])
        self.describe_classes(kernel.classes)
        self.make_specials()
        self.make_globals(kernel.classes)
        self.space = ObjectSpace(self.heap)
        self.space.guest_intern = self.symbol
        self.compile_methods(kernel, expressions, step)
        self.make_symbol_table()
        self.make_startup_process()
        step("done", 1, 1)
        return ObjectSpace(self.heap)     # a fresh facade: it finds the finished symbol table

    def make_nil_true_false(self) -> None:
        self.nil = self.create_object_with_format(FMT_EMPTY)
        false = self.create_object_with_format(FMT_EMPTY)
        true = self.create_object_with_format(FMT_EMPTY)
        self.specials.ptrs = [self.nil] * SPECIALS_SIZE
        self.specials.ptrs[S.FALSE] = false
        self.specials.ptrs[S.TRUE] = true
        self.heap.refresh_specials()

    def make_classes(self, definitions) -> None:
        """The class objects and their metaclasses, superclass first; Metaclass and
        Metaclass class first of all, each the other's class."""
        class_fields = len(self.all_inst_vars("Class"))
        meta_fields = len(self.all_inst_vars("Metaclass"))
        metaclass = self.create_class_with_format_for_instances_of_format(
            class_fields, FMT_FIXED, meta_fields)
        metaclass_class = self.create_class_with_format_for_instances_of_format(
            meta_fields, FMT_FIXED, class_fields)
        self.set_class(metaclass, metaclass_class)
        self.set_class(metaclass_class, metaclass)
        for d in definitions:
            if d.name == "Metaclass":
                cls, meta = metaclass, metaclass_class
            else:
                meta = self.create_class_with_format_for_instances_of_format(
                    meta_fields, FMT_FIXED, class_fields)
                self.set_class(meta, metaclass)
                size = len(self.all_inst_vars(d.name))
                cls = self.create_class_with_format_for_instances_of_format(
                    class_fields, inst_spec(d.kind, size), size, COMPACT_CLASSES.get(d.name, 0))
                self.set_class(cls, meta)
            self.classes[d.name] = cls

    def describe_classes(self, definitions) -> None:
        """Superclasses, names, instance variable names, class pools and comments."""
        for d in definitions:
            cls = self.classes[d.name]
            meta = cls.cls
            sup = self.classes[d.superclass] if d.superclass else self.nil
            cls.ptrs[0] = sup
            meta.ptrs[0] = sup.cls if d.superclass else self.classes["Class"]
            names = self.array(self.string(n) for n in d.inst_vars) if d.inst_vars else self.nil
            self.set_field(cls, "Class", "instanceVariables", names)
            self.set_field(cls, "Class", "name", self.symbol(d.name))
            self.set_field(cls, "Class", "comment", self.string(d.comment))
            pool = (self.dictionary("Dictionary", [(self.symbol(v), self.nil) for v in d.class_vars])
                    if d.class_vars else self.nil)
            self.set_field(cls, "Class", "classPool", pool)
            self.set_field(meta, "Metaclass", "thisClass", cls)

    def make_specials(self) -> None:
        sp = self.specials.ptrs
        for index, name in SPECIAL_CLASSES.items():
            sp[index] = self.classes[name]
        for index, name in SPECIAL_SEND_SELECTORS.items():
            sp[index] = self.symbol(name)
        for index in SPECIAL_SEMAPHORES:
            sem = self.new("Semaphore")
            self.set_field(sem, "Semaphore", "excessSignals", 0)
            sp[index] = sem
        selectors = []
        for name, argc in SPECIAL_SELECTORS:
            selectors += [self.symbol(name), argc]
        sp[S.SPECIAL_SELECTORS] = self.array(selectors)
        chars = []
        for code in range(256):
            ch = self.new("Character")
            ch.ptrs[0] = code
            chars.append(ch)
        sp[S.CHARACTER_TABLE] = self.array(chars)
        compact = [self.nil] * 31
        for name, index in COMPACT_CLASSES.items():
            compact[index - 1] = self.classes[name]
        sp[S.COMPACT_CLASSES] = self.array(compact)
        sp[S.EXTERNAL_OBJECTS_ARRAY] = self.array([self.nil] * EXTERNAL_OBJECTS_SIZE)
        scheduler = self.new("ProcessorScheduler")
        lists = []
        for _ in range(PRIORITIES):
            lists.append(self.new("LinkedList"))
        self.set_field(scheduler, "ProcessorScheduler", "quiescentProcessLists", self.array(lists))
        sp[S.SCHEDULER_ASSOCIATION] = self.association(self.symbol("Processor"), scheduler)

    def make_globals(self, definitions) -> None:
        """Smalltalk: the classes, Smalltalk itself, Processor (the same association as
        special object 3) and Transcript (see transcript())."""
        smalltalk = self.new("SystemDictionary")
        pairs = [(self.symbol(d.name), self.classes[d.name]) for d in definitions]
        pairs += [(self.symbol("Smalltalk"), smalltalk), (self.symbol("Transcript"), self.transcript())]
        built = self.dictionary("SystemDictionary", pairs)
        smalltalk.ptrs[:] = built.ptrs
        processor = self.specials.ptrs[S.SCHEDULER_ASSOCIATION]
        slots = smalltalk.ptrs[1].ptrs
        i = processor.ptrs[0].hash % len(slots)
        while slots[i] is not self.nil:
            i = (i + 1) % len(slots)
        slots[i] = processor
        smalltalk.ptrs[0] += 1
        if smalltalk.ptrs[0] * 4 > len(slots) * 3:
            raise BootstrapError("the globals dictionary is too small")
        self.specials.ptrs[S.SMALLTALK_DICTIONARY] = smalltalk

    def transcript(self) -> SqObject:
        """A TranscriptStream with no file (it only keeps its contents), for code run before
        the startup makes the one on the host's standard output."""
        capacity = 256
        contents = self.new("WriteStream")
        for name, value in (("collection", self.string(" " * capacity)), ("position", 0),
                            ("readLimit", 0), ("writeLimit", capacity)):
            self.set_field(contents, "WriteStream", name, value)
        transcript = self.new("TranscriptStream")
        self.set_field(transcript, "TranscriptStream", "contents", contents)
        return transcript

    def class_pool_set(self, class_name: str, var: str, value) -> None:
        pool = self.field(self.classes[class_name], "Class", "classPool")
        for assoc in pool.ptrs[1].ptrs:
            if assoc is not self.nil and assoc.ptrs[0] is self.symbols.get(var):
                assoc.ptrs[1] = value
                return
        raise BootstrapError("class %s has no class variable %s" % (class_name, var))

    def compile_methods(self, kernel, expressions, step) -> None:
        """Compile every method (and each startup expression as StartupScript>>doItN) and
        fill the method dictionaries, sized so that they never grow."""
        units = [(m.class_name, m.meta, m.source, "%s:%d" % (m.path, m.line)) for m in kernel.methods]
        for i, expr in enumerate(expressions, 1):
            units.append(("StartupScript", False, "doIt%d\n^ [%s] value" % (i, expr),
                          "startup expression %d" % i))
        compiled = {}
        total = len(units)
        for n, (class_name, meta, source, where) in enumerate(units):
            if class_name not in self.classes:
                raise BootstrapError("%s: method of an unknown class %s" % (where, class_name))
            cls = self.classes[class_name]
            if meta:
                cls = cls.cls
            try:
                method = compile_method(self.space, cls, source)
            except OzError as e:
                raise BootstrapError("%s: %s" % (where, e)) from None
            selector = method.ptrs[-2].bytes.decode("latin-1")    # literals end: selector, class binding
            entries = compiled.setdefault(id(cls), (cls, {}))[1]
            if selector in entries:
                raise BootstrapError("%s: %s defines %s twice" % (where, class_name, selector))
            entries[selector] = method
            if n % 50 == 0:
                step("methods", n, total)
        step("methods", total, total)
        all_classes = []
        for cls in self.classes.values():
            all_classes += [cls, cls.cls]
        for cls in all_classes:
            entries = compiled.get(id(cls), (cls, {}))[1]
            size = power_of_two_for(len(entries))
            md = self.new("MethodDictionary", size)
            methods = self.array([self.nil] * size)
            md.ptrs[0] = len(entries)
            md.ptrs[1] = methods
            for selector, method in entries.items():
                sym = self.symbol(selector)
                i = sym.hash & (size - 1)
                while md.ptrs[2 + i] is not self.nil:
                    i = (i + 1) & (size - 1)
                md.ptrs[2 + i] = sym
                methods.ptrs[i] = method
            cls.ptrs[1] = md
        self.class_pool_set("StartupScript", "Sources", self.array(self.string(e) for e in expressions))

    def make_symbol_table(self) -> None:
        """Symbol's SymbolTable: every Symbol, placed by `Symbol class>>indexFor:`."""
        size = power_of_two_for(len(self.symbols) * 2)
        slots = [self.nil] * size
        for text, sym in self.symbols.items():
            i = kernel_string_hash(text) % size
            while slots[i] is not self.nil:
                i = (i + 1) % size
            slots[i] = sym
        self.class_pool_set("Symbol", "SymbolTable", self.array(slots))

    def make_startup_process(self) -> None:
        """The active process: its suspended context will run `Smalltalk start` from its
        first bytecode when a virtual machine resumes the image."""
        smalltalk = self.specials.ptrs[S.SMALLTALK_DICTIONARY]
        md = self.classes["SystemDictionary"].ptrs[1]
        start = self.symbols.get("start")
        keys = md.ptrs[2:]
        if start is None or start not in keys:
            raise BootstrapError("SystemDictionary has no method start")
        method = md.ptrs[1].ptrs[keys.index(start)]
        header = method.ptrs[0]
        frame = 56 if method_large_frame(header) else 16
        ctx = self.new("MethodContext", frame)
        temps = method_num_temps(header)
        for name, value in (("sender", self.nil), ("pc", (method_num_literals(header) + 1) * 4 + 1),
                            ("stackp", temps), ("method", method), ("closureOrNil", self.nil),
                            ("receiver", smalltalk)):
            self.set_field(ctx, "MethodContext", name, value)
        process = self.new("Process")
        self.set_field(process, "Process", "suspendedContext", ctx)
        self.set_field(process, "Process", "priority", USER_PRIORITY)
        self.set_field(process, "Process", "name", self.string("startup"))
        scheduler = self.specials.ptrs[S.SCHEDULER_ASSOCIATION].ptrs[1]
        self.set_field(scheduler, "ProcessorScheduler", "activeProcess", process)
