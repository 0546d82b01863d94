"""Tables of the operator API (:mod:`vpp.api`), in the service's metadata (migration ``0002``).

- ``api_keys``: hashed API keys with a role (``read`` or ``operator``);
- ``bid_approvals``: an operator's approval of a trading day's bid (the bid rows stay untouched);
- ``portfolio_activations``: which stored portfolio version is the current one, and who chose it;
- ``backtest_jobs``: backtests started from the API, with their progress and results (JSON).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vpp.service.db import Base, UtcDateTime


class ApiKey(Base):
    """An API key: only its SHA-256 hash is stored, with a short prefix to recognise it."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    role: Mapped[str] = mapped_column(sa.String(20))  # "read" or "operator"
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(12))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class BidApproval(Base):
    """Approval of the day-ahead bid of one trading day, before its submission."""

    __tablename__ = "bid_approvals"
    trading_day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    approved_by: Mapped[str] = mapped_column(sa.String(100))
    approved_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class PortfolioActivation(Base):
    """A portfolio version made current (the latest activation wins)."""

    __tablename__ = "portfolio_activations"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("portfolio_versions.id"))
    activated_by: Mapped[str] = mapped_column(sa.String(100))
    activated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class BacktestJob(Base):
    """A backtest run in the background: parameters, progress (0..1) and results (JSON text)."""

    __tablename__ = "backtest_jobs"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(sa.String(20))  # queued, running, done, failed
    progress: Mapped[float] = mapped_column(sa.Float)
    message: Mapped[str | None] = mapped_column(sa.Text)
    params: Mapped[str] = mapped_column(sa.Text)
    created_by: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(sa.Text)
    result: Mapped[str | None] = mapped_column(sa.Text)
