"""Processes, semaphores and the timer (a mixin of Interpreter).

The guest's ProcessorScheduler (special object 3's value) has [quiescentProcessLists,
activeProcess]; the lists are LinkedLists, one per priority (priority p at index p-1).
A Process is [nextLink, suspendedContext, priority, myList, ...]; a Semaphore is a
LinkedList [firstLink, lastLink] with excessSignals. Switching processes stores the
active context's registers and loads the new process's suspended context, as the C VM
does; when no process can run the interpreter has no active context (self.ctx is None).
"""
from __future__ import annotations

import time

from ..memory import specials as S
from ..memory.objects import SqObject
from ..memory.contexts import (
    ACTIVE_PROCESS, EXCESS_SIGNALS, FIRST_LINK, LAST_LINK, MY_LIST, NEXT_LINK, PRIORITY,
    PROCESS_LISTS, SUSPENDED_CONTEXT, VALUE,
)

CLOCK_MASK = 0x1FFFFFFF


class Scheduler:
    """Mixin: needs self.heap, self.nil, self.ctx, self.store_registers(), self.fetch()."""

    def init_scheduler(self) -> None:
        self.start_time = time.monotonic()
        self.next_wakeup = 0          # millisecond clock value of the timer, 0 if none
        self.pending_signals = []
        self.low_space_pending = False     # external semaphore indices signalled by the host
        self.interrupt_pending = False
        self.last_waiter = None       # the process that last waited on a semaphore (deadlocks)
        self.switches = 0             # process switches (transfer_to) so far: a cheap check

    # --- the clock ---------------------------------------------------------------
    def millisecond_clock(self) -> int:
        """The guest's millisecond clock (primitive 135), wrapping like the C VM's."""
        return int((time.monotonic() - self.start_time) * 1000) & CLOCK_MASK

    # --- scheduler structure -----------------------------------------------------
    def scheduler(self) -> SqObject:
        return self.heap.specials.ptrs[S.SCHEDULER_ASSOCIATION].ptrs[VALUE]

    def active_process(self) -> SqObject:
        return self.scheduler().ptrs[ACTIVE_PROCESS]

    def is_semaphore(self, obj) -> bool:
        return obj.__class__ is SqObject and obj.cls is self.heap.specials.ptrs[S.CLASS_SEMAPHORE]

    def link_last(self, proc, lst) -> None:
        nil = self.nil
        lp = lst.ptrs
        if lp[FIRST_LINK] is nil:
            lp[FIRST_LINK] = proc
        else:
            lp[LAST_LINK].ptrs[NEXT_LINK] = proc
        lp[LAST_LINK] = proc
        proc.ptrs[MY_LIST] = lst

    def unlink_first(self, lst):
        nil = self.nil
        lp = lst.ptrs
        first = lp[FIRST_LINK]
        if first is lp[LAST_LINK]:
            lp[FIRST_LINK] = lp[LAST_LINK] = nil
        else:
            lp[FIRST_LINK] = first.ptrs[NEXT_LINK]
        first.ptrs[NEXT_LINK] = nil
        return first

    def unlink(self, proc, lst) -> bool:
        """Remove `proc` from `lst`; False if it is not there."""
        nil = self.nil
        lp = lst.ptrs
        if lp is None or len(lp) < 2:
            return False            # not a LinkedList (a guest's garbage)
        if lp[FIRST_LINK] is proc:
            nxt = proc.ptrs[NEXT_LINK]
            lp[FIRST_LINK] = nxt
            if lp[LAST_LINK] is proc:
                lp[LAST_LINK] = nil
        else:
            prev = lp[FIRST_LINK]
            while prev is not nil:
                links = prev.ptrs if prev.__class__ is SqObject else None
                if not links:
                    return False    # a link that is no Link: not in this list
                if links[NEXT_LINK] is proc:
                    break
                prev = links[NEXT_LINK]
            if prev is nil:
                return False
            prev.ptrs[NEXT_LINK] = proc.ptrs[NEXT_LINK]
            if lp[LAST_LINK] is proc:
                lp[LAST_LINK] = prev
        proc.ptrs[NEXT_LINK] = nil
        return True

    def put_to_sleep(self, proc) -> None:
        """Append a process to the runnable list of its priority."""
        lists = self.scheduler().ptrs[PROCESS_LISTS].ptrs
        self.link_last(proc, lists[proc.ptrs[PRIORITY] - 1])

    def wake_highest_priority(self):
        """Remove and answer the highest-priority runnable process, or None."""
        nil = self.nil
        lists = self.scheduler().ptrs[PROCESS_LISTS].ptrs
        for i in range(len(lists) - 1, -1, -1):
            lst = lists[i]
            if lst.ptrs[FIRST_LINK] is not nil:
                return self.unlink_first(lst)
        return None

    def has_runnable_process(self) -> bool:
        nil = self.nil
        return any(lst.ptrs[FIRST_LINK] is not nil for lst in self.scheduler().ptrs[PROCESS_LISTS].ptrs)

    def transfer_to(self, proc) -> None:
        """Make `proc` the active process (None: nothing can run; the interpreter idles)."""
        sched = self.scheduler()
        old = sched.ptrs[ACTIVE_PROCESS]
        if self.ctx is not None:
            self.store_registers()
            old.ptrs[SUSPENDED_CONTEXT] = self.ctx
        if proc is None:
            self.ctx = None
            self.stack = None
            self.request_stop("idle")
            return
        sched.ptrs[ACTIVE_PROCESS] = proc
        self.switches += 1
        ctx = proc.ptrs[SUSPENDED_CONTEXT]
        proc.ptrs[SUSPENDED_CONTEXT] = self.nil
        if self.has_closures:
            proc.ptrs[MY_LIST] = self.nil
        self.fetch(ctx)

    def resume(self, proc) -> None:
        """Make `proc` runnable, preempting the active process if `proc` has a higher priority."""
        active = self.active_process()
        if self.ctx is not None and proc.ptrs[PRIORITY] > active.ptrs[PRIORITY]:
            self.put_to_sleep(active)
            self.transfer_to(proc)
        else:
            self.put_to_sleep(proc)
            if self.ctx is None:
                self.transfer_to(self.wake_highest_priority())

    def synchronous_signal(self, sema) -> None:
        nil = self.nil
        if sema.ptrs[FIRST_LINK] is nil:
            sema.ptrs[EXCESS_SIGNALS] = sema.ptrs[EXCESS_SIGNALS] + 1
        else:
            self.resume(self.unlink_first(sema))

    def wait_on(self, sema) -> None:
        excess = sema.ptrs[EXCESS_SIGNALS]
        if excess > 0:
            sema.ptrs[EXCESS_SIGNALS] = excess - 1
        else:
            self.last_waiter = waiter = self.active_process()
            self.link_last(waiter, sema)
            self.transfer_to(self.wake_highest_priority())

    def suspend_active(self) -> None:
        self.transfer_to(self.wake_highest_priority())

    def yield_active(self) -> None:
        """Let the other runnable processes of the same priority run first."""
        active = self.active_process()
        lists = self.scheduler().ptrs[PROCESS_LISTS].ptrs
        lst = lists[active.ptrs[PRIORITY] - 1]
        if lst.ptrs[FIRST_LINK] is self.nil:
            return
        self.put_to_sleep(active)
        self.transfer_to(self.wake_highest_priority())

    # --- timers and asynchronous signals (called at the heartbeat) ----------------
    def signal_special_semaphore(self, index: int) -> None:
        sp = self.heap.specials.ptrs
        if index < len(sp) and self.is_semaphore(sp[index]):
            self.synchronous_signal(sp[index])

    def signal_external_semaphore(self, index: int) -> None:
        """Called by host code (any thread): signal external object `index` (1-based) soon."""
        self.pending_signals.append(index)

    def check_timers(self) -> None:
        """Fire the timer semaphore if due and deliver pending signals."""
        if self.next_wakeup and self.millisecond_clock() >= self.next_wakeup:
            self.next_wakeup = 0
            self.signal_special_semaphore(S.THE_TIMER_SEMAPHORE)
        if self.low_space_pending:
            # the heap's account asked for it (memory/accounting.py), as the C VM's
            # checkForInterrupts after sufficientSpaceToAllocate found too little left
            self.low_space_pending = False
            self.signal_special_semaphore(S.THE_LOW_SPACE_SEMAPHORE)
        if self.interrupt_pending:
            self.interrupt_pending = False
            self.signal_special_semaphore(S.THE_INTERRUPT_SEMAPHORE)
        if self.pending_signals:
            pending, self.pending_signals = self.pending_signals, []
            sp = self.heap.specials.ptrs
            table = sp[S.EXTERNAL_OBJECTS_ARRAY] if len(sp) > S.EXTERNAL_OBJECTS_ARRAY else self.nil
            for index in pending:
                if table is not self.nil and 1 <= index <= len(table.ptrs):
                    sema = table.ptrs[index - 1]
                    if self.is_semaphore(sema):
                        self.synchronous_signal(sema)

    def milliseconds_to_next_timer(self):
        """Milliseconds until the timer is due (0 if overdue), None if no timer is set."""
        if not self.next_wakeup:
            return None
        return max(0, self.next_wakeup - self.millisecond_clock())
