"""Methods copied between spaces: `target.transplant(method_mirror)`.

A method of one space is installed into the class of the same name in another space (or a
class given). Two ways, chosen per method:

- **copy**: when both images use the same bytecode set and method header layout (V3 or
  Spur) and the two classes have the same instance variables, the bytecodes and header are kept as they are and every literal is
  re-bound in the target: numbers, strings, symbols, characters, floats and literal arrays
  are made anew there; a global's binding becomes the target's binding of that name; a class
  variable's binding the target class pool's binding of that name; the method's own class
  binding the target class's. A literal with no counterpart (a global or class variable the
  target lacks, an object that is no literal) refuses the transplant with TransplantError.
- **recompile**: otherwise (another bytecode set, another shape) the method's source (real,
  from the source space's .changes/.sources, or decompiled) is compiled in the target class
  with ozvm's compiler, which resolves every name there; a name it cannot resolve refuses.

The source space is only read. The transplanted method's real source, when the source space
has it, is logged in the target as its own compiler would log it.
"""
from __future__ import annotations

from ..errors import CompileError, MembraneError, OzError
from ..memory import specials as S
from ..memory.objects import SqObject
from .layout import is_bytes, text_of


class TransplantError(OzError):
    """A method cannot be copied into the target space (the message says which part)."""


def transplant(target, method, into=None, category=None):
    """Install `method` (a MethodMirror of another space) into `target`; answer the new
    MethodMirror. `into`: the target class (a ClassMirror or class of `target`, or a name
    such as 'Foo' or 'Foo class'); by default the class of the method's class's name."""
    source = method.space
    if source is target:
        raise TransplantError("the method already belongs to this space")
    src_class = method.method_class()
    selector = method.selector()
    if src_class is None or selector is None:
        raise TransplantError("the method is in no class of its space, so it has no selector")
    tcls = _target_class(target, into if into is not None else src_class.name())
    real_source = source.method_source(method)
    same_set = (source.info.has_closures == target.info.has_closures
                and source.heap.family.method_format == target.heap.family.method_format)
    same_shape = (source.layout.all_inst_var_names(src_class.obj)
                  == target.layout.all_inst_var_names(tcls))
    if same_set and same_shape:
        new = _copy_method(source, target, method.obj, src_class.obj, tcls)
        from ..compiler.api import install_method
        install_method(target, tcls, target.intern_symbol(selector), new, category)
        if real_source is not None and target.keeps_source_pointers():
            new.bytes[-4:] = b"\x00\x00\x00\x00"
            target.sources.log_method(new, target.layout.class_name_of(tcls),
                                      category or "as yet unclassified", real_source, "ozvm")
        elif len(new.bytes) >= 4 and new.bytes[-1] >= 252:
            new.bytes[-4:] = b"\x00\x00\x00\x00"   # the pointer named the other space's files
    else:
        text = real_source
        if text is None:
            from ..compiler.decompiler import decompile
            text = decompile(source, method.obj, src_class.obj, selector)
        try:
            new = target.install(tcls, text, category, log_source=real_source is not None or None)
        except CompileError as e:
            raise TransplantError("%s>>%s cannot be compiled in the target: %s"
                                  % (src_class.name(), selector, e)) from None
    return target.mirror_on(new)


def _target_class(target, into):
    if isinstance(into, str):
        meta = into.endswith(" class")
        cls = target.class_named(into[:-6] if meta else into)
        if cls is None:
            raise TransplantError("the target has no class %s" % into)
        return cls.cls if meta else cls
    obj = getattr(into, "obj", into)
    try:
        return target._owned(obj)
    except MembraneError:
        raise TransplantError("the class given is not one of the target space") from None


def _copy_method(source, target, meth, src_class, tcls):
    rebind = _Rebinder(source, target, src_class, tcls)
    literals = [rebind(lit, i) for i, lit in enumerate(meth.ptrs[1:])]
    return target.heap.new_method(target.special(S.CLASS_COMPILED_METHOD),
                                  meth.ptrs[0], literals, bytes(meth.bytes))


class _Rebinder:
    """Turns one literal of the source space into its counterpart in the target."""

    def __init__(self, source, target, src_class, tcls):
        self.source, self.target = source, target
        self.src_class, self.tcls = src_class, tcls
        self.src_instance = _instance_side(source, src_class)
        self.t_instance = _instance_side(target, tcls)

    def __call__(self, lit, index):
        source, target = self.source, self.target
        if lit.__class__ is int:
            return target.from_local(lit)       # 61-bit SmallIntegers are Large in 31 bits
        if lit.__class__ is not SqObject:
            raise TransplantError("literal %d is not a guest object" % (index + 1))
        if lit.ptrs is not None and len(lit.ptrs) == 2 and lit.fmt <= 4 and _is_binding(source, lit):
            return self.binding(lit, index)
        try:
            return target.from_local(source.to_local(lit))
        except MembraneError:
            raise TransplantError("literal %d (%s) has no counterpart in the target"
                                  % (index + 1, source.describe(lit))) from None

    def binding(self, assoc, index):
        source, target = self.source, self.target
        key = assoc.ptrs[0]
        name = text_of(key) if is_bytes(key) else None
        if assoc.ptrs[1] is self.src_class:          # the method's class (super sends)
            if name is not None:
                found = target.global_association(name)
                if found is not None and found.ptrs[1] is self.tcls:
                    return found
            return self._new_binding(assoc, self.tcls)
        if name is not None and source.global_association(name) is assoc:
            found = target.global_association(name)
            if found is None:
                raise TransplantError("global %s has no counterpart in the target" % name)
            return found
        if name is not None and self._pool_of(source, self.src_instance, name) is assoc:
            found = self._pool_of(target, self.t_instance, name)
            if found is None:
                raise TransplantError("class variable %s has no counterpart in %s"
                                      % (name, target.layout.class_name_of(self.t_instance)))
            return found
        raise TransplantError("literal %d (%s) is a binding the target cannot resolve"
                              % (index + 1, source.describe(assoc)))

    def _new_binding(self, assoc, value):
        """A binding like `assoc` (same key, an instance of the class of the same name)
        whose value is `value`, for a class the target binds in no global."""
        source, target = self.source, self.target
        kind = source.layout.class_name_of(assoc.cls)
        cls = target.class_named(kind)
        if cls is None:
            raise TransplantError("the target has no class %s for the method's class binding" % kind)
        key = assoc.ptrs[0]
        key = target.intern_symbol(text_of(key)) if is_bytes(key) else target.nil
        made = target.heap.instantiate(cls)
        made.ptrs[0], made.ptrs[1] = key, value
        return made

    @staticmethod
    def _pool_of(space, cls, name):
        """The association of class variable `name` in `cls` or its superclasses."""
        mirror = space.mirror_on(cls)
        while mirror is not None:
            pool = mirror.class_pool()
            if pool is not None and pool.includes_key(name):
                return pool.association_at(name)
            mirror = mirror.superclass()
        return None


def _instance_side(space, cls):
    m = space.mirror_on(cls)
    return m.instance_side().obj


def _is_binding(space, obj) -> bool:
    """An Association-like literal (key, value) used as a variable binding."""
    key = obj.ptrs[0]
    return key.__class__ is SqObject and is_bytes(key) or key is space.nil
