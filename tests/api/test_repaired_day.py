"""The API says which dispatches and bids were repaired (feasible, not proven optimal).

The day: tests/service/test_repaired_dispatch.py's burning battery, its bid and its scheduled
dispatch of 09:45 and 10:00 solved on a spent time budget, so each was repaired by one LP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import optimizer.solver as solver_module
from tests.service.test_repaired_dispatch import DAY as BURN_DAY
from tests.service.test_repaired_dispatch import SpentAfterSolve, burning_pipeline
from vpp.api.auth import create_key
from vpp.service import jobs
from vpp.service.db import make_engine, session_factory

from .conftest import make_client


def repaired_day(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """A service database whose bid and scheduled dispatch (09:45, 10:00) were repaired; its URL, day."""
    monkeypatch.setattr(solver_module, "Deadline", SpentAfterSolve)
    pipe = burning_pipeline(folder)
    jobs.dispatch_job(pipe.config.to_dict())
    pipe.engine.dispose()
    monkeypatch.undo()
    return pipe.config.db_url, BURN_DAY.isoformat()


def test_api_says_which_dispatch_and_bid_were_repaired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url, day = repaired_day(tmp_path, monkeypatch)
    with session_factory(make_engine(url)).begin() as s:
        key = {"X-API-Key": create_key(s, "rita", "read")}
    with make_client(url, tmp_path) as client:
        periods = client.get(f"/api/dispatch/history?day={day}", headers=key).json()["periods"]
        bid = client.get(f"/api/bids/{day}", headers=key).json()
        latest = client.get("/api/dispatch/latest", headers=key).json()
        metrics = client.get("/metrics").text
    sent = [p for p in periods if p["source"] is not None]
    assert [p["period_start"][11:16] for p in sent] == ["09:45", "10:00"]
    assert all(p["source"] == "repaired" and p["termination"].startswith("Repaired") for p in sent)
    assert all(p["termination"] is None for p in periods if p["source"] is None)
    assert [r["source"] for r in latest] == ["repaired"]
    assert 'vpp_dispatches_not_proven_optimal_total{kind="repaired"} 2.0' in metrics
    assert 'vpp_dispatches_not_proven_optimal_total{kind="feasible"} 0.0' in metrics
    assert 'vpp_fallbacks_total 0.0' in metrics
    assert bid["solver_status"] == "feasible"
    assert bid["solve"]["repaired"] is True and bid["solve"]["proven_optimal"] is False
    assert bid["solve"]["bound_yuan"] >= bid["solve"]["objective_yuan"]
