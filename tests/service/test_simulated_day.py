"""A simulated trading day through the real scheduler: bid, 96 dispatches, fallbacks, kill -9."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from vpp.service.config import ServiceConfig
from vpp.service.pipeline import INJECT_ENV
from vpp.service.simulate import simulate_day

from .conftest import DAY, PRICES, ROOT

DAY_SECONDS = float(os.environ.get("VPP_TEST_DAY_SECONDS", "60"))
"""Wall seconds per simulated day in the tests (0.625 s per period: room for a loaded 2-core runner)."""

KILL_WINDOW_END = "12:00"
"""The kill test simulates the half day up to this time (48 periods) to stay fast."""


def _assert_consistent(db_url: str) -> dict[str, int]:
    """No duplicate (job, period) runs, one setpoint row per dispatched period of the day (the
    one-asset portfolio), no orphan setpoint, no partial bid."""
    day = {"start": dt.datetime(2024, 1, 1, 16, tzinfo=dt.UTC).replace(tzinfo=None)}  # DAY 00:00+08
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        dup_runs = conn.execute(
            sa.text("SELECT job, period_key FROM job_runs GROUP BY job, period_key HAVING COUNT(*) > 1")
        ).all()
        runs = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM job_runs WHERE job = 'dispatch' AND status <> 'failed' "
                "AND period_start >= :start"
            ),
            day,
        ).scalar()
        setpoints = conn.execute(
            sa.text("SELECT COUNT(*) FROM setpoints WHERE period_start >= :start"), day
        ).scalar()
        orphan = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM setpoints s WHERE NOT EXISTS (SELECT 1 FROM job_runs r "
                "WHERE r.job = 'dispatch' AND r.period_start = s.period_start)"
            )
        ).scalar()
        bids = conn.execute(sa.text("SELECT COUNT(*) FROM bids")).scalar()
        schedule = conn.execute(sa.text("SELECT COUNT(*) FROM day_ahead_schedules")).scalar()
    engine.dispose()
    assert dup_runs == []
    assert setpoints == runs and orphan == 0
    assert bids in (0, 96) and schedule == bids
    return {"dispatch_runs": runs, "setpoints": setpoints}


def test_simulated_day_bids_once_dispatches_every_period_and_records_fallbacks(
    config: ServiceConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(INJECT_ENV, "10,50")
    summary = simulate_day(config, dt.date.fromisoformat(DAY), str(PRICES), day_seconds=DAY_SECONDS)
    print(json.dumps({k: v for k, v in summary.items() if k != "missed_periods"}))
    assert summary["bids"] == 1 and summary["bid_rows"] == 96
    assert summary["dispatch_runs"] == 96 and summary["missed_periods"] == []
    assert summary["fallbacks"] == 2
    assert all("injected" in reason for reason in summary["fallback_reasons"])
    assert summary["duplicate_setpoints"] == 0 and summary["setpoint_rows"] == 96
    assert summary["state_sources"].get("telemetry", 0) >= 90
    assert summary["revenue_yuan"] is not None
    assert len(list(Path(config.outbox).glob(f"setpoints_{DAY}T*.json"))) == 96
    _assert_consistent(config.db_url)


def _dispatched(db_url: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM job_runs WHERE job = 'dispatch'")).scalar())
    except sa.exc.DBAPIError:  # schema not there yet
        return 0
    finally:
        engine.dispose()


def test_kill_and_restart_loses_and_duplicates_nothing(config: ServiceConfig, simulate_command) -> None:
    Path(config.outbox).parent.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != INJECT_ENV}
    env["PYTHONPATH"] = str(ROOT)
    command = simulate_command(config, DAY, PRICES, DAY_SECONDS, "--until", KILL_WINDOW_END)
    log = Path(config.outbox).parent / "first_run.log"
    with log.open("wb") as sink:  # never an unread pipe: a full pipe would block the service
        first = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while _dispatched(config.db_url) < 20 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    before = _dispatched(config.db_url)
    assert 20 <= before < 48, f"killed after {before} dispatches"
    partial = _assert_consistent(config.db_url)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=150)
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads(second.stdout)
    print(
        json.dumps(
            {
                "killed_after": before,
                "at_kill": partial,
                **{k: v for k, v in summary.items() if k != "missed_periods"},
            }
        )
    )
    assert summary["resumed_at"] is not None, summary
    morning = [m for m in summary["missed_periods"] if m < f"{DAY}T{KILL_WINDOW_END}"]
    assert summary["bids"] == 1 and morning == [], morning
    assert summary["dispatch_runs"] >= 48 and summary["fallbacks"] == 0
    assert summary["duplicate_setpoints"] == 0
    assert _assert_consistent(config.db_url)["dispatch_runs"] == summary["dispatch_runs"]
