"""Portfolio versions and the day arithmetic shared by the routers.

The current portfolio is the version of the latest ``portfolio_activations`` row, else the newest
stored version (the service stores the file it bids with). A version is loaded from its recorded
path when that file still has the same content, else from its body written to
``<data_dir>/portfolios/<sha256>.<ext>``. Profile paths in an uploaded body are relative to
``data_dir`` and must stay inside it (see :class:`PortfolioStore`).
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
from vpp.io_utils import write_text_atomic
from vpp.portfolio_io import LoadedPortfolio, load_portfolio, load_portfolio_text
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
    """Loads and caches portfolio versions; materialises stored bodies under ``data_dir``.

    A portfolio sent through the API may read profile files only inside ``data_dir`` (named
    relative to it: no absolute path, no ``..``, no symbolic link leading out), and its errors never
    show those files' contents (:func:`vpp.portfolio_io.load_portfolio`, ``profile_root``).
    """

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir).resolve()
        self.folder = self.root / "portfolios"
        self._cache: dict[str, LoadedPortfolio] = {}
        self._lock = threading.Lock()

    def path_of(self, body: str, fmt: str) -> Path:
        """Where a stored body lives: ``<folder>/<sha256>.<fmt>``."""
        return self.folder / f"{sha256(body)}.{fmt}"

    def materialise(self, body: str, fmt: str) -> Path:
        """Write ``body`` to :meth:`path_of` (atomically, once) and return the path."""
        path = self.path_of(body, fmt)
        if not path.is_file():
            write_text_atomic(body, path)  # a private temporary name: concurrent writers never clash
        return path

    def validate(self, body: str, fmt: str) -> LoadedPortfolio:
        """Load ``body`` as a portfolio, writing and caching nothing.

        Raises
        ------
        InputError
            Naming each bad field.
        """
        return load_portfolio_text(body, fmt, path=self.path_of(body, fmt), profile_root=self.root)

    def keep(self, body: str, fmt: str, loaded: LoadedPortfolio) -> None:
        """Write a validated body to its path and cache it (call when storing the version)."""
        self.materialise(body, fmt)
        with self._lock:
            self._cache[sha256(body)] = loaded

    def load(self, version: PortfolioVersion) -> LoadedPortfolio:
        """The loaded portfolio of a stored version (cached by content hash).

        A version stored through the API (its file under ``<data_dir>/portfolios``) is read with
        the API's confinement; a file the operator registered on the server is read as it is.
        """
        with self._lock:
            if version.sha256 in self._cache:
                return self._cache[version.sha256]
        recorded = Path(version.path)
        uploaded = recorded.parent == self.folder
        root = self.root if uploaded else None
        if recorded.is_file() and sha256(recorded.read_text(encoding="utf-8")) == version.sha256:
            loaded = load_portfolio(recorded, profile_root=root)
        else:
            fmt = "json" if recorded.suffix.lower() == ".json" else "yaml"
            loaded = load_portfolio(self.materialise(version.body, fmt), profile_root=root)
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
