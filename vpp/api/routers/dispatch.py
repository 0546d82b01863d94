"""Dispatch: the latest setpoints, a day's schedule against what happened, and prices."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request

from vpp.api.auth import Reader
from vpp.api.deps import api, market_of, today
from vpp.api.schemas import DispatchHistory, DispatchPeriod, PricePeriod, PricesOut, SetpointOut
from vpp.api.store import Day, local_iso
from vpp.service import repository
from vpp.service.db import Bid, Setpoint

router = APIRouter(tags=["dispatch"])

DayQuery = Annotated[dt.date | None, Query(description="Trading day (default: today, market zone).")]


@router.get("/dispatch/latest", response_model=list[SetpointOut])
def latest(request: Request, _: Reader) -> list[SetpointOut]:
    """Setpoints of the latest dispatched period, one per asset."""
    market = market_of(request)
    with api(request).sessions() as session:
        last = session.scalar(sa.select(sa.func.max(Setpoint.period_start)))
        rows = [] if last is None else list(repository.setpoints_at(session, last).values())
    return [SetpointOut(period_start=local_iso(r.period_start, market), asset_id=r.asset_id,
                        setpoint_mw=r.setpoint_mw, soc_end_mwh=r.soc_end_mwh, source=r.source)
            for r in sorted(rows, key=lambda r: r.asset_id)]


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(sum(known)) if known else None


@router.get("/dispatch/history", response_model=DispatchHistory)
def history(
    request: Request, _: Reader, day: DayQuery = None,
    asset_id: Annotated[str | None, Query(description="One asset (default: the whole fleet).")] = None,
) -> DispatchHistory:
    """Per period of ``day``: the bid, the setpoints sent, the metered power and the state of charge.

    Fleet sums over assets (MW, MWh) unless ``asset_id`` is given; ``bid_mw`` is always the fleet's.
    """
    market = market_of(request)
    day = day or today(market)
    window = Day.of(market, day)
    with api(request).sessions() as session:
        rows = session.scalars(sa.select(Bid).where(Bid.trading_day == day))
        bids = {b.period_start: b.net_mw for b in rows}
        setpoints = repository.setpoints_between(session, window.start, window.end)
        telemetry = repository.telemetry_between(session, window.start, window.end)
        runs = repository.runs(session, "dispatch", window.start, window.end)
    solves = {r.period_start: json.loads(r.detail or "{}").get("solve", {}) for r in runs}
    by_sp: dict[dt.datetime, list[Setpoint]] = defaultdict(list)
    for r in setpoints:
        if asset_id is None or r.asset_id == asset_id:
            by_sp[r.period_start].append(r)
    by_tm: dict[dt.datetime, list] = defaultdict(list)
    for r in telemetry:
        if asset_id is None or r.asset_id == asset_id:
            by_tm[r.period_start].append(r)
    periods = []
    for t in window.utc:
        sp, tm = by_sp.get(t, []), by_tm.get(t, [])
        sources = sorted({r.source for r in sp})
        periods.append(DispatchPeriod(
            period_start=local_iso(t, market), period_end=local_iso(t + market.period, market),
            bid_mw=bids.get(t),
            setpoint_mw=_sum([r.setpoint_mw for r in sp]), metered_mw=_sum([r.metered_mw for r in tm]),
            soc_planned_mwh=_sum([r.soc_end_mwh for r in sp]), soc_measured_mwh=_sum([r.soc_mwh for r in tm]),
            source=",".join(sources) or None, termination=solves.get(t, {}).get("termination"),
        ))
    return DispatchHistory(day=day, periods=periods)


@router.get("/prices", response_model=PricesOut, tags=["prices"])
def prices(request: Request, _: Reader, day: DayQuery = None) -> PricesOut:
    """Cleared day-ahead and real-time prices and the forecast of ``day`` (market currency/MWh)."""
    market = market_of(request)
    day = day or today(market)
    window = Day.of(market, day)
    with api(request).sessions() as session:
        stored = repository.prices_between(session, window.start, window.end)
        forecast = repository.forecasts_for(session, day)
    return PricesOut(day=day, currency=market.currency, periods=[
        PricePeriod(period_start=local_iso(t, market),
                    da_price=getattr(stored.get(t), "da_price", None),
                    rt_price=getattr(stored.get(t), "rt_price", None), forecast_da=forecast.get(t))
        for t in window.utc
    ])
