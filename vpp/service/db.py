"""Tables of the service (SQLAlchemy 2 declarative), the engine and the schema upgrade.

Timestamps are stored as naive UTC (:class:`UtcDateTime`) so SQLite and PostgreSQL compare and
index them the same way; they come back tz-aware (UTC). Every period row is keyed by its period
START (CONVENTIONS.md). Powers in MW (positive = to the grid), energy in MWh, prices in yuan/MWh,
money in yuan. Unique constraints make every job output idempotent: writes are
insert-or-ignore (see :mod:`vpp.service.repository`). The schema is created and upgraded by the
Alembic migrations in ``vpp/service/migrations`` (:func:`upgrade_schema`), never by ``create_all``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""The Alembic script folder, packaged with the code."""


class UtcDateTime(sa.types.TypeDecorator):
    """A tz-aware instant stored as naive UTC; read back as tz-aware UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the service stores tz-aware instants only")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of the service tables."""


def _id() -> Mapped[int]:
    return mapped_column(sa.Integer, primary_key=True, autoincrement=True)


class PortfolioVersion(Base):
    """A portfolio file as it was when a bid was made (deduplicated by content hash)."""

    __tablename__ = "portfolio_versions"
    id: Mapped[int] = _id()
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    path: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Forecast(Base):
    """Day-ahead price forecast per period (yuan/MWh), from the inbox or made at bid time."""

    __tablename__ = "forecasts"
    __table_args__ = (sa.UniqueConstraint("period_start", name="uq_forecasts_period"),)
    id: Mapped[int] = _id()
    trading_day: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    da_price: Mapped[float] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.String(200))


class Price(Base):
    """Cleared prices per period (yuan/MWh); either may be missing until published."""

    __tablename__ = "prices"
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime, primary_key=True)
    da_price: Mapped[float | None] = mapped_column(sa.Float)
    rt_price: Mapped[float | None] = mapped_column(sa.Float)


class Bid(Base):
    """Quantity-only day-ahead bid of the fleet per period (MW, positive = to the grid)."""

    __tablename__ = "bids"
    __table_args__ = (sa.UniqueConstraint("period_start", name="uq_bids_period"),)
    id: Mapped[int] = _id()
    trading_day: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    net_mw: Mapped[float] = mapped_column(sa.Float)
    portfolio_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portfolio_versions.id"))


class DayAheadSchedule(Base):
    """Per-asset day-ahead schedule behind the bid: power (MW) and stored energy at period end (MWh).

    ``soc_mwh`` is the energy an asset stores at the period's end, whatever its family: the
    family's ``stored_energy`` series (:attr:`vpp.assets.family.AssetFamily.stored_energy`: a
    battery's state of charge, a swap station's energy in its packs); None for an asset that stores
    none. The name is kept from when only batteries stored energy, because the same name is the
    documented column of telemetry files, setpoint files and the API (ARCHITECTURE.md, "Asset
    families").
    """

    __tablename__ = "day_ahead_schedules"
    __table_args__ = (sa.UniqueConstraint("period_start", "asset_id", name="uq_da_schedule"),)
    id: Mapped[int] = _id()
    trading_day: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    asset_id: Mapped[str] = mapped_column(sa.String(100))
    net_mw: Mapped[float] = mapped_column(sa.Float)
    soc_mwh: Mapped[float | None] = mapped_column(sa.Float)


class Setpoint(Base):
    """Real-time setpoint per asset and period (MW) and the planned stored energy at its end (MWh).

    ``soc_end_mwh``: the energy stored at the period's end of any family that stores energy, as
    :class:`DayAheadSchedule`'s ``soc_mwh`` (None for an asset that stores none).
    """

    __tablename__ = "setpoints"
    __table_args__ = (sa.UniqueConstraint("period_start", "asset_id", name="uq_setpoints"),)
    id: Mapped[int] = _id()
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    asset_id: Mapped[str] = mapped_column(sa.String(100))
    setpoint_mw: Mapped[float] = mapped_column(sa.Float)
    soc_end_mwh: Mapped[float | None] = mapped_column(sa.Float)
    source: Mapped[str] = mapped_column(sa.String(20))  # optimal, repaired, feasible or fallback


class Telemetry(Base):
    """Measured average power over a period (MW) and stored energy at its end (MWh).

    ``soc_mwh``: the measured energy stored at the period's end of any family that stores energy,
    as :class:`DayAheadSchedule`'s ``soc_mwh`` (None when not measured or not stored).
    """

    __tablename__ = "telemetry"
    __table_args__ = (sa.UniqueConstraint("period_start", "asset_id", name="uq_telemetry"),)
    id: Mapped[int] = _id()
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    asset_id: Mapped[str] = mapped_column(sa.String(100))
    metered_mw: Mapped[float] = mapped_column(sa.Float)
    soc_mwh: Mapped[float | None] = mapped_column(sa.Float)


class Settlement(Base):
    """Two-settlement result per period (MWh, yuan/MWh, yuan), from ``market.settlement``."""

    __tablename__ = "settlements"
    __table_args__ = (sa.UniqueConstraint("period_start", name="uq_settlements_period"),)
    id: Mapped[int] = _id()
    trading_day: Mapped[dt.date] = mapped_column(sa.Date, index=True)
    period_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    q_da_mwh: Mapped[float] = mapped_column(sa.Float)
    q_actual_mwh: Mapped[float] = mapped_column(sa.Float)
    p_da: Mapped[float] = mapped_column(sa.Float)
    p_rt: Mapped[float] = mapped_column(sa.Float)
    da_revenue: Mapped[float] = mapped_column(sa.Float)
    rt_revenue: Mapped[float] = mapped_column(sa.Float)
    revenue: Mapped[float] = mapped_column(sa.Float)


STATEMENT_TOTALS: tuple[str, ...] = (
    "q_da_mwh",
    "q_actual_mwh",
    "export_mwh",
    "import_mwh",
    "da_revenue",
    "rt_revenue",
    "revenue",
)
"""The float columns of :class:`Statement`: the day's totals kept from ``daily_statement``."""


class Statement(Base):
    """Daily settlement statement (``market.statements.daily_statement``), yuan and MWh."""

    __tablename__ = "statements"
    trading_day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    periods: Mapped[int] = mapped_column(sa.Integer)
    q_da_mwh: Mapped[float] = mapped_column(sa.Float)
    q_actual_mwh: Mapped[float] = mapped_column(sa.Float)
    export_mwh: Mapped[float] = mapped_column(sa.Float)
    import_mwh: Mapped[float] = mapped_column(sa.Float)
    da_revenue: Mapped[float] = mapped_column(sa.Float)
    rt_revenue: Mapped[float] = mapped_column(sa.Float)
    revenue: Mapped[float] = mapped_column(sa.Float)


class JobRun(Base):
    """One completed run of a job for one period (or day): at most one row per (job, period_key)."""

    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "period_key", name="uq_job_runs"),)
    id: Mapped[int] = _id()
    job: Mapped[str] = mapped_column(sa.String(40))
    period_key: Mapped[str] = mapped_column(sa.String(40))  # ISO UTC period start, or the day
    period_start: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(sa.String(20))  # ok, fallback, failed
    solver_status: Mapped[str | None] = mapped_column(sa.String(40))
    fallback_reason: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[str | None] = mapped_column(sa.Text)  # JSON


class SchedulerLease(Base):
    """Who holds the scheduler lease (:mod:`vpp.service.lease`): one row, renewed by a heartbeat."""

    __tablename__ = "scheduler_lease"
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(64))  # a random id per process
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column(sa.Integer)
    mode: Mapped[str] = mapped_column(sa.String(20))  # service or simulation
    clock: Mapped[str | None] = mapped_column(sa.Text)  # JSON of a simulation's accelerated clock
    acquired_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and cross-thread use.

    Parameters
    ----------
    url : str
        SQLAlchemy URL (``sqlite:///vpp.db``, ``postgresql+psycopg://...``).
    """
    if url.startswith("postgresql+psycopg"):
        from vpp.extras import require

        require("psycopg", "postgres", "a PostgreSQL database")
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def session_factory(engine: Engine) -> sessionmaker:
    """Sessions bound to ``engine`` (use ``with factory.begin() as session:`` for one transaction)."""
    return sessionmaker(engine, expire_on_commit=False)


MIGRATION_LOCK_KEY = 0x7670_7000_0000_0001
"""PostgreSQL advisory lock key (bigint) held while migrations run (``vpp`` in hex, then 1)."""


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database schema with the packaged Alembic migrations (idempotent, concurrent-safe).

    The upgrade runs in one transaction that first takes a database-wide lock, so two processes
    starting at once on a fresh database migrate one after the other (the second finds the schema
    at head and does nothing): on PostgreSQL a transaction-level advisory lock
    (``pg_advisory_xact_lock``), on SQLite ``BEGIN EXCLUSIVE`` (the second waits up to the busy
    timeout, 30 s). Both are released by the commit, or by the death of the process.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if revision == "head" and _at_head(engine, config):
        return  # the common case takes no lock: a running service's writes are never held up
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # pysqlite opens no transaction for DDL by itself: take the write lock explicitly
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
        elif connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()


def _at_head(engine: Engine, config: Any) -> bool:
    """True when the database's Alembic revision is the packaged head (read without a lock)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


# The operator API's tables share this metadata (migration 0002); imported last: they need Base.
from vpp.service import api_tables as _api_tables  # noqa: E402,F401
