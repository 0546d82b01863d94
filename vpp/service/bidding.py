"""The day-ahead bid of the service: forecast, optimal day schedule, bid rows and file.

The price forecast of day D is the ``forecasts`` table (inbox ``forecast*`` files), else the cleared
DA prices of D already stored, else persistence (the cleared DA prices of D-1). The schedule starts
from the state the previous day-ahead schedule planned for the end of D-1 (else the portfolio's).
The bid, the per-asset schedule, the forecast used and the portfolio version are written with the
run row in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from vpp.errors import InputError, SolverError
from vpp.service import outbox, planning, repository
from vpp.service.db import Bid, DayAheadSchedule, Forecast, PortfolioVersion
from vpp.service.planning import INJECT_ENV, injected_failure

if TYPE_CHECKING:
    from vpp.service.pipeline import Pipeline

log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def bid_day(pipeline: Pipeline, now: pd.Timestamp) -> dict[str, Any]:
    """Ingest the inbox, then bid the trading day whose gate closes next."""
    pipeline.ingest(now)
    day = planning.bid_day(pipeline.market, now)
    key = day.isoformat()
    with pipeline.sessions() as s:
        if repository.run_done(s, "bid", key):
            return {"day": key, "status": "skipped"}
    started = _utcnow()
    run = {"job": "bid", "period_key": key, "period_start": None, "started_at": started}
    try:
        index, da, _ = pipeline._day_prices(day)
        forecast = [] if np.isfinite(da).all() else _persistence_forecast(pipeline, day, index)
        if forecast:
            da = np.array([f["da_price"] for f in forecast])
        if injected_failure("bid"):
            raise SolverError(f"injected solver failure ({INJECT_ENV})")
        state = _day_start_state(pipeline, index)
        result = pipeline._solve(day, da, state, 0, pipeline.config.bid_time_limit_s)
    except Exception as exc:
        log.error("bid %s failed: %s: %s", key, type(exc).__name__, exc)
        with pipeline.sessions.begin() as s:
            repository.record_failure(
                s, dict(run, finished_at=_utcnow(), fallback_reason=f"{type(exc).__name__}: {exc}")
            )
        return {"day": key, "status": "failed", "reason": str(exc)}
    utc = index.tz_convert("UTC").to_pydatetime()
    soc = result.series.get("battery.soc_mwh")
    run.update(
        finished_at=_utcnow(),
        status="ok",
        solver_status=result.stats.status,
        detail={"expected_revenue_yuan": round(result.terms_yuan["revenue"], 2)},
    )
    with pipeline.sessions.begin() as s:
        if not repository.claim_run(s, run):
            return {"day": key, "status": "skipped"}
        version = _portfolio_version(pipeline, s)
        repository.insert_ignore(s, Forecast, forecast, ["period_start"])
        repository.insert_ignore(
            s,
            Bid,
            [
                {
                    "trading_day": day,
                    "period_start": t,
                    "net_mw": round(float(v), 6),
                    "portfolio_version_id": version,
                }
                for t, v in zip(utc, result.net_mw, strict=True)
            ],
            ["period_start"],
        )
        repository.insert_ignore(
            s,
            DayAheadSchedule,
            [
                {
                    "trading_day": day,
                    "period_start": t,
                    "asset_id": str(a),
                    "net_mw": float(result.asset_net_mw.iloc[i][a]),
                    "soc_mwh": float(soc.iloc[i][a]) if soc is not None and a in soc.columns else None,
                }
                for i, t in enumerate(utc)
                for a in result.asset_net_mw.columns
            ],
            ["period_start", "asset_id"],
        )
    outbox.write_bid(pipeline.config.outbox, key, result.net_mw.round(6))
    return {"day": key, "status": "ok", "solver_status": result.stats.status}


def _persistence_forecast(pipeline: Pipeline, day: dt.date, index: pd.DatetimeIndex) -> list[dict[str, Any]]:
    """Forecast rows for ``day`` from the previous day's cleared DA prices (same period)."""
    _, before, _ = pipeline._day_prices(day - dt.timedelta(days=1))
    if len(before) != len(index) or not np.isfinite(before).all():
        raise InputError(f"no day-ahead price forecast for {day} and no cleared prices of the day before")
    utc = index.tz_convert("UTC").to_pydatetime()
    return [
        {"trading_day": day, "period_start": t, "da_price": float(p), "source": "persistence"}
        for t, p in zip(utc, before, strict=True)
    ]


def _day_start_state(pipeline: Pipeline, index: pd.DatetimeIndex) -> dict[str, dict[str, float]]:
    """Battery state planned for the start of the day (the previous day-ahead schedule's end)."""
    last = (index[0] - pipeline.market.period).tz_convert("UTC").to_pydatetime()
    with pipeline.sessions() as s:
        rows = repository.day_ahead_at(s, last)
    return {a: {"soc_mwh": r.soc_mwh} for a, r in rows.items() if r.soc_mwh is not None}


def _portfolio_version(pipeline: Pipeline, session: Any) -> int:
    body = Path(pipeline.config.portfolio).read_text(encoding="utf-8")
    digest = hashlib.sha256(body.encode()).hexdigest()
    repository.insert_ignore(
        session,
        PortfolioVersion,
        [
            {
                "sha256": digest,
                "name": pipeline.loaded.portfolio.name,
                "path": pipeline.config.portfolio,
                "body": body,
                "created_at": _utcnow(),
            }
        ],
        ["sha256"],
    )
    return int(session.scalar(sa.select(PortfolioVersion.id).where(PortfolioVersion.sha256 == digest)))
