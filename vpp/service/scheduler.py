"""APScheduler wiring: a BackgroundScheduler whose SQLAlchemy job store lives in the service database.

Jobs (each thin, see :mod:`vpp.service.jobs`), all with ``coalesce=True``, ``max_instances=1`` and a
misfire grace of half a period, so after downtime a job runs once for the current period instead
of replaying the missed ones:

- ``dispatch``: every period, ``dispatch_lead_s`` before each period boundary;
- ``ingest``: every period, ``ingest_lead_s`` before each boundary;
- ``bid``: daily, ``bid_lead_s`` before the market's day-ahead gate closure;
- ``settle``: daily, ``settle_delay_s`` after midnight (market zone).

With an accelerated clock the same triggers are defined in simulated time and wrapped in
:class:`~vpp.service.clock.SimulatedTrigger`; a simulation window bounds them to a run of trading
days (bids and settlements at their own instants, :class:`InstantsTrigger`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from market.calendar import gate_closure, trading_day_index
from market.presets import MarketSpec
from vpp.service.clock import AcceleratedClock, SimulatedTrigger, make_clock
from vpp.service.config import ServiceConfig

JOB_FUNCTIONS = {
    "bid": "vpp.service.jobs:bid_job",
    "dispatch": "vpp.service.jobs:dispatch_job",
    "ingest": "vpp.service.jobs:ingest_job",
    "settle": "vpp.service.jobs:settle_job",
}
"""Job id -> function reference (what the job store keeps)."""


JOB_TABLES = {"service": "apscheduler_jobs", "simulation": "apscheduler_simulation_jobs"}
"""Job store table per kind of ``vpp run``: a simulation never reads or replaces the service's jobs."""


def build_scheduler(
    engine: Engine, config: ServiceConfig, market: MarketSpec, mode: str = "service"
) -> BackgroundScheduler:
    """A BackgroundScheduler with its job store in ``engine``'s database, table
    ``JOB_TABLES[mode]`` (not started)."""
    clock = make_clock(config.clock)
    period_wall_s = market.period_hours * 3600.0 / clock.speed
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLES[mode])},
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": max(1, int(period_wall_s / 2)),
        },
        timezone=dt.UTC,
    )


class InstantsTrigger(BaseTrigger):
    """Fire at each of a list of instants, in order (APScheduler's DateTrigger fires once only).

    An instant already past when the job is added is not fired (a restarted simulation moves its
    clock back before any bid or settlement it still owes, :mod:`vpp.service.simulate`).

    Parameters
    ----------
    instants : sequence of datetime.datetime
        Timezone-aware fire times.
    """

    def __init__(self, instants: list[dt.datetime]) -> None:
        self.instants = sorted(pd.Timestamp(t).tz_convert("UTC").to_pydatetime() for t in instants)

    def get_next_fire_time(
        self, previous_fire_time: dt.datetime | None, now: dt.datetime
    ) -> dt.datetime | None:
        """The first instant after ``previous_fire_time`` (more than a second after: simulated
        round trips are exact to the millisecond only), or at or after ``now`` if none fired yet."""
        after = now if previous_fire_time is None else previous_fire_time + dt.timedelta(seconds=1)
        for instant in self.instants:
            if instant >= after:
                return instant
        return None

    def __str__(self) -> str:
        return f"instants[{len(self.instants)}]"


def triggers(
    config: ServiceConfig, market: MarketSpec, window: tuple[dt.date, dt.date] | None = None
) -> dict[str, BaseTrigger]:
    """The trigger of each job; with ``window`` only the runs that concern those trading days.

    Parameters
    ----------
    config : ServiceConfig
        Leads and delays (s).
    market : MarketSpec
        Period, zone and gate closure.
    window : (datetime.date, datetime.date), optional
        First and last simulated trading day: their bids, periods and settlements.
    """
    period_s = market.period_hours * 3600.0
    lead = pd.Timedelta(seconds=config.dispatch_lead_s)
    ingest_lead = pd.Timedelta(seconds=config.ingest_lead_s)
    delay = pd.Timedelta(seconds=config.settle_delay_s)
    if window is None:
        midnight = trading_day_index(market, pd.Timestamp.now(tz=market.timezone).date())[0]
        closure = gate_closure(market, midnight.date()) - pd.Timedelta(seconds=config.bid_lead_s)
        settle_at = midnight + delay
        out: dict[str, BaseTrigger] = {
            "dispatch": IntervalTrigger(seconds=period_s, start_date=midnight - lead),
            "ingest": IntervalTrigger(seconds=period_s, start_date=midnight - ingest_lead),
            "bid": CronTrigger(
                hour=closure.hour, minute=closure.minute, second=closure.second, timezone=market.timezone
            ),
            "settle": CronTrigger(
                hour=settle_at.hour,
                minute=settle_at.minute,
                second=settle_at.second,
                timezone=market.timezone,
            ),
        }
    else:
        days = [d.date() for d in pd.date_range(window[0], window[1], freq="D")]
        first, last = trading_day_index(market, days[0]), trading_day_index(market, days[-1])
        end = last[-1] + market.period
        out = {
            "dispatch": IntervalTrigger(
                seconds=period_s, start_date=first[0] - lead, end_date=last[-1] - lead + market.period / 2
            ),
            "ingest": IntervalTrigger(
                seconds=period_s, start_date=first[0] - ingest_lead - market.period, end_date=end + delay
            ),
            "bid": InstantsTrigger([bid_instant(config, market, d) for d in days]),
            "settle": InstantsTrigger([settle_instant(config, market, d) for d in days]),
        }
    clock = make_clock(config.clock)
    if isinstance(clock, AcceleratedClock):
        out = {name: SimulatedTrigger(trigger, clock) for name, trigger in out.items()}
    return out


def bid_instant(config: ServiceConfig, market: MarketSpec, day: dt.date) -> pd.Timestamp:
    """When the day-ahead bid for ``day`` runs: ``bid_lead_s`` before its gate closure."""
    return gate_closure(market, day) - pd.Timedelta(seconds=config.bid_lead_s)


def settle_instant(config: ServiceConfig, market: MarketSpec, day: dt.date) -> pd.Timestamp:
    """When ``day`` is settled: ``settle_delay_s`` after its last period ends."""
    return trading_day_index(market, day)[-1] + market.period + pd.Timedelta(seconds=config.settle_delay_s)


def start_with_jobs(
    scheduler: BackgroundScheduler,
    config: ServiceConfig,
    market: MarketSpec,
    window: tuple[dt.date, dt.date] | None = None,
    extra: dict[str, tuple[str, BaseTrigger, dict[str, Any]]] | None = None,
) -> None:
    """Start ``scheduler`` with exactly this run's jobs (call while holding the scheduler lease).

    The scheduler starts paused, every job a previous run left in its store is removed (a job of
    other settings or paths must never fire here), this run's jobs are added, then it resumes.
    """
    scheduler.start(paused=True)
    scheduler.remove_all_jobs()
    add_jobs(scheduler, config, market, window, extra)
    scheduler.resume()


def add_jobs(
    scheduler: BackgroundScheduler,
    config: ServiceConfig,
    market: MarketSpec,
    window: tuple[dt.date, dt.date] | None = None,
    extra: dict[str, tuple[str, BaseTrigger, dict[str, Any]]] | None = None,
) -> None:
    """Add (or replace) the service jobs, and ``extra`` ``{id: (func_ref, trigger, kwargs)}`` ones."""
    settings = config.to_dict()
    for name, trigger in triggers(config, market, window).items():
        scheduler.add_job(
            JOB_FUNCTIONS[name],
            trigger=trigger,
            id=name,
            name=name,
            kwargs={"settings": settings},
            replace_existing=True,
        )
    for name, (func, trigger, kwargs) in (extra or {}).items():
        scheduler.add_job(func, trigger=trigger, id=name, name=name, kwargs=kwargs, replace_existing=True)


def serve(config: ServiceConfig, *, standby: bool = False, stop_after_s: float | None = None) -> None:
    """Run the service until interrupted: upgrade the schema, take the lease, start the scheduler.

    Parameters
    ----------
    config : ServiceConfig
        Settings (wall clock).
    standby : bool
        When another ``vpp run`` holds the database's scheduler lease, wait and take over when it
        stops or dies (default: refuse with :class:`~vpp.service.lease.LeaseHeldError`).
    stop_after_s : float, optional
        Stop after this many seconds (tests); default: run until SIGINT or SIGTERM.

    Raises
    ------
    LeaseHeldError
        Another process holds the lease and ``standby`` is False.
    LeaseLostError
        The lease was lost while running (the scheduler is stopped first).
    """
    import signal
    import threading

    from vpp.service import jobs, outbox
    from vpp.service.db import make_engine, upgrade_schema
    from vpp.service.lease import LeaseLostError, SchedulerLeaseHolder
    from vpp.service.pipeline import Pipeline

    config = config.with_paths_resolved()
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    lease = SchedulerLeaseHolder(engine, "service")
    try:
        if not lease.acquire(standby=standby, stop=stop):
            return
        lease.start_heartbeat(on_lost=lambda _reason: stop.set())
        outbox.sweep(config.outbox)
        pipeline = Pipeline(config, engine)
        jobs.register(pipeline)
        scheduler = build_scheduler(engine, config, pipeline.market)
        start_with_jobs(scheduler, config, pipeline.market)
        try:
            pipeline.catch_up(pipeline.clock.now())
            stop.wait(stop_after_s)
        finally:
            scheduler.shutdown(wait=True)
        if lease.lost.is_set():
            raise LeaseLostError("the scheduler lease was lost (see the log); this service stopped")
    finally:
        lease.release()
        engine.dispose()
