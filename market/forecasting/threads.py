"""Independent model fits run concurrently on threads: the same models, sooner.

LightGBM trains and bins in its C library, called through ``ctypes``, which releases the GIL: fits
of separate models on separate threads run on separate cores. Each fit is single-threaded
(``n_jobs=1``) with a fixed ``random_state`` and sees only its own data, so its model does not depend
on the thread or on what runs beside it; :func:`run_all` returns the results in the order of the
jobs, the models a loop would have fitted one after the other (``tests/market/test_forecast_threads.py``
checks the forecasts are bit-identical).

Threads: :data:`THREADS_ENV` (a positive integer; 1: one fit after the other, in the calling thread),
else the cores this process may run on (``os.sched_getaffinity``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from vpp.errors import InputError

THREADS_ENV = "VPP_FORECAST_THREADS"
"""Environment variable capping the threads of concurrent model fits (1: serial)."""

Result = TypeVar("Result")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity; ``os.cpu_count()`` where there is none)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def fit_threads() -> int:
    """Threads for concurrent fits: :data:`THREADS_ENV` when set, else :func:`usable_cores`.

    Raises
    ------
    InputError
        :data:`THREADS_ENV` is not a positive integer.
    """
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return usable_cores()
    try:
        threads = int(raw)
    except ValueError:
        threads = 0
    if threads < 1:
        raise InputError(f"{THREADS_ENV}={raw!r} is not a positive integer (1: fits one after the other)",
                         field=THREADS_ENV)
    return threads


def run_all(jobs: Sequence[Callable[[], Result]]) -> list[Result]:
    """Each job's result, in the order of ``jobs``; on up to :func:`fit_threads` threads at once.

    The jobs must be independent (no shared state they change). With one thread or one job they
    run in the calling thread. The first job to raise re-raises here (after the others finished).
    """
    threads = min(fit_threads(), len(jobs))
    if threads <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="vpp-fit") as pool:
        futures = [pool.submit(job) for job in jobs]
        return [f.result() for f in futures]
