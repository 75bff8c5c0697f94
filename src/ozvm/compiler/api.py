"""The compiler's entry points: compile Smalltalk source into guest CompiledMethods.

Every entry point takes `bytecode_set`: 'V3' (V3PlusClosures in closure and Spur images,
the blue-book set in Squeak 2.2) or 'SistaV1' (Spur only: full blocks, CompiledBlocks);
None: the space's default (`space_bytecode_set`).

    compile_method(space, cls, source)            -> CompiledMethod (not installed)
    install(space, cls, source, category=None)    -> CompiledMethod, put in cls's method dictionary
    compile_doit(space, source, receiver_class)   -> CompiledMethod #DoIt answering the last value
    generate(space, cls, source)                  -> (header, literal values, bytecodes): the
                                                     host-side result, nothing made in the guest

The guest is left unchanged when the source is bad: everything that can fail (parsing, name
lookup, code generation) happens before any guest object is made. Only symbols are interned
and literals materialised after that.
"""
from __future__ import annotations

from ..errors import CompileError
from ..memory import specials as S
from ..memory.objects import FMT_METHOD
from .codegen import BlockCode, CodeGenerator
from .literals import materialize
from .parser import parse_doit, parse_method
from .scanner import error_at

TRAILER = b"\x00\x00\x00\x00"


def _underscore_assigns(space) -> bool:
    return space.info.version == 6502


BYTECODE_SETS = ("V3", "SistaV1")


def space_bytecode_set(space) -> str:
    """The bytecode set ozvm's compiler uses in `space` unless told otherwise:
    `space.bytecode_set` when set, else 'SistaV1' when the image's own methods use it (the
    alternate set of their headers), else 'V3' (decided once, then kept on the space)."""
    chosen = space.bytecode_set
    if chosen is None:
        family = space.heap.family
        uses = family.is_spur and any(o.fmt == FMT_METHOD and family.method_alternate_bytecodes(o.ptrs[0])
                                      for o in space.heap.objects)
        chosen = space.bytecode_set = "SistaV1" if uses else "V3"
    return chosen


def encoder_for(space, bytecode_set=None):
    """The code generator's encoder for `bytecode_set` (None: the space's default)."""
    from .sista_encoder import SistaEncoder
    from .v3_encoder import V3Encoder
    name = bytecode_set or space_bytecode_set(space)
    if name == "SistaV1":
        return SistaEncoder(space.heap.family)
    if name == "V3":
        return V3Encoder(space.heap.family)
    raise CompileError("unknown bytecode set %r (%s)" % (name, " or ".join(BYTECODE_SETS)))


def generate(space, cls, source: str, doit: bool = False, bindings=None, quick: bool = True,
             bytecode_set=None, selector: str = "DoIt"):
    """Parse and generate; answer (header, literals as (kind, key, value), bytecodes, selector).
    `bindings`: {name: guest Association} of extra variables in scope (before globals).
    Any source gives an answer or a CompileError: a character without a byte code (the
    images' Strings and Symbols are bytes) at its line and column, nesting deeper than
    the compiler's recursion allows as a CompileError too. `quick`=False: a method that
    only answers self, nil, true, false, a small constant or a field gets bytecodes doing
    so instead of a quick-return primitive (for a context run from its first bytecode)."""
    encoder = encoder_for(space, bytecode_set)
    check_source(source)
    try:
        if doit:
            tree = parse_doit(source, _underscore_assigns(space))
            tree.selector = selector
        else:
            tree = parse_method(source, _underscore_assigns(space))
        gen = CodeGenerator(space, cls, source, encoder)
        gen.allow_quick = quick
        if bindings:
            gen.bindings = dict(bindings)
        header, literals, code = gen.generate(tree, doit=doit)
    except RecursionError:
        raise CompileError("the source is nested too deeply for the compiler") from None
    return header, literals, code, tree.selector


def check_source(source) -> None:
    """CompileError unless `source` is a str of characters with byte codes (0-255)."""
    if source.__class__ is not str:
        raise CompileError("source must be a str, not %s" % type(source).__name__)
    try:
        source.encode("latin-1")
    except UnicodeEncodeError as e:
        ch = source[e.start]
        raise error_at(source, e.start, "the character %r (U+%04X) has no code 0-255: this "
                                        "image's Strings and Symbols hold bytes only"
                       % (ch, ord(ch))) from None


def source_temp_names(space, cls, source: str) -> dict:
    """The names the method's real source gives its own frame slots, as ozvm's compiler (whose
    allocation is the image's compiler's) lays them out: {slot: name} for arguments and
    temporaries (0-based), {(slot, i): name} for temporaries kept in the temp vector in that
    slot (closures): the contract of decompiler.method_temp_names."""
    tree = parse_method(source, _underscore_assigns(space))
    gen = CodeGenerator(space, cls, source)
    gen.generate(tree)
    out = {}
    scope = gen.method_scope
    for t in scope.args + scope.temps:
        if t.remote and t.vector is not None and t.vector.index is not None:
            out[(t.vector.index, t.vindex)] = t.name
        elif t.index is not None:
            out[t.index] = t.name
    return out


def _make_method(space, header, literals, code, trailer=TRAILER):
    cm_class = space.special(S.CLASS_COMPILED_METHOD)
    return _make_code(space, cm_class, header, literals, code, None, trailer)


def _make_code(space, cls, header, literals, code, outer, trailer=TRAILER):
    """A CompiledMethod (or CompiledBlock: `outer` its outer code), its full blocks made
    after it (each refers to it)."""
    values = [_literal_object(space, kind, value, outer) for (kind, _key, value) in literals]
    method = space.heap.new_method(cls, header, values, bytes(code) + trailer)
    for i, (kind, _key, value) in enumerate(literals):
        if kind == "block":
            method.ptrs[i + 1] = _make_block(space, value, method)
    return method


def _make_block(space, block: BlockCode, outer):
    cls = space.class_named("CompiledBlock")
    if cls is None:
        raise CompileError("full blocks need the class CompiledBlock, which this image lacks")
    specials = space.heap.specials.ptrs
    if specials[S.CLASS_FULL_BLOCK_CLOSURE] is space.nil:
        # the VM makes full block closures of the class in this slot (Pharo 8's kernel
        # leaves it empty: none of its own methods makes one)
        closure_class = space.class_named("FullBlockClosure")
        if closure_class is None:
            raise CompileError("full blocks need the class FullBlockClosure, which this image lacks")
        specials[S.CLASS_FULL_BLOCK_CLOSURE] = closure_class
    return _make_code(space, cls, block.header, block.literals, block.code, outer)


def _literal_object(space, kind, value, outer=None):
    if kind in ("assoc", "classbinding"):
        return value
    if kind == "outer":
        return outer
    if kind == "block":
        return space.nil        # made after the method (it refers to it)
    return materialize(space, value)


def compile_method(space, cls, source: str, bytecode_set=None):
    """A new guest CompiledMethod for `source` in class `cls` (not installed)."""
    header, literals, code, _sel = generate(space, cls, source, bytecode_set=bytecode_set)
    return _make_method(space, header, literals, code)


def compile_doit(space, source: str, receiver_class=None, bindings=None, quick: bool = True,
                 bytecode_set=None, selector: str = "DoIt"):
    """A method #DoIt (or `selector`, unary; in `receiver_class`, default nil's class)
    answering the value of the last statement of `source`. `bindings` ({name: guest Association}) are variables in
    scope, read and written through their Associations (a debugger's frame variables);
    `quick`: see generate."""
    if receiver_class is None:
        receiver_class = space.class_of(space.nil)
    header, literals, code, _sel = generate(space, receiver_class, source, doit=True,
                                            bindings=bindings, quick=quick, bytecode_set=bytecode_set,
                                            selector=selector)
    return _make_method(space, header, literals, code)


def install(space, cls, source: str, category=None, bytecode_set=None, trailer=TRAILER):
    """Compile `source` and put the method into `cls`'s method dictionary (replacing a method
    of the same selector); answer the method. `trailer`: the bytes after its bytecodes."""
    header, literals, code, selector = generate(space, cls, source, bytecode_set=bytecode_set)
    method = _make_method(space, header, literals, code, trailer)
    install_method(space, cls, space.intern_symbol(selector), method, category)
    return method


def install_method(space, cls, selector, method, category=None) -> None:
    """Put `method` under the Symbol `selector` in `cls` (the space then flushes its method
    caches and indexes) and classify it (when `category` is given)."""
    add_to_method_dictionary(space, cls, selector, method)
    space.methods_changed(selector)
    if category is not None:
        _classify(space, cls, selector, category)


# --- method dictionaries ------------------------------------------------------------------------

def add_to_method_dictionary(space, cls, selector, method) -> None:
    """Put selector -> method in cls's MethodDictionary the way the VM looks it up
    (identity hash masked by the size, linear probing), growing it when 3/4 full."""
    md = cls.ptrs[1]
    nil = space.nil
    if md is nil:
        raise CompileError("class %s has no method dictionary" % space.layout.class_name_of(cls))
    fixed = len(md.ptrs) - _md_capacity(md)
    keys_at = fixed
    array = md.ptrs[1]
    size = len(md.ptrs) - keys_at
    index = _md_find(md, keys_at, size, selector, nil)
    if md.ptrs[keys_at + index] is selector:
        array.ptrs[index] = method
        return
    tally = md.ptrs[0] if md.ptrs[0].__class__ is int else _md_count(md, keys_at, nil)
    if (tally + 1) * 4 > size * 3:
        _md_grow(space, md, keys_at, size * 2)
        size = len(md.ptrs) - keys_at
        array = md.ptrs[1]
        index = _md_find(md, keys_at, size, selector, nil)
    md.ptrs[keys_at + index] = selector
    array.ptrs[index] = method
    if md.ptrs[0].__class__ is int:
        md.ptrs[0] = tally + 1


def _md_capacity(md) -> int:
    return len(md.ptrs[1].ptrs)


def _md_count(md, keys_at, nil) -> int:
    return sum(1 for k in md.ptrs[keys_at:] if k is not nil)


def _md_find(md, keys_at, size, selector, nil) -> int:
    """The slot of `selector`, or the first empty slot of its probe sequence."""
    mask = size - 1
    i = (selector.hash & mask) if size & mask == 0 else selector.hash % size
    for _ in range(size):
        k = md.ptrs[keys_at + i]
        if k is nil or k is selector:
            return i
        i = (i + 1) % size
    raise CompileError("method dictionary is full")


def _md_grow(space, md, keys_at, new_size) -> None:
    nil = space.nil
    old_keys = list(md.ptrs[keys_at:])
    old_methods = list(md.ptrs[1].ptrs)
    md.ptrs[keys_at:] = [nil] * new_size
    md.ptrs[1].ptrs[:] = [nil] * new_size
    for k, m in zip(old_keys, old_methods):
        if k is not nil:
            i = _md_find(md, keys_at, new_size, k, nil)
            md.ptrs[keys_at + i] = k
            md.ptrs[1].ptrs[i] = m


def _classify(space, cls, selector, category) -> None:
    """Record the method's category in the class organization, when the image has one
    (a ClassOrganizer: categoryArray, categoryStops, elementArray); a metaclass has its own
    (ClassDescription's `organization`)."""
    layout = space.layout
    if layout.class_organization is None or layout.class_organization >= len(cls.ptrs):
        return
    org = cls.ptrs[layout.class_organization]
    if org is space.nil or org.__class__ is int or org.ptrs is None:
        return
    names = layout.all_inst_var_names(org.cls)
    try:
        ca, cs, ea = (names.index(n) for n in ("categoryArray", "categoryStops", "elementArray"))
    except ValueError:
        return
    cats, stops, elems = org.ptrs[ca], org.ptrs[cs], org.ptrs[ea]
    if cats is space.nil or elems is space.nil:
        return
    cat_names = [c.bytes.decode("latin-1") for c in cats.ptrs]
    items = []     # (category, [selectors])
    start = 0
    for name, stop in zip(cat_names, stops.ptrs):
        items.append((name, elems.ptrs[start:stop]))
        start = stop
    for _, sels in items:
        if selector in sels:
            sels.remove(selector)
    for name, sels in items:
        if name == category:
            sels.append(selector)
            break
    else:
        items.append((category, [selector]))
    new_cats, new_stops, new_elems = [], [], []
    for name, sels in items:
        found = [c for c in cats.ptrs if c.bytes.decode("latin-1") == name]
        new_cats.append(found[0] if found else space.intern_symbol(name))
        new_elems.extend(sels)
        new_stops.append(len(new_elems))
    cats.ptrs[:] = new_cats
    stops.ptrs[:] = new_stops
    elems.ptrs[:] = new_elems
