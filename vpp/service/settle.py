"""Daily settlement of the service's own records (``market.settlement``, ``market.statements``).

For each period ``t`` of day D (energy in MWh = MW x period hours):

- ``q_da[t]``: the fleet's day-ahead bid (0 without a bid);
- ``q_actual[t]``: the sum over assets of the metered power (telemetry), or of the setpoint
  where an asset's telemetry is missing (counted in ``estimated``);
- ``p_da[t]``, ``p_rt[t]``: cleared prices from the database (all required).

A settled day is immutable (:mod:`vpp.service.storing`) unless revised explicitly: then
:func:`resettle` replaces its settlement and statement and records a ``settle_revision`` run
(``<day>#<n>``) with the revenue before and after.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from market.calendar import period_hours, trading_day_index, trading_day_of
from market.settlement import settle_periods
from market.statements import daily_statement
from vpp.errors import InputError
from vpp.service import repository
from vpp.service.db import STATEMENT_TOTALS, Bid, JobRun, Settlement, Statement

if TYPE_CHECKING:
    from vpp.service.pipeline import Pipeline


def settle_day(pipeline: Pipeline, now: pd.Timestamp) -> dict[str, Any]:
    """Settle the day before ``now - settle delay``'s trading day; idempotent per day."""
    market = pipeline.market
    shifted = pd.Timestamp(now) - pd.Timedelta(seconds=pipeline.config.settle_delay_s)
    day = trading_day_of(market, shifted) - dt.timedelta(days=1)
    key = day.isoformat()
    started = dt.datetime.now(dt.UTC)
    run = {"job": "settle", "period_key": key, "period_start": None, "started_at": started}
    with pipeline.sessions() as s:
        if repository.run_done(s, "settle", key):
            return {"day": key, "status": "skipped"}
        try:
            frame, estimated = _inputs(s, market, day)
        except InputError as exc:
            with pipeline.sessions.begin() as w:
                repository.record_failure(
                    w, dict(run, finished_at=dt.datetime.now(dt.UTC), fallback_reason=str(exc))
                )
            return {"day": key, "status": "failed", "reason": str(exc)}
    result, statement = _settle(market, frame)
    run.update(
        finished_at=dt.datetime.now(dt.UTC),
        status="ok",
        detail={"estimated_asset_periods": estimated, "revenue_yuan": float(statement["revenue"])},
    )
    with pipeline.sessions.begin() as s:
        if not repository.claim_run(s, run):
            return {"day": key, "status": "skipped"}
        _write(s, day, result, statement)
    return {"day": key, "status": "ok", "revenue_yuan": float(statement["revenue"])}


def resettle(session: Session, market: Any, day: dt.date, reason: str) -> dict[str, Any]:
    """Settle ``day`` again from what is stored now, inside the caller's transaction, replacing its
    settlement and statement; record the revision (``settle_revision`` run ``<day>#<n>``).

    Raises
    ------
    InputError
        Prices of the day are missing.
    """
    frame, estimated = _inputs(session, market, day)
    result, statement = _settle(market, frame)
    before = session.get(Statement, day)
    old = None if before is None else float(before.revenue)
    session.execute(sa.delete(Settlement).where(Settlement.trading_day == day))
    session.execute(sa.delete(Statement).where(Statement.trading_day == day))
    session.flush()
    _write(session, day, result, statement)
    done = session.scalar(
        sa.select(sa.func.count()).select_from(JobRun).where(
            JobRun.job == "settle_revision", JobRun.period_key.like(f"{day.isoformat()}#%")
        )
    )
    now = dt.datetime.now(dt.UTC)
    new = float(statement["revenue"])
    repository.claim_run(
        session,
        {
            "job": "settle_revision",
            "period_key": f"{day.isoformat()}#{int(done or 0) + 1}",
            "period_start": None,
            "started_at": now,
            "finished_at": now,
            "status": "ok",
            "detail": {
                "reason": reason,
                "revenue_yuan_before": old,
                "revenue_yuan": new,
                "estimated_asset_periods": estimated,
            },
        },
    )
    return {"day": day.isoformat(), "revenue_yuan_before": old, "revenue_yuan": new}


def _settle(market: Any, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    result = settle_periods(frame["q_da_mwh"], frame["q_actual_mwh"], frame["p_da"], frame["p_rt"])
    return result, daily_statement(result, market.timezone).iloc[0]


def _write(session: Session, day: dt.date, result: pd.DataFrame, statement: pd.Series) -> None:
    """Insert the settlement rows and the statement of ``day``."""
    utc = result.index.tz_convert("UTC").to_pydatetime()
    columns = ("q_da_mwh", "q_actual_mwh", "p_da", "p_rt", "da_revenue", "rt_revenue", "revenue")
    repository.insert_ignore(
        session,
        Settlement,
        [
            {"trading_day": day, "period_start": t, **{c: float(result[c].iloc[i]) for c in columns}}
            for i, t in enumerate(utc)
        ],
        ["period_start"],
    )
    repository.insert_ignore(
        session,
        Statement,
        [
            {
                "trading_day": day,
                "periods": int(statement["periods"]),
                **{c: float(statement[c]) for c in STATEMENT_TOTALS},
            }
        ],
        ["trading_day"],
    )


def _inputs(session: Any, market: Any, day: dt.date) -> tuple[pd.DataFrame, int]:
    index = trading_day_index(market, day)
    dt_h = period_hours(index, market)
    utc = list(index.tz_convert("UTC").to_pydatetime())
    end = (index[-1] + market.period).tz_convert("UTC").to_pydatetime()
    prices = repository.prices_between(session, utc[0], end)
    p_da = np.array([getattr(prices.get(t), "da_price", None) or np.nan for t in utc], dtype=float)
    p_rt = np.array([getattr(prices.get(t), "rt_price", None) or np.nan for t in utc], dtype=float)
    missing = int((~np.isfinite(p_da) | ~np.isfinite(p_rt)).sum())
    if missing:
        raise InputError(f"cleared prices of {day} are missing for {missing} period(s)")
    bids = {b.period_start: b.net_mw for b in session.scalars(sa.select(Bid).where(Bid.trading_day == day))}
    metered = {
        (t.period_start, t.asset_id): t.metered_mw for t in repository.telemetry_between(session, utc[0], end)
    }
    actual = np.zeros(len(utc))
    estimated = 0
    position = {t: i for i, t in enumerate(utc)}
    for sp in repository.setpoints_between(session, utc[0], end):
        i = position[sp.period_start]
        value = metered.pop((sp.period_start, sp.asset_id), None)
        if value is None:
            value, estimated = sp.setpoint_mw, estimated + 1
        actual[i] += value
    for (t, _), value in metered.items():  # telemetry without a setpoint
        actual[position[t]] += value
    frame = pd.DataFrame(
        {
            "q_da_mwh": np.array([bids.get(t, 0.0) for t in utc]) * dt_h,
            "q_actual_mwh": actual * dt_h,
            "p_da": p_da,
            "p_rt": p_rt,
        },
        index=index,
    )
    return frame, estimated
