"""Issue 12 items 8 and 9: a portfolio sent through the API reads only files in the service's data
folder, its errors show no file contents, bodies are size-limited, validate stores nothing, PUT
stores only what validated, and concurrent identical validations never answer 500."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from vpp.api.app import create_app

from .conftest import as_operator, as_reader
from .seed import PORTFOLIO

SECRET = "root:$6$s3cr3t-hash-never-shown:19000:0:99999:7:::"


def _with_pv(profile: str) -> str:
    """The seeded battery portfolio plus a 2 MW PV unit whose profile file is ``profile``."""
    return (
        PORTFOLIO.read_text().replace("assets:", f"profiles: [{profile!r}]\nassets:")
        + "  - {id: pv-1, type: pv, capacity_mw: 2.0, profile: pv}\n"
    )


def _profile_csv(path: Path, *, bad_cell: str | None = None) -> None:
    index = pd.date_range("2024-01-02", periods=96, freq="15min", tz="Asia/Shanghai")
    values = [f"{0.5:.2f}"] * 96
    if bad_cell is not None:
        values[9] = bad_cell
    lines = ["timestamp,pv"] + [f"{t.isoformat()},{v}" for t, v in zip(index, values, strict=True)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def data_dir(client: TestClient, tmp_path: Path) -> Path:
    return tmp_path / "api"  # conftest.make_client's data folder


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the data folder whose first line must never appear in a response."""
    path = tmp_path / "outside" / "shadow.csv"
    path.parent.mkdir()
    path.write_text(f"{SECRET}\nline-2-secret\n")
    return path


def _validate(client: TestClient, content: str):
    return client.post("/api/portfolio/validate", json={"content": content}, headers=as_reader(client))


def test_a_profile_file_inside_the_data_folder_is_read(client: TestClient, data_dir: Path) -> None:
    _profile_csv(data_dir / "profiles" / "pv.csv")
    response = _validate(client, _with_pv("profiles/pv.csv"))
    assert response.status_code == 200, response.text
    check = response.json()
    assert check["envelope"]["day"] == "2024-01-02"
    assert check["envelope"]["adjustable_mw"] == pytest.approx(
        1.0 + 0.5 * 2.0
    )  # battery 1 MW + PV 2 MW at 0.5


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "symlink", "symlinked_folder", "dotdot_inside"])
def test_no_file_outside_the_data_folder_is_read_or_echoed(
    client: TestClient, data_dir: Path, secret: Path, kind: str
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    if kind == "absolute":
        name = str(secret)
    elif kind == "dotdot":
        name = os.path.relpath(secret, data_dir)
    elif kind == "dotdot_inside":
        (data_dir / "profiles").mkdir(exist_ok=True)
        _profile_csv(data_dir / "pv.csv")
        name = "profiles/../pv.csv"
    elif kind == "symlink":
        (data_dir / "shadow.csv").symlink_to(secret)
        name = "shadow.csv"
    else:
        (data_dir / "outside").symlink_to(secret.parent, target_is_directory=True)
        name = "outside/shadow.csv"
    response = _validate(client, _with_pv(name))
    assert response.status_code == 422, response.text
    assert SECRET not in response.text and "s3cr3t" not in response.text and "line-2" not in response.text
    detail = " ".join(d["msg"] for d in response.json()["detail"])
    assert "data folder" in detail or "absolute" in detail or "'..'" in detail
    put = client.put("/api/portfolio", json={"content": _with_pv(name)}, headers=as_operator(client))
    assert put.status_code == 422 and "s3cr3t" not in put.text


def test_a_bad_cell_in_a_data_folder_file_is_located_not_echoed(client: TestClient, data_dir: Path) -> None:
    _profile_csv(data_dir / "pv.csv", bad_cell="TOP-SECRET-CELL")
    response = _validate(client, _with_pv("pv.csv"))
    assert response.status_code == 422
    assert "TOP-SECRET-CELL" not in response.text
    assert "row 10" in response.text  # the position of the offending cell is named
    response = _validate(client, _with_pv("pv.csv").replace("profile: pv}", "profile: pw}"))
    assert "TOP-SECRET" not in response.text


def test_a_fifo_or_folder_named_as_a_profile_is_refused_without_blocking(
    client: TestClient, data_dir: Path
) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.mkfifo(data_dir / "pipe.csv")
    (data_dir / "folder.csv").mkdir()
    for name in ("pipe.csv", "folder.csv"):
        response = _validate(client, _with_pv(name))
        assert response.status_code == 422 and "not a regular file" in response.text


def test_validate_writes_nothing_and_put_stores_only_what_validated(
    client: TestClient, data_dir: Path
) -> None:
    op = as_operator(client)
    before = sorted(p.name for p in data_dir.rglob("*")) if data_dir.exists() else []
    bodies = [PORTFOLIO.read_text().replace("name: demo", f"name: v{i}") for i in range(5)]
    for body in bodies:
        assert client.post("/api/portfolio/validate", json={"content": body}, headers=op).status_code == 200
    after = sorted(p.name for p in data_dir.rglob("*")) if data_dir.exists() else []
    assert after == before  # nothing written by validate
    versions = len(client.get("/api/portfolio/versions", headers=op).json())
    bad = PORTFOLIO.read_text().replace("energy_mwh: 2.0", "energy_mwh: -2.0")
    assert client.put("/api/portfolio", json={"content": bad}, headers=op).status_code == 422
    assert len(client.get("/api/portfolio/versions", headers=op).json()) == versions
    assert (sorted(p.name for p in data_dir.rglob("*")) if data_dir.exists() else []) == before
    assert client.put("/api/portfolio", json={"content": bodies[0]}, headers=op).status_code == 200
    assert len(client.get("/api/portfolio/versions", headers=op).json()) == versions + 1
    assert len(list((data_dir / "portfolios").glob("*.yaml"))) == 1


def test_a_body_over_the_limit_is_413_and_not_stored(seeded: tuple, tmp_path: Path) -> None:
    url, keys = seeded
    with TestClient(create_app(url, data_dir=tmp_path / "api", max_request_bytes=4096)) as small:
        headers = {"X-API-Key": keys.operator}
        body = PORTFOLIO.read_text() + "#" * 5000 + "\n"
        for method in ("POST", "PUT"):
            path = "/api/portfolio/validate" if method == "POST" else "/api/portfolio"
            response = small.request(method, path, json={"content": body}, headers=headers)
            assert response.status_code == 413, response.text
        # chunked, without a Content-Length
        chunks = (part for part in [b'{"content": "', b"x" * 3000, b"y" * 3000, b'"}'])
        response = small.post(
            "/api/portfolio/validate", content=chunks, headers={**headers, "content-type": "application/json"}
        )
        assert response.status_code == 413
        assert (
            small.put("/api/portfolio", json={"content": PORTFOLIO.read_text()}, headers=headers).status_code
            == 200
        )
        assert not any(p.suffix == ".tmp" for p in (tmp_path / "api").rglob("*"))
        assert [v["name"] for v in small.get("/api/portfolio/versions", headers=headers).json()] == ["demo"]


def test_the_default_limit_is_one_megabyte(client: TestClient) -> None:
    body = PORTFOLIO.read_text() + "#" * 1_000_100 + "\n"
    assert _validate(client, body).status_code == 413
    assert _validate(client, PORTFOLIO.read_text() + "#" * 900_000 + "\n").status_code == 200


def test_160_concurrent_identical_validations_and_puts_answer_no_500(
    client: TestClient, data_dir: Path
) -> None:
    body = PORTFOLIO.read_text().replace("name: demo", "name: concurrent")
    op = as_operator(client)

    def call(i: int) -> int:
        if i % 4 == 0:
            return client.put("/api/portfolio", json={"content": body}, headers=op).status_code
        return client.post("/api/portfolio/validate", json={"content": body}, headers=op).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(call, range(160)))
    assert codes.count(200) == 160, {c: codes.count(c) for c in set(codes)}
    assert not any(p.name.endswith(".tmp") for p in data_dir.rglob("*"))
