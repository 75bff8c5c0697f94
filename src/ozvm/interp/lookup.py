"""Method lookup and the global method cache (a mixin of Interpreter).

A class's method dictionary (Behavior field 1) is a MethodDictionary: fixed fields
[tally, array of methods], indexable fields the selectors (nil in empty slots);
selectors are compared by identity. The cache maps (class, selector) to the decoded
method (see contexts.decode_method); hooked methods get primitive index -1 there so
that the hot path hands them to the slow path.
"""
from __future__ import annotations

from ..memory.objects import SqObject
from .contexts import MDICT_ARRAY, MDICT_SELECTOR0, decode_method

HOOK_PRIM = -1


class MethodLookup:
    """Mixin: needs self.nil, self.method_cache, self.hooks."""

    def lookup(self, cls, selector):
        """The method (or non-method object) found for `selector` from `cls` up the
        superclass chain, or None. Raises LookupError("nil methodDict", cls) when a class
        on the chain has no method dictionary (for #cannotInterpret:)."""
        nil = self.nil
        while cls is not nil:
            mdict = cls.ptrs[1]
            if mdict is nil:
                raise LookupError("nil methodDict", cls)
            found = self.lookup_in_dict(mdict, selector)
            if found is not None:
                return found
            cls = cls.ptrs[0]
        return None

    def lookup_in_dict(self, mdict, selector):
        ptrs = mdict.ptrs
        try:
            i = ptrs.index(selector, MDICT_SELECTOR0)
        except ValueError:
            return None
        while ptrs[i] is not selector:      # list.index uses ==; be strict about identity
            try:
                i = ptrs.index(selector, i + 1)
            except ValueError:
                return None
        found = ptrs[MDICT_ARRAY].ptrs[i - MDICT_SELECTOR0]
        return None if found is self.nil else found

    def cache_entry(self, cls, selector):
        """The method cache entry for a send, filling the cache; None if the lookup
        does not end at a compiled method (doesNotUnderstand:, run:with:in:, ...)."""
        key = (cls, selector)
        entry = self.method_cache.get(key)
        if entry is not None:
            return entry
        try:
            meth = self.lookup(cls, selector)
        except LookupError:
            return None
        if meth is None or meth.__class__ is not SqObject or meth.fmt != 12:
            return None
        entry = decode_method(meth, self.nil)
        if meth in self.hooks:
            entry = (meth, HOOK_PRIM) + entry[2:]
        self.method_cache[key] = entry
        return entry

    # --- flushing (primitives 89, 116, 119 and become:) ----------------------
    def flush_method_cache(self) -> None:
        self.method_cache.clear()

    def flush_method_cache_for_selector(self, selector) -> None:
        for key in [k for k in self.method_cache if k[1] is selector]:
            del self.method_cache[key]

    def flush_method_cache_for_method(self, meth) -> None:
        for key in [k for k, e in self.method_cache.items() if e[0] is meth]:
            del self.method_cache[key]
        if meth.__class__ is SqObject:
            meth.cache = None
