"""API backtest jobs report their progress per replayed day (issue 14 item 8)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from vpp.api.jobs import BacktestRunner

from .conftest import as_operator, as_reader


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every update a backtest job makes to its row."""
    updates: list[dict] = []
    original = BacktestRunner._update

    def record(self, job_id: int, **values) -> None:
        updates.append(values)
        original(self, job_id, **values)

    monkeypatch.setattr(BacktestRunner, "_update", record)
    return updates


def _finished(client: TestClient, job_id: int, seconds: float = 120.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/backtests/{job_id}", headers=as_reader(client)).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"backtest job {job_id} did not finish")


def test_backtest_job_progress_advances_once_per_day(recorded: list[dict], client: TestClient) -> None:
    started = client.post(
        "/api/backtests",
        json={"start": "2024-01-03", "end": "2024-01-05", "strategies": ["da_only"]},
        headers=as_operator(client),
    )
    assert started.status_code == 202
    job = _finished(client, started.json()["id"])
    assert job["status"] == "done", job
    per_day = [u for u in recorded if str(u.get("message", "")).startswith("replayed")]
    assert [u["message"] for u in per_day] == [
        "replayed 1 of 3 day(s), last 2024-01-03",
        "replayed 2 of 3 day(s), last 2024-01-04",
        "replayed 3 of 3 day(s), last 2024-01-05",
    ]
    assert [u["progress"] for u in per_day] == pytest.approx([0.1 + 0.8 / 3, 0.1 + 1.6 / 3, 0.9], abs=1e-4)
