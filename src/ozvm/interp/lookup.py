"""Method lookup and the global method cache (a mixin of Interpreter).

A class's method dictionary (Behavior field 1) is a MethodDictionary: fixed fields
[tally, array of methods], indexable fields the selectors (nil in empty slots);
selectors are compared by identity. The cache maps (selector, class) to the decoded
method (see contexts.decode_method), kept in each selector's `cache` slot as a dict
class -> entry; hooked methods get primitive index -1 there so that the hot path hands
them to the slow path.
"""
from __future__ import annotations

from ..memory.objects import SqObject
from ..memory.contexts import MDICT_ARRAY, MDICT_SELECTOR0, decode_method

HOOK_PRIM = -1


class MethodLookup:
    """Mixin: needs self.nil, self.heap, self.cached_selectors, self.hooks."""

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
        """Probe a MethodDictionary as the C VM does: start at the selector's identity
        hash masked by the number of selector slots, then linearly (wrapping) until the
        selector or a nil slot."""
        ptrs = mdict.ptrs
        nil = self.nil
        size = len(ptrs) - MDICT_SELECTOR0
        if size <= 0:
            return None
        h = selector.hash if selector.__class__ is SqObject else selector
        i = (h & (size - 1)) + MDICT_SELECTOR0
        end = len(ptrs)
        wrapped = False
        while True:
            probe = ptrs[i]
            if probe is selector:
                found = ptrs[MDICT_ARRAY].ptrs[i - MDICT_SELECTOR0]
                return None if found is nil else found
            if probe is nil:
                return None
            i += 1
            if i == end:
                if wrapped:
                    return None
                i = MDICT_SELECTOR0
                wrapped = True

    def cache_entry(self, cls, selector):
        """The method cache entry for a send, filling the cache; None if the lookup
        does not end at a compiled method (doesNotUnderstand:, run:with:in:, ...).

        The cache lives in the selectors: `selector.cache` is a dict class -> entry
        (a Symbol's cache slot is the interpreter's); self.cached_selectors lists them."""
        if selector.__class__ is not SqObject:
            return None
        d = selector.cache
        if d is not None:
            if d.__class__ is not dict:
                # not a Symbol (a compiled method keeps its decoded form there): look up
                # without caching, as the C VM does for any object used as a selector
                d = False
            else:
                entry = d.get(cls)
                if entry is not None:
                    return entry
        try:
            meth = self.lookup(cls, selector)
        except LookupError:
            return None
        if meth is None or meth.__class__ is not SqObject or meth.fmt != 12:
            return None
        entry = decode_method(meth, self.heap)
        if meth in self.hooks:
            entry = (meth, HOOK_PRIM) + entry[2:]
        if d is None:
            d = selector.cache = {}
            self.cached_selectors.append(selector)
        if d is not False:
            d[cls] = entry
        return entry

    # --- flushing (primitives 89, 116, 119 and become:) ----------------------
    def flush_method_cache(self) -> None:
        for sel in self.cached_selectors:
            sel.cache = None
        self.cached_selectors = []

    def flush_method_cache_for_selector(self, selector) -> None:
        if selector.__class__ is SqObject and type(selector.cache) is dict:
            selector.cache = None
            self.cached_selectors = [s for s in self.cached_selectors if s is not selector]

    def flush_method_cache_for_method(self, meth) -> None:
        for sel in self.cached_selectors:
            d = sel.cache
            if d:
                for cls in [c for c, e in d.items() if e[0] is meth]:
                    del d[cls]
        if meth.__class__ is SqObject and meth.fmt == 12:
            meth.cache = None

    def flush_method_cache_after_become(self, objects) -> None:
        """After become: of `objects`: flush only when the lookup can see a change (a class,
        a compiled method or a selector changed identity); growing collections and method
        dictionaries by become: keep the cache."""
        metaclass = self.smallint_class.cls.cls
        for obj in objects:
            if obj.__class__ is not SqObject:
                continue
            if obj.fmt == 12 or type(obj.cache) is dict or obj.cls is metaclass \
                    or obj.cls.cls is metaclass:
                self.flush_method_cache()
                return
