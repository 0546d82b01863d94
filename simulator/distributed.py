"""Backtests in parallel: one task per strategy and portfolio variant, on local processes or Dask.

``workers=N`` runs the tasks on this process and N-1 helper processes
(:func:`simulator.local_pool.map_local`: no cluster, never slower than serial); ``scheduler``
sends them to an existing Dask cluster (``dask.distributed``).

A task replays ALL days of one strategy on one portfolio (variant) in one worker process, with
that worker's own persistent model (:class:`simulator.day_model.DayModels`). The client then
merges the tasks' records (:func:`merge_runs`) and settles and summarises them exactly as a serial
run does (:func:`simulator.backtest.summarise`).

Why by strategy and variant, not by day ranges: a strategy's day D starts from the real state
at the end of D-1 (battery energy, indoor temperature, generator status) and bids from the state
its D-1 schedule planned; both are only known once D-1 has been replayed. A day-range chunk could
only start from a guessed state, which would change every later figure. Strategies and variants
share nothing but the prices, so splitting there is exact: a re-solve never warm-starts from
another strategy's basis (``SolveOptions.warm_start`` is off by default), and the settlement of
every strategy is the same to the fen as in one serial replay (``tests/simulator/test_distributed.py``).

``workers=None`` and no scheduler run the same tasks in this process, one after the other.
Tasks are handed out longest first (the strategies that re-solve every period).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd

from market.forecasting.run import DEFAULT_FORECASTER
from optimizer.solver import SolveOptions
from simulator.backtest import BacktestResult, strategies_to_run, summarise
from simulator.bounds import strategy_by_name
from simulator.local_pool import map_local
from simulator.replay import BacktestRun, merge_runs, replay
from simulator.strategies import Strategy
from vpp.errors import InputError
from vpp.portfolio_io import LoadedPortfolio

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a Dask scheduler named by address before giving up."""


def replay_task(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    strategy: str,
    forecast: str,
    options: SolveOptions | None,
    on_day: Callable[[dt.date], None] | str | None = None,
    skip_resolves: bool = False,
) -> BacktestRun:
    """One task: replay ``days`` for the single strategy named ``strategy`` (runs on a worker).

    ``on_day`` is called after each day; a string is a Dask event topic instead, to which the
    worker logs each day (the client's progress bar subscribes to it, :func:`map_tasks`).
    """
    if isinstance(on_day, str):
        on_day = _worker_reporter(on_day)
    return replay(loaded, prices, days, [strategy_by_name(strategy)], forecast=forecast, options=options,
                  progress=False, on_day=on_day, skip_resolves=skip_resolves)


def _worker_reporter(topic: str) -> Callable[[dt.date], None] | None:
    """A callback logging each day to ``topic`` on the current Dask worker (None outside one)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    return lambda day: worker.log_event(topic, str(day))


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client`` on ``scheduler`` (``tcp://HOST:PORT``); None without one.

    ``workers`` is accepted for the callers' symmetry and ignored: local processes need no client
    (:func:`map_tasks` with ``workers``).
    """
    if scheduler is None:
        yield None
        return
    from vpp.extras import require

    require("distributed", "parallel", "--scheduler")
    from dask.distributed import Client

    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler}: {exc}",
                         field="--scheduler") from None
    with client:
        yield client


def map_tasks(
    client: Any,
    function: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    shared: dict[str, Any] | None = None,
    *,
    on_step: Callable[[], None] | None = None,
    steps_per_call: int = 0,
    workers: int | None = None,
) -> list[Any]:
    """``[function(*call, **shared) for call in calls]`` on ``client`` (results in order), or locally.

    Without a client the calls run on this process and ``workers - 1`` helper processes
    (:func:`simulator.local_pool.map_local`; None or 1: all here, one after the other).

    ``shared`` keyword arguments are the same for every call; DataFrames among them (the prices)
    are sent to every worker once (``scatter``), the rest travel with each task.

    Progress: with ``steps_per_call`` > 0, ``function`` takes an ``on_day`` keyword and reports
    each of its steps (days) through it; ``on_step`` is then called once per step of every call,
    from the workers through a Dask event topic. With ``steps_per_call`` 0, ``on_step`` is called
    once per finished call.
    """
    shared = dict(shared or {})
    per_day = on_step is not None and steps_per_call > 0
    if client is None:
        return map_local(function, calls, shared, workers=workers or 1, on_step=on_step,
                         steps_per_call=steps_per_call)
    remote = {
        name: client.scatter(value, broadcast=True) if isinstance(value, pd.DataFrame) else value
        for name, value in shared.items()
    }
    topic = f"vpp-progress-{uuid.uuid4().hex}"
    if per_day:
        client.subscribe_topic(topic, lambda _event: on_step())
        remote["on_day"] = topic
    try:
        futures = [client.submit(function, *call, **remote, pure=False) for call in calls]
        if on_step is not None and not per_day:
            from dask.distributed import as_completed

            for _ in as_completed(futures):
                on_step()
        return client.gather(futures)
    finally:
        if per_day:
            client.unsubscribe_topic(topic)


@contextlib.contextmanager
def progress_bar(label: str, total: int, show: bool | None = None) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr (by default only on a terminal); yields its advance-by-one."""
    from rich.progress import Progress

    show = sys.stderr.isatty() if show is None else show
    with Progress(disable=not show, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.update(task, advance=1)


def run_backtest_distributed(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    strategies: list[str] | str,
    *,
    forecast: str = DEFAULT_FORECASTER,
    options: SolveOptions | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool | None = None,
    skip_resolves: bool = False,
) -> BacktestResult:
    """:func:`simulator.backtest.run_backtest` with one Dask task per strategy (bound included).

    Parameters
    ----------
    loaded, prices, days, strategies, forecast, options
        As :func:`simulator.backtest.run_backtest`.
    workers : int, optional
        Processes replaying at once, this one included (:func:`simulator.local_pool.map_local`).
    scheduler : str, optional
        Address of an existing scheduler, ``tcp://HOST:PORT`` (wins over ``workers``).
    client : dask.distributed.Client, optional
        An open client to use instead (neither ``workers`` nor ``scheduler`` then).
    progress : bool, optional
        A progress bar over strategy-days on stderr; default: only when stderr is a terminal.
    skip_resolves : bool
        As :func:`simulator.replay.replay`.
    """
    names, to_run = strategies_to_run(strategies)
    start = time.perf_counter()
    order = longest_first(to_run)
    calls = [(loaded, to_run[i].name) for i in order]

    def go(c: Any) -> list[BacktestRun]:
        with progress_bar("backtest (strategy-days)", len(calls) * len(days), progress) as step:
            return map_tasks(c, _task, calls, {"prices": prices, "days": days, "forecast": forecast,
                                                "options": options, "skip_resolves": skip_resolves},
                             on_step=step, steps_per_call=len(days),
                             workers=workers)

    if client is not None:
        done = go(client)
    else:
        with dask_client(workers, scheduler) as new:
            done = go(new)
    runs = [run for _, run in sorted(zip(order, done, strict=True), key=lambda pair: pair[0])]
    run = merge_runs(runs, seconds=time.perf_counter() - start)
    return summarise(loaded, prices, days, names, run)


def longest_first(strategies: Sequence[Strategy]) -> list[int]:
    """Indices of ``strategies``, those that re-solve in real time first (order kept otherwise).

    A real-time strategy solves up to one model per period, the others one per day: handing the
    long tasks out first lets the short ones fill the other processes.
    """
    return sorted(range(len(strategies)), key=lambda i: strategies[i].rt_price is None)


def _task(
    loaded: LoadedPortfolio,
    strategy: str,
    *,
    prices: pd.DataFrame,
    days: list[dt.date],
    forecast: str,
    options: SolveOptions | None,
    on_day: Callable[[dt.date], None] | str | None = None,
    skip_resolves: bool = False,
) -> BacktestRun:
    return replay_task(loaded, prices, days, strategy, forecast, options, on_day, skip_resolves)
