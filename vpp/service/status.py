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
from vpp.service import alerts, repository
from vpp.service.db import Bid, JobRun, Setpoint, Statement, session_factory


def day_summary(engine: Engine, market: MarketSpec, day: dt.date) -> dict[str, Any]:
    """Counts of one trading day: bids, dispatch runs, fallbacks, missed periods, duplicates.

    Returns
    -------
    dict
        ``bids`` (completed bid runs for the day), ``bid_rows``, ``dispatch_runs`` (distinct periods
        with a completed dispatch run), ``periods``, ``fallbacks``, ``fallback_reasons``,
        ``missed_periods`` (period starts without a run), ``setpoint_rows``,
        ``duplicate_setpoints``, ``state_sources``, ``revenue_yuan`` (None before settlement).
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
    sources = Counter(json.loads(r.detail or "{}").get("state_source") for r in runs)
    return {
        "day": day.isoformat(),
        "bids": int(bid is not None and bid.status == "ok"),
        "bid_rows": int(bid_rows or 0),
        "dispatch_runs": len(done),
        "periods": len(index),
        "fallbacks": len(fallbacks),
        "fallback_reasons": sorted({r.fallback_reason or "" for r in fallbacks}),
        "missed_periods": missed,
        "setpoint_rows": int(setpoint_rows or 0),
        "duplicate_setpoints": int((setpoint_rows or 0) - (distinct or 0)),
        "state_sources": {str(k): v for k, v in sorted(sources.items(), key=lambda kv: str(kv[0]))},
        "revenue_yuan": None if statement is None else statement.revenue,
    }


def service_status(engine: Engine, market: MarketSpec, now: pd.Timestamp | None = None) -> dict[str, Any]:
    """Last and next runs per job, the last setpoints, recent fallbacks and dispatch gaps.

    A gap is a period between the first and the last dispatched period of the last two days that
    has no dispatch run.
    """
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    out: dict[str, Any] = {"now": now.isoformat(), "jobs": {}}
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
                    "fallback_reason": last.fallback_reason,
                }
            }
        for job_id, next_run in _next_runs(s):
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
        out["alerts"] = alerts.service_alerts(s, market, now)
    return out


def _next_runs(session: Any) -> list[tuple[str, str | None]]:
    """Next run times from the APScheduler job store table, when it exists."""
    if not sa.inspect(session.get_bind()).has_table("apscheduler_jobs"):
        return []
    rows = session.execute(sa.text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
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
