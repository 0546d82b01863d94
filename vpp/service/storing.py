"""How the rows of one inbox file are stored (one transaction), and the rule for settled days.

A settled day (one with a statement) is immutable: a ``prices`` or ``telemetry`` file whose rows
would change what a settled day was settled on is rejected, naming the day, period and values.
Rows equal to the stored ones are harmless (a gateway re-sending a month). A ``revision_prices`` or
``revision_telemetry`` file is the explicit revision: its rows replace the stored ones and every
settled day it touches is settled again in the same transaction, recorded as a revision
(:func:`vpp.service.settle.resettle`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from market.calendar import trading_day_of
from vpp.errors import InputError
from vpp.service import repository, settle
from vpp.service.db import Forecast, Price, Statement, Telemetry

if TYPE_CHECKING:
    from vpp.service.pipeline import Pipeline

TOLERANCE = 1e-9
"""Stored and new values closer than this are equal (yuan/MWh, MW)."""


def store_rows(pipeline: Pipeline, kind: str, rows: Sequence[dict[str, Any]]) -> int:
    """Store the rows of one inbox file of ``kind`` in one transaction; return rows written.

    Raises
    ------
    InputError
        A ``prices`` or ``telemetry`` row would change a settled day.
    """
    revision = kind.startswith("revision_")
    base = kind.removeprefix("revision_")
    with pipeline.sessions.begin() as s:
        if base == "forecast":
            return repository.insert_ignore(s, Forecast, rows, ["period_start"])
        days = _settled_days(s, pipeline, rows)
        if days and not revision:
            _refuse_changes(s, pipeline, base, rows, days)
        if base == "telemetry":
            if revision:
                count = repository.upsert(
                    s, Telemetry, rows, ["period_start", "asset_id"], ["metered_mw", "soc_mwh"]
                )
            else:
                count = repository.insert_ignore(s, Telemetry, rows, ["period_start", "asset_id"])
        else:
            count = repository.upsert_prices(s, rows)
        if revision:
            for day in sorted(days):
                settle.resettle(s, pipeline.market, day, f"{kind} file")
        return count


def _trading_days(pipeline: Pipeline, rows: Sequence[dict[str, Any]]) -> pd.Series:
    stamps = pd.DatetimeIndex([r["period_start"] for r in rows]).tz_convert(pipeline.market.timezone)
    return pd.Series(trading_day_of(pipeline.market, stamps), index=range(len(rows)))


def _settled_days(session: Session, pipeline: Pipeline, rows: Sequence[dict[str, Any]]) -> set[dt.date]:
    if not rows:
        return set()
    days = set(_trading_days(pipeline, rows))
    settled = session.scalars(sa.select(Statement.trading_day).where(Statement.trading_day.in_(days)))
    return set(settled)


def _refuse_changes(
    session: Session, pipeline: Pipeline, kind: str, rows: Sequence[dict[str, Any]], days: set[dt.date]
) -> None:
    """Raise when a row of a settled day differs from (or is missing in) what is stored."""
    of_day = _trading_days(pipeline, rows)
    touching = [(rows[i], of_day[i]) for i in range(len(rows)) if of_day[i] in days]
    start = min(r["period_start"] for r, _ in touching)
    end = max(r["period_start"] for r, _ in touching) + dt.timedelta(seconds=1)
    if kind == "telemetry":
        stored = {
            (t.period_start, t.asset_id): t.metered_mw
            for t in repository.telemetry_between(session, start, end)
        }
        for row, day in touching:
            old = stored.get((row["period_start"], row["asset_id"]))
            if old is None or abs(old - row["metered_mw"]) > TOLERANCE:
                _refuse(
                    pipeline,
                    day,
                    row["period_start"],
                    f"metered_mw of '{row['asset_id']}'",
                    old,
                    row["metered_mw"],
                    "revision_telemetry",
                )
        return
    prices = {
        p.period_start: p
        for p in session.scalars(
            sa.select(Price).where(Price.period_start >= start, Price.period_start < end)
        )
    }
    for row, day in touching:
        for column in ("da_price", "rt_price"):
            new = row.get(column)
            old = getattr(prices.get(row["period_start"]), column, None)
            if new is not None and (old is None or abs(old - new) > TOLERANCE):
                _refuse(pipeline, day, row["period_start"], column, old, new, "revision_prices")


def _refuse(
    pipeline: Pipeline,
    day: dt.date,
    start: dt.datetime,
    what: str,
    old: float | None,
    new: float,
    prefix: str,
) -> None:
    local = pd.Timestamp(start).tz_convert(pipeline.market.timezone).isoformat()
    stored = "nothing" if old is None else f"{old:g}"
    raise InputError(
        f"trading day {day} is settled: {what} at {local} would change from {stored} to {new:g}; "
        f"settled days are immutable: send the file as {prefix}* to revise and re-settle the day"
    )
