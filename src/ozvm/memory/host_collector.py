"""Python's own (the host's) cyclic garbage collector while a guest runs a quantum.

CPython's collector walks every field of every object of the generations it collects. A
guest's big pointer object is one Python list (an `Array new: 8000000` is a list of eight
million references): a collection of the generation it lies in walks all of it, twice
(about 36 ms for eight million fields), and a full collection walks every object of every
loaded space (100 ms and more). Inside a quantum that time is an overrun: the host waits
for it. So, while a guest runs a quantum (`quantum()`, around the interpreter's run in
space/control.py):

* full (oldest-generation) collections wait until control is back with the host;
* a big list just made (`keep_out_of_young`, called by the memory account for every big
  pointer or word object) is taken out of the young generations at no cost: `gc.freeze()`
  moves everything the collector tracks into its permanent generation, which no collection
  walks. When the quantum ends, `gc.unfreeze()` puts those objects back into the oldest
  generation, whose next (full) collection runs in host time. Objects that became cyclic
  garbage meanwhile are freed then (plain garbage is freed at once by reference counts,
  big objects included, and refunded to the space's account).

Outside a quantum (loading, host calls, a run without a quantum) a big list is moved out of
the young generations by a collection of them right after it was made (`gc.collect(1)`:
cheap then, while nothing else is young), so that no young collection walks it later at a
moment nobody chose.

Python's collector is one per process, so is this state (`_STATE`): which quantum is open,
whether it froze anything. A host that froze objects itself (gc.freeze before it loaded
anything) keeps them frozen: then a quantum does not freeze, and big lists are moved by a
collection as outside a quantum. PyPy's collector is incremental and does not walk lists
in young collections this way: nothing is done there.
"""
from __future__ import annotations

import contextlib
import gc
import sys

REFCOUNTED = sys.implementation.name == "cpython"
_CAN_FREEZE = REFCOUNTED and hasattr(gc, "freeze")
_DEFERRED_FULL = 1 << 30        # the oldest generation's threshold during a quantum


class _HostCollectorState:
    """The open quantum (how deeply nested) and what it did to Python's collector."""

    def __init__(self):
        self.depth = 0
        self.saved_threshold = None
        self.froze = False
        self.freezes = 0            # big lists frozen since the process started
        self.collections = 0        # big lists moved out by a young collection


_STATE = _HostCollectorState()


@contextlib.contextmanager
def quantum():
    """Run a guest's quantum: no full collection and no walk of a big list inside it; what
    was deferred is given back to the collector when the last open quantum ends (in host
    time; quanta of several threads may overlap)."""
    state = _STATE
    managed = REFCOUNTED and hasattr(gc, "get_threshold")
    if managed and state.depth == 0:
        young, middle, old = state.saved_threshold = gc.get_threshold()
        gc.set_threshold(young, middle, _DEFERRED_FULL)
    state.depth += 1
    try:
        yield
    finally:
        state.depth -= 1
        if managed and state.depth == 0:
            if state.froze:
                state.froze = False
                gc.unfreeze()
            if state.saved_threshold is not None:
                gc.set_threshold(*state.saved_threshold)
                state.saved_threshold = None


def keep_out_of_young(obj) -> None:
    """`obj` is a big object just made: keep Python's young collections from walking its
    fields (see the module's comment). Only lists (pointer and word objects) are walked."""
    if not REFCOUNTED or (obj.ptrs is None and obj.words is None):
        return
    state = _STATE
    if state.depth and _CAN_FREEZE and (state.froze or gc.get_freeze_count() == 0):
        gc.freeze()
        state.froze = True
        state.freezes += 1
        return
    gc.collect(1)
    state.collections += 1

