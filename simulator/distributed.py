"""Backtests in parallel on Dask (``dask.distributed``): one task per strategy and portfolio variant.

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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pandas as pd

from optimizer.solver import SolveOptions
from simulator.backtest import BacktestResult, strategies_to_run, summarise
from simulator.replay import BacktestRun, replay
from simulator.strategies import get_strategies
from vpp.portfolio_io import LoadedPortfolio


def replay_task(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    strategy: str,
    forecast: str,
    options: SolveOptions | None,
) -> BacktestRun:
    """One task: replay ``days`` for the single strategy named ``strategy`` (runs on a worker)."""
    return replay(loaded, prices, days, get_strategies([strategy]), forecast=forecast, options=options,
                  progress=False)


def merge_runs(runs: Sequence[BacktestRun], seconds: float | None = None) -> BacktestRun:
    """One :class:`BacktestRun` from per-strategy runs over the same days (records in run order).

    ``builds``, ``solves`` and ``highs_seconds`` are summed; ``seconds`` is the wall time given
    (default: the sum of the runs' times).
    """
    if not runs:
        raise ValueError("no runs to merge")
    records, states = {}, {}
    for run in runs:
        if run.days != runs[0].days or run.forecast != runs[0].forecast:
            raise ValueError("runs over different days or forecasts cannot be merged")
        records.update(run.records)
        states.update(run.states)
    return BacktestRun(
        days=list(runs[0].days),
        records=records,
        states=states,
        forecast=runs[0].forecast,
        seconds=sum(r.seconds for r in runs) if seconds is None else seconds,
        builds=sum(r.builds for r in runs),
        solves=sum(r.solves for r in runs),
        highs_seconds=sum(getattr(r, "highs_seconds", 0.0) for r in runs),
    )


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client``: on ``scheduler`` (``tcp://HOST:PORT``) if given, else on a new
    ``LocalCluster`` of ``workers`` processes with one thread each; None when neither is set.
    """
    if scheduler is None and not workers:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None,
                     silence_logs=logging.ERROR) as cluster,
        Client(cluster) as client,
    ):
        yield client


def map_tasks(
    client: Any,
    function: Callable[..., Any],
    calls: Sequence[tuple[Any, ...]],
    shared: dict[str, Any] | None = None,
) -> list[Any]:
    """``[function(*call, **shared) for call in calls]`` on ``client`` (results in order), or here.

    ``shared`` keyword arguments are the same for every call; DataFrames among them (the prices)
    are sent to every worker once (``scatter``), the rest travel with each task.
    """
    shared = dict(shared or {})
    if client is None:
        return [function(*call, **shared) for call in calls]
    remote = {
        name: client.scatter(value, broadcast=True) if isinstance(value, pd.DataFrame) else value
        for name, value in shared.items()
    }
    futures = [client.submit(function, *call, **remote, pure=False) for call in calls]
    return client.gather(futures)


def run_backtest_distributed(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    strategies: list[str] | str,
    *,
    forecast: str = "persistence",
    options: SolveOptions | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
) -> BacktestResult:
    """:func:`simulator.backtest.run_backtest` with one Dask task per strategy (bound included).

    Parameters
    ----------
    loaded, prices, days, strategies, forecast, options
        As :func:`simulator.backtest.run_backtest`.
    workers : int, optional
        Worker processes of a new ``LocalCluster`` (one thread each).
    scheduler : str, optional
        Address of an existing scheduler, ``tcp://HOST:PORT`` (wins over ``workers``).
    client : dask.distributed.Client, optional
        An open client to use instead (neither ``workers`` nor ``scheduler`` then).
    """
    names, to_run = strategies_to_run(strategies)
    start = time.perf_counter()
    calls = [(loaded, s.name) for s in to_run]

    def go(c: Any) -> list[BacktestRun]:
        return map_tasks(c, _task, calls, {"prices": prices, "days": days, "forecast": forecast,
                                            "options": options})

    if client is not None:
        runs = go(client)
    else:
        with dask_client(workers, scheduler) as new:
            runs = go(new)
    run = merge_runs(runs, seconds=time.perf_counter() - start)
    return summarise(loaded, prices, days, names, run)


def _task(
    loaded: LoadedPortfolio,
    strategy: str,
    *,
    prices: pd.DataFrame,
    days: list[dt.date],
    forecast: str,
    options: SolveOptions | None,
) -> BacktestRun:
    return replay_task(loaded, prices, days, strategy, forecast, options)
