"""One trading day on an accelerated clock, through the real scheduler and database.

The clock maps simulated time onto wall time with a speed-up factor (``86400 / day_seconds``):
a short segment around the day-ahead bid (``bid_lead_s`` before the gate closure of D-1), then a
jump to just before D. A BackgroundScheduler with the SQLAlchemy job store fires the production
jobs at the mapped wall times, plus the replay gateway (:mod:`vpp.service.replay`) that feeds
prices and telemetry through the inbox.

Restarting on the same database resumes: a bid already made is not repeated, and the clock
starts at the last dispatched period (already done, so skipped), so every period is dispatched
exactly once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from typing import Any

import pandas as pd
from apscheduler.triggers.interval import IntervalTrigger

from market.calendar import gate_closure, trading_day_index
from vpp.portfolio_io import load_portfolio
from vpp.service import jobs, replay, repository
from vpp.service.clock import AcceleratedClock, SimulatedTrigger
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, session_factory, upgrade_schema
from vpp.service.pipeline import Pipeline
from vpp.service.scheduler import add_jobs, build_scheduler
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
    """Run trading day ``day`` through the scheduler and return the day's summary.

    Parameters
    ----------
    config : ServiceConfig
        Settings (its ``clock`` is replaced by the accelerated clock).
    day : datetime.date
        The simulated trading day.
    prices_path : str
        Replay price file (CONVENTIONS format) with ``da_price`` and ``rt_price`` of ``day``.
    day_seconds : float
        Wall seconds for 24 simulated hours.
    until : str, optional
        ``HH:MM``: stop the simulation at this time of ``day`` (a partial day, no settlement).

    Returns
    -------
    dict
        :func:`vpp.service.status.day_summary` plus ``wall_seconds``, ``speed`` and ``resumed_at``.
    """
    started = time.perf_counter()
    config = config.with_paths_resolved()
    market = load_portfolio(config.portfolio).market
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    speed = 86400.0 / day_seconds
    period = market.period
    index = trading_day_index(market, day)
    end = index[-1] + period + pd.Timedelta(seconds=config.settle_delay_s) + period
    if until is not None:
        end = pd.Timestamp(f"{day} {until}").tz_localize(market.timezone)
    resume = _resume_point(engine, market, day, index[0] - 2 * period)
    wall = time.time() + STARTUP_WALL_S
    segments: list[tuple[float, float]] = []
    if not resume["bid_done"]:
        bid_at = gate_closure(market, day) - pd.Timedelta(seconds=config.bid_lead_s)
        segments.append((wall, (bid_at - period / 2).timestamp()))
        wall += BID_WINDOW_WALL_S
    segments.append((wall, resume["sim_start"].timestamp()))
    clock = AcceleratedClock(tuple(segments), speed)
    config = dataclasses.replace(config, clock=clock.to_dict())
    pipeline = Pipeline(config, engine)
    jobs.register(pipeline)
    replay.publish_day_ahead(config.inbox, prices_path, market, day)
    gateway = SimulatedTrigger(
        IntervalTrigger(
            seconds=market.period_hours * 3600.0,
            start_date=index[0] + period * 1.1,
            end_date=index[-1] + period * 1.2,
        ),
        clock,
    )
    scheduler = build_scheduler(engine, config, market)
    extra = {
        "gateway": (
            "vpp.service.replay:gateway_job",
            gateway,
            {"settings": config.to_dict(), "prices_path": str(prices_path), "day": day.isoformat()},
        )
    }
    add_jobs(scheduler, config, market, day, extra)
    scheduler.start()
    try:
        while clock.now() < end:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    summary = day_summary(engine, market, day)
    summary.update(
        wall_seconds=round(time.perf_counter() - started, 2),
        speed=round(speed, 1),
        resumed_at=resume["resumed_at"],
    )
    engine.dispose()
    return summary


def _resume_point(engine: Any, market: Any, day: dt.date, fresh_start: pd.Timestamp) -> dict[str, Any]:
    """Where a (re)started simulation begins: after the bid if it was made, at the last
    dispatched period if any (its dispatch is then skipped as done)."""
    index = trading_day_index(market, day)
    start = index[0].tz_convert("UTC").to_pydatetime()
    stop = (index[-1] + market.period).tz_convert("UTC").to_pydatetime()
    with session_factory(engine)() as s:
        bid_done = repository.run_done(s, "bid", day.isoformat())
        done = [r.period_start for r in repository.runs(s, "dispatch", start, stop) if r.status != "failed"]
    if not done:
        return {"bid_done": bid_done, "sim_start": fresh_start, "resumed_at": None}
    last = pd.Timestamp(max(done)).tz_convert(market.timezone)
    return {"bid_done": bid_done, "sim_start": last, "resumed_at": last.isoformat()}
