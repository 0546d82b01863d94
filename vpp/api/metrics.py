"""``GET /metrics``: Prometheus metrics of the service, read from its database on each scrape
(issue 14 item 6).

The figures are the database's, so they hold whichever process runs the scheduler (``vpp run``)
and survive restarts; the API process only reads. Metrics (all prefixed ``vpp_``):

- ``dispatches_total{status}``: dispatch runs by status (ok, fallback, failed); counter.
- ``fallbacks_total``: dispatch runs that sent the safe fallback; counter.
- ``dispatches_not_proven_optimal_total{kind}``: dispatched periods whose schedule is feasible but not
  proven optimal, ``repaired`` after the solver's time limit or ``feasible`` (a MIP stopped at it);
  counter (an alert on it says the machine is too loaded for the dispatch time limit).
- ``dispatch_seconds``: time of the last 96 dispatch runs (solve included), summary (count, sum) and
  ``dispatch_seconds_last``.
- ``missed_periods``: periods that passed undispatched since the last dispatched one.
- ``last_dispatch_age_seconds``: wall clock minus the end of the last successful dispatch.
- ``bid_state{trading_day, state}``: 1 for the state of today's and the next bid day's bid: none,
  failed, awaiting_approval, approved, dispatching or settled.
- ``scrape_error``: 1 when the database could not be read (the other metrics are then absent).

Trading days and missed periods use the service clock (:func:`vpp.service.status.service_now`):
the accelerated one of a simulated run, else the wall clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from market.presets import MarketSpec

BID_STATES = ("none", "failed", "awaiting_approval", "approved", "dispatching", "settled")
"""The states ``vpp_bid_state`` reports, one-hot per trading day."""

RECENT_DISPATCHES = 96
"""How many of the latest dispatch runs ``vpp_dispatch_seconds`` summarises."""

NOT_PROVEN_OPTIMAL = ("repaired", "feasible")
"""Setpoint sources of a schedule not proven optimal (:func:`vpp.solve_outcome.schedule_source`)."""


class ServiceCollector(Collector):
    """Collects the metrics from the database at ``engine`` for ``market`` on each scrape."""

    def __init__(self, engine: Engine, market: Any, now: Any = None) -> None:
        self.engine = engine
        self.market = market  # a MarketSpec, or a callable returning the current one
        self.now = now  # a callable giving the wall clock (tests); default the real one

    def collect(self) -> Iterator[Metric]:
        error = GaugeMetricFamily("vpp_scrape_error", "1 when the database could not be read")
        try:
            market = self.market() if callable(self.market) else self.market
            now = pd.Timestamp.now(tz="UTC") if self.now is None else pd.Timestamp(self.now())
            metrics = list(_read(self.engine, market, now))
        except Exception:  # a scrape reports, never raises
            error.add_metric([], 1.0)
            yield error
            return
        error.add_metric([], 0.0)
        yield error
        yield from metrics


def _read(engine: Engine, market: MarketSpec, now: pd.Timestamp) -> Iterator[Metric]:
    from market.calendar import next_trading_day
    from vpp.api.store import Day
    from vpp.service.api_tables import BidApproval
    from vpp.service.db import Bid, JobRun, Setpoint, Statement, session_factory
    from vpp.service.lease import read_lease
    from vpp.service.status import dispatch_gap, service_now

    service = service_now(read_lease(engine), now) or now
    with session_factory(engine)() as s:
        by_status = dict(
            s.execute(
                sa.select(JobRun.status, sa.func.count())
                .where(JobRun.job == "dispatch")
                .group_by(JobRun.status)
            ).all()
        )
        not_optimal = dict(
            s.execute(
                sa.select(Setpoint.source, sa.func.count(sa.distinct(Setpoint.period_start)))
                .where(Setpoint.source.in_(NOT_PROVEN_OPTIMAL))
                .group_by(Setpoint.source)
            ).all()
        )
        recent = s.scalars(
            sa.select(JobRun.detail)
            .where(JobRun.job == "dispatch")
            .order_by(JobRun.finished_at.desc())
            .limit(RECENT_DISPATCHES)
        ).all()
        last_ok = s.scalar(
            sa.select(sa.func.max(JobRun.finished_at)).where(JobRun.job == "dispatch", JobRun.status == "ok")
        )
        gap = dispatch_gap(s, market, service)
        today = pd.Timestamp(service).tz_convert(market.timezone).date()
        states = {}
        for day in sorted({today, next_trading_day(market, service)}):
            span = Day.of(market, day)
            run = s.scalar(
                sa.select(JobRun.status).where(JobRun.job == "bid", JobRun.period_key == day.isoformat())
            )
            has_bid = s.scalar(sa.select(sa.func.count()).select_from(Bid).where(Bid.trading_day == day)) or 0
            dispatched = (
                s.scalar(
                    sa.select(sa.func.count())
                    .select_from(Setpoint)
                    .where(Setpoint.period_start >= span.start, Setpoint.period_start < span.end)
                )
                or 0
            )
            states[day] = _bid_state(
                run,
                bool(has_bid),
                s.get(BidApproval, day) is not None,
                bool(dispatched),
                s.get(Statement, day) is not None,
            )

    dispatches = CounterMetricFamily("vpp_dispatches", "Dispatch runs by status", labels=["status"])
    for status in ("ok", "fallback", "failed"):
        dispatches.add_metric([status], float(by_status.get(status, 0)))
    yield dispatches
    yield CounterMetricFamily(
        "vpp_fallbacks",
        "Dispatch runs that sent the safe fallback",
        value=float(by_status.get("fallback", 0)),
    )
    unproven = CounterMetricFamily(
        "vpp_dispatches_not_proven_optimal",
        "Dispatched periods whose schedule is feasible but not proven optimal: repaired after the "
        "solver's time limit, or a MIP stopped at it (feasible)",
        labels=["kind"],
    )
    for kind in NOT_PROVEN_OPTIMAL:
        unproven.add_metric([kind], float(not_optimal.get(kind, 0)))
    yield unproven
    seconds = [float(json.loads(d).get("seconds", 0.0)) for d in recent if d]
    yield SummaryMetricFamily(
        "vpp_dispatch_seconds",
        f"Time of the last {RECENT_DISPATCHES} dispatch runs (s)",
        count_value=len(seconds),
        sum_value=sum(seconds),
    )
    if seconds:
        yield GaugeMetricFamily(
            "vpp_dispatch_seconds_last", "Time of the last dispatch run (s)", value=seconds[0]
        )
    yield GaugeMetricFamily(
        "vpp_missed_periods",
        "Periods passed undispatched since the last dispatched one",
        value=float(gap["overdue_periods"]),
    )
    if last_ok is not None:
        age = (now - pd.Timestamp(last_ok).tz_convert("UTC")).total_seconds()  # both wall clock
        yield GaugeMetricFamily(
            "vpp_last_dispatch_age_seconds",
            "Wall clock minus the last successful dispatch's end (s)",
            value=max(age, 0.0),
        )
    bid = GaugeMetricFamily(
        "vpp_bid_state", "1 for the state of the trading day's bid", labels=["trading_day", "state"]
    )
    for day, state in states.items():
        for name in BID_STATES:
            bid.add_metric([day.isoformat(), name], 1.0 if name == state else 0.0)
    yield bid


def _bid_state(run: str | None, has_bid: bool, approved: bool, dispatched: bool, settled: bool) -> str:
    if settled:
        return "settled"
    if dispatched and has_bid:
        return "dispatching"
    if has_bid:
        return "approved" if approved else "awaiting_approval"
    return "failed" if run == "failed" else "none"
