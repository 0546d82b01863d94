"""What ``vpp status`` and the simulated day report, read from the database."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from market.calendar import trading_day_index
from market.presets import MarketSpec
from vpp.service import repository
from vpp.service.alerts import service_alerts
from vpp.service.clock import make_clock
from vpp.service.db import Bid, JobRun, Setpoint, Statement, session_factory
from vpp.service.lease import LeaseInfo, read_lease


def day_summary(engine: Engine, market: MarketSpec, day: dt.date) -> dict[str, Any]:
    """Counts of one trading day: bids, dispatch runs, fallbacks, missed periods, duplicates.

    Returns
    -------
    dict
        ``bids`` (completed bid runs for the day), ``bid_rows``, ``dispatch_runs`` (distinct periods
        with a completed dispatch run), ``periods``, ``fallbacks``, ``fallback_reasons``,
        ``missed_periods`` (period starts without a run), ``not_proven_optimal`` (dispatched
        periods whose schedule is feasible but not proven optimal) and ``repaired`` (of those, the
        repaired ones: :mod:`vpp.solve_outcome`), ``setpoint_rows``, ``duplicate_setpoints``,
        ``state_sources``, ``revenue_yuan`` (None before settlement).
    """
    index = trading_day_index(market, day)
    start = index[0].tz_convert("UTC").to_pydatetime()
    end = (index[-1] + market.period).tz_convert("UTC").to_pydatetime()
    with session_factory(engine)() as s:
        runs = repository.runs(s, "dispatch", start, end)
        bid = repository.find_run(s, "bid", day.isoformat())
        bid_rows = s.scalar(sa.select(sa.func.count()).select_from(Bid).where(Bid.trading_day == day))
        setpoint_rows = s.scalar(
            sa.select(sa.func.count())
            .select_from(Setpoint)
            .where(Setpoint.period_start >= start, Setpoint.period_start < end)
        )
        distinct = s.scalar(
            sa.select(sa.func.count()).select_from(
                sa.select(Setpoint.period_start, Setpoint.asset_id)
                .where(Setpoint.period_start >= start, Setpoint.period_start < end)
                .distinct()
                .subquery()
            )
        )
        statement = s.get(Statement, day)
    done = {r.period_start for r in runs if r.status != "failed"}
    missed = [t.isoformat() for t in index if t.tz_convert("UTC").to_pydatetime() not in done]
    fallbacks = [r for r in runs if r.status == "fallback"]
    details = [json.loads(r.detail or "{}") for r in runs]
    sources = Counter(d.get("state_source") for d in details)
    solves = [d["solve"] for d in details if "solve" in d]
    return {
        "day": day.isoformat(),
        "bids": int(bid is not None and bid.status == "ok"),
        "bid_rows": int(bid_rows or 0),
        "dispatch_runs": len(done),
        "periods": len(index),
        "fallbacks": len(fallbacks),
        "fallback_reasons": sorted({r.fallback_reason or "" for r in fallbacks}),
        "missed_periods": missed,
        "not_proven_optimal": sum(not o["proven_optimal"] for o in solves),
        "repaired": sum(bool(o["repaired"]) for o in solves),
        "setpoint_rows": int(setpoint_rows or 0),
        "duplicate_setpoints": int((setpoint_rows or 0) - (distinct or 0)),
        "state_sources": {str(k): v for k, v in sorted(sources.items(), key=lambda kv: str(kv[0]))},
        "revenue_yuan": None if statement is None else statement.revenue,
    }


def service_status(engine: Engine, market: MarketSpec, now: pd.Timestamp | None = None) -> dict[str, Any]:
    """Last and next runs per job, the lease holder, the last setpoints, fallbacks and dispatch gaps.

    ``gaps``: periods between the first and the last dispatched period of the last two days that
    have no dispatch run. ``dispatch_gap``: the periods that passed since the last dispatched one
    without a dispatch (:func:`dispatch_gap`), reported as soon as one period has passed.
    ``lease``: who holds the scheduler lease (:mod:`vpp.service.lease`), None if no scheduler ever
    ran on the database.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    lease = read_lease(engine)
    out: dict[str, Any] = {"now": now.isoformat(), "jobs": {}}
    out["lease"] = None if lease is None else lease.to_dict(now.to_pydatetime())
    with session_factory(engine)() as s:
        for job in ("bid", "dispatch", "ingest", "settle"):
            last = s.scalar(
                sa.select(JobRun).where(JobRun.job == job).order_by(JobRun.finished_at.desc()).limit(1)
            )
            out["jobs"][job] = {
                "last_run": None
                if last is None
                else {
                    "period": last.period_key,
                    "finished_at": last.finished_at.isoformat(),
                    "status": last.status,
                    "solver_status": last.solver_status,
                    "termination": json.loads(last.detail or "{}").get("solve", {}).get("termination"),
                    "fallback_reason": last.fallback_reason,
                }
            }
        for job_id, next_run in _next_runs(s, lease.mode if lease is not None else "service"):
            out["jobs"].setdefault(job_id, {})["next_run"] = next_run
        last_period = s.scalar(sa.select(sa.func.max(Setpoint.period_start)))
        out["last_setpoints"] = (
            []
            if last_period is None
            else [
                {
                    "period_start": pd.Timestamp(r.period_start).tz_convert(market.timezone).isoformat(),
                    "asset_id": r.asset_id,
                    "setpoint_mw": r.setpoint_mw,
                    "source": r.source,
                }
                for r in repository.setpoints_at(s, last_period).values()
            ]
        )
        fallbacks = s.scalars(
            sa.select(JobRun)
            .where(JobRun.status == "fallback")
            .order_by(JobRun.period_start.desc())
            .limit(10)
        )
        out["fallbacks"] = [{"period": r.period_key, "reason": r.fallback_reason} for r in fallbacks]
        out["fallback_count"] = s.scalar(
            sa.select(sa.func.count()).select_from(JobRun).where(JobRun.status == "fallback")
        )
        out["gaps"] = _gaps(s, market, last_period)
        service = service_now(lease, now)
        out["dispatch_gap"] = dispatch_gap(s, market, service)
        out["alerts"] = alerts(s, market, service if service is not None else now)
    return out


def service_now(lease: LeaseInfo | None, now: pd.Timestamp) -> pd.Timestamp | None:
    """The service's "now" to judge dispatch gaps by: ``now`` (wall time), the simulated time while
    a simulation holds the lease, None once a simulation has stopped (it owes no period then)."""
    if lease is None or lease.mode != "simulation":
        return now
    if not lease.held(now.to_pydatetime()) or lease.clock is None:
        return None
    return make_clock(lease.clock).now().tz_convert("UTC")


def dispatch_gap(session: Any, market: MarketSpec, now: pd.Timestamp | None) -> dict[str, Any]:
    """The periods that passed undispatched since the last dispatched one, judged at ``now``.

    A period is dispatched ahead of its start, so once the period after the last dispatched one
    has ENDED without a dispatch, one period passed undispatched: ``overdue_periods`` >= 1.

    Returns
    -------
    dict
        ``last_dispatched`` (period start, market zone, or None), ``overdue_periods`` (count),
        ``since`` (start of the first undispatched period, or None).
    """
    last = session.scalar(
        sa.select(sa.func.max(JobRun.period_start)).where(JobRun.job == "dispatch", JobRun.status != "failed")
    )
    out: dict[str, Any] = {"last_dispatched": None, "overdue_periods": 0, "since": None}
    if last is None:
        return out
    start = pd.Timestamp(last).tz_convert(market.timezone)
    out["last_dispatched"] = start.isoformat()
    if now is None:
        return out
    first_missing = start + market.period
    overdue = int((pd.Timestamp(now) - first_missing) // market.period)
    if overdue >= 1:
        out.update(overdue_periods=overdue, since=first_missing.isoformat())
    return out


def _next_runs(session: Any, mode: str = "service") -> list[tuple[str, str | None]]:
    """Next run times from the APScheduler job store table of ``mode``, when it exists."""
    from vpp.service.scheduler import JOB_TABLES

    table = JOB_TABLES.get(mode, JOB_TABLES["service"])
    if not sa.inspect(session.get_bind()).has_table(table):
        return []
    rows = session.execute(sa.text(f"SELECT id, next_run_time FROM {table}")).all()
    return [
        (r[0], None if r[1] is None else dt.datetime.fromtimestamp(r[1], dt.UTC).isoformat()) for r in rows
    ]


def _gaps(session: Any, market: MarketSpec, last: dt.datetime | None) -> list[str]:
    if last is None:
        return []
    since = last - dt.timedelta(days=2)
    done = sorted(
        r.period_start
        for r in repository.runs(session, "dispatch", since, last + dt.timedelta(seconds=1))
        if r.status != "failed"
    )
    if not done:
        return []
    expected = pd.date_range(done[0], done[-1], freq=market.period)
    have = {pd.Timestamp(t) for t in done}
    return [t.tz_convert(market.timezone).isoformat() for t in expected if t not in have]


HEALTH_MAX_DISPATCH_AGE = 2
"""``/api/health`` is unhealthy once the last dispatched period started more than this many periods ago."""


def health_report(engine: Engine, market: MarketSpec, now: pd.Timestamp | None = None) -> dict[str, Any]:
    """What ``/api/health`` answers: healthy only when a scheduler holds the lease and dispatches.

    Problems (any one makes the report unhealthy, HTTP 503): the database is unreachable; no
    process holds the scheduler lease (none ever ran, it stopped, or its heartbeat is older than
    :data:`vpp.service.lease.TTL_S`); no period was ever dispatched, or the last dispatched period
    started more than :data:`HEALTH_MAX_DISPATCH_AGE` periods before now (so a period passed with
    no dispatch); alerts (:func:`alerts`).

    Returns
    -------
    dict
        ``healthy`` (bool), ``problems`` (sentences), ``database``, ``schema_revision``, ``lease``,
        ``dispatch`` (:func:`dispatch_gap`), ``alerts``.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    out: dict[str, Any] = {"healthy": False, "problems": [], "database": "ok", "schema_revision": None,
                           "lease": None, "dispatch": None, "alerts": []}
    try:
        with engine.connect() as conn:
            out["schema_revision"] = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        lease = read_lease(engine)
        service = service_now(lease, now)
        with session_factory(engine)() as s:
            gap = dispatch_gap(s, market, service)
            out["alerts"] = alerts(s, market, service if service is not None else now)
    except Exception as exc:  # the probe reports, never raises
        out["database"] = f"error: {type(exc).__name__}"
        out["problems"].append(f"the database is unreachable ({type(exc).__name__})")
        return out
    problems = out["problems"]
    out["lease"] = None if lease is None else lease.to_dict(now.to_pydatetime())
    out["dispatch"] = gap
    if lease is None:
        problems.append("no scheduler has ever held the lease: is vpp run started on this database?")
    elif not lease.held(now.to_pydatetime()):
        problems.append(f"no scheduler holds the lease (last holder: {lease.describe(now.to_pydatetime())})")
    if gap["last_dispatched"] is None:
        problems.append("no period has been dispatched yet")
    elif service is not None and pd.Timestamp(service) - pd.Timestamp(gap["last_dispatched"]) > (
        HEALTH_MAX_DISPATCH_AGE * market.period
    ):
        problems.append(
            f"the last dispatched period started at {gap['last_dispatched']}, more than "
            f"{HEALTH_MAX_DISPATCH_AGE} periods ago ({gap['overdue_periods']} period(s) undispatched)"
        )
    problems.extend(a["message"] for a in out["alerts"])
    out["healthy"] = not problems
    return out


def alerts(session: Any, market: MarketSpec, now: pd.Timestamp) -> list[dict[str, Any]]:
    """Conditions an operator must act on now (shown by ``vpp status`` and ``/api/health``).

    - ``bid_missing``: a gate closed without a successful bid (:func:`vpp.service.alerts.service_alerts`);
    - ``bid_not_approved``: a bid that needs approval (:mod:`vpp.service.bidding`) was not approved
      by its gate closure, so its bid file was never written; listed until its trading day ends.
    """
    return service_alerts(session, market, now) + unapproved_bids(session, market, now)


def unapproved_bids(session: Any, market: MarketSpec, now: pd.Timestamp) -> list[dict[str, Any]]:
    """Bids awaiting approval whose gate closure passed before ``now`` and whose day has not ended."""
    from market.calendar import gate_closure
    from vpp.service.api_tables import BidApproval

    now = pd.Timestamp(now)
    today = now.tz_convert(market.timezone).date()
    candidates = session.scalars(
        sa.select(JobRun).where(
            JobRun.job == "bid",
            JobRun.status == "ok",
            JobRun.period_key >= (today - dt.timedelta(days=1)).isoformat(),
        )
    ).all()
    out = []
    for run in candidates:
        if not json.loads(run.detail or "{}").get("approval_required"):
            continue
        day = dt.date.fromisoformat(run.period_key)
        closure = gate_closure(market, day)
        day_end = trading_day_index(market, day)[-1] + market.period
        if not (closure <= now < day_end) or session.get(BidApproval, day) is not None:
            continue
        out.append(
            {
                "kind": "bid_not_approved",
                "day": day.isoformat(),
                "gate_closure": closure.isoformat(),
                "message": f"the bid for {day} was not approved by its gate closure at "
                f"{closure.isoformat()}: its bid file was not written "
                f"(approve it: POST /api/bids/{day}/approve)",
            }
        )
    return out
