"""The pipeline called directly (what ``vpp dispatch`` does): idempotence, fallback, telemetry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from typer.testing import CliRunner

from market.calendar import gate_closure
from vpp.cli import app
from vpp.service import simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import Base, JobRun, Setpoint, Telemetry, make_engine, upgrade_schema
from vpp.service.inbox_files import mark_ready
from vpp.service.pipeline import INJECT_ENV, Pipeline

from .conftest import DAY, PORTFOLIO, PRICES

T0 = pd.Timestamp(f"{DAY} 10:00", tz="Asia/Shanghai")


@pytest.fixture
def pipeline(config: ServiceConfig) -> Pipeline:
    """A pipeline on a migrated database, with the day's prices in the inbox and a bid made."""
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(config, engine)
    simulated_gateways.publish_day_ahead(config.inbox, str(PRICES), pipe.market, dt.date.fromisoformat(DAY))
    closure = gate_closure(pipe.market, DAY)
    assert pipe.bid_day(closure - pd.Timedelta(minutes=30))["status"] == "ok"
    yield pipe
    engine.dispose()


def _count(pipe: Pipeline, model: type, *where: object) -> int:
    with pipe.sessions() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


def test_migrations_create_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade_schema(engine)
    upgrade_schema(engine)  # idempotent
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_rerun_of_a_period_writes_nothing_twice(pipeline: Pipeline) -> None:
    first = pipeline.dispatch_period(T0)
    again = pipeline.dispatch_period(T0 + pd.Timedelta(minutes=5))
    assert first["status"] == "ok" and again["status"] == "skipped"
    assert _count(pipeline, Setpoint) == 1
    assert _count(pipeline, JobRun, JobRun.job == "dispatch") == 1
    assert (
        pipeline.bid_day(gate_closure(pipeline.market, DAY) - pd.Timedelta(minutes=20))["status"] == "skipped"
    )


def test_injected_solver_failure_sends_a_recorded_fallback(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INJECT_ENV, "all")
    out = pipeline.dispatch_period(T0)
    assert out["status"] == "fallback" and "SolverError" in out["fallback_reason"]
    with pipeline.sessions() as s:
        run = s.scalar(sa.select(JobRun).where(JobRun.job == "dispatch"))
        setpoint = s.scalar(sa.select(Setpoint))
    assert run.status == "fallback" and "injected" in run.fallback_reason
    assert setpoint.source == "fallback" and -1.0 <= setpoint.setpoint_mw <= 1.0


def test_tiny_time_limit_gives_a_fallback_or_a_solution(config: ServiceConfig) -> None:
    tiny = dataclasses.replace(config, solver_time_limit_s=1e-9)
    engine = make_engine(tiny.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(tiny, engine)
    simulated_gateways.publish_day_ahead(tiny.inbox, str(PRICES), pipe.market, dt.date.fromisoformat(DAY))
    pipe.ingest(T0)
    out = pipe.dispatch_period(T0)
    assert out["status"] in ("ok", "fallback")
    assert _count(pipe, Setpoint) == 1  # something is always sent
    engine.dispose()


def test_state_of_charge_comes_from_telemetry(pipeline: Pipeline) -> None:
    previous = (T0 - pd.Timedelta(minutes=15)).tz_convert("UTC").to_pydatetime()
    with pipeline.sessions.begin() as s:
        s.add(Telemetry(period_start=previous, asset_id="bess-1", metered_mw=0.0, soc_mwh=0.5))
    out = pipeline.dispatch_period(T0)
    assert out["state_source"] == "telemetry"
    with pipeline.sessions() as s:
        setpoint = s.scalar(sa.select(Setpoint))
    # from 0.5 MWh with soc_min 0.2 the battery can deliver at most 0.3 * 0.95 MWh in 0.25 h
    assert setpoint.setpoint_mw <= 0.3 * 0.95 / 0.25 + 1e-6


def test_malformed_inbox_file_is_rejected_and_named(pipeline: Pipeline) -> None:
    inbox = Path(pipeline.config.inbox)
    (inbox / "telemetry_bad.csv").write_text(
        "timestamp,asset_id,metered_mw,soc_mwh\n"
        "2024-01-02T09:45:00+08:00,bess-1,0.5,1.0\n"
        "2024-01-02T10:00:00+08:00,bess-1,lots,1.0\n",
        encoding="utf-8",
    )
    (inbox / "telemetry_good.csv").write_text(
        "timestamp,asset_id,metered_mw,soc_mwh\n2024-01-02T09:30:00+08:00,bess-1,0.25,1.1\n", encoding="utf-8"
    )
    for name in ("telemetry_bad.csv", "telemetry_good.csv"):
        mark_ready(inbox / name)
    report = pipeline.ingest(T0)
    assert report.rejected == ["telemetry_bad.csv"] and "telemetry_good.csv" in report.processed
    error = (inbox / ".vpp" / "rejected" / "telemetry_bad.csv.error.txt").read_text(encoding="utf-8")
    assert "row 2" in error and "2024-01-02T10:00:00+08:00" in error and "metered_mw" in error
    assert _count(pipeline, Telemetry) == 1


def test_dispatch_and_status_commands(pipeline: Pipeline) -> None:
    runner = CliRunner()
    args = [
        "dispatch",
        "--db",
        pipeline.config.db_url,
        "--portfolio",
        str(PORTFOLIO),
        "--at",
        "2024-01-02T10:00:00+08:00",
        "--inbox",
        pipeline.config.inbox,
        "--outbox",
        pipeline.config.outbox,
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["status"] == "ok"
    assert json.loads(runner.invoke(app, args).stdout)["status"] == "skipped"
    status = runner.invoke(app, ["status", "--db", pipeline.config.db_url, "--json"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["jobs"]["dispatch"]["last_run"]["status"] == "ok"
    assert data["last_setpoints"][0]["asset_id"] == "bess-1" and data["gaps"] == []
    assert (Path(pipeline.config.outbox) / "setpoints_2024-01-02T10-00.json").exists()


def test_a_dispatch_job_that_overran_dispatches_the_period_it_overran_into(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job fired for 10:00 (one lead before it); its run of 10:00 lasted until 10:29:15 (a
    stalled host), so the 10:15 firing was skipped by ``max_instances``. The job then dispatches
    10:15, late but inside it, before 10:30: no interval is skipped while the job runs in it."""
    from types import SimpleNamespace

    from vpp.service import jobs

    period = pipeline.market.period
    lead = pd.Timedelta(seconds=pipeline.config.dispatch_lead_s)
    clock = SimpleNamespace(t=T0 - lead)
    clock.now = lambda: clock.t
    monkeypatch.setattr(pipeline, "clock", clock)
    dispatch = pipeline.dispatch_period

    def overrunning(now: pd.Timestamp) -> dict:
        out = dispatch(now)
        if out["period"] == T0.isoformat() and out["status"] != "skipped":
            clock.t = T0 + period + 0.95 * period
        return out

    monkeypatch.setattr(pipeline, "dispatch_period", overrunning)
    jobs.register(pipeline)
    jobs.dispatch_job(pipeline.config.to_dict())
    with pipeline.sessions() as s:
        starts = s.scalars(sa.select(JobRun.period_start).where(JobRun.job == "dispatch")).all()
    local = sorted(pd.Timestamp(t).tz_localize(None).strftime("%H:%M") for t in starts)
    assert local == ["01:45", "02:00", "02:15", "02:30"]  # UTC: 09:45 to 10:30 in Shanghai
