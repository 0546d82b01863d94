"""Day-ahead bids: list, create for a day (the service's bid job), read, export, approve."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
from typing import Annotated, Literal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from market.calendar import gate_closure, period_hours
from market.presets import MarketSpec
from vpp.api.auth import Operator, Reader
from vpp.api.deps import api, conflict, market_of, not_found
from vpp.api.schemas import BidCreate, BidOut, BidPeriod, BidSummary
from vpp.api.store import Day, local_iso
from vpp.service import bidding, repository
from vpp.service.api_tables import BidApproval
from vpp.service.config import ServiceConfig
from vpp.service.db import Bid, Forecast, Setpoint, Statement
from vpp.service.pipeline import Pipeline

router = APIRouter(prefix="/bids", tags=["bids"])
log = logging.getLogger(__name__)


def _energy(net: np.ndarray, dt_h: np.ndarray) -> tuple[float, float]:
    return float((np.maximum(net, 0) * dt_h).sum()), float((np.maximum(-net, 0) * dt_h).sum())


def _summary(session: Session, market: MarketSpec, day: dt.date) -> BidOut | None:
    rows = list(session.scalars(sa.select(Bid).where(Bid.trading_day == day).order_by(Bid.period_start)))
    if not rows:
        return None
    approval = session.get(BidApproval, day)
    forecast = repository.forecasts_for(session, day)
    prices = repository.prices_between(session, rows[0].period_start, rows[-1].period_start + dt.timedelta(1))
    run = repository.find_run(session, "bid", day.isoformat())
    detail = json.loads(run.detail or "{}") if run is not None else {}
    days = Day.of(market, day)
    index = days.index
    dispatched = session.scalar(
        sa.select(sa.func.count(sa.distinct(Setpoint.period_start))).where(
            Setpoint.period_start >= days.start, Setpoint.period_start < days.end)
    ) or 0
    statement = session.get(Statement, day)
    net = np.array([r.net_mw for r in rows])
    export, imported = _energy(net, period_hours(index, market)[: len(net)])

    def da(t: dt.datetime) -> float | None:
        price = prices.get(t)
        return forecast.get(t, price.da_price if price is not None else None)

    return BidOut(
        day=day, periods=len(rows), status="approved" if approval else "awaiting_approval",
        approved_by=approval.approved_by if approval else None,
        approved_at=approval.approved_at if approval else None,
        stage=_stage(approval is not None, dispatched, statement is not None),
        dispatched_periods=int(dispatched),
        settled_revenue_yuan=statement.revenue if statement is not None else None,
        timezone=market.timezone,
        export_mwh=round(export, 6), import_mwh=round(imported, 6),
        gate_closure=gate_closure(market, day).isoformat(),
        portfolio_version_id=rows[0].portfolio_version_id,
        expected_revenue_yuan=detail.get("expected_revenue_yuan"), currency=market.currency,
        solver_status=run.solver_status if run is not None else None, solve=detail.get("solve"),
        bid_periods=[BidPeriod(period_start=local_iso(r.period_start, market), net_mw=r.net_mw,
                               forecast_da=da(r.period_start)) for r in rows],
    )


def _stage(approved: bool, dispatched: int, settled: bool) -> str:
    """Where the bid is in its life: settled, then dispatching, then approved or awaiting approval."""
    if settled:
        return "settled"
    if dispatched:
        return "dispatching"
    return "approved" if approved else "awaiting_approval"


@router.get("", response_model=list[BidSummary])
def list_bids(
    request: Request, _: Reader, limit: Annotated[int, Query(ge=1, le=366)] = 31
) -> list[BidSummary]:
    """The latest bid days, newest first, with their approval state."""
    market = market_of(request)
    with api(request).sessions() as session:
        days = session.scalars(
            sa.select(Bid.trading_day).distinct().order_by(Bid.trading_day.desc()).limit(limit)
        ).all()
        out = [_summary(session, market, d) for d in days]
    return [BidSummary(**o.model_dump(exclude={"gate_closure", "portfolio_version_id", "bid_periods",
                                               "expected_revenue_yuan", "currency", "solver_status", "solve",
                                               "timezone"}))
            for o in out if o is not None]


@router.get("/{day}", response_model=BidOut)
def read_bid(request: Request, day: dt.date, _: Reader) -> BidOut:
    """The bid of ``day`` per period, the forecast behind it and its approval."""
    market = market_of(request)
    with api(request).sessions() as session:
        out = _summary(session, market, day)
    if out is None:
        raise not_found(f"bid for {day}")
    return out


@router.post("/{day}", response_model=BidOut, status_code=201)
def create_bid(request: Request, day: dt.date, principal: Operator, body: BidCreate | None = None) -> BidOut:
    """Bid ``day`` with the current portfolio (the service's bid job); operators only.

    The forecast sent (one price per period) is stored first; without one the stored forecast,
    the cleared DA prices or the day before's prices are used, as by the service.
    """
    state = api(request)
    body = body or BidCreate()
    with state.sessions() as session:
        current = state.store.current(session)
        exists = session.scalar(sa.select(Bid.id).where(Bid.trading_day == day).limit(1))
    if current is None:
        raise conflict("no portfolio stored: PUT /api/portfolio first")
    if exists is not None:
        raise conflict(f"a bid for {day} exists")
    version, loaded = current
    market = loaded.market
    days = Day.of(market, day)
    if body.forecast is not None:
        if len(body.forecast) != len(days.utc):
            raise HTTPException(422, [{"loc": ["body", "forecast"], "field": "body.forecast",
                                       "msg": f"{len(body.forecast)} prices for {len(days.utc)} periods",
                                       "type": "value_error"}])
        _check_bounds(market, days, body.forecast)
        with state.sessions.begin() as session:
            repository.insert_ignore(session, Forecast, [
                {"trading_day": day, "period_start": t, "da_price": float(p),
                 "source": f"api:{principal.name}"}
                for t, p in zip(days.utc, body.forecast, strict=True)], ["period_start"])
    pipeline = _pipeline(request, version.sha256, str(loaded.path), body.time_limit_s)
    now = gate_closure(market, day) - pd.Timedelta(seconds=pipeline.config.bid_lead_s)
    result = pipeline.bid_day(now)
    if result["status"] != "ok":
        raise conflict(f"the bid for {day} failed: {result.get('reason', result['status'])}")
    return read_bid(request, day, principal)


def _check_bounds(market: MarketSpec, days: Day, forecast: list[float]) -> None:
    """422 for the first forecast price outside the market's clearing bounds (period and bound named)."""
    floor, cap = market.clear_price_floor, market.clear_price_cap
    values = np.asarray(forecast, dtype=float)
    low = values < floor if floor is not None else np.zeros(len(values), dtype=bool)
    bad = low | (values > cap) | ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        side = (f"below the clearing price floor {floor:g}" if low[i]
                else f"above the clearing price cap {cap:g}")
        raise HTTPException(422, [{"loc": ["body", "forecast", i], "field": f"body.forecast[{i}]",
                                   "msg": f"forecast {values[i]:g} {market.currency}/MWh for the period "
                                          f"starting {local_iso(days.utc[i], market)} is {side}",
                                   "type": "value_error"}])


def _pipeline(request: Request, sha: str, path: str, time_limit_s: float) -> Pipeline:
    state = api(request)
    key = f"{sha}:{time_limit_s}"
    if key not in state.pipelines:
        config = ServiceConfig(
            db_url=state.engine.url.render_as_string(hide_password=False), portfolio=path,
            inbox=str(state.data_dir / "inbox"), outbox=str(state.data_dir / "outbox"),
        )
        config = dataclasses.replace(config, bid_time_limit_s=time_limit_s)
        state.pipelines[key] = Pipeline(config, state.engine)
    return state.pipelines[key]


@router.get("/{day}/export")
def export_bid(
    request: Request, day: dt.date, _: Reader, format: Literal["csv", "json"] = "csv"
) -> Response:
    """The bid file of ``day``: ``timestamp,net_mw`` CSV (as the service's outbox) or JSON."""
    bid = read_bid(request, day, _)
    if format == "json":
        data = {"day": str(day), "status": bid.status,
                "periods": [{"timestamp": p.period_start, "net_mw": p.net_mw} for p in bid.bid_periods]}
        return Response(json.dumps(data, indent=1), media_type="application/json")
    buffer = io.StringIO()
    buffer.write("timestamp,net_mw\n")
    for p in bid.bid_periods:
        buffer.write(f"{p.period_start},{p.net_mw}\n")
    return Response(buffer.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="bid_{day}.csv"'})


@router.post("/{day}/approve", response_model=BidOut)
def approve_bid(request: Request, day: dt.date, principal: Operator) -> BidOut:
    """Approve the bid of ``day`` for submission (operators only; once).

    When the bid's portfolio asks for approval, its bid file is written now to the API's outbox
    (``<data-dir>/outbox``); the service writes it to its own outbox at its next dispatch pass.
    """
    state = api(request)
    with state.sessions.begin() as session:
        if session.scalar(sa.select(Bid.id).where(Bid.trading_day == day).limit(1)) is None:
            raise not_found(f"bid for {day}")
        inserted = repository.insert_ignore(session, BidApproval, [
            {"trading_day": day, "approved_by": principal.name, "approved_at": dt.datetime.now(dt.UTC)}
        ], ["trading_day"])
    if not inserted:
        raise conflict(f"the bid for {day} is already approved")
    # a bid whose portfolio asks for approval gets its bid file now (the service's outbox: at its
    # next dispatch pass); an outbox failure leaves the approval recorded (a later pass rewrites)
    try:
        bidding.write_stored_bid(state.sessions, market_of(request), state.data_dir / "outbox", day)
    except OSError as exc:
        log.error("bid %s approved, bid file not written: %s", day, exc)
    return read_bid(request, day, principal)
