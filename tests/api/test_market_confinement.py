"""Issue 13 item 1 in the API: a portfolio sent through the API may name a preset, an inline market or
a market file inside the service's data folder - never a file elsewhere on the server."""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from market.presets import get_market

from .conftest import as_reader
from .seed import PORTFOLIO


def _validate(client: TestClient, market: str):
    content = PORTFOLIO.read_text().replace("market: shanxi", f"market: {market}")
    return client.post("/api/portfolio/validate", json={"content": content}, headers=as_reader(client))


def _market_file(path: Path, **changes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = get_market("shanxi").model_dump(mode="json") | {"name": "mine"} | changes
    path.write_text(yaml.safe_dump(fields), encoding="utf-8")
    return path


def test_a_market_file_in_the_data_folder_is_read(client: TestClient, tmp_path: Path) -> None:
    _market_file(tmp_path / "api" / "markets" / "mine.yaml")
    response = _validate(client, "markets/mine.yaml")
    assert response.status_code == 200, response.text
    assert response.json()["market"] == "mine"


def test_a_market_file_outside_the_data_folder_is_refused_unread(client: TestClient, tmp_path: Path) -> None:
    outside = _market_file(tmp_path / "outside" / "secret.yaml", secret_field_name=1)
    for ref in (str(outside), "../outside/secret.yaml"):
        response = _validate(client, ref)
        assert response.status_code == 422, response.text
        assert "secret_field_name" not in response.text
        assert "data folder" in response.text
