"""Shared request helpers: the app state (engine, sessions, portfolio store) and day parsing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from market.presets import MarketSpec
from vpp.api.store import PortfolioStore


@dataclass
class ApiState:
    """What every request may use (``app.state.api``)."""

    engine: Engine
    sessions: sessionmaker
    store: PortfolioStore
    data_dir: Path
    prices: Path
    jobs: Any  # vpp.api.jobs.BacktestRunner
    pipelines: dict[str, Any]


def api(request: Request) -> ApiState:
    """The application's :class:`ApiState`."""
    return request.app.state.api


def market_of(request: Request) -> MarketSpec:
    """The market of the current portfolio (Shanxi when none is stored)."""
    state = api(request)
    with state.sessions() as session:
        return state.store.market(session)


def not_found(what: str) -> HTTPException:
    """A 404 naming what is missing."""
    return HTTPException(404, f"{what} not found")


def conflict(detail: str) -> HTTPException:
    """A 409: the request is valid but the state does not allow it."""
    return HTTPException(409, detail)


def today(market: MarketSpec) -> dt.date:
    """Today in the market's zone."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(market.timezone)).date()
