"""Idempotent writes and the reads the pipeline needs.

A job's outputs and its :class:`~vpp.service.db.JobRun` row are written in ONE transaction that
starts by claiming the run: ``INSERT ... ON CONFLICT DO NOTHING`` on the unique
``(job, period_key)``. When the claim inserts nothing the run already exists and the transaction
writes nothing else, so a rerun (or a second instance) never writes twice, and a crash before the
commit leaves no row at all. Output rows are insert-or-ignore on their own unique keys as well.
A failed run (status ``failed``) is replaced by a later successful one.

Bulk writes are executemany INSERTs that SQLAlchemy sends as batches of multi-row statements
("insertmanyvalues", 1,000 rows each), never one statement for all rows (PostgreSQL allows 65,535
bound values, SQLite 32,766), so a file of any length is stored in one transaction: a year of
15-minute prices is 35,040 rows.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from vpp.service.db import (
    Base,
    DayAheadSchedule,
    Forecast,
    JobRun,
    Price,
    Setpoint,
    Telemetry,
    UtcDateTime,
)


def _insert(session: Session, model: type[Base] | sa.Table) -> Any:
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the service supports SQLite and PostgreSQL
        raise NotImplementedError(f"no insert-or-ignore for database '{name}'")
    return insert(model)


def insert_ignore(
    session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> int:
    """Insert ``rows``, skipping any whose unique ``keys`` already exist; return rows inserted."""
    if not rows:
        return 0
    table = model.__table__
    if len(rows) >= BULK_ROWS:
        return _bulk_write(session, table, rows, keys, None)
    stmt = _insert(session, table).on_conflict_do_nothing(index_elements=list(keys))
    # RETURNING counts the rows really inserted (psycopg reports rowcount -1 here)
    return _execute_many(session, stmt.returning(table.c[keys[0]]), rows)


def upsert(
    session: Session,
    model: type[Base],
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    columns: Sequence[str],
) -> int:
    """Insert ``rows``; where the unique ``keys`` exist, replace ``columns``; return rows written."""
    if not rows:
        return 0
    table = model.__table__
    if len(rows) >= BULK_ROWS:
        return _bulk_write(session, table, rows, keys, columns)
    stmt = _insert(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={c: getattr(stmt.excluded, c) for c in columns}
    )
    return _execute_many(session, stmt.returning(table.c[keys[0]]), rows)


def _execute_many(session: Session, stmt: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run ``stmt`` (an INSERT ... RETURNING) for every row; return the rows it returned.

    SQLAlchemy's "insertmanyvalues" sends the rows in batches of multi-row INSERTs, each well
    below the database's bound-parameter limit, so a file of any length is one transaction."""
    result = session.connection().execute(stmt, [dict(r) for r in rows])
    return len(result.all())


BULK_ROWS = 2000
"""From this many rows a write goes the bulk way: COPY into a staging table on PostgreSQL, the
driver's executemany on SQLite (:func:`_bulk_write`)."""


def _bulk_write(
    session: Session,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    columns: Sequence[str] | None,
) -> int:
    """Insert many ``rows`` in the caller's transaction; on a ``keys`` conflict replace ``columns``
    (None: skip the row). Values go through the column types' bind processing (UTC instants).

    PostgreSQL: ``COPY`` into a temporary table, then one ``INSERT ... SELECT ... ON CONFLICT``.
    SQLite: one prepared ``INSERT ... ON CONFLICT`` run by the driver's ``executemany``.
    Returns the rows inserted or updated.
    """
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0].keys())
    values = list(
        zip(*(_column_values(table.c[n], [r[n] for r in rows], dialect) for n in names), strict=True)
    )
    quote = dialect.identifier_preparer.quote
    cols = ", ".join(quote(n) for n in names)
    conflict = f"ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO " + (
        "NOTHING"
        if columns is None
        else "UPDATE SET " + ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns)
    )
    target = quote(table.name)
    if dialect.name == "postgresql":
        stage = quote(f"_stage_{table.name}_{uuid.uuid4().hex[:8]}")
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS SELECT {cols} FROM {target} WITH NO DATA"
        )
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {stage} ({cols}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        result = connection.exec_driver_sql(
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} {conflict}"
        )
        count = result.rowcount
        connection.exec_driver_sql(f"DROP TABLE {stage}")
        return int(count)
    marks = ", ".join("?" for _ in names)
    result = connection.exec_driver_sql(f"INSERT INTO {target} ({cols}) VALUES ({marks}) {conflict}", values)
    return int(result.rowcount)


def _column_values(column: sa.Column, values: list[Any], dialect: sa.Dialect) -> list[Any]:
    """``values`` of one column as the driver takes them (the column type's bind processing);
    UTC instants are converted column-wise: naive UTC, as text on SQLite (SQLAlchemy's format)."""
    if isinstance(column.type, UtcDateTime) and values and all(v is not None for v in values):
        instants = pd.DatetimeIndex(values)
        if instants.tz is not None:
            naive = instants.tz_convert("UTC").tz_localize(None)
            if dialect.name == "sqlite":
                return list(naive.strftime("%Y-%m-%d %H:%M:%S.%f"))
            return list(naive.to_pydatetime())
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return values if process is None else [process(v) for v in values]


def upsert_prices(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert or complete price rows: a value given (not None) replaces the stored one."""
    batches: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        given = ("da_price",) * (r.get("da_price") is not None) + ("rt_price",) * (
            r.get("rt_price") is not None
        )
        if given:
            batches.setdefault(given, []).append(r)
    return sum(upsert(session, Price, batch, ["period_start"], columns) for columns, batch in batches.items())


def claim_run(session: Session, run: Mapping[str, Any]) -> bool:
    """Claim ``(job, period_key)`` inside the caller's transaction; False when already done.

    A previous ``failed`` run of the same key is deleted first, so it can be retried.
    """
    session.execute(
        sa.delete(JobRun).where(
            JobRun.job == run["job"], JobRun.period_key == run["period_key"], JobRun.status == "failed"
        )
    )
    row = dict(run)
    if isinstance(row.get("detail"), dict):
        row["detail"] = json.dumps(row["detail"], default=str, sort_keys=True)
    return insert_ignore(session, JobRun, [row], ["job", "period_key"]) == 1


def record_failure(session: Session, run: Mapping[str, Any]) -> None:
    """Record a failed run unless the key already has a completed run; a failed run of the key is
    updated with this failure's time and reason, and its ``attempts`` (in the detail) counted."""
    row = dict(run, status="failed")
    detail = row.get("detail") if isinstance(row.get("detail"), dict) else {}
    previous = find_run(session, row["job"], row["period_key"])
    if previous is not None and previous.status == "failed":
        before = json.loads(previous.detail or "{}")
        detail = dict(detail, attempts=int(before.get("attempts", 1)) + 1)
        session.execute(
            sa.update(JobRun)
            .where(JobRun.id == previous.id)
            .values(
                finished_at=row["finished_at"],
                solver_status=row.get("solver_status"),
                fallback_reason=row.get("fallback_reason"),
                detail=json.dumps(detail, default=str, sort_keys=True),
            )
        )
        return
    if isinstance(row.get("detail"), dict):
        row["detail"] = json.dumps(row["detail"], default=str, sort_keys=True)
    insert_ignore(session, JobRun, [row], ["job", "period_key"])


def find_run(session: Session, job: str, period_key: str) -> JobRun | None:
    """The run of ``job`` for ``period_key``, if any."""
    return session.scalar(sa.select(JobRun).where(JobRun.job == job, JobRun.period_key == period_key))


def run_done(session: Session, job: str, period_key: str) -> bool:
    """True when ``job`` completed ``period_key`` (status ok or fallback)."""
    run = find_run(session, job, period_key)
    return run is not None and run.status != "failed"


def runs(session: Session, job: str, start: dt.datetime, end: dt.datetime) -> list[JobRun]:
    """Runs of ``job`` for period starts in ``[start, end)``, ordered by period."""
    stmt = (
        sa.select(JobRun)
        .where(JobRun.job == job, JobRun.period_start >= start, JobRun.period_start < end)
        .order_by(JobRun.period_start)
    )
    return list(session.scalars(stmt))


def prices_between(session: Session, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, Price]:
    """Stored prices with period start in ``[start, end)``, by period start (UTC)."""
    stmt = sa.select(Price).where(Price.period_start >= start, Price.period_start < end)
    return {p.period_start: p for p in session.scalars(stmt)}


def price_frame(session: Session, start: dt.datetime, end: dt.datetime, tz: str) -> pd.DataFrame:
    """Stored ``da_price`` and ``rt_price`` (yuan/MWh; NaN: not stored), period start in ``[start, end)``.

    One query of the three columns (no ORM objects: 28 days of 15-minute prices read in a few
    ms); the index is the period start in zone ``tz``, named ``timestamp``, ascending.
    """
    stmt = sa.select(Price.period_start, Price.da_price, Price.rt_price).where(
        Price.period_start >= start, Price.period_start < end
    )
    rows = session.execute(stmt.order_by(Price.period_start)).all()
    times, da, rt = zip(*rows, strict=True) if rows else ((), (), ())
    return pd.DataFrame(
        {"da_price": np.array(da, dtype=float), "rt_price": np.array(rt, dtype=float)},
        index=pd.DatetimeIndex(pd.to_datetime(list(times), utc=True), name="timestamp").tz_convert(tz),
    )


def forecasts_for(session: Session, day: dt.date) -> dict[dt.datetime, float]:
    """Day-ahead price forecast of ``day`` by period start (yuan/MWh)."""
    stmt = sa.select(Forecast).where(Forecast.trading_day == day)
    return {f.period_start: f.da_price for f in session.scalars(stmt)}


def day_ahead_at(session: Session, period_start: dt.datetime) -> dict[str, DayAheadSchedule]:
    """Day-ahead schedule rows of one period, by asset id."""
    stmt = sa.select(DayAheadSchedule).where(DayAheadSchedule.period_start == period_start)
    return {r.asset_id: r for r in session.scalars(stmt)}


def setpoints_at(session: Session, period_start: dt.datetime) -> dict[str, Setpoint]:
    """Setpoints of one period, by asset id."""
    stmt = sa.select(Setpoint).where(Setpoint.period_start == period_start)
    return {r.asset_id: r for r in session.scalars(stmt)}


def setpoints_between(session: Session, start: dt.datetime, end: dt.datetime) -> list[Setpoint]:
    """Setpoints with period start in ``[start, end)``."""
    stmt = sa.select(Setpoint).where(Setpoint.period_start >= start, Setpoint.period_start < end)
    return list(session.scalars(stmt.order_by(Setpoint.period_start, Setpoint.asset_id)))


def latest_telemetry(
    session: Session, asset_ids: Iterable[str], before: dt.datetime, since: dt.datetime
) -> dict[str, Telemetry]:
    """Per asset, the latest telemetry row with a state of charge, period start in ``[since, before)``."""
    out: dict[str, Telemetry] = {}
    for asset_id in asset_ids:
        stmt = (
            sa.select(Telemetry)
            .where(
                Telemetry.asset_id == asset_id,
                Telemetry.period_start < before,
                Telemetry.period_start >= since,
                Telemetry.soc_mwh.is_not(None),
            )
            .order_by(Telemetry.period_start.desc())
            .limit(1)
        )
        row = session.scalar(stmt)
        if row is not None:
            out[asset_id] = row
    return out


def telemetry_between(session: Session, start: dt.datetime, end: dt.datetime) -> list[Telemetry]:
    """Telemetry rows with period start in ``[start, end)``."""
    stmt = sa.select(Telemetry).where(Telemetry.period_start >= start, Telemetry.period_start < end)
    return list(session.scalars(stmt))
