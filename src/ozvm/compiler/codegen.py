"""Bytecode generation: parse tree -> (header, literals, bytecodes) as the image's compiler
of each generation produces them, byte for byte.

Two styles:
  * Squeak 2.2 (image format 6502): blocks are BlockContexts made by `thisContext blockCopy:`
    (push thisContext, push numArgs, send blockCopy:, long jump over the body, pop the
    arguments into method temps, body, blockReturn 125).
  * closures (6504/6505, as the compiler that built pharocandle.image): push closure 143,
    copied values, temp vectors (138/140-142), block temps pushed as nil, blockReturn 125;
    the literal frame ends with the inlined selectors, the selector and the class binding.
  * Spur (6521/68021, Squeak 5's Compiler and Pharo's Opal, which agree on all of this):
    closures as above; the method header and the primitive's encoding (callPrimitive) from
    the heap's family; the literal frame in the order the code uses it (literals reserved
    for code compiled for effect, i.e. none, are dropped), a Symbol and the selector of its
    name sharing a slot; two-armed conditional statements with each arm for effect; a
    to:do: limit other than a literal, an argument or a pseudo variable kept in a temp
    allocated before the loop variable; temps of inlined blocks allocated where declared
    (outer before inner), later inlined blocks reusing the slots of finished ones; the
    special selectors of the image's table (`~~` where V3 had blockCopy:); the context
    class (the one declaring `sender`) reaching its fields with the long bytecodes.

The literal frame follows the compiler's *sizing* pass, not the emission order (`_reserve`):
a send reserves its selector before its receiver and arguments; inlined ifs size their else
arm, then their then arm, then the receiver; loops size the body before the condition; to:do:
sizes initial value, limit (when held in a temp), body, step, then a literal limit. Jumps: forward
jumps of 1-8 bytes are short, others (and backward jumps, jumps over a 2.2 block body and
jump-if-true) long; a conditional jump over nothing is a pop.

Facts established against the images (tests/test_compiler_oracle22.py against Squeak 2.2's own
Compiler, tests/test_compiler_pharocandle.py against pharocandle.image's methods):
  Squeak 2.2  - the statement just before a return (explicit, or the implicit ^self) is compiled
                for its value and left on the stack, unless it is a message send, a one-armed if
                or a loop; other leaf statements compile to nothing;
              - selector and literal slots are not shared (#foo and a send of foo take two); a
                super send takes its own selector slot unless an ordinary send came first; the
                class association is the last literal of a method with a super send (nil key
                for a metaclass);
              - block arguments and temps are method temps in the parser's order; a later block
                reusing a name reuses the slot; to:do: limits other than variables and literal
                numbers go to a temp named after the block argument;
              - `{...}` is `Array fromBraceStack: n`; #'x' is a String; no #[ ], scaled decimals,
                block temps, named primitives or super cascades;
              - large frame when temps + stack depth > 11 (short returns count one, the kept
                statement before a return none); more than 32 is an error.
  closures    - #class is sent as an ordinary message; ifNil: forms compile as `== nil` ifs
                (`(x := r) == nil` for an argument), a one-armed value form with a dup;
              - temps of inlined blocks are added to the enclosing context after the block's
                body (innermost first), the to:do: limit after the loop variable; copied values
                sorted by their index outside; the temp vector is the last temp;
              - an assignment sizes its variable first; the inlined selectors not already
                literals come before the selector slot (in the order they were met: the image's
                compiler used an IdentitySet of its own host, whose order cannot be recovered);
              - primitive 84 methods have a large frame; <primitive: n error: t> stores the
                error code into t by its first bytecode.
"""
from __future__ import annotations

from ..errors import CompileError
from ..memory import specials as S
from . import ast as A
from .literals import Symbol, literal_key
from .parser import PRIMITIVE_PRAGMAS
from .scanner import error_at
from .scopes import NameScope, RealScope, TempVar, analyse_closures
from .v3_encoder import QUICK_CONSTANTS, V3Encoder

SPECIAL_SELECTORS = (
    "+", "-", "<", ">", "<=", ">=", "=", "~=", "*", "/", "\\\\", "@", "bitShift:", "//",
    "bitAnd:", "bitOr:", "at:", "at:put:", "size", "next", "nextPut:", "atEnd", "==", "class",
    "blockCopy:", "value", "value:", "do:", "new", "new:", "x", "y")
SPECIAL_INDEX = dict((s, i) for i, s in enumerate(SPECIAL_SELECTORS))
PSEUDO_VARIABLES = ("self", "super", "true", "false", "nil", "thisContext")
SMALL_FRAME = 16
LARGE_FRAME = 56
LARGE_FRAME_22 = 32
SMALL_FRAME_22 = 11     # Squeak 2.2 sets the large-frame bit when temps + stack depth > 11


def num_args_of(selector: str) -> int:
    if selector[0].isalpha() or selector[0] == "_":
        return selector.count(":")
    return 1


class Binding:
    __slots__ = ("kind", "temp", "index", "assoc", "name")

    def __init__(self, kind, temp=None, index=None, assoc=None, name=None):
        self.kind = kind      # pseudo | temp | inst | global
        self.temp = temp
        self.index = index
        self.assoc = assoc
        self.name = name


class Emitter:
    """A byte sequence being generated, with the operand stack depth model of the compiler."""

    __slots__ = ("code", "depth", "max")

    def __init__(self, depth=0):
        self.code = bytearray()
        self.depth = depth
        self.max = depth

    def push(self, n=1):
        self.depth += n
        if self.depth > self.max:
            self.max = self.depth

    def pop(self, n=1):
        self.depth -= n

    def add(self, *bs):
        self.code.extend(bs)

    def fork(self):
        return Emitter(self.depth)

    def absorb(self, other):
        self.code.extend(other.code)
        if other.max > self.max:
            self.max = other.max
        self.depth = other.depth


class CodeGenerator:
    def __init__(self, space, cls, source: str, encoder=None):
        self.space = space
        # the bytecode set's bytes (v3_encoder.py, sista_encoder.py); this class walks the tree
        self.enc = encoder if encoder is not None else V3Encoder(space.heap.family)
        self.cls = cls
        self.source = source
        version = space.info.version
        self.family = space.heap.family     # method header and primitive encoding
        self.closures = version in (6504, 6505) or self.family.is_spur
        self.layout = space.layout
        self.inst_vars = self.layout.all_inst_var_names(cls)
        self.literals = []          # [kind, key, value] in frame order
        self.lit_index = {}
        self.supered = False
        self.optimized = []         # closures: selectors of inlined sends, first use order
        self.order = 0
        self.allow_quick = True     # False: `^nil`-like methods get real bytecodes too
        self.decl = 0
        self.all_temps22 = {}
        self.error_temp = None
        self.bindings = {}          # name -> guest Association: extra variables (doits in a frame)
        # Squeak 5's compiler (the Spur images) numbers literals in the order the code uses
        # them; the earlier closure compiler in the order of its sizing pass (_reserve), as
        # ozvm's Sista V1 code does (each full block in a frame of its own)
        self.emission_order = self.family.is_spur and not self.enc.full_blocks
        self.lits_before_body = 0
        # Squeak 5, Opal: the context class (the one declaring `sender`) reaches its fields
        # with the long bytecodes, which the VM checks for married contexts
        self.context_fields = self.emission_order and _declares_context_fields(space, cls)
        # Squeak 5 (the image's table: ~~ replaced blockCopy:) and Opal send the special
        # selectors the image's specialSelectors array names
        self.special_index = SPECIAL_INDEX
        if self.emission_order:
            from .decompiler import special_selectors
            self.special_index = dict((name, i) for i, (name, _n) in enumerate(special_selectors(space)))
        self.lit_used = {}          # literal index -> rank of its first use in the code
        self.lit_remap = None       # old literal index -> final slot (emission order)
        self.block_depth = 0        # full blocks (Sista V1) being sized or emitted around here
        self.binding = None         # the class binding (made once: a metaclass's is new)

    def error(self, pos, message):
        return error_at(self.source, pos, message)

    # ======================================================================================
    # pass 1: names, temps, inlining decisions
    # ======================================================================================
    def resolve(self, method: A.MethodNode):
        self.method_scope = RealScope(None)
        top = NameScope(None, self.method_scope)
        for a in method.args:
            self._declare(top, a, True)
        prim = method.primitive
        if prim is not None and prim.selector.endswith("error:"):
            if not self.closures:
                raise self.error(prim.pos, "Squeak 2.2 has no primitive error codes")
            self.error_temp = self._declare(top, A.TempDecl(prim.args[-1], prim.pos), False)
        for t in method.body.temps:
            self._declare(top, t, False)
        method.body.scope = self.method_scope
        for st in method.body.statements:
            self._resolve(st, top)

    def _declare(self, nscope, decl, is_arg):
        if decl.name in nscope.names:
            raise self.error(decl.pos, "name %r is already defined" % decl.name)
        if decl.name in self.inst_vars:
            raise self.error(decl.pos, "name %r is already an instance variable" % decl.name)
        real = nscope.real
        if not self.closures and not (is_arg and nscope.parent is None):
            # Squeak 2.2 keeps every block temp name bound to one method temp: a later
            # block declaring the same name reuses its slot
            outer = nscope.lookup(decl.name)
            if outer is not None:
                # a block argument named like a temp of the method shares its slot (the
                # "out argument" idiom of Squeak 2.2's own methods, e.g. ContextPart>>mclass;
                # the interactive compiler warns first)
                if outer.is_arg and outer in self.method_scope.args:
                    raise self.error(decl.pos, "name %r is already a method argument" % decl.name)
                nscope.names[decl.name] = outer
                return outer
            old = self.all_temps22.get(decl.name)
            if old is not None:
                nscope.names[decl.name] = old
                return old
        t = TempVar(decl.name, real, is_arg, self.decl, decl.pos)
        if not self.closures:
            self.all_temps22[decl.name] = t
        self.decl += 1
        nscope.names[decl.name] = t
        if self.closures:
            if is_arg:
                real.args.append(t)
            elif getattr(nscope, "inlined", False) and self.emission_order:
                t = self._inlined_slot(real, t)
                nscope.names[decl.name] = t
                nscope.hoisted.append(t)        # freed when the block ends
            elif getattr(nscope, "inlined", False):
                nscope.hoisted.append(t)        # added to the context after the block's body
            else:
                real.temps.append(t)
        elif is_arg and nscope.parent is None:
            self.method_scope.args.append(t)
        else:
            t.is_arg = is_arg and False
            self.method_scope.temps.append(t)
        return t

    def _inlined_slot(self, real, t):
        """Squeak 5 and Opal: a temp of an inlined block takes its slot when declared,
        the first slot an earlier inlined block of the context left free if any."""
        free = real.free_inlined
        if free:
            free.sort(key=real.temps.index)
            return free.pop(0)
        real.temps.append(t)
        return t

    def _end_inlined(self, real, inner):
        """An inlined block's scope ends: its temps join the context (after the block's
        body, innermost first), or (Squeak 5, Opal) their slots become free."""
        if self.emission_order:
            real.free_inlined.extend(inner.hoisted)
        else:
            real.temps.extend(inner.hoisted)

    def _tick(self):
        self.order += 1
        return self.order

    def _resolve(self, node, ns):
        k = node.kind
        if k == "variable":
            self._bind(node, ns, False)
        elif k == "literal":
            pass
        elif k == "assign":
            self._resolve(node.value, ns)
            self._bind(node.variable, ns, True)
        elif k == "return":
            self._resolve(node.expr, ns)
        elif k == "cascade":
            if not self.closures and node.receiver.kind == "variable" and node.receiver.name == "super":
                raise self.error(node.receiver.pos, "Squeak 2.2 cannot cascade messages to super")
            self._resolve(node.receiver, ns)
            for m in node.messages:
                for a in m.args:
                    self._resolve(a, ns)
        elif k == "brace":
            for e in node.elements:
                self._resolve(e, ns)
        elif k == "block":
            self._resolve_block(node, ns, inlined=False)
        elif k == "send":
            self._resolve_send(node, ns)
        else:
            raise AssertionError(k)

    def _resolve_block(self, block, ns, inlined):
        if inlined:
            real = ns.real
        elif self.closures:
            real = RealScope(ns.real, block)
            real.order_start = self._tick()
        else:
            real = self.method_scope
        inner = NameScope(ns, real)
        inner.inlined = inlined
        inner.hoisted = []
        block.scope = real
        block.arg_temps = [self._declare(inner, a, not inlined) for a in block.args]
        if block.temps and not self.closures:
            raise self.error(block.temps[0].pos, "Squeak 2.2 blocks cannot declare temporaries")
        for t in block.temps:
            self._declare(inner, t, False)
        for st in block.statements:
            self._resolve(st, inner)
        if inlined:
            self._end_inlined(real, inner)
        else:
            real.temps.extend(inner.hoisted)
        if not inlined and self.closures:
            real.order_end = self._tick()
        return inner

    def _bind(self, var, ns, store):
        name = var.name
        if name in PSEUDO_VARIABLES:
            if store:
                raise self.error(var.pos, "cannot store into %s" % name)
            var.binding = Binding("pseudo", name=name)
            return
        t = ns.lookup(name)
        if t is not None:
            if store and t.is_arg:
                raise self.error(var.pos, "cannot store into argument %r" % name)
            o = self._tick()
            (t.writes if store else t.reads).append((ns.real, o))
            if t not in ns.real.used:
                ns.real.used.append(t)
            var.binding = Binding("temp", temp=t)
            return
        if name in self.inst_vars:
            var.binding = Binding("inst", index=self.inst_vars.index(name))
            return
        assoc = self._lookup_global(name)
        if assoc is None:
            raise self.error(var.pos, "undeclared variable %r" % name)
        var.binding = Binding("global", assoc=assoc, name=name)

    def _lookup_global(self, name):
        if name in self.bindings:
            return self.bindings[name]
        layout = self.layout
        nil = self.space.nil
        cls = self.cls
        if layout.is_metaclass(cls):
            cls = cls.ptrs[layout.meta_this_class]
        while cls is not nil and cls is not None:
            if layout.class_pool is not None and layout.class_pool < len(cls.ptrs):
                a = _dict_lookup(self.space, cls.ptrs[layout.class_pool], name)
                if a is not None:
                    return a
            if layout.class_shared_pools is not None and layout.class_shared_pools < len(cls.ptrs):
                pools = cls.ptrs[layout.class_shared_pools]
                for pool in collection_items(self.space, pools):
                    a = _dict_lookup(self.space, pool, name)
                    if a is not None:
                        return a
            cls = cls.ptrs[0]
        a = self.space.global_association(name)
        if a is None:       # a global the image's methods bind but its dictionary lacks
            cls = self.space.class_named(name)
            a = self.space.class_binding(cls) if cls is not None else self.space.held_binding(name)
        return a

    # --- inlining decisions --------------------------------------------------------------
    def _resolve_send(self, node, ns):
        rcv = node.receiver
        args = node.args
        kind = self._macro_kind(node)
        node.special = kind
        if kind is None:
            if rcv is not None:
                self._resolve(rcv, ns)
            for a in args:
                self._resolve(a, ns)
            return
        if kind == "nilif":
            self._resolve_nilif(node, ns)
            return
        if kind == "if" or kind == "ifnil":
            self._resolve(rcv, ns)
            for a in args:
                self._resolve_block(a, ns, inlined=True)
        elif kind == "case":
            self._resolve(rcv, ns)
            for key, arm in _case_pairs(args[0]):
                self._resolve_block(key, ns, inlined=True)
                self._resolve_block(arm, ns, inlined=True)
            if len(args) == 2:
                self._resolve_block(args[1], ns, inlined=True)
        elif kind == "while":
            start = self._tick()
            self._resolve_block(rcv, ns, inlined=True)
            for a in args:
                self._resolve_block(a, ns, inlined=True)
            ns.real.loops.append((start, self._tick()))
        elif kind == "repeat":
            start = self._tick()
            self._resolve_block(rcv, ns, inlined=True)
            ns.real.loops.append((start, self._tick()))
        elif kind == "todo":
            self._resolve(rcv, ns)
            for a in args[:-1]:
                self._resolve(a, ns)
            block = args[-1]
            start = self._tick()
            inner = NameScope(ns, ns.real)
            inner.inlined = True
            inner.hoisted = []
            block.scope = ns.real
            limit = args[0]
            lt = None
            if self.emission_order and not (_is_number_literal(limit) or _is_constant_ref(limit)):
                # Squeak 5 and Opal keep the limit in a temp allocated before the variable
                lt = self._inlined_slot(ns.real, TempVar(block.args[0].name + "LimiT", ns.real,
                                                         False, self.decl))
                self.decl += 1
                inner.hoisted.append(lt)
            loopvar = self._declare(inner, block.args[0], False)
            o = self._tick()
            loopvar.writes.append((ns.real, o))     # the increment is not counted (as in Squeak)
            loopvar.reads.append((ns.real, o))
            if loopvar not in ns.real.used:
                ns.real.used.append(loopvar)
            for t in block.temps:
                self._declare(inner, t, False)
            for st in block.statements:
                self._resolve(st, inner)
            self._end_inlined(ns.real, inner)
            end = self._tick()
            node.todo_var = loopvar
            if self.emission_order:
                node.todo_limit = lt
                if lt is not None:
                    lt.writes.append((ns.real, start))
                    lt.reads.append((ns.real, end))
                    ns.real.used.append(lt)
            elif _is_variable_ref(limit) or _is_number_literal(limit):
                node.todo_limit = None
            else:
                lt = TempVar(loopvar.name + "LimiT", ns.real, False, self.decl)
                self.decl += 1
                ns.real.temps.append(lt)
                lt.writes.append((ns.real, start))
                lt.reads.append((ns.real, end))
                ns.real.used.append(lt)
                node.todo_limit = lt

    def _resolve_nilif(self, node, ns):
        """Closures: `r ifNil: [a] ifNotNil: [:x | b]` compiles as
        `(x := r) == nil ifTrue: [a] ifFalse: [b]` (one-armed forms likewise; a value
        `v ifNil: [a]` answers v itself in the other arm)."""
        sel = node.selector
        args = node.args
        rcv = node.receiver
        self._resolve(rcv, ns)
        if sel == "ifNil:":
            nil_b, notnil_b = args[0], None
        elif sel == "ifNotNil:":
            nil_b, notnil_b = None, args[0]
        elif sel == "ifNil:ifNotNil:":
            nil_b, notnil_b = args
        else:
            notnil_b, nil_b = args
        cond_rcv = rcv
        if nil_b is not None:
            self._resolve_block(nil_b, ns, inlined=True)
        if notnil_b is not None:
            if notnil_b.args:
                inner = NameScope(ns, ns.real)
                inner.inlined = True
                inner.hoisted = []
                t = self._declare(inner, notnil_b.args[0], False)
                var = _temp_var_node(t, notnil_b.args[0].pos)
                t.writes.append((ns.real, self._tick()))
                if t not in ns.real.used:
                    ns.real.used.append(t)
                cond_rcv = A.Assign(var, rcv, rcv.pos)
                notnil_b.scope = ns.real
                for st in notnil_b.statements:
                    self._resolve(st, inner)
                self._end_inlined(ns.real, inner)
                notnil_b = A.Block([], [], notnil_b.statements, notnil_b.pos)
            else:
                self._resolve_block(notnil_b, ns, inlined=True)
        nil_v = A.Variable("nil", node.pos)
        nil_v.binding = Binding("pseudo", name="nil")
        node.receiver = A.Send(cond_rcv, "==", [nil_v], node.pos)
        node.nil_arms = (nil_b, notnil_b, rcv)
        node.special = "if"

    def _macro_kind(self, node):
        sel = node.selector
        args = node.args
        rcv = node.receiver
        if rcv is None:
            return None
        if sel in ("ifTrue:", "ifFalse:", "ifTrue:ifFalse:", "ifFalse:ifTrue:", "and:", "or:"):
            if all(_is_block(a, 0) for a in args):
                return "if"
            return None
        if sel in ("whileTrue:", "whileFalse:"):
            if _is_block(rcv, 0) and _is_block(args[0], 0):
                return "while"
            return None
        if sel in ("whileTrue", "whileFalse"):
            if _is_block(rcv, 0):
                return "while"
            return None
        if sel in ("caseOf:", "caseOf:otherwise:"):
            if _case_pairs(args[0]) is not None and (len(args) == 1 or _is_block(args[1], 0)):
                return "case"
            return None
        if sel in ("to:do:", "to:by:do:"):
            if not _is_block(args[-1], 1):
                return None
            if sel == "to:by:do:":
                step = args[1]
                if not (_is_number_literal(step) and step.value != 0):
                    return None
            return "todo"
        if self.closures:
            if sel in ("ifNil:", "ifNotNil:", "ifNil:ifNotNil:", "ifNotNil:ifNil:"):
                ok = True
                for part, a in zip(sel.split(":")[:-1], args):
                    ok = ok and a.kind == "block" and (len(a.args) == 0 or (part == "ifNotNil" and len(a.args) == 1))
                if not ok:
                    return None
                if len(args) == 1 and not args[0].args:
                    return "ifnil"      # one arm, no argument: receiver dup'ed for its value
                return "nilif"
            if sel == "repeat" and _is_block(rcv, 0):
                return "repeat"
        return None

    # ======================================================================================
    # pass 2: literal frame in the order of the image compiler's sizing pass
    # ======================================================================================
    def _lit(self, kind, key, value):
        k = (kind, key)
        i = self.lit_index.get(k)
        if i is None:
            i = len(self.literals)
            if i >= self.enc.max_literals:
                raise CompileError("more than %d literals" % self.enc.max_literals)
            self.lit_index[k] = i
            self.literals.append((kind, key, value))
        return i

    def is_special(self, sel) -> bool:
        """Sent with a special-selector bytecode (176-207)? The closure-era compiler that built
        PharoCandle sends #class as an ordinary message."""
        return sel in self.special_index and not (self.closures and sel == "class")

    def lit_value(self, value):
        return self._lit(*self.lit_slot_key(value), value)

    def lit_slot_key(self, value):
        """(kind, key) of a literal's slot: Squeak 5's compiler keeps one slot for a Symbol
        and the selector of that name; the earlier ones two."""
        if self.emission_order and value.__class__ is Symbol:
            return "sel", str(value)
        return "lit", literal_key(value)

    def lit_selector(self, sel):
        return self._lit("sel", sel, Symbol(sel))

    def lit_assoc(self, assoc):
        return self._lit("assoc", id(assoc), assoc)

    def _reserve(self, node, value=True):
        k = node.kind
        if k == "literal":
            v = node.value
            if self.enc.needs_literal(v):
                self.lit_value(v)
        elif k == "variable":
            b = node.binding
            if b.kind == "global":
                self.lit_assoc(b.assoc)
        elif k == "assign":
            if self.closures:           # the closure-era compiler sizes the store first
                self._reserve(node.variable)
                self._reserve(node.value)
            else:
                self._reserve(node.value)
                self._reserve(node.variable)
        elif k == "return":
            self._reserve(node.expr)
        elif k == "cascade":
            self._reserve(node.receiver)
            for m in node.messages:
                self._reserve_send_parts(m, None)
        elif k == "brace":
            if self.closures:
                for e in node.elements:
                    self._reserve(e)
            else:
                self._reserve_brace22(node)
        elif k == "block":
            if self.enc.full_blocks:
                self._reserve_full_block(node)
            elif self.closures:
                self._reserve_body(node, True)
            else:
                self._reserve_body(node, True)
                n = len(node.args)
                if n not in QUICK_CONSTANTS:
                    self.lit_value(n)
        elif k == "send":
            sp = node.special
            if sp is not None and self.closures and node.selector not in self.optimized:
                self.optimized.append(node.selector)
            if sp is None:
                self._reserve_send_parts(node, node.receiver)
            elif sp == "if":
                then_b, else_b = self._if_arms(node, value)
                if value or not (then_b.is_just_nil() or else_b.is_just_nil()):
                    self._reserve_body(else_b, True)
                    self._reserve_body(then_b, True)
                elif else_b.is_just_nil():
                    self._reserve_body(then_b, False)
                else:
                    self._reserve_body(else_b, False)
                self._reserve(node.receiver)
            elif sp == "ifnil":
                for a in node.args:
                    self._reserve_body(a, value)
                self._reserve(node.receiver)
            elif sp == "case":
                # Squeak's sizeCase:value: (for effect too: sized for value, then popped):
                # the otherwise arm (or the caseError send), the cases last to first (the
                # arm, then the key), then the receiver
                if len(node.args) == 2:
                    self._reserve_body(node.args[1], True)
                else:
                    self.lit_selector("caseError")
                for key, arm in reversed(_case_pairs(node.args[0])):
                    self._reserve_body(arm, True)
                    self._reserve_body(key, True)
                self._reserve(node.receiver)
            elif sp == "while":
                if node.args:
                    self._reserve_body(node.args[0], False, loop_body=True)
                self._reserve_body(node.receiver, True)
            elif sp == "repeat":
                self._reserve_body(node.receiver, False)
            elif sp == "todo":
                block = node.args[-1]
                step = node.args[1].value if len(node.args) == 3 else 1
                # initial value, limit held in a temp, body, increment, literal limit
                self._reserve(node.receiver)
                if node.todo_limit is not None:
                    self._reserve(node.args[0])
                self._reserve_body(block, False)
                if self.enc.needs_literal(step):
                    self.lit_value(step)
                if node.todo_limit is None:
                    self._reserve(node.args[0])

    def _reserve_send_parts(self, node, receiver):
        sel = node.selector
        is_super = receiver is not None and receiver.kind == "variable" and receiver.name == "super"
        if is_super:
            # the compiler sizes a copy of the selector node for a super send: it shares the
            # slot of an earlier ordinary send of the selector (Squeak 5's: any use of the
            # name), else it takes a slot of its own
            if ("sel", sel) in self.lit_index or self.emission_order:
                node.super_index = self.lit_selector(sel)
            else:
                node.super_index = self._lit("supersel", (sel, len(self.literals)), Symbol(sel))
        elif not self.is_special(sel):
            self.lit_selector(sel)
        if is_super:
            self.supered = True
            if self.block_depth:
                # a full block's super send is directed: the class binding pushed before it
                self.lit_assoc(self._class_binding())
        if receiver is not None:
            self._reserve(receiver)
        for a in node.args:
            self._reserve(a)

    def _reserve_body(self, block, value, loop_body=False):
        stmts = block.statements
        if not value and block_returns(block):
            value = True
        last = len(stmts) - 1
        for i, st in enumerate(stmts):
            v = value and i == last
            if not v and not self.closures and i < last and stmts[i + 1].kind == "return":
                if _kept_before_return(st):
                    v = True
            if not v and st.kind in ("literal", "variable"):
                continue
            self._reserve(st, v)

    def _reserve_full_block(self, block):
        """A full block (Sista V1) has a literal frame of its own: its literals in sizing
        order, the selectors of its inlined messages, then its outer code (the method or
        block whose literal it is); the enclosing frame gets a slot for its CompiledBlock."""
        saved = (self.literals, self.lit_index, self.optimized)
        self.literals, self.lit_index, self.optimized = [], {}, []
        self.block_depth += 1
        self._reserve_body(block, True)
        self._add_inlined_selectors()
        self._lit("outer", None, None)
        block.frame = (self.literals, self.lit_index)
        self.block_depth -= 1
        self.literals, self.lit_index, self.optimized = saved
        self._lit("block", id(block), None)

    def _add_inlined_selectors(self):
        for sel in self.optimized:
            if ("lit", literal_key(Symbol(sel))) not in self.lit_index and ("sel", sel) not in self.lit_index:
                self._lit("opt", sel, Symbol(sel))

    def _reserve_brace22(self, node):
        """Squeak 2.2: elements, then `Array fromBraceStack: n`; sized count first."""
        n = len(node.elements)
        if n not in QUICK_CONSTANTS:
            self.lit_value(n)
        self.lit_assoc(self._array_assoc(node))
        self.lit_selector("fromBraceStack:")
        for e in node.elements:
            self._reserve(e)

    def _array_assoc(self, node):
        a = self._lookup_global("Array")
        if a is None:
            raise self.error(node.pos, "brace arrays need the global Array")
        return a

    # ======================================================================================
    # pass 3: emission
    # ======================================================================================
    def _if_arms(self, node, for_value=True):
        arms = getattr(node, "nil_arms", None)
        if arms is not None:
            nil_b, notnil_b, rcv = arms
            if nil_b is None:
                nil_b = _const_block("nil", node.pos)
            if notnil_b is None:
                notnil_b = A.Block([], [], [rcv], node.pos) if for_value else _const_block("nil", node.pos)
            return nil_b, notnil_b
        sel = node.selector
        args = node.args
        pos = node.pos
        if sel == "ifTrue:":
            return args[0], _const_block("nil", pos)
        if sel == "ifFalse:":
            return _const_block("nil", pos), args[0]
        if sel == "ifTrue:ifFalse:":
            return args[0], args[1]
        if sel == "ifFalse:ifTrue:":
            return args[1], args[0]
        if sel == "and:":
            return args[0], _const_block("false", pos)
        return _const_block("true", pos), args[0]     # or:

    # --- jumps, pushes and stores: the encoder's bytes, the depth kept here ---------------
    def emit_jump(self, e, dist):
        self.enc.jump(e, dist)

    def emit_branch(self, e, on_true, dist):
        e.pop()
        self.enc.branch(e, on_true, dist)

    # --- pushes and stores ------------------------------------------------------------------
    def lit_use(self, index):
        """The frame slot of literal `index` as the emitted code uses it: noted in first-use
        order; in the second emission of an emission-ordered frame, its final slot."""
        if self.lit_remap is not None:
            return self.lit_remap[index]
        if index not in self.lit_used:
            self.lit_used[index] = len(self.lit_used)
        return index

    def emit_push_literal(self, e, index):
        index = self.lit_use(index)
        e.push()
        self.enc.push_literal(e, index)

    def emit_push_litvar(self, e, index):
        index = self.lit_use(index)
        e.push()
        self.enc.push_litvar(e, index)

    def emit_literal(self, e, value):
        if not self.enc.needs_literal(value) or value is None or value is True or value is False:
            if self.enc.push_inline_constant(e, value):
                e.push()
                return
        self.emit_push_literal(e, self.lit_index[self.lit_slot_key(value)])

    def temp_index(self, t, real):
        if self.closures:
            return real.index_of[id(t)]
        return t.index

    def emit_push_var(self, e, var, real):
        b = var.binding
        k = b.kind
        if k == "temp":
            t = b.temp
            e.push()
            if self.closures and t.remote:
                self.enc.push_remote(e, t.vindex, real.index_of[id(t.vector)])
                return
            self.enc.push_temp(e, self.temp_index(t, real))
        elif k == "inst":
            e.push()
            self.enc.push_inst(e, b.index, self.context_fields)
        elif k == "global":
            self.emit_push_litvar(e, self.lit_index[("assoc", id(b.assoc))])
        else:
            e.push()
            self.enc.push_pseudo(e, b.name)

    def emit_store(self, e, var, real, pop):
        b = var.binding
        k = b.kind
        if k == "temp":
            t = b.temp
            if self.closures and t.remote:
                self.enc.store_remote(e, t.vindex, real.index_of[id(t.vector)], pop)
            else:
                self.enc.store_temp(e, self.temp_index(t, real), pop)
        elif k == "inst":
            self.enc.store_inst(e, b.index, pop, self.context_fields)
        elif k == "global":
            self.enc.store_litvar(e, self.lit_use(self.lit_index[("assoc", id(b.assoc))]), pop)
        else:
            raise self.error(var.pos, "cannot store into %s" % b.name)
        if pop:
            e.pop()

    def emit_send(self, e, sel, nargs, is_super, index=None):
        e.pop(nargs)
        if not is_super and self.is_special(sel):
            self.enc.special_send(e, self.special_index[sel])
            return
        if index is None:
            index = self.lit_index[("sel", sel)]
        index = self.lit_use(index)
        if is_super and self.block_depth:
            # a super send inside a full block: directed, the class pushed last
            e.push()
            self.enc.push_litvar(e, self.lit_use(self.lit_index[("assoc", id(self._class_binding()))]))
            e.pop()
            self.enc.directed_super_send(e, index, nargs)
            return
        self.enc.send(e, index, nargs, is_super)

    # --- expressions ----------------------------------------------------------------------
    def value(self, e, node, real):
        k = node.kind
        if k == "literal":
            self.emit_literal(e, node.value)
        elif k == "variable":
            self.emit_push_var(e, node, real)
        elif k == "assign":
            self.value(e, node.value, real)
            self.emit_store(e, node.variable, real, pop=False)
        elif k == "return":
            self.emit_return(e, node, real)
        elif k == "send":
            sp = node.special
            if sp is None:
                rcv = node.receiver
                self.value(e, rcv, real)
                for a in node.args:
                    self.value(e, a, real)
                is_super = rcv.kind == "variable" and rcv.name == "super"
                self.emit_send(e, node.selector, len(node.args), is_super,
                               node.super_index if is_super else None)
            else:
                getattr(self, "emit_" + sp)(e, node, real, True)
        elif k == "cascade":
            self.value(e, node.receiver, real)
            rsuper = node.receiver.kind == "variable" and node.receiver.name == "super"
            last = len(node.messages) - 1
            for i, m in enumerate(node.messages):
                if i < last:
                    self.enc.dup(e)
                    e.push()
                for a in m.args:
                    self.value(e, a, real)
                self.emit_send(e, m.selector, len(m.args), rsuper, m.super_index if rsuper else None)
                if i < last:
                    self.enc.pop(e)
                    e.pop()
        elif k == "block":
            if self.enc.full_blocks:
                self.emit_full_block(e, node, real)
            elif self.closures:
                self.emit_closure(e, node, real)
            else:
                self.emit_block22(e, node, real)
        elif k == "brace":
            self.emit_brace(e, node, real)
        else:
            raise AssertionError(k)

    def effect(self, e, node, real, before_return=False):
        k = node.kind
        if before_return and not self.closures:
            # Squeak 2.2 quirk: the statement just before a return is left on the stack
            # when it is a leaf or a two-armed if (the return discards it anyway)
            if _kept_before_return(node):
                self.value(e, node, real)
                e.pop()         # (the compiler's stack count forgets it)
                return
        if k == "literal" or k == "variable":
            return
        if k == "assign":
            self.value(e, node.value, real)
            self.emit_store(e, node.variable, real, pop=True)
            return
        if k == "return":
            self.emit_return(e, node, real)
            return
        if k == "send" and node.special is not None:
            getattr(self, "emit_" + node.special)(e, node, real, False)
            return
        self.value(e, node, real)
        self.enc.pop(e)
        e.pop()

    def emit_return(self, e, node, real):
        expr = node.expr
        if expr.kind == "variable" and expr.binding.kind == "pseudo" and expr.name in ("self", "true", "false", "nil"):
            self.enc.return_pseudo(e, expr.name)
            e.push()        # the compilers count the returned value ("doesnt seem right")
            return
        self.value(e, expr, real)
        self.enc.return_top(e)

    # --- statement sequences ---------------------------------------------------------------
    def eval_value(self, e, block, real):
        stmts = block.statements
        if not stmts:
            if not self.closures and getattr(block, "arg_temps", None):
                # Squeak 2.2: an empty block with arguments answers its (last) argument
                stmts = [_temp_var_node(block.arg_temps[-1], block.pos)]
            else:
                stmts = [A.Variable("nil", block.pos)]
        for i in range(len(stmts) - 1):
            self.effect(e, stmts[i], real, stmts[i + 1].kind == "return")
        self.value(e, _bound(stmts[-1]), real)

    def eval_effect(self, e, block, real, loop_body=False):
        if block_returns(block):
            self.eval_value(e, block, real)
            e.pop()
            return
        stmts = block.statements
        for i, st in enumerate(stmts):
            self.effect(e, st, real, i + 1 < len(stmts) and stmts[i + 1].kind == "return")

    # --- blocks -------------------------------------------------------------------------------
    def emit_block22(self, e, block, real):
        e.add(137)
        e.push()
        n = len(block.args)
        self.emit_literal(e, n)
        self.emit_send(e, "blockCopy:", 1, False)
        body = e.fork()
        body.push(n)
        for t in reversed(block.arg_temps):
            if t.index < 8:
                body.add(104 + t.index)
            else:
                body.add(130, 0x40 | t.index)
            body.pop()
        self.eval_value(body, block, real)
        if not block_returns(block):
            body.add(125)
        body.pop()
        size = len(body.code)
        if size > 1023:
            raise CompileError("block body of %d bytes is too long" % size)
        e.add(164 + (size >> 8), size & 255)
        e.absorb(body)

    def emit_closure(self, e, block, real):
        inner = block.scope
        for c in inner.copied:
            self._push_local(e, c, real)
        body = e.fork()
        body.pop(len(inner.copied))
        body.push(1 + len(block.args) + len(inner.copied))
        for t in inner.temps:
            if not t.remote:
                self.enc.push_inline_constant(body, None)
                body.push()
        if inner.vector is not None:
            n = len([t for t in inner.temps if t.remote])
            self.enc.new_array(body, n)
            body.push()
        self.eval_value(body, block, inner)
        if not block_returns(block):
            self.enc.block_return(body)
        size = len(body.code)
        if len(inner.copied) > 15:
            raise self.error(block.pos, "a block refers to %d variables of its outer scopes, at most "
                                        "15 (4 bits in bytecode 143)" % len(inner.copied))
        e.pop(len(inner.copied))
        e.push()
        self.enc.closure(e, len(inner.copied), len(block.args), size)
        e.code.extend(body.code)
        if body.max > e.max:
            e.max = body.max

    def emit_full_block(self, e, block, real):
        """Sista V1: the copied values, then pushFullClosure of the block's CompiledBlock
        (compiled here into its own frame: arguments, copied values and temps are its
        context's first slots, nil until stored; its temp vector made by its first
        bytecodes). A block that needs neither its outer context nor its receiver (no ^,
        no self, super, instance variables or thisContext, no outer variables) is clean:
        its closure has no outer context."""
        inner = block.scope
        for c in inner.copied:
            self._push_local(e, c, real)
        saved = (self.literals, self.lit_index)
        self.literals, self.lit_index = block.frame
        self.block_depth += 1
        body = Emitter(0)
        if inner.vector is not None:
            self.enc.new_array(body, len([t for t in inner.temps if t.remote]))
            body.push()
            self.enc.store_temp(body, inner.vector.index, True)
            body.pop()
        self.eval_value(body, block, inner)
        if not block_returns(block):
            self.enc.block_return(body)
        self.block_depth -= 1
        if inner.num_temps > 63:
            raise self.error(block.pos, "too many temporaries in a block (%d)" % inner.num_temps)
        if inner.num_temps + body.max > LARGE_FRAME:
            raise self.error(block.pos, "the block needs %d temporaries and stack slots, more than "
                                        "a context holds (%d)" % (inner.num_temps + body.max, LARGE_FRAME))
        large = inner.num_temps + body.max > SMALL_FRAME
        header = self.enc.header(len(block.args), inner.num_temps, len(self.literals), 0, large)
        compiled = BlockCode(header, self.literals, bytes(body.code))
        self.literals, self.lit_index = saved
        index = self.lit_index[("block", id(block))]
        self.literals[index] = ("block", id(block), compiled)
        e.pop(len(inner.copied))
        e.push()
        self.enc.full_closure(e, index, len(inner.copied), self.enc.clean_blocks and _is_clean(block))

    def _push_local(self, e, var, real):
        """Push an outer variable (a temp or a temp vector) as seen from context `real`."""
        e.push()
        self.enc.push_temp(e, real.index_of[id(var)])

    def emit_brace(self, e, node, real):
        n = len(node.elements)
        if self.closures:
            for el in node.elements:
                self.value(e, el, real)
            if n > 127:
                raise self.error(node.pos, "brace array of more than 127 elements")
            e.pop(n)
            e.push()
            self.enc.cons_array(e, n)
            return
        array = self._array_assoc(node)
        for el in node.elements:
            self.value(e, el, real)
        self.emit_push_litvar(e, self.lit_index[("assoc", id(array))])
        self.emit_literal(e, n)
        self.emit_send(e, "fromBraceStack:", 1, False)
        e.pop(n)

    # --- inlined control structures ----------------------------------------------------------
    def emit_if(self, e, node, real, for_value):
        then_b, else_b = self._if_arms(node, for_value)
        if not for_value and not (then_b.is_just_nil() or else_b.is_just_nil()):
            if self.emission_order:     # Squeak 5, Opal: each arm for effect
                self.emit_if_effect(e, node, real, then_b, else_b)
                return
            self.emit_if(e, node, real, True)
            self.enc.pop(e)
            e.pop()
            return
        self.value(e, node.receiver, real)
        if for_value:
            then_e = e.fork()
            then_e.pop()
            self.eval_value(then_e, then_b, real)
            else_e = e.fork()
            else_e.pop()
            self.eval_value(else_e, else_b, real)
            else_size = len(else_e.code)
            returns = block_returns(then_b)
            jump = 0 if returns else self.enc.jump_size(else_size)
            self.emit_branch(e, False, len(then_e.code) + jump)
            e.absorb(then_e)
            e.pop()
            if not returns:
                self.emit_jump(e, else_size)
            e.absorb(else_e)
            return
        if else_b.is_just_nil():
            arm = e.fork()
            arm.pop()
            self.eval_effect(arm, then_b, real)
            self.emit_branch(e, False, len(arm.code))
        else:
            arm = e.fork()
            arm.pop()
            self.eval_effect(arm, else_b, real)
            self.emit_branch(e, True, len(arm.code))
        e.absorb(arm)

    def emit_if_effect(self, e, node, real, then_b, else_b):
        """A two-armed conditional statement, each arm compiled for effect."""
        self.value(e, node.receiver, real)
        then_e = e.fork()
        then_e.pop()
        self.eval_effect(then_e, then_b, real)
        else_e = e.fork()
        else_e.pop()
        self.eval_effect(else_e, else_b, real)
        returns = block_returns(then_b)
        jump = 0 if returns else self.enc.jump_size(len(else_e.code))
        self.emit_branch(e, False, len(then_e.code) + jump)
        e.absorb(then_e)
        if not returns:
            self.emit_jump(e, len(else_e.code))
        e.absorb(else_e)

    def emit_while(self, e, node, real, for_value):
        cond = node.receiver
        on_true = node.selector.startswith("whileFalse")
        start = len(e.code)
        self.eval_value(e, cond, real)
        body = e.fork()
        body.pop()
        if node.args:
            self.eval_effect(body, node.args[0], real, loop_body=True)
        body_size = len(body.code) + self.enc.jump_back_size
        self.emit_branch(e, on_true, body_size)
        e.absorb(body)
        self.emit_jump_back(e, start)
        if for_value:
            self.enc.push_inline_constant(e, None)
            e.push()

    def emit_jump_back(self, e, start):
        self.enc.jump_back(e, start)

    def emit_repeat(self, e, node, real, for_value):
        start = len(e.code)
        self.eval_effect(e, node.receiver, real)
        self.emit_jump_back(e, start)
        if for_value:
            self.enc.push_inline_constant(e, None)
            e.push()

    def emit_todo(self, e, node, real, for_value):
        var = node.todo_var
        block = node.args[-1]
        step = node.args[1].value if len(node.args) == 3 else 1
        limit_temp = node.todo_limit
        fake_var = _temp_var_node(var, block.pos)
        if limit_temp is not None:
            self.value(e, node.args[0], real)
            self.emit_store(e, _temp_var_node(limit_temp, node.pos), real, pop=True)
        self.value(e, node.receiver, real)
        self.emit_store(e, fake_var, real, pop=True)
        start = len(e.code)
        self.emit_push_var(e, fake_var, real)
        if limit_temp is not None:
            self.emit_push_var(e, _temp_var_node(limit_temp, node.pos), real)
        else:
            self.value(e, node.args[0], real)
        self.emit_send(e, "<=" if step > 0 else ">=", 1, False)
        body = e.fork()
        body.pop()
        self.eval_effect(body, block, real)
        self.emit_push_var(body, fake_var, real)
        self.emit_literal(body, step)
        self.emit_send(body, "+", 1, False)
        self.emit_store(body, fake_var, real, pop=True)
        self.emit_branch(e, False, len(body.code) + self.enc.jump_back_size)
        e.absorb(body)
        self.emit_jump_back(e, start)
        if for_value:
            self.enc.push_inline_constant(e, None)
            e.push()

    def emit_ifnil(self, e, node, real, for_value):
        """Closures, one arm without argument: `r ifNil: [a]` / `r ifNotNil: [a]`; for its value
        the receiver is kept (dup) and popped in the arm."""
        sel = node.selector
        args = node.args
        self.value(e, node.receiver, real)
        if len(args) == 1:
            if for_value:
                self.enc.dup(e)
                e.push()
                self.enc.push_inline_constant(e, None)
                e.push()
                self.emit_send(e, "==", 1, False)
                arm = e.fork()
                arm.pop()
                self.enc.pop(arm)
                arm.pop()
                self.eval_value(arm, args[0], real)
                self.emit_branch(e, sel == "ifNotNil:", len(arm.code))
                e.absorb(arm)
            else:
                self.enc.push_inline_constant(e, None)
                e.push()
                self.emit_send(e, "==", 1, False)
                arm = e.fork()
                arm.pop()
                self.eval_effect(arm, args[0], real)
                self.emit_branch(e, sel == "ifNotNil:", len(arm.code))
                e.absorb(arm)
            return
        raise AssertionError("two-armed ifNil: forms compile as ifs")

    def emit_case(self, e, node, real, for_value):
        """`r caseOf: {[k1] -> [a1]. ... [kn] -> [an]} otherwise: [o]` inlined, as Squeak's
        MessageNode>>emitCodeForCase: and Opal's emitCaseOf: do: r; for each case but the
        last `dup k = jumpFalse next; pop a jump end`; for the last `k = jumpFalse next;
        a jump end`; then o (caseOf: without otherwise: `self caseError`). An arm that ends
        in a return has no jump after it. For effect: the same for value, then a pop."""
        if not for_value:
            self.emit_case(e, node, real, True)
            self.enc.pop(e)
            e.pop()
            return
        self.value(e, node.receiver, real)
        r = e.depth
        pairs = _case_pairs(node.args[0])
        last = len(pairs) - 1
        pieces = []
        # generated in the order of the code (the literal frame's first uses), joined last
        # to first (the jumps' distances)
        for k, (key, arm) in enumerate(pairs):
            key_e = Emitter(r + 1 if k < last else r)
            self.eval_value(key_e, key, real)
            self.emit_send(key_e, "=", 1, False)
            arm_e = Emitter(r - 1)
            self.eval_value(arm_e, arm, real)
            pieces.append((key_e, arm_e, block_returns(arm)))
        other = Emitter(r - 1)
        if len(node.args) == 2:
            self.eval_value(other, node.args[1], real)
        else:
            self.emit_push_var(other, _self_node(node.pos), real)
            self.emit_send(other, "caseError", 0, False)
        tail = bytes(other.code)
        top = other.max
        for k in range(last, -1, -1):
            key_e, arm_e, returns = pieces[k]
            arm = Emitter(0)
            if k < last:
                self.enc.pop(arm)
            arm.code.extend(arm_e.code)
            if not returns:
                self.enc.jump(arm, len(tail))
            head = Emitter(0)
            if k < last:
                self.enc.dup(head)
            head.code.extend(key_e.code)
            self.enc.branch(head, False, len(arm.code))
            tail = bytes(head.code) + bytes(arm.code) + tail
            top = max(top, key_e.max, arm_e.max)
        e.code.extend(tail)
        if top > e.max:
            e.max = top

    # ======================================================================================
    # driver
    # ======================================================================================
    def generate(self, method: A.MethodNode, doit: bool = False):
        """Answer (header, literal values, bytecodes, selector)."""
        self.resolve(method)
        body = method.body
        stmts = list(body.statements)
        if doit:
            if not stmts:
                stmts = [A.Variable("nil", body.pos)]
            if stmts[-1].kind != "return":
                stmts[-1] = A.Return(stmts[-1], stmts[-1].pos)
        elif not block_returns(A.Block([], [], stmts, body.pos)):
            if stmts and stmts[-1].kind == "variable" and stmts[-1].name == "self":
                stmts[-1] = A.Return(stmts[-1], stmts[-1].pos)
            else:
                stmts.append(A.Return(_self_node(body.pos), body.pos))
        body.statements = [_bound(s) for s in stmts]
        if self.closures:
            analyse_closures(self.method_scope)
            num_temps = self.method_scope.num_temps
        else:
            for i, t in enumerate(self.method_scope.args + self.method_scope.temps):
                t.index = i
            num_temps = len(self.method_scope.args) + len(self.method_scope.temps)
        nargs = len(method.args)
        if num_temps > 63:
            raise CompileError("too many temporaries (%d)" % num_temps)
        for p in method.pragmas:
            if p.selector not in PRIMITIVE_PRAGMAS:
                raise self.error(p.pos, "pragma <%s> is not supported (only <primitive:...>)" % p.selector)
        primitive = 0
        prim = method.primitive
        if prim is not None:
            if prim.selector in ("primitive:", "primitive:error:") and prim.args[0].__class__ is int:
                primitive = prim.args[0]
                if not 0 < primitive <= self.family.max_primitive:
                    raise self.error(prim.pos, "a primitive number is 1..%d, not %d"
                                     % (self.family.max_primitive, primitive))
            else:
                if not self.closures:
                    raise self.error(prim.pos, "Squeak 2.2 has no named primitives")
                primitive = 117
                module = prim.args[1] if prim.selector.startswith("primitive:module:") else None
                self.lit_value((Symbol(module) if module is not None else None,
                                Symbol(prim.args[0]), 0, 0))
        quick = self._quick(method, body) if primitive == 0 and self.allow_quick else None
        e = Emitter(0)
        if quick is not None:
            primitive = quick
        if quick is not None and not self.family.quick_methods_have_bytecodes:
            num_temps = 0
        else:
            self.lits_before_body = len(self.literals)
            self._reserve_body(body, True)
            self.emit_body(e, body)
            if self.emission_order:
                self._order_by_use()
                e = Emitter(0)
                self.emit_body(e, body)
                self.lit_index = dict((k, self.lit_remap[i]) for k, i in self.lit_index.items()
                                      if self.lit_remap[i] is not None)
                self.lit_remap = None
        if self.supered and not self.closures:
            self.lit_assoc(self._class_binding())
        if self.closures:
            self._add_inlined_selectors()
            self._lit("selector", None, Symbol(method.selector or "DoIt"))
            self._lit("classbinding", None, self._class_binding())
        self.max_depth = e.max
        limit = LARGE_FRAME if self.closures else LARGE_FRAME_22
        if num_temps + e.max > limit:
            raise CompileError("the method needs %d temporaries and stack slots, more than a context holds (%d)"
                               % (num_temps + e.max, limit))
        large = num_temps + e.max > (SMALL_FRAME if self.closures else SMALL_FRAME_22)
        if self.closures and primitive == 84:
            large = True    # perform:withArguments: spreads its arguments on the stack
        header = self.enc.header(nargs, num_temps, len(self.literals), primitive, large)
        return header, self.literals, self.enc.prologue(primitive) + bytes(e.code)

    def emit_body(self, e, body):
        """The method's bytecodes after its primitive: temp vector, error code, statements."""
        if self.closures and self.method_scope.vector is not None:
            n = len([t for t in self.method_scope.temps if t.remote])
            self.enc.new_array(e, n)
            e.push()
            self.enc.store_temp(e, self.method_scope.vector.index, True)
            e.pop()
        if self.error_temp is not None:
            self.enc.store_temp(e, self.temp_index(self.error_temp, self.method_scope), False)
        self.eval_value(e, body, self.method_scope)

    def _order_by_use(self):
        """Renumber the literals reserved so far in the order the code first uses them;
        those it does not use (a named primitive's description) keep their place before."""
        n = len(self.literals)
        # literals the code does not use: a named primitive's description stays first,
        # those the sizing pass reserved for code compiled for effect (nothing) go
        unused = [i for i in range(self.lits_before_body) if i not in self.lit_used]
        order = unused + sorted(self.lit_used, key=self.lit_used.get)
        self.lit_remap = [None] * n
        for new, old in enumerate(order):
            self.lit_remap[old] = new
        self.literals = [self.literals[old] for old in order]

    def _quick(self, method, body):
        if method.args or len(body.statements) != 1:
            return None
        st = body.statements[0]
        if st.kind != "return":
            return None
        x = st.expr
        if x.kind == "variable":
            b = x.binding
            if b.kind == "pseudo":
                return {"self": 256, "true": 257, "false": 258, "nil": 259}.get(x.name)
            if b.kind == "inst" and b.index < 256:
                return 264 + b.index
            return None
        if x.kind == "literal" and x.value.__class__ is int and x.value in QUICK_CONSTANTS:
            return 260 + (x.value + 1)
        return None

    def _class_binding(self):
        if self.binding is None:
            self.binding = self._new_class_binding()
        return self.binding

    def _new_class_binding(self):
        cls = self.cls
        layout = self.layout
        if not layout.is_metaclass(cls):
            a = self.space.class_binding(cls)
            if a is not None:
                return a
        # a metaclass, or a class not in the globals: a fresh binding nil -> class
        assoc_cls = self._association_class()
        a = self.space.heap.instantiate(assoc_cls)
        a.ptrs[1] = cls
        return a

    def _association_class(self):
        """Association (PharoCandle: PCAssociation); else the class of the globals'
        bindings. Pharo 8's globals are GlobalVariables, a metaclass's binding an Association."""
        for name in ("Association", "PCAssociation"):
            c = self.space.class_named(name)
            if c is not None:
                return c
        a = self.space.global_association("Object")
        if a is not None:
            return a.cls
        raise CompileError("cannot find the Association class")


# --- helpers -------------------------------------------------------------------------------------

class BlockCode:
    """A full block compiled for a literal frame (Sista V1): what compiler/api.py makes a
    CompiledBlock of, its last literal (kind 'outer') the code whose literal it is."""
    __slots__ = ("header", "literals", "code")

    def __init__(self, header, literals, code):
        self.header = header
        self.literals = literals
        self.code = code


def _is_clean(block) -> bool:
    """Does a real block need nothing of its outer context or receiver (no ^, self, super,
    thisContext, instance variable, nor variables of outer contexts)?"""
    if block.scope.copied:
        return False
    return _clean_nodes(block.statements)


def _clean_nodes(nodes) -> bool:
    for node in nodes:
        if node is None:
            continue
        k = node.kind
        if k == "return":
            return False
        if k == "variable":
            b = node.binding
            if b is not None and (b.kind == "inst" or (b.kind == "pseudo" and b.name in
                                                       ("self", "super", "thisContext"))):
                return False
        elif k == "assign":
            if not _clean_nodes([node.variable, node.value]):
                return False
        elif k == "cascade":
            if not _clean_nodes([node.receiver]) or not all(_clean_nodes(m.args) for m in node.messages):
                return False
        elif k == "brace":
            if not _clean_nodes(node.elements):
                return False
        elif k == "block":
            if not _clean_nodes(node.statements):
                return False
        elif k == "send":
            if not _clean_nodes([node.receiver] + list(node.args)):
                return False
    return True


def _is_constant_ref(node) -> bool:
    """An argument or a pseudo variable: no loop body can change it."""
    if node.kind != "variable":
        return False
    b = node.binding
    return b.kind == "pseudo" or (b.kind == "temp" and b.temp is not None and b.temp.is_arg)


def _declares_context_fields(space, cls) -> bool:
    """`cls` is the context class or a superclass of it, and declares `sender` itself."""
    layout = space.layout
    if layout.is_metaclass(cls) or "sender" not in layout.all_inst_var_names(cls):
        return False
    sup = cls.ptrs[0]
    if sup.__class__ is not int and sup is not space.nil and "sender" in layout.all_inst_var_names(sup):
        return False
    c = space.special(S.CLASS_METHOD_CONTEXT)
    for _ in range(64):
        if c is cls:
            return True
        if c is space.nil or c.__class__ is int:
            return False
        c = c.ptrs[0]
    return False


def block_returns(block) -> bool:
    s = block.statements
    if not s:
        return False
    last = s[-1]
    if last.kind == "return":
        return True
    if last.kind == "send" and last.special == "if":
        if last.selector in ("ifTrue:ifFalse:", "ifFalse:ifTrue:"):
            return block_returns(last.args[0]) and block_returns(last.args[1])
        if last.selector in ("ifNil:ifNotNil:", "ifNotNil:ifNil:"):
            return block_returns(last.args[0]) and block_returns(last.args[1])
    return False


def _kept_before_return(node) -> bool:
    """Squeak 2.2: the statement just before a return is compiled for its value and left on
    the stack (the return discards it) unless it is a message send (or and:/or:, one-armed
    ifs and loops, compiled as usual for effect)."""
    k = node.kind
    if k in ("literal", "variable", "assign", "cascade", "block", "brace"):
        return True
    return (k == "send" and node.special == "if" and node.selector in ("ifTrue:ifFalse:", "ifFalse:ifTrue:")
            and not (block_returns(node.args[0]) and block_returns(node.args[1])))


def _case_pairs(node):
    """[(key block, arm block)] of the argument of an inlinable caseOf: (a brace of
    `[key] -> [arm]` associations of blocks without arguments), else None."""
    if node.kind != "brace" or not node.elements:
        return None
    pairs = []
    for el in node.elements:
        if not (el.kind == "send" and el.selector == "->" and el.receiver is not None
                and _is_block(el.receiver, 0) and _is_block(el.args[0], 0)):
            return None
        pairs.append((el.receiver, el.args[0]))
    return pairs


def _is_block(node, nargs) -> bool:
    return node.kind == "block" and len(node.args) == nargs


def _is_variable_ref(node) -> bool:
    return node.kind == "variable" and node.binding is not None and node.binding.kind in ("temp", "inst", "global") \
        or (node.kind == "variable" and node.name in ("self", "super", "thisContext", "true", "false", "nil"))


def _is_number_literal(node) -> bool:
    return node.kind == "literal" and node.value.__class__ in (int, float)


def _const_block(name, pos):
    v = A.Variable(name, pos)
    v.binding = Binding("pseudo", name=name)
    b = A.Block([], [], [v], pos)
    return b


def _self_node(pos):
    v = A.Variable("self", pos)
    v.binding = Binding("pseudo", name="self")
    return v


def _bound(node):
    if node.kind == "variable" and node.binding is None and node.name in PSEUDO_VARIABLES:
        node.binding = Binding("pseudo", name=node.name)
    if node.kind == "return":
        _bound(node.expr)
    return node


def _temp_var_node(t, pos):
    v = A.Variable(t.name, pos)
    v.binding = Binding("temp", temp=t)
    return v


def _brace_selector(n):
    return "braceWith:" * n if n else "braceWith"


def _dict_lookup(space, d, name):
    """The association for `name` in a guest Dictionary (of Associations), or None."""
    nil = space.nil
    if d is None or d is nil or d.__class__ is int or d.ptrs is None or len(d.ptrs) < 2:
        return None
    arr = d.ptrs[1]
    if arr.__class__ is int or arr.ptrs is None:
        return None
    for a in arr.ptrs:
        if a is nil or a.__class__ is int or a.ptrs is None or len(a.ptrs) < 2:
            continue
        k = a.ptrs[0]
        if k.__class__ is not int and k.bytes is not None and k.ptrs is None \
                and k.bytes.decode("latin-1") == name:
            return a
    return None


def collection_items(space, coll):
    """The elements of a guest Array or OrderedCollection (a class's sharedPools), nils
    left out of an Array."""
    nil = space.nil
    if coll is None or coll is nil or coll.__class__ is int or coll.ptrs is None:
        return []
    if coll.cls is space.special(7):     # Array
        return [p for p in coll.ptrs if p is not nil]
    # OrderedCollection: array firstIndex lastIndex
    if len(coll.ptrs) == 3 and coll.ptrs[1].__class__ is int:
        arr, first, last = coll.ptrs
        return arr.ptrs[first - 1:last]
    return [p for p in coll.ptrs if p is not nil and p.__class__ is not int]
