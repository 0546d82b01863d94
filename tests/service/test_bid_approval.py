"""Bid approval gates the outbox bid file (issue 12 item 12).

A portfolio with ``bid_approval: true``: the service's bid job stores the bid but writes no bid
file; dispatch passes do not write it either; at gate closure the unapproved bid is an alert in
``vpp status`` and ``/api/health``; ``POST /api/bids/{day}/approve`` writes it (the API's outbox
at once, the service's at its next dispatch pass) and clears the alert.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import yaml
from fastapi.testclient import TestClient

from market.calendar import gate_closure
from vpp.api.app import create_app
from vpp.api.auth import create_key
from vpp.service import outbox, simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline
from vpp.service.status import health_report, service_status

from .conftest import DAY, PORTFOLIO, PRICES


def _approving_portfolio(folder: Path) -> Path:
    body = yaml.safe_load(PORTFOLIO.read_text())
    body["bid_approval"] = True
    path = folder / "approving.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_bid_file_waits_for_approval_and_an_unapproved_bid_at_gate_closure_is_an_alert(
    config: ServiceConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(config, portfolio=str(_approving_portfolio(tmp_path)))
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(config, engine)
    day = dt.date.fromisoformat(DAY)
    simulated_gateways.publish_day_ahead(config.inbox, str(PRICES), pipe.market, day)
    closure = gate_closure(pipe.market, day)
    made = pipe.bid_day(closure - pd.Timedelta(minutes=30))
    assert made["status"] == "ok" and made["awaiting_approval"] is True
    bid_file = outbox.bid_path(config.outbox, DAY)
    assert not bid_file.exists()
    pipe.dispatch_period(closure - pd.Timedelta(minutes=20))  # a dispatch pass backfills bid files
    assert pipe.bid_day(closure - pd.Timedelta(minutes=10))["status"] == "skipped"  # a rerun
    assert not bid_file.exists()
    before = service_status(engine, pipe.market, now=closure - pd.Timedelta(seconds=1))
    assert before["alerts"] == []
    after = service_status(engine, pipe.market, now=closure + pd.Timedelta(seconds=1))
    assert [(a["kind"], a["day"]) for a in after["alerts"]] == [("bid_not_approved", DAY)]
    health = health_report(engine, pipe.market, now=closure + pd.Timedelta(seconds=1))
    assert not health["healthy"] and any("not approved" in p for p in health["problems"])
    with pipe.sessions.begin() as s:
        key = create_key(s, "olga", "operator")
    with TestClient(create_app(config.db_url, data_dir=tmp_path / "api")) as client:
        approved = client.post(f"/api/bids/{DAY}/approve", headers={"X-API-Key": key})
        assert approved.status_code == 200 and approved.json()["status"] == "approved"
    api_file = outbox.bid_path(tmp_path / "api" / "outbox", DAY)
    assert api_file.exists()  # the API's outbox at once
    assert not bid_file.exists()
    pipe.dispatch_period(closure + pd.Timedelta(minutes=5))  # the service's next pass
    assert bid_file.read_text() == api_file.read_text()
    rows = pd.read_csv(bid_file)
    assert len(rows) == 96 and list(rows.columns) == ["timestamp", "net_mw"]
    cleared = service_status(engine, pipe.market, now=closure + pd.Timedelta(minutes=6))
    assert cleared["alerts"] == []
    engine.dispose()


def test_without_approval_the_bid_file_is_written_at_once(config: ServiceConfig) -> None:
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(config, engine)
    day = dt.date.fromisoformat(DAY)
    simulated_gateways.publish_day_ahead(config.inbox, str(PRICES), pipe.market, day)
    closure = gate_closure(pipe.market, day)
    made = pipe.bid_day(closure - pd.Timedelta(minutes=30))
    assert made["status"] == "ok" and "awaiting_approval" not in made
    assert outbox.bid_path(config.outbox, DAY).exists()
    assert service_status(engine, pipe.market, now=closure + pd.Timedelta(seconds=1))["alerts"] == []
    engine.dispose()
