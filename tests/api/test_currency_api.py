"""Issue 13 item 3 in the API: every response carrying money or prices names the market's currency."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from market.presets import get_market

from .conftest import as_operator, as_reader
from .seed import PORTFOLIO

DAY = "2024-01-02"


def _currencies(client: TestClient) -> dict[str, str]:
    read = as_reader(client)
    return {
        "portfolio": client.get("/api/portfolio", headers=read).json()["currency"],
        "prices": client.get(f"/api/prices?day={DAY}", headers=read).json()["currency"],
        "daily": client.get(f"/api/settlement/daily/{DAY}", headers=read).json()["currency"],
        "list": client.get("/api/settlement/daily", headers=read).json()[0]["currency"],
        "monthly": client.get("/api/settlement/monthly/2024-01", headers=read).json()["currency"],
        "bid": client.get(f"/api/bids/{DAY}", headers=read).json()["currency"],
    }


def test_money_is_labelled_with_the_market_currency(client: TestClient) -> None:
    assert set(_currencies(client).values()) == {"CNY"}
    # the stored days are Shanxi's 15-minute days: the same rules, priced in EUR, keep them valid
    fields = get_market("shanxi").model_dump(mode="json") | {"name": "shanxi-eur", "currency": "EUR"}
    euro = PORTFOLIO.read_text().replace("market: shanxi", "market: " + json.dumps(fields))
    assert euro != PORTFOLIO.read_text()
    check = client.post("/api/portfolio/validate", json={"content": euro}, headers=as_operator(client))
    assert check.status_code == 200 and check.json()["currency"] == "EUR"
    replaced = client.put("/api/portfolio", json={"content": euro}, headers=as_operator(client))
    assert replaced.status_code == 200
    assert set(_currencies(client).values()) == {"EUR"}
