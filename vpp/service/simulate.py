"""Trading days on an accelerated clock, through the real scheduler and database.

The clock maps simulated time onto wall time with a speed-up factor (``86400 / day_seconds``):
a short segment around the first day-ahead bid (``bid_lead_s`` before the gate closure of D-1),
then a jump to just before D, then continuous time through the last simulated day and its
settlement, so the bid for D+1 runs while D is being dispatched, as in production. A
BackgroundScheduler with the SQLAlchemy job store fires the production jobs at the mapped wall
times, plus the replay gateway (:mod:`vpp.service.simulated_gateways`) that feeds prices and telemetry
through the inbox.

Restarting on the same database resumes: the clock starts at the last dispatched period (already
done, so skipped), or earlier if a bid or a settlement due before it is not done yet, so every
period is dispatched exactly once and every day bid and settled once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections import Counter
from typing import Any

import pandas as pd
from apscheduler.triggers.interval import IntervalTrigger

from market.calendar import trading_day_index
from vpp.portfolio_io import load_portfolio
from vpp.service import jobs, outbox, repository, simulated_gateways
from vpp.service.clock import AcceleratedClock, SimulatedTrigger
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, session_factory, upgrade_schema
from vpp.service.lease import LeaseLostError, SchedulerLeaseHolder
from vpp.service.pipeline import Pipeline
from vpp.service.scheduler import bid_instant, build_scheduler, settle_instant, start_with_jobs
from vpp.service.status import day_summary

log = logging.getLogger(__name__)

STARTUP_WALL_S = 1.5
"""Wall time (s) between building the clock and its first segment: the scheduler is up by then."""

BID_WINDOW_WALL_S = 1.5
"""Wall time (s) given to the bid segment before the clock jumps to the trading day."""


def simulate_day(
    config: ServiceConfig,
    day: dt.date,
    prices_path: str,
    *,
    day_seconds: float = 30.0,
    until: str | None = None,
) -> dict[str, Any]:
    """Run trading day ``day`` through the scheduler and return the day's summary
    (:func:`simulate_days` with one day)."""
    return simulate_days(config, day, 1, prices_path, day_seconds=day_seconds, until=until)


def simulate_days(
    config: ServiceConfig,
    first_day: dt.date,
    days: int,
    prices_path: str,
    *,
    day_seconds: float = 30.0,
    until: str | None = None,
    prices_tz: str | None = None,
    prices_label: str = "start",
    standby: bool = False,
) -> dict[str, Any]:
    """Run ``days`` consecutive trading days from ``first_day`` through the scheduler.

    The run holds the database's scheduler lease (:mod:`vpp.service.lease`) from before it reads
    where to resume until it stops, and keeps its jobs in their own job store table, so it never
    runs next to, nor replaces the jobs of, another ``vpp run`` on the same database.

    Parameters
    ----------
    config : ServiceConfig
        Settings (its ``clock`` is replaced by the accelerated clock).
    first_day : datetime.date
        The first simulated trading day.
    days : int
        Number of consecutive trading days (>= 1).
    prices_path : str
        Replay price file (CONVENTIONS format) with ``da_price`` and ``rt_price`` of every day.
    day_seconds : float
        Wall seconds for 24 simulated hours.
    until : str, optional
        ``HH:MM``: stop the simulation at this time of the last day (a partial day, not settled).
    prices_tz, prices_label : optional
        Zone of naive timestamps in the replay file (default the market's) and how it labels
        periods (default ``start``, the CONVENTIONS format; ``end`` for exchange files).
    standby : bool
        When another ``vpp run`` holds the lease, wait and take over when it stops or dies
        (default: raise :class:`~vpp.service.lease.LeaseHeldError`).

    Returns
    -------
    dict
        One day: :func:`vpp.service.status.day_summary`; several: the same keys summed over the
        days (``missed_periods`` concatenated, ``revenue_yuan`` over the settled days) plus
        ``days`` (each day's summary) and ``settled_days``; both with ``currency`` (of the money
        figures), ``wall_seconds``, ``speed`` and ``resumed_at``.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    started = time.perf_counter()
    config = config.with_paths_resolved()
    market = load_portfolio(config.portfolio).market
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    lease = SchedulerLeaseHolder(engine, "simulation")
    try:
        lease.acquire(standby=standby)
        return _simulate_holding_lease(
            config, engine, lease, market, first_day, days, prices_path, day_seconds, until, started,
            prices_tz, prices_label,
        )
    finally:
        lease.release()
        engine.dispose()


def _simulate_holding_lease(
    config: ServiceConfig,
    engine: Any,
    lease: SchedulerLeaseHolder,
    market: Any,
    first_day: dt.date,
    days: int,
    prices_path: str,
    day_seconds: float,
    until: str | None,
    started: float,
    prices_tz: str | None,
    prices_label: str,
) -> dict[str, Any]:
    """:func:`simulate_days` once the lease is held."""
    outbox.sweep(config.outbox)
    speed = 86400.0 / day_seconds
    period = market.period
    window = [first_day + dt.timedelta(days=i) for i in range(days)]
    first, last = trading_day_index(market, window[0]), trading_day_index(market, window[-1])
    end = last[-1] + period + pd.Timedelta(seconds=config.settle_delay_s) + period
    if until is not None:
        end = pd.Timestamp(f"{window[-1]} {until}").tz_localize(market.timezone)
    resume = _resume_point(engine, config, market, window, first[0] - 2 * period)
    wall = time.time() + STARTUP_WALL_S
    segments: list[tuple[float, float]] = []
    if resume["first_bid_due"]:
        segments.append((wall, (bid_instant(config, market, window[0]) - period / 2).timestamp()))
        wall += BID_WINDOW_WALL_S
    segments.append((wall, resume["sim_start"].timestamp()))
    clock = AcceleratedClock(tuple(segments), speed)
    config = dataclasses.replace(config, clock=clock.to_dict())
    lease.record_clock(clock.to_dict())
    lease.start_heartbeat()
    pipeline = Pipeline(config, engine)
    jobs.register(pipeline)
    for day in window:
        simulated_gateways.publish_day_ahead(
            config.inbox, prices_path, market, day, prices_tz=prices_tz, prices_label=prices_label
        )
    gateway = SimulatedTrigger(
        IntervalTrigger(
            seconds=market.period_hours * 3600.0,
            start_date=first[0] + period * 1.1,
            end_date=last[-1] + period * 1.2,
        ),
        clock,
    )
    scheduler = build_scheduler(engine, config, market, "simulation")
    extra = {
        "gateway": (
            "vpp.service.simulated_gateways:gateway_job",
            gateway,
            {
                "settings": config.to_dict(),
                "prices_path": str(prices_path),
                "day": window[0].isoformat(),
                "last_day": window[-1].isoformat(),
                "prices_tz": prices_tz,
                "prices_label": prices_label,
            },
        )
    }
    start_with_jobs(scheduler, config, market, (window[0], window[-1]), extra)
    try:
        while clock.now() < end and not lease.lost.is_set():
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    if lease.lost.is_set():
        raise LeaseLostError("the scheduler lease was lost (see the log); the simulation stopped")
    per_day = [day_summary(engine, market, day) for day in window]
    summary = per_day[0] if days == 1 else _combined(per_day)
    summary.update(
        currency=market.currency,  # of revenue_yuan (the suffix means the market's currency)
        wall_seconds=round(time.perf_counter() - started, 2),
        speed=round(speed, 1),
        resumed_at=resume["resumed_at"],
    )
    return summary


def _combined(per_day: list[dict[str, Any]]) -> dict[str, Any]:
    """Day summaries added up (see :func:`simulate_days`)."""
    total: dict[str, Any] = {"first_day": per_day[0]["day"], "last_day": per_day[-1]["day"]}
    summed = ("bids", "bid_rows", "dispatch_runs", "periods", "fallbacks", "not_proven_optimal", "repaired",
              "setpoint_rows")
    for key in summed:
        total[key] = sum(d[key] for d in per_day)
    total["duplicate_setpoints"] = sum(d["duplicate_setpoints"] for d in per_day)
    total["missed_periods"] = [t for d in per_day for t in d["missed_periods"]]
    total["fallback_reasons"] = sorted({r for d in per_day for r in d["fallback_reasons"]})
    sources: Counter[str] = Counter()
    for d in per_day:
        sources.update(d["state_sources"])
    total["state_sources"] = dict(sorted(sources.items()))
    settled = [d["revenue_yuan"] for d in per_day if d["revenue_yuan"] is not None]
    total["settled_days"] = len(settled)
    total["revenue_yuan"] = round(sum(settled), 2) if settled else None
    total["days"] = per_day
    return total


def _resume_point(
    engine: Any, config: ServiceConfig, market: Any, window: list[dt.date], fresh_start: pd.Timestamp
) -> dict[str, Any]:
    """Where a (re)started simulation begins.

    At the last dispatched period of the window if any (its dispatch is then skipped as done),
    else just before the first day (after a bid segment if the first bid is not done); moved back
    to just before any bid or settlement that was due by then but is not done (a kill in the
    middle of one), so it runs again.
    """
    start = trading_day_index(market, window[0])[0].tz_convert("UTC").to_pydatetime()
    stop = (trading_day_index(market, window[-1])[-1] + market.period).tz_convert("UTC").to_pydatetime()
    with session_factory(engine)() as s:
        bid_done = {d: repository.run_done(s, "bid", d.isoformat()) for d in window}
        settled = {d: repository.run_done(s, "settle", d.isoformat()) for d in window}
        done = [r.period_start for r in repository.runs(s, "dispatch", start, stop) if r.status != "failed"]
    if not done:
        return {"first_bid_due": not bid_done[window[0]], "sim_start": fresh_start, "resumed_at": None}
    sim_start = pd.Timestamp(max(done)).tz_convert(market.timezone)
    for day in window:
        for instant, finished in (
            (bid_instant(config, market, day), bid_done[day]),
            (settle_instant(config, market, day), settled[day]),
        ):
            if not finished and instant <= sim_start:
                sim_start = min(sim_start, instant - market.period / 2)
    return {"first_bid_due": False, "sim_start": sim_start, "resumed_at": sim_start.isoformat()}
