"""A simulated trading day through the real scheduler: bid, 96 dispatches, fallbacks.

kill -9 and restart of the running service: ``tests/hardening/test_kills.py`` (both databases).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from vpp.service.config import ServiceConfig
from vpp.service.pipeline import INJECT_ENV
from vpp.service.simulate import simulate_day

from .conftest import DAY, PRICES

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("clock")]
"""A minute of wall clock per database (slow), on the one worker of the wall-clock service tests."""

DAY_SECONDS = float(os.environ.get("VPP_TEST_DAY_SECONDS", "60"))
"""Wall seconds per simulated day in the tests (0.625 s per period: room for a loaded 2-core runner)."""



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
