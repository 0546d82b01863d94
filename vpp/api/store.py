"""Portfolio versions and the day arithmetic shared by the routers.

The current portfolio is the version of the latest ``portfolio_activations`` row, else the newest
stored version (the service stores the file it bids with). A version is loaded from its recorded
path when that file still has the same content, else from its body written to
``<data_dir>/portfolios/<sha256>.<ext>`` (profile paths in an uploaded body are read relative to
that folder, so uploads should name profile files by absolute path).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from market.calendar import trading_day_index
from market.presets import MarketSpec, get_market
from vpp.errors import InputError
from vpp.portfolio_io import LoadedPortfolio, load_portfolio
from vpp.service import repository
from vpp.service.api_tables import PortfolioActivation
from vpp.service.db import PortfolioVersion

DEFAULT_MARKET = "shanxi"


@dataclass(frozen=True)
class Day:
    """One trading day: period starts in the market zone and in UTC, and its UTC bounds."""

    index: pd.DatetimeIndex
    utc: list[dt.datetime]
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, market: MarketSpec, day: dt.date) -> Day:
        index = trading_day_index(market, day)
        utc = list(index.tz_convert("UTC").to_pydatetime())
        end = (index[-1] + market.period).tz_convert("UTC").to_pydatetime()
        return cls(index, utc, utc[0], end)


def local_iso(moment: dt.datetime, market: MarketSpec) -> str:
    """ISO 8601 of an instant in the market's zone (``2024-01-02T00:00:00+08:00``)."""
    return pd.Timestamp(moment).tz_convert(market.timezone).isoformat()


def sha256(body: str) -> str:
    """Content hash of a portfolio body."""
    return hashlib.sha256(body.encode()).hexdigest()


class PortfolioStore:
    """Loads and caches portfolio versions; materialises bodies under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = Path(data_dir) / "portfolios"
        self._cache: dict[str, LoadedPortfolio] = {}
        self._lock = threading.Lock()

    def materialise(self, body: str, fmt: str) -> Path:
        """Write ``body`` to ``<folder>/<sha256>.<fmt>`` (once) and return the path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{sha256(body)}.{fmt}"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_text(body, encoding="utf-8")
            tmp.replace(path)
        return path

    def validate(self, body: str, fmt: str) -> LoadedPortfolio:
        """Load ``body`` as a portfolio file; raises :class:`InputError` naming each bad field."""
        loaded = load_portfolio(self.materialise(body, fmt))
        with self._lock:
            self._cache[sha256(body)] = loaded
        return loaded

    def load(self, version: PortfolioVersion) -> LoadedPortfolio:
        """The loaded portfolio of a stored version (cached by content hash)."""
        with self._lock:
            if version.sha256 in self._cache:
                return self._cache[version.sha256]
        recorded = Path(version.path)
        if recorded.is_file() and sha256(recorded.read_text(encoding="utf-8")) == version.sha256:
            loaded = load_portfolio(recorded)
        else:
            fmt = "json" if recorded.suffix.lower() == ".json" else "yaml"
            loaded = load_portfolio(self.materialise(version.body, fmt))
        with self._lock:
            self._cache[version.sha256] = loaded
        return loaded

    def current(self, session: Session) -> tuple[PortfolioVersion, LoadedPortfolio] | None:
        """The current version and its loaded portfolio, or None when none is stored."""
        version = current_version(session)
        return None if version is None else (version, self.load(version))

    def market(self, session: Session) -> MarketSpec:
        """The current portfolio's market, else the default (Shanxi)."""
        version = current_version(session)
        if version is None:
            return get_market(DEFAULT_MARKET)
        try:
            return self.load(version).market
        except InputError:
            return get_market(DEFAULT_MARKET)


def current_version(session: Session) -> PortfolioVersion | None:
    """The version of the latest activation, else the newest stored version."""
    active = session.scalar(
        sa.select(PortfolioActivation.version_id).order_by(PortfolioActivation.id.desc()).limit(1)
    )
    if active is not None:
        return session.get(PortfolioVersion, active)
    return session.scalar(sa.select(PortfolioVersion).order_by(PortfolioVersion.id.desc()).limit(1))


def store_version(session: Session, loaded: LoadedPortfolio, body: str, by: str) -> PortfolioVersion:
    """Store ``body`` as a version (deduplicated by hash) and make it current."""
    digest = sha256(body)
    now = dt.datetime.now(dt.UTC)
    repository.insert_ignore(
        session,
        PortfolioVersion,
        [{"sha256": digest, "name": loaded.portfolio.name, "path": str(loaded.path), "body": body,
          "created_at": now}],
        ["sha256"],
    )
    version = session.scalar(sa.select(PortfolioVersion).where(PortfolioVersion.sha256 == digest))
    session.add(PortfolioActivation(version_id=version.id, activated_by=by, activated_at=now))
    return version


def register_file(session: Session, store: PortfolioStore, path: Path, by: str = "vpp serve") -> None:
    """Store the portfolio file ``path`` as the current version when no version is stored yet."""
    if current_version(session) is not None:
        return
    loaded = load_portfolio(path)
    body = Path(path).read_text(encoding="utf-8")
    digest = sha256(body)
    repository.insert_ignore(
        session,
        PortfolioVersion,
        [{"sha256": digest, "name": loaded.portfolio.name, "path": str(Path(path).resolve()),
          "body": body, "created_at": dt.datetime.now(dt.UTC)}],
        ["sha256"],
    )
    version = session.scalar(sa.select(PortfolioVersion).where(PortfolioVersion.sha256 == digest))
    session.add(PortfolioActivation(version_id=version.id, activated_by=by,
                                    activated_at=dt.datetime.now(dt.UTC)))
