"""The REST API: every endpoint, with no key (401), a read key (403 on changes) and an operator key."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from vpp.cli import app as cli
from vpp.service.lease import SchedulerLeaseHolder

from .conftest import as_operator, as_reader, make_client
from .seed import PORTFOLIO

DAY = "2024-01-02"
READS = [
    "/api/me", "/api/portfolio", "/api/portfolio/versions", f"/api/portfolio/envelope?day={DAY}",
    "/api/bids", f"/api/bids/{DAY}", f"/api/bids/{DAY}/export", f"/api/bids/{DAY}/export?format=json",
    "/api/dispatch/latest", f"/api/dispatch/history?day={DAY}", f"/api/prices?day={DAY}",
    "/api/settlement/daily", f"/api/settlement/daily/{DAY}", "/api/settlement/monthly/2024-01",
    "/api/backtests",
]
CHANGES = [
    ("PUT", "/api/portfolio", {"content": PORTFOLIO.read_text()}),
    ("POST", "/api/bids/2024-01-03", {"forecast": [300.0] * 96}),
    ("POST", f"/api/bids/{DAY}/approve", None),
    ("POST", "/api/backtests", {"start": "2024-01-03", "end": "2024-01-03", "strategies": ["da_only"]}),
]
VALIDATE = ("POST", "/api/portfolio/validate", {"content": PORTFOLIO.read_text()})


def test_health_needs_no_key_and_reports_the_schema(client: TestClient) -> None:
    response = client.get("/api/health")  # a database no scheduler ever ran on: unhealthy
    body = response.json()
    assert response.status_code == 503 and body["status"] == "unhealthy" and body["schema_revision"] == "0003"
    assert body["database"] == "ok" and any("lease" in p for p in body["problems"])


def _simulated_clock_at(moment: str) -> dict:
    """An accelerated-clock dict whose simulated now is ``moment`` (speed 1)."""
    return {"segments": [[time.time(), pd.Timestamp(moment).timestamp()]], "speed": 1.0}


def test_health_is_503_unless_a_scheduler_holds_the_lease_and_dispatches(any_seeded, tmp_path) -> None:
    """Issue 12 item 11: 503 when the lease is not held, the last dispatch is more than two periods
    old, or the database is unreachable; 200 otherwise. The seeded day's last period starts at
    23:45 (+08:00)."""
    url, _ = any_seeded
    with make_client(url, tmp_path) as client:
        engine = client.app.state.api.engine
        at = _simulated_clock_at("2024-01-03T00:10+08:00")
        lease = SchedulerLeaseHolder(engine, "simulation", clock=at)
        lease.acquire()
        fresh = client.get("/api/health")
        assert fresh.status_code == 200, fresh.json()
        body = fresh.json()
        assert body["status"] == "ok" and body["problems"] == [] and body["lease"]["held"]
        assert body["lease"]["pid"] == os.getpid() and body["dispatch"]["overdue_periods"] == 0
        lease.record_clock(_simulated_clock_at("2024-01-03T00:16+08:00"))  # 00:00 passed undispatched
        stale = client.get("/api/health")
        assert stale.status_code == 503 and stale.json()["dispatch"]["overdue_periods"] == 1
        assert any("more than 2 periods ago" in p for p in stale.json()["problems"])
        lease.record_clock(_simulated_clock_at("2024-01-03T00:10+08:00"))
        assert client.get("/api/health").status_code == 200
        lease.release()
        released = client.get("/api/health")
        assert released.status_code == 503 and not released.json()["lease"]["held"]
        assert any("no scheduler holds the lease" in p for p in released.json()["problems"])
        client.app.state.api.engine = sa.create_engine(
            "sqlite:////nonexistent-folder/vpp.db"
            if url.startswith("sqlite")
            else "postgresql+psycopg://vpp:vpp@127.0.0.1:1/vpp",
        )
        down = client.get("/api/health")
        assert down.status_code == 503 and down.json()["database"].startswith("error")
        assert any("unreachable" in p for p in down.json()["problems"])
        client.app.state.api.engine = engine


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {p.split("?")[0] for p in READS} <= set(paths) | {f"/api/bids/{DAY}", f"/api/bids/{DAY}/export",
                                                            f"/api/settlement/daily/{DAY}",
                                                            "/api/settlement/monthly/2024-01"}
    assert {"/api/bids/{day}/approve", "/api/backtests/{job_id}/results", "/api/health"} <= set(paths)
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize("key", [None, "not-a-key"])
def test_no_or_unknown_key_is_401_everywhere(client: TestClient, key: str | None) -> None:
    headers = {"X-API-Key": key} if key else {}
    for path in [*READS, "/api/backtests/1", "/api/backtests/1/results"]:
        assert client.get(path, headers=headers).status_code == 401, path
    for method, path, body in [*CHANGES, VALIDATE]:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "X-API-Key"


def test_read_key_reads_everything_and_changes_nothing(client: TestClient) -> None:
    for path in READS:
        assert client.get(path, headers=as_reader(client)).status_code == 200, path
    method, path, body = VALIDATE
    assert client.request(method, path, json=body, headers=as_reader(client)).status_code == 200
    for method, path, body in CHANGES:
        response = client.request(method, path, json=body, headers=as_reader(client))
        assert response.status_code == 403, path
    assert client.get(f"/api/bids/{DAY}", headers=as_reader(client)).json()["status"] == "awaiting_approval"
    assert client.get("/api/backtests", headers=as_reader(client)).json() == []


def test_portfolio_validate_replace_and_envelope(client: TestClient) -> None:
    op = as_operator(client)
    current = client.get("/api/portfolio", headers=op).json()
    assert current["name"] == "demo" and current["assets"] == [{"id": "bess-1", "type": "battery"}]
    bad = PORTFOLIO.read_text().replace("energy_mwh: 2.0", "energy_mwh: -2.0")
    response = client.post("/api/portfolio/validate", json={"content": bad}, headers=op)
    assert response.status_code == 422
    assert {d["field"] for d in response.json()["detail"]} >= {"assets[0] (bess-1).energy_mwh"}
    response = client.put("/api/portfolio", json={"format": "toml", "content": "x"}, headers=op)
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "body.format"
    assert client.put("/api/portfolio", json={}, headers=op).json()["detail"][0]["field"] == "body.content"
    bigger = PORTFOLIO.read_text().replace("name: demo", "name: demo-2")
    bigger = bigger.replace("power_mw: 1.0", "power_mw: 2.0")
    check = client.post("/api/portfolio/validate", json={"content": bigger}, headers=op).json()
    assert check["valid"] and check["envelope"]["adjustable_mw"] == pytest.approx(2.0)
    replaced = client.put("/api/portfolio", json={"content": bigger}, headers=op)
    assert replaced.status_code == 200 and replaced.json()["name"] == "demo-2"
    versions = client.get("/api/portfolio/versions", headers=op).json()
    assert [v["name"] for v in versions] == ["demo-2", "demo"] and versions[0]["current"]
    envelope = client.get(f"/api/portfolio/envelope?day={DAY}", headers=op).json()
    assert len(envelope["periods"]) == 96 and envelope["periods"][0]["max_export_mw"] == pytest.approx(2.0)
    assert client.get("/api/portfolio/envelope?day=2024-13-01", headers=op).status_code == 422


def test_bids_read_export_approve(client: TestClient) -> None:
    op = as_operator(client)
    bid = client.get(f"/api/bids/{DAY}", headers=op).json()
    assert bid["periods"] == 96 and bid["status"] == "awaiting_approval"
    assert bid["bid_periods"][0]["period_start"] == "2024-01-02T00:00:00+08:00"
    csv = client.get(f"/api/bids/{DAY}/export", headers=op)
    lines = csv.text.strip().splitlines()
    assert lines[0] == "timestamp,net_mw" and len(lines) == 97
    assert csv.headers["content-type"].startswith("text/csv")
    approved = client.post(f"/api/bids/{DAY}/approve", headers=op).json()
    assert approved["status"] == "approved" and approved["approved_by"] == "olga"
    assert client.post(f"/api/bids/{DAY}/approve", headers=op).status_code == 409
    assert client.post("/api/bids/2023-01-01/approve", headers=op).status_code == 404
    assert client.get("/api/bids/2023-01-01", headers=op).status_code == 404
    assert client.get("/api/bids", headers=op).json()[0]["status"] == "approved"


def test_create_bid_for_a_day(client: TestClient) -> None:
    op = as_operator(client)
    short = client.post("/api/bids/2024-01-03", json={"forecast": [300.0] * 95}, headers=op)
    assert short.status_code == 422 and short.json()["detail"][0]["field"] == "body.forecast"
    typo = client.post("/api/bids/2024-01-03", json={"forecast": [300.0] * 3 + ["x"]}, headers=op)
    assert typo.status_code == 422 and typo.json()["detail"][0]["field"] == "body.forecast[3]"
    prices = [200.0] * 40 + [600.0] * 56
    created = client.post("/api/bids/2024-01-03", json={"forecast": prices}, headers=op)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["periods"] == 96 and body["status"] == "awaiting_approval" and body["export_mwh"] > 0
    assert client.post("/api/bids/2024-01-03", headers=op).status_code == 409
    no_data = client.post("/api/bids/2024-03-01", headers=op)
    assert no_data.status_code == 409 and "forecast" in no_data.json()["detail"]
    assert client.post("/api/bids/not-a-day", headers=op).json()["detail"][0]["field"] == "path.day"


def test_dispatch_and_prices(client: TestClient) -> None:
    latest = client.get("/api/dispatch/latest", headers=as_reader(client)).json()
    assert latest[0]["asset_id"] == "bess-1" and latest[0]["period_start"].startswith("2024-01-02T23:45")
    periods = client.get(f"/api/dispatch/history?day={DAY}", headers=as_reader(client)).json()["periods"]
    assert len(periods) == 96
    assert all(p["metered_mw"] == pytest.approx(p["setpoint_mw"]) for p in periods)
    assert all(p["soc_measured_mwh"] is not None for p in periods)
    one = client.get(f"/api/dispatch/history?day={DAY}&asset_id=nope", headers=as_reader(client)).json()
    assert all(p["setpoint_mw"] is None for p in one["periods"])
    prices = client.get(f"/api/prices?day={DAY}", headers=as_reader(client)).json()["periods"]
    assert prices[0]["da_price"] == pytest.approx(340.89) and prices[0]["rt_price"] == pytest.approx(505.5)


def test_settlement_daily_and_monthly(client: TestClient) -> None:
    daily = client.get(f"/api/settlement/daily/{DAY}", headers=as_reader(client)).json()
    assert daily["periods"] == 96 and len(daily["settlement_periods"]) == 96
    assert sum(p["revenue"] for p in daily["settlement_periods"]) == pytest.approx(daily["revenue"], abs=0.01)
    month = client.get("/api/settlement/monthly/2024-01", headers=as_reader(client)).json()
    assert month["days"] == 1 and month["revenue"] == pytest.approx(daily["revenue"])
    listed = client.get("/api/settlement/daily?start=2024-01-01&end=2024-01-31", headers=as_reader(client))
    assert [s["trading_day"] for s in listed.json()] == [DAY]
    assert client.get("/api/settlement/daily/2024-02-01", headers=as_reader(client)).status_code == 404
    bad = client.get("/api/settlement/monthly/2024-13", headers=as_reader(client))
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "path.month"


def _wait(client: TestClient, job_id: int, seconds: float = 30.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/api/backtests/{job_id}", headers=as_reader(client)).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"backtest job {job_id} did not finish")


def test_backtest_job_runs_in_the_background(client: TestClient) -> None:
    op = as_operator(client)
    bad = client.post("/api/backtests", json={"start": "2024-01-03", "end": "2024-01-03",
                                               "strategies": ["da_only", "guess"]}, headers=op)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "body.strategies[1]"
    early = client.post("/api/backtests", json={"start": "2024-01-01", "end": "2024-01-01"}, headers=op)
    assert early.status_code == 422 and early.json()["detail"][0]["field"] == "body.start"
    started = client.post("/api/backtests", json={"start": "2024-01-03", "end": "2024-01-04",
                                                   "strategies": ["da_rt", "da_only"]}, headers=op)
    assert started.status_code == 202 and started.json()["status"] in ("queued", "running", "done")
    job = _wait(client, started.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0, job
    results = client.get(f"/api/backtests/{job['id']}/results", headers=as_reader(client)).json()
    assert set(results["summary"]["strategies"]) == {"da_rt", "da_only"}
    assert [d["day"] for d in results["daily_revenue"]["da_rt"]] == ["2024-01-03", "2024-01-04"]
    assert client.get("/api/backtests/99/results", headers=op).status_code == 404
    assert client.get("/api/backtests", headers=op).json()[0]["id"] == job["id"]


def test_jobs_cut_off_by_a_stop_are_marked_failed(seeded: tuple, tmp_path: Path) -> None:
    url, keys = seeded
    import datetime as dt

    from vpp.service.api_tables import BacktestJob

    with make_client(url, tmp_path) as first, first.app.state.api.sessions.begin() as session:
        job = BacktestJob(status="running", progress=0.1, message="replaying", params="{}",
                          created_by="olga", created_at=dt.datetime.now(dt.UTC))
        session.add(job)  # as a process killed mid-run leaves it
        session.flush()
        job_id = job.id
    with make_client(url, tmp_path) as second:
        job = second.get(f"/api/backtests/{job_id}", headers={"X-API-Key": keys.read}).json()
        assert job["status"] == "failed" and "interrupted" in job["error"]
        results = second.get(f"/api/backtests/{job_id}/results", headers={"X-API-Key": keys.read})
        assert results.status_code == 409


def test_apikey_command_creates_a_working_hashed_key(seeded: tuple, tmp_path: Path) -> None:
    url, _ = seeded
    runner = CliRunner()
    made = runner.invoke(cli, ["apikey", "create", "--db", url, "--name", "ci-bot", "--role", "operator"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    again = runner.invoke(cli, ["apikey", "create", "--db", url, "--name", "ci-bot"])
    assert again.exit_code == 1 and "exists" in again.output
    wrong = runner.invoke(cli, ["apikey", "create", "--db", url, "--name", "x", "--role", "admin"])
    assert wrong.exit_code == 1 and "--role" in wrong.output
    with make_client(url, tmp_path) as client:
        me = client.get("/api/me", headers={"X-API-Key": key}).json()
        assert me == {"name": "ci-bot", "role": "operator"}
        with client.app.state.api.sessions() as session:
            import sqlalchemy as sa

            stored = session.execute(sa.text("SELECT key_hash FROM api_keys WHERE name = 'ci-bot'")).scalar()
        assert key not in stored and len(stored) == 64


def test_apikey_list_and_revoke_commands(seeded: tuple, tmp_path: Path) -> None:
    """Issue 12 item 10: keys are listed (never shown) and revoked without editing the database."""
    url, _ = seeded
    runner = CliRunner()
    made = runner.invoke(cli, ["apikey", "create", "--db", url, "--name", "night-bot", "--role", "read"])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert "X-API-Key" in made.stderr and "dashboard" in made.stderr and key not in made.stderr
    listed = runner.invoke(cli, ["apikey", "list", "--db", url, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["night-bot"]["role"] == "read" and rows["night-bot"]["revoked_at"] is None
    assert rows["night-bot"]["prefix"] == key[:8] and key not in listed.stdout
    table = runner.invoke(cli, ["apikey", "list", "--db", url])
    assert table.exit_code == 0 and "night-bot" in table.stdout and key not in table.stdout
    with make_client(url, tmp_path) as client:
        assert client.get("/api/me", headers={"X-API-Key": key}).status_code == 200
        revoked = runner.invoke(cli, ["apikey", "revoke", "--db", url, "--name", "night-bot"])
        assert revoked.exit_code == 0, revoked.output
        assert client.get("/api/me", headers={"X-API-Key": key}).status_code == 401
    again = runner.invoke(cli, ["apikey", "revoke", "--db", url, "--name", "night-bot"])
    assert again.exit_code == 1 and "already revoked" in again.output
    unknown = runner.invoke(cli, ["apikey", "revoke", "--db", url, "--name", "nobody"])
    assert unknown.exit_code == 1 and "no key named 'nobody'" in unknown.output
    assert "night-bot" in unknown.output
    after = json.loads(runner.invoke(cli, ["apikey", "list", "--db", url, "--json"]).stdout)
    assert [r["revoked_at"] is not None for r in after if r["name"] == "night-bot"] == [True]


def test_serve_command_defaults_to_loopback() -> None:
    import inspect

    from vpp.commands.serve import serve_command

    assert inspect.signature(serve_command).parameters["host"].default == "127.0.0.1"


def test_endpoints_on_both_databases(any_seeded: tuple, tmp_path: Path) -> None:
    url, keys = any_seeded
    with make_client(url, tmp_path) as client:
        client.keys = keys  # type: ignore[attr-defined]
        for path in READS:
            assert client.get(path, headers=as_reader(client)).status_code == 200, path
        assert client.post(f"/api/bids/{DAY}/approve", headers=as_reader(client)).status_code == 403
        assert client.post(f"/api/bids/{DAY}/approve", headers=as_operator(client)).status_code == 200
        assert client.post(f"/api/bids/{DAY}/approve", headers=as_operator(client)).status_code == 409
        assert client.put("/api/portfolio", json={"content": PORTFOLIO.read_text().replace("demo", "d2")},
                          headers=as_operator(client)).json()["name"] == "d2"
        assert client.get("/api/portfolio", headers=as_reader(client)).json()["name"] == "d2"


def test_a_bid_forecast_outside_the_market_bounds_is_refused(client) -> None:
    """Issue 12 item 7: every price entering by any door is checked against the market's bounds."""
    body = {"forecast": [300.0] * 95 + [-1e6]}  # Shanxi is floored at 0
    response = client.post("/api/bids/2024-01-03", json=body, headers=as_operator(client))
    assert response.status_code == 422
    msg = response.json()["detail"][0]["msg"]
    assert "-1e+06" in msg and "2024-01-03T23:45:00+08:00" in msg and "floor 0" in msg
    assert client.get("/api/bids/2024-01-03", headers=as_operator(client)).status_code == 404
