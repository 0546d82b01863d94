"""Independent tasks on local processes, this one working too: never slower than running them here.

:func:`map_local` runs ``function(*call, **shared)`` for every call and returns the results in
call order, as ``[function(*c, **shared) for c in calls]`` does. This process works through the
calls from the first one on; ``workers - 1`` helper processes (``spawn``: a fresh interpreter, no
inherited HiGHS threads) start at the same time and take the next unclaimed call each as soon as
they are ready. A helper still importing when the last call is claimed is stopped, never waited
for, so a run too small to share costs no more than a serial one (start-up happens on the other
cores, in parallel), and one big enough to share ends with its longest call. List the calls
longest first.

Why not ``concurrent.futures.ProcessPoolExecutor``: its caller only waits, and a pool start-up
(about 1-2 s of imports per process here) is then paid before the first result. Why not Dask's
``LocalCluster``: the same, plus a scheduler (3-5 s); Dask stays for an existing cluster
(:func:`simulator.distributed.dask_client`).

Tasks, their arguments and results must pickle; each helper receives ``function``, ``calls``
and ``shared`` once. A task that raises in a helper raises here (the first one, by call order
of failure); a helper that dies raises :class:`WorkerDiedError`.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

POLL_S = 0.05
"""Seconds between checks of the helpers while waiting for their results."""


class WorkerDiedError(RuntimeError):
    """A helper process ended without returning the result of the call it had taken."""


def map_local(
    function: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    shared: dict[str, Any] | None = None,
    *,
    workers: int = 1,
    on_step: Callable[[], None] | None = None,
    steps_per_call: int = 0,
) -> list[Any]:
    """``[function(*call, **shared) for call in calls]`` on this process and ``workers - 1`` helpers.

    Parameters
    ----------
    function : callable
        A module-level function (it is pickled by name).
    calls : sequence of tuple
        Positional arguments of each call, the longest call first.
    shared : dict, optional
        Keyword arguments common to every call.
    workers : int
        Processes working at once, this one included (1 or fewer: everything here).
    on_step, steps_per_call
        Progress, as :func:`simulator.distributed.map_tasks`: with ``steps_per_call`` > 0,
        ``function`` takes an ``on_day`` keyword and ``on_step`` is called once per step of every
        call (helpers' steps included, from a thread of this process); else once per call.
    """
    shared = dict(shared or {})
    per_step = on_step is not None and steps_per_call > 0
    helpers = max(0, min(int(workers), len(calls)) - 1)
    if helpers == 0:
        return [_call_here(function, call, shared, on_step, per_step) for call in calls]
    return _Pool(function, calls, shared, helpers, on_step, per_step).run()


def _call_here(function: Callable[..., Any], call: tuple[Any, ...], shared: dict[str, Any],
               on_step: Callable[[], None] | None, per_step: bool) -> Any:
    extra = {"on_day": lambda _day: on_step()} if per_step else {}
    result = function(*call, **shared, **extra)
    if on_step is not None and not per_step:
        on_step()
    return result


class _Pool:
    """One :func:`map_local` run: the claim list, the helpers and the thread listening to them."""

    def __init__(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]], shared: dict[str, Any],
                 helpers: int, on_step: Callable[[], None] | None, per_step: bool) -> None:
        self.function, self.calls, self.shared = function, calls, shared
        self.on_step, self.per_step = on_step, per_step
        self.results: dict[int, Any] = {}
        self.owner: dict[int, int] = {}
        self.errors: list[BaseException] = []
        self.next = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.stop = threading.Event()
        context = mp.get_context("spawn")
        self.outbox = context.Queue()
        self.inboxes = [context.Queue() for _ in range(helpers)]
        self.processes = [
            context.Process(target=_helper, args=(wid, self.inboxes[wid], self.outbox), daemon=True)
            for wid in range(helpers)
        ]

    def run(self) -> list[Any]:
        payload = (self.function, list(self.calls), self.shared, self.per_step)
        listener = threading.Thread(target=self._listen, name="vpp-local-pool", daemon=True)
        try:
            for inbox, process in zip(self.inboxes, self.processes, strict=True):
                inbox.put(payload)  # sent by the queue's feeder thread: start() does not wait for it
                process.start()
            listener.start()
            while (index := self._claim(-1)) is not None:
                call = self.calls[index]
                result = _call_here(self.function, call, self.shared, self.on_step, self.per_step)
                with self.lock:
                    self.results[index] = result
            self._wait_for_helpers()
            return [self.results[i] for i in range(len(self.calls))]
        finally:
            self.stop.set()
            for inbox in self.inboxes:
                inbox.put(None)
            for process in self.processes:
                if process.is_alive():
                    process.terminate()  # still importing, or taken nothing: never waited for
                process.join()
            if listener.is_alive():
                listener.join()
            for q in (self.outbox, *self.inboxes):
                q.cancel_join_thread()
                q.close()

    def _claim(self, wid: int) -> int | None:
        """The next unclaimed call for worker ``wid`` (-1: this process), None when all are taken."""
        with self.lock:
            return self._claim_locked(wid)

    def _wait_for_helpers(self) -> None:
        with self.changed:
            while True:
                if self.errors:
                    raise self.errors[0]
                pending = [i for i in range(self.next) if i not in self.results]
                if not pending:
                    return
                for index in pending:
                    process = self.processes[self.owner[index]]
                    if process.exitcode is not None and process.exitcode != 0:
                        raise WorkerDiedError(f"a worker process ended (exit code {process.exitcode}) "
                                         f"before finishing task {index + 1} of {len(self.calls)}")
                self.changed.wait(POLL_S)

    def _listen(self) -> None:
        """Answer the helpers: hand out calls, collect results and errors, pass progress on."""
        while not self.stop.is_set():
            try:
                kind, wid, value = self.outbox.get(timeout=POLL_S)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            if kind == "step":
                if self.on_step is not None:
                    self.on_step()
                continue
            with self.changed:
                if kind == "ready":
                    index = None if self.stop.is_set() else self._claim_locked(wid)
                    self.inboxes[wid].put(index)
                elif kind == "result":
                    index, result = value
                    self.results[index] = result
                    if self.on_step is not None and not self.per_step:
                        self.on_step()
                elif kind == "error":
                    self.errors.append(value)
                self.changed.notify_all()

    def _claim_locked(self, wid: int) -> int | None:
        """:meth:`_claim` with the lock held."""
        if self.next >= len(self.calls) or self.errors:
            return None
        index, self.next = self.next, self.next + 1
        self.owner[index] = wid
        return index


def _helper(wid: int, inbox: Any, outbox: Any) -> None:
    """A helper process: take calls until none is left, send each result (or the error) back."""
    function, calls, shared, per_step = inbox.get()
    extra = {"on_day": lambda _day: outbox.put(("step", wid, None))} if per_step else {}
    while True:
        outbox.put(("ready", wid, None))
        index = inbox.get()
        if index is None:
            return
        try:
            result = function(*calls[index], **shared, **extra)
        except BaseException as exc:  # sent back and raised by the caller
            outbox.put(("error", wid, _picklable(exc)))
            return
        outbox.put(("result", wid, (index, result)))


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its type and message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
