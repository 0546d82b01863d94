"""Portfolio: read the current version, list versions, validate a file, replace it, its envelope."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request

from vpp.api.auth import Operator, Reader
from vpp.api.deps import api, not_found, today
from vpp.api.schemas import (
    AssetOut,
    EnvelopeOut,
    EnvelopePeriod,
    EnvelopeSummary,
    PortfolioCheck,
    PortfolioIn,
    PortfolioOut,
    PortfolioVersionOut,
)
from vpp.api.store import current_version, local_iso, store_version
from vpp.envelope import flexibility_envelope
from vpp.errors import InputError
from vpp.portfolio_io import LoadedPortfolio
from vpp.service.db import PortfolioVersion

router = APIRouter(prefix="/portfolio", tags=["portfolio"])


def _assets(loaded: LoadedPortfolio) -> list[AssetOut]:
    return [AssetOut(id=a.id, type=a.type) for a in loaded.portfolio.assets]


def _out(version: PortfolioVersion, loaded: LoadedPortfolio) -> PortfolioOut:
    return PortfolioOut(
        id=version.id, sha256=version.sha256, name=version.name, created_at=version.created_at,
        current=True, market=loaded.market.name, currency=loaded.market.currency,
        assets=_assets(loaded), body=version.body,
    )


@router.get("", response_model=PortfolioOut)
def read_portfolio(request: Request, _: Reader) -> PortfolioOut:
    """The current portfolio: its stored file, assets and market."""
    state = api(request)
    with state.sessions() as session:
        current = state.store.current(session)
    if current is None:
        raise not_found("portfolio")
    return _out(*current)


@router.get("/versions", response_model=list[PortfolioVersionOut])
def list_versions(request: Request, _: Reader) -> list[PortfolioVersionOut]:
    """Every stored version, newest first."""
    with api(request).sessions() as session:
        current = current_version(session)
        rows = session.scalars(sa.select(PortfolioVersion).order_by(PortfolioVersion.id.desc()))
        return [
            PortfolioVersionOut(id=r.id, sha256=r.sha256, name=r.name, created_at=r.created_at,
                                current=current is not None and r.id == current.id)
            for r in rows
        ]


@router.post("/validate", response_model=PortfolioCheck)
def validate(request: Request, body: PortfolioIn, _: Reader) -> PortfolioCheck:
    """Validate a portfolio file; nothing is stored or written (422 naming each bad field)."""
    loaded = api(request).store.validate(body.content, body.format)
    return _check(loaded)


@router.put("", response_model=PortfolioOut)
def replace(request: Request, body: PortfolioIn, principal: Operator) -> PortfolioOut:
    """Store a new portfolio version and make it current (operators only)."""
    state = api(request)
    loaded = state.store.validate(body.content, body.format)  # nothing is written before this passes
    state.store.keep(body.content, body.format, loaded)
    with state.sessions.begin() as session:
        version = store_version(session, loaded, body.content, principal.name)
    return _out(version, loaded)


@router.get("/envelope", response_model=EnvelopeOut)
def envelope(
    request: Request, _: Reader, day: Annotated[dt.date | None, Query(description="Trading day.")] = None
) -> EnvelopeOut:
    """The fleet's flexibility envelope per period of ``day`` (default today), MW."""
    state = api(request)
    with state.sessions() as session:
        current = state.store.current(session)
    if current is None:
        raise not_found("portfolio")
    loaded = current[1]
    day = day or today(loaded.market)
    from market.calendar import trading_day_index

    try:
        env = flexibility_envelope(loaded, trading_day_index(loaded.market, day))
    except InputError as exc:
        raise HTTPException(
            422, [{"loc": ["query", "day"], "field": "query.day", "msg": exc.message, "type": "value_error"}]
        ) from None
    periods = [
        EnvelopePeriod(period_start=local_iso(t, loaded.market), **{k: float(v) for k, v in row.items()})
        for t, row in env.per_period.iterrows()
    ]
    return EnvelopeOut(day=day, adjustable_mw=env.adjustable_mw,
                       shiftable_energy_mwh=env.shiftable_energy_mwh, conflicts=list(env.conflicts),
                       periods=periods)


def _check(loaded: LoadedPortfolio) -> PortfolioCheck:
    from market.calendar import trading_day_index
    from vpp.profile_refs import default_day

    check = PortfolioCheck(name=loaded.portfolio.name, market=loaded.market.name,
                           currency=loaded.market.currency, assets=_assets(loaded))
    try:
        day = default_day(loaded)
        env = flexibility_envelope(loaded, trading_day_index(loaded.market, day))
        check.envelope = EnvelopeSummary(day=day, adjustable_mw=env.adjustable_mw,
                                         shiftable_energy_mwh=env.shiftable_energy_mwh,
                                         conflicts=list(env.conflicts))
    except InputError as exc:
        check.envelope_error = exc.message
    return check
