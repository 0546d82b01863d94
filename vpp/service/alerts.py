"""Alerts the operator must act on, for ``vpp status`` and ``GET /api/health``.

- ``bid_missing``: the gate of a trading day closed and the day has no successful bid, though
  the service tried (a failed bid run) or was running then (any job run in the hour before the
  gate). Days whose gate closed in the last :data:`LOOKBACK` are checked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from market.calendar import gate_closure, trading_day_of
from market.presets import MarketSpec
from vpp.service import repository
from vpp.service.db import JobRun

LOOKBACK = pd.Timedelta(days=2)
"""How far back closed gates are checked."""


def service_alerts(session: Session, market: MarketSpec, now: pd.Timestamp) -> list[dict[str, Any]]:
    """The alerts at ``now`` (see the module docstring), oldest first."""
    now = pd.Timestamp(now)
    out: list[dict[str, Any]] = []
    first = trading_day_of(market, now - LOOKBACK)
    last = trading_day_of(market, now) + dt.timedelta(days=market.da_gate_closure_days_before)
    for day in pd.date_range(first, last, freq="D").date:
        closure = gate_closure(market, day)
        if closure > now or closure < now - LOOKBACK:
            continue
        run = repository.find_run(session, "bid", day.isoformat())
        if run is not None and run.status != "failed":
            continue
        if run is None and not _service_ran(session, closure):
            continue
        out.append(
            {
                "kind": "bid_missing",
                "day": day.isoformat(),
                "gate_closure": closure.isoformat(),
                "message": f"no bid for {day}: its gate closed at {closure.isoformat()}"
                + (f"; last failure: {run.fallback_reason}" if run is not None else "; the bid never ran"),
            }
        )
    return out


def _service_ran(session: Session, closure: pd.Timestamp) -> bool:
    """True when any job finished in the hour before ``closure`` (the service was up)."""
    end = closure.tz_convert("UTC").to_pydatetime()
    start = end - dt.timedelta(hours=1)
    found = session.scalar(
        sa.select(JobRun.id).where(JobRun.finished_at >= start, JobRun.finished_at < end).limit(1)
    )
    return found is not None
