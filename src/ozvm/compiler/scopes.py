"""Name resolution and temporary allocation for both block styles.

Squeak 2.2 (format 6502): every argument and temporary, of the method and of its blocks, is a
temp of the method context, numbered in the order the parser meets the declarations (method
args, method temps, then block args as they come; the to:do: limit temp after its block).

Closures (6504/6505, EncoderForV3PlusClosures): each real (non-inlined) block is its own
context: args, then copied values (outer temps it reads, sorted by their outer index), then
its own temps (declared ones, then those of blocks inlined into it), then its temp vector.
Temps written by an inner block, or written after an inner block captured them, live in the
defining context's temp vector (bytecode 138) and are reached with bytecodes 140-142.
"""
from __future__ import annotations


class TempVar:
    __slots__ = ("name", "scope", "index", "is_arg", "remote", "vector", "vindex",
                 "reads", "writes", "decl_order", "pos")

    def __init__(self, name, scope, is_arg, decl_order, pos=0):
        self.name = name
        self.scope = scope          # the RealScope whose context holds it
        self.index = None
        self.is_arg = is_arg
        self.remote = False
        self.vector = None          # the TempVar of the temp vector holding it (remote temps)
        self.vindex = None          # index inside that vector
        self.reads = []             # (RealScope, order) of every read
        self.writes = []            # (RealScope, order) of every write
        self.decl_order = decl_order
        self.pos = pos

    def __repr__(self):
        return "TempVar(%s@%s)" % (self.name, self.index)


class RealScope:
    """A context: the method, or (closures only) a real block."""

    def __init__(self, parent, block=None):
        self.parent = parent
        self.block = block
        self.args = []
        self.temps = []         # own temps in allocation order (declared, then hoisted)
        self.free_inlined = []  # Squeak 5, Opal: slots of finished inlined blocks, to reuse
        self.copied = []        # TempVars of outer contexts this block copies (closures)
        self.vector = None      # TempVar of this context's temp vector, if any
        self.index_of = {}      # id(TempVar) -> local index in this context
        self.children = []
        self.used = []          # TempVars read or written directly in this context
        self.loops = []         # (first, last) reference order of each inlined loop
        self.num_temps = 0
        self.order_start = 0
        self.order_end = 0
        if parent is not None:
            parent.children.append(self)

    def depth_chain(self):
        s = self
        while s is not None:
            yield s
            s = s.parent


class NameScope:
    """A lexical level of names (method or any block, inlined or not)."""

    def __init__(self, parent, real):
        self.parent = parent
        self.real = real
        self.names = {}

    def lookup(self, name):
        s = self
        while s is not None:
            v = s.names.get(name)
            if v is not None:
                return v
            s = s.parent
        return None


def analyse_closures(method_scope: RealScope) -> None:
    """Decide which temps are remote, build temp vectors, copied values and indices."""
    scopes = []

    def collect(s):
        scopes.append(s)
        for c in s.children:
            collect(c)
    collect(method_scope)

    # 1. remote temps: written in another context, or written in its own context after
    #    an inner context captured it
    for s in scopes:
        for t in s.temps:
            foreign = [o for (sc, o) in t.reads + t.writes if sc is not s]
            if not foreign:
                continue
            if any(sc is not s for (sc, o) in t.writes):
                t.remote = True
                continue
            first_capture = min(foreign)
            if any(o > first_capture for (sc, o) in t.writes):
                t.remote = True
            elif _written_in_loop_around_capture(t, s):
                t.remote = True

    # 2. temp vectors and local indices
    for s in scopes:
        remote = [t for t in s.temps if t.remote]
        if remote:
            vec = TempVar("<vector>", s, False, -1)
            s.vector = vec
            for i, t in enumerate(remote):
                t.vector = vec
                t.vindex = i
            vec.reads = []
            for t in remote:
                vec.reads.extend(t.reads + t.writes)

    # 3. copied values (outer temps or vectors used in a context or its inner ones) and
    #    indices, outside-in so that copied values sort by their index in the outer context
    for s in scopes:
        idx = 0
        for a in s.args:
            s.index_of[id(a)] = idx
            a.index = idx
            idx += 1
        if s.parent is not None:
            needed = {}
            _gather_uses(s, needed)
            s.copied = sorted(needed.values(), key=lambda v: (_outer_index(v), v.decl_order))
            for c in s.copied:
                s.index_of[id(c)] = idx
                idx += 1
        for t in s.temps:
            if not t.remote:
                s.index_of[id(t)] = idx
                t.index = idx
                idx += 1
        if s.vector is not None:
            s.index_of[id(s.vector)] = idx
            s.vector.index = idx
            idx += 1
        s.num_temps = idx


def _outer_index(v):
    return v.index if v.index is not None else 999


def _gather_uses(target, needed):
    """Outer variables used in context `target` or its inner contexts."""
    scopes = _all_inner(target)
    ids = set(id(x) for x in scopes)
    for sc in scopes:
        for t in sc.used:
            if id(t.scope) in ids:
                continue
            v = t.vector if t.remote else t
            needed.setdefault(id(v), v)


def _all_inner(s):
    out = [s]
    for c in s.children:
        out.extend(_all_inner(c))
    return out


def _written_in_loop_around_capture(t, s):
    """A temp written inside a loop that also captures it must be shared too."""
    for (lo, hi) in getattr(s, "loops", ()):
        caps = [o for (sc, o) in t.reads + t.writes if sc is not s and lo <= o <= hi]
        if caps and any(lo <= o <= hi for (sc, o) in t.writes if sc is s):
            return True
    return False
