"""Settlement: daily statements (with their periods) and monthly sums of the daily statements."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request

from market.presets import MarketSpec
from vpp.api.auth import Reader
from vpp.api.deps import api, market_of, not_found
from vpp.api.schemas import DailyOut, MonthlyOut, SettlementPeriod, StatementOut
from vpp.api.store import local_iso
from vpp.errors import InputError
from vpp.service.db import STATEMENT_TOTALS, Settlement, Statement

router = APIRouter(prefix="/settlement", tags=["settlement"])

_SUMS = ("periods", *STATEMENT_TOTALS)


def _statement(row: Statement, market: MarketSpec) -> StatementOut:
    return StatementOut(
        trading_day=row.trading_day, currency=market.currency, **{c: getattr(row, c) for c in _SUMS}
    )


@router.get("/daily", response_model=list[StatementOut])
def daily_list(
    request: Request, _: Reader,
    start: Annotated[dt.date | None, Query(description="First day (included).")] = None,
    end: Annotated[dt.date | None, Query(description="Last day (included).")] = None,
) -> list[StatementOut]:
    """Daily statements between ``start`` and ``end`` (market currency, MWh), oldest first."""
    market = market_of(request)
    stmt = sa.select(Statement).order_by(Statement.trading_day)
    if start is not None:
        stmt = stmt.where(Statement.trading_day >= start)
    if end is not None:
        stmt = stmt.where(Statement.trading_day <= end)
    with api(request).sessions() as session:
        return [_statement(r, market) for r in session.scalars(stmt)]


@router.get("/daily/{day}", response_model=DailyOut)
def daily(request: Request, day: dt.date, _: Reader) -> DailyOut:
    """The statement of ``day`` and its settlement per period."""
    market = market_of(request)
    with api(request).sessions() as session:
        row = session.get(Statement, day)
        if row is None:
            raise not_found(f"statement for {day}")
        periods = session.scalars(
            sa.select(Settlement).where(Settlement.trading_day == day).order_by(Settlement.period_start)
        ).all()
    cols = ("q_da_mwh", "q_actual_mwh", "p_da", "p_rt", "da_revenue", "rt_revenue", "revenue")
    return DailyOut(**_statement(row, market).model_dump(), settlement_periods=[
        SettlementPeriod(period_start=local_iso(p.period_start, market),
                         period_end=local_iso(p.period_start + market.period, market),
                         **{c: getattr(p, c) for c in cols})
        for p in periods
    ])


@router.get("/monthly/{month}", response_model=MonthlyOut)
def monthly(
    request: Request, _: Reader,
    month: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
) -> MonthlyOut:
    """The month's statement: sums of its daily statements (the days settled so far)."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
        after = (first + dt.timedelta(days=32)).replace(day=1)
    except (ValueError, OverflowError):  # year 0000, or the month after 9999-12
        raise InputError(f"month {month} is out of range", field="month") from None
    market = market_of(request)
    with api(request).sessions() as session:
        rows = session.scalars(
            sa.select(Statement).where(Statement.trading_day >= first, Statement.trading_day < after)
            .order_by(Statement.trading_day)
        ).all()
    daily_rows = [_statement(r, market) for r in rows]
    sums = {c: round(sum(getattr(r, c) for r in rows), 6) for c in _SUMS}
    sums["periods"] = int(sums["periods"])
    for c in ("da_revenue", "rt_revenue", "revenue"):
        sums[c] = round(sum(round(getattr(r, c) * 100) for r in rows) / 100, 2)  # whole fen
    return MonthlyOut(month=month, days=len(rows), daily=daily_rows, currency=market.currency, **sums)
