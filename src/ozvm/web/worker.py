"""The VM worker: the one thread that owns every space of the workbench.

Guest objects are touched only on this thread. A request hands the worker a job and waits
for its answer (`call`, from any thread; `run_on_vm`, from the server's event loop, never
blocking it) under a timeout:

    worker.call(fn, *args, timeout=5.0)        fn(workbench, *args) on the worker thread
    await worker.run(fn, *args, timeout=5.0)   the same from a coroutine

A job is either a function, run to its end (keep it short: a page's membrane work), or a
*stepped* job: a function answering a generator, which the worker advances one step (one
quantum of guest work) at a time, in turn with the other jobs, so long guest work (an
evaluation, a printString, running a space) never holds the worker for long. A stepped job
whose waiter gave up is closed (its generator's `finally` cleans up in the guest).

Between jobs the worker gives the running spaces (those with a `cpu_share`) their shares
of the CPU in short slices (`vm.run`), so a space runs continuously while every page
still answers. A *watch* (`watch`, `watching`) is looked at after each turn of the worker
until it answers: a live screen waits for the guest's next frame so, without polling.
"""
from __future__ import annotations

import collections
import concurrent.futures
import threading
import time
import traceback

from ..errors import OzError


class WorkerBusy(OzError):
    """The worker did not answer a request within its timeout."""


class WorkerStopped(OzError):
    """The worker thread is not running (the server is stopping)."""


class Interrupted(OzError):
    """A stepped job was interrupted (`VMWorker.interrupt`: a page's interrupt button, or its
    page gone) before it answered; its generator was closed."""


RUN_SLICE_SECONDS = 0.05      # guest time given to the running spaces between two jobs
LIVE_SLICE_SECONDS = 0.01     # ... while a page watches the guest live (a live screen is open)
IDLE_WAIT_SECONDS = 0.05      # how long the worker sleeps when nothing is to be done


class _Job:
    __slots__ = ("fn", "args", "future", "stepped", "steps", "abandoned", "label", "progress",
                 "interrupted", "key")

    def __init__(self, fn, args, stepped, label=None):
        self.fn, self.args, self.stepped = fn, args, stepped
        self.future = concurrent.futures.Future()
        self.steps = None
        self.abandoned = False      # its waiter gave up: a stepped job is closed at its next turn
        self.label = label          # what the job does, for `tasks` (stepped jobs)
        self.progress = None        # the last (done, total) a stepped job yielded
        self.interrupted = None     # why `interrupt` ended it
        self.key = None             # the key `interrupt` knows it by


class Task:
    """Work under way off the worker (`VMWorker.track`): its label and last progress, for
    `tasks`."""
    __slots__ = ("label", "progress")

    def __init__(self, label):
        self.label = label
        self.progress = None


class VMWorker:
    """The thread owning `state` (a Workbench: the VM and its spaces)."""

    def __init__(self, state):
        self.state = state
        self._queue = collections.deque()
        self._stepping = collections.deque()
        self._under_way = []        # the stepped jobs started and not yet over, in start order
        self._keyed = {}            # key -> a stepped job a page may interrupt (run(key=...))
        self._tracked = []          # Tasks under way on other threads (track), in start order
        self._watches = []          # [(fn, args, future)]: looked at after each turn (watch)
        self.viewers = 0            # pages watching the guests live (live screens open): short slices
        self._wake = threading.Condition()
        self._stop = False
        self.thread = threading.Thread(target=self._loop, name="ozvm-worker", daemon=True)
        self.errors = collections.deque(maxlen=20)   # host errors the loop survived

    # --- from other threads -----------------------------------------------------------
    def start(self) -> "VMWorker":
        self.thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    def submit(self, fn, *args, stepped: bool = False) -> concurrent.futures.Future:
        """Queue `fn(state, *args)`; a Future for its answer. `stepped`: fn answers a
        generator advanced one step at a time; its return value is the answer. A step
        that yields a pair (done, total) reports the job's progress (`tasks`)."""
        return self._submit(fn, args, stepped).future

    def watch(self, fn, *args) -> concurrent.futures.Future:
        """Look at `fn(state, *args)` on the worker after each of its turns (a run slice, a
        step of a stepped job, or an idle wait) until it answers something other than None;
        the Future gets that answer (or its exception). Cancel the Future to stop watching.
        While a watch waits, the running spaces run in short slices, so what it waits for
        (a guest's next frame) is seen soon after it happened (as while `viewers`)."""
        future = concurrent.futures.Future()
        if self._stop or not self.thread.is_alive():
            raise WorkerStopped("the VM worker is not running")
        with self._wake:
            self._watches.append((fn, args, future))
            self._wake.notify()
        return future

    async def watching(self, fn, *args):
        """`watch` for a coroutine, for as long as it takes; a cancelled coroutine (a page
        gone) ends the watch."""
        import asyncio
        future = self.watch(fn, *args)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            future.cancel()
            raise

    def tasks(self) -> list:
        """[{"label", "done", "total"}] of the stepped jobs under way, then of the tracked
        work under way off the worker, that have a label and reported progress (from any
        thread: a snapshot)."""
        out = []
        for job in list(self._under_way) + list(self._tracked):
            if job.label and job.progress is not None:
                out.append({"label": job.label, "done": job.progress[0], "total": job.progress[1]})
        return out

    def track(self, label) -> Task:
        """A Task listed by `tasks` (its `progress` set by whoever does the work, on any
        thread) until `untrack`."""
        task = Task(label)
        self._tracked.append(task)
        return task

    def untrack(self, task: Task) -> None:
        try:
            self._tracked.remove(task)
        except ValueError:
            pass

    def interrupt(self, key: str, why: str = "interrupted from the page") -> bool:
        """End the stepped job run under `key` at its next turn (its generator closed, its
        waiter answered Interrupted(why)); False when no job of that key is under way."""
        job = self._keyed.get(key)
        if job is None:
            return False
        job.interrupted = why
        job.abandoned = True
        with self._wake:
            self._wake.notify()
        return True

    def _submit(self, fn, args, stepped, label=None, key=None) -> _Job:
        if self._stop or not self.thread.is_alive():
            raise WorkerStopped("the VM worker is not running")
        job = _Job(fn, args, stepped, label)
        if key is not None:
            if key in self._keyed:
                raise OzError("a job with the key %r is already under way" % key)
            job.key = key
            self._keyed[key] = job
        with self._wake:
            self._queue.append(job)
            self._wake.notify()
        return job

    def call(self, fn, *args, timeout: float = 10.0, stepped: bool = False):
        """Run `fn(state, *args)` on the worker and answer its result (its exception is
        raised here); WorkerBusy when it has not answered within `timeout` seconds (a
        stepped job is then abandoned; a plain one still runs when its turn comes)."""
        job = self._submit(fn, args, stepped)
        try:
            return job.future.result(timeout)
        except concurrent.futures.TimeoutError:
            job.abandoned = True
            job.future.cancel()
            raise WorkerBusy("the VM did not answer within %g s" % timeout) from None

    async def run(self, fn, *args, timeout: float = 10.0, stepped: bool = False, label=None,
                  key=None):
        """`call` for a coroutine: the event loop goes on while the worker works. `label`
        names a stepped job in `tasks`; `key` lets `interrupt` end it. `timeout` None: as
        long as it takes (a stepped job with a budget of work, a key to interrupt it)."""
        import asyncio
        job = self._submit(fn, args, stepped, label, key)
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(job.future)), timeout)
        except asyncio.TimeoutError:
            job.abandoned = True
            job.future.cancel()
            raise WorkerBusy("the VM did not answer within %g s" % timeout) from None

    # --- on the worker thread -----------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._wake:
                if self._stop:
                    break
                if not self._queue and not self._stepping and not self.state.running_spaces():
                    self._wake.wait(IDLE_WAIT_SECONDS)
                job = self._queue.popleft() if self._queue else None
            if job is not None:
                self._start(job)
                continue
            if self._stepping:
                self._step(self._stepping.popleft())
            else:
                self._run_spaces()
            if self._watches:
                self._look()
        for job in list(self._queue) + list(self._stepping):
            self._over(job)
            self._close(job)
            if not job.future.done():
                job.future.set_exception(WorkerStopped("the server stopped"))
        for _, _, future in self._watches:
            if future.set_running_or_notify_cancel():
                future.set_exception(WorkerStopped("the server stopped"))
        self.state.shutdown()

    def _start(self, job: _Job) -> None:
        if job.future.cancelled() or not job.future.set_running_or_notify_cancel():
            self._over(job)
            return
        try:
            answer = job.fn(self.state, *job.args)
        except BaseException as e:          # noqa: B902 - the worker must survive anything
            self._over(job)
            self._fail(job, e)
            return
        if not job.stepped:
            self._over(job)
            job.future.set_result(answer)
            return
        job.steps = answer
        self._under_way.append(job)
        self._step(job)

    def _step(self, job: _Job) -> None:
        if job.abandoned or job.future.cancelled():
            self._over(job)
            self._close(job)
            if not job.future.done():
                job.future.set_exception(Interrupted(job.interrupted) if job.interrupted
                                         else WorkerBusy("abandoned"))
            return
        try:
            step = next(job.steps)
        except StopIteration as stop:
            self._over(job)
            job.future.set_result(stop.value)
            return
        except BaseException as e:          # noqa: B902
            self._over(job)
            self._fail(job, e)
            return
        if step.__class__ is tuple and len(step) == 2:
            job.progress = step
        self._stepping.append(job)

    def _over(self, job: _Job) -> None:
        if job in self._under_way:
            self._under_way.remove(job)
        if job.key is not None and self._keyed.get(job.key) is job:
            self._keyed.pop(job.key, None)

    def _close(self, job: _Job) -> None:
        if job.steps is not None:
            try:
                job.steps.close()
            except BaseException as e:      # noqa: B902
                self._note(e)

    def _fail(self, job: _Job, e: BaseException) -> None:
        if not isinstance(e, Exception):     # MemoryError is an Exception; SystemExit etc. are not
            e = OzError("the job stopped: %s" % type(e).__name__)
        if not isinstance(e, OzError):
            self._note(e)
        if not job.future.cancelled():
            try:
                job.future.set_exception(e)
            except concurrent.futures.InvalidStateError:
                pass

    def _note(self, e: BaseException) -> None:
        self.errors.append("%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()))

    def _look(self) -> None:
        """Look at the watches: those answered (or failed, or cancelled) are over."""
        for watch in list(self._watches):
            fn, args, future = watch
            if not future.cancelled():
                try:
                    answer = fn(self.state, *args)
                except BaseException as e:      # noqa: B902 - the worker must survive anything
                    if not isinstance(e, OzError):
                        self._note(e)
                    answer, failure = None, e if isinstance(e, Exception) else OzError(
                        "the watch stopped: %s" % type(e).__name__)
                else:
                    failure = None
                if answer is None and failure is None:
                    continue
                if future.set_running_or_notify_cancel():
                    if failure is not None:
                        future.set_exception(failure)
                    else:
                        future.set_result(answer)
            with self._wake:
                self._watches.remove(watch)

    def _run_spaces(self) -> None:
        try:
            live = self._watches or self.viewers > 0
            self.state.run_slice(LIVE_SLICE_SECONDS if live else RUN_SLICE_SECONDS)
        except Exception as e:              # a guest gone wild never stops the worker
            self._note(e)
            self.state.stop_all(str(e))
            time.sleep(IDLE_WAIT_SECONDS)
