"""A bid's stage: awaiting approval, approved, dispatching, settled (it said "awaiting approval" forever)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from .conftest import as_operator, as_reader
from .seed import DAY


def test_dispatched_and_settled_bid_is_settled(client: TestClient) -> None:
    bid = client.get(f"/api/bids/{DAY}", headers=as_reader(client)).json()
    assert bid["stage"] == "settled" and bid["status"] == "awaiting_approval"  # never approved, yet done
    assert bid["dispatched_periods"] == 96 == bid["periods"]
    daily = client.get(f"/api/settlement/daily/{DAY}", headers=as_reader(client)).json()
    assert bid["settled_revenue_yuan"] == daily["revenue"] == 802.35
    assert sum(p["revenue"] for p in daily["settlement_periods"]) == pytest.approx(802.35, abs=1e-6)
    assert bid["timezone"] == "Asia/Shanghai" and bid["bid_periods"][0]["period_start"].endswith("+08:00")
    listed = client.get("/api/bids", headers=as_reader(client)).json()
    assert [(b["day"], b["stage"]) for b in listed] == [(str(DAY), "settled")]


def test_new_bid_awaits_approval_then_is_approved(client: TestClient) -> None:
    op = as_operator(client)
    new = client.post("/api/bids/2024-01-03", json={"forecast": [300.0] * 96}, headers=op).json()
    assert (new["stage"], new["dispatched_periods"], new["settled_revenue_yuan"]) == (
        "awaiting_approval",
        0,
        None,
    )
    approved = client.post("/api/bids/2024-01-03/approve", headers=op).json()
    assert approved["stage"] == approved["status"] == "approved"
