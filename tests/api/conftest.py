"""Fixtures of the API tests: a seeded service database (SQLite; PostgreSQL where marked) and clients.

The SQLite database is seeded once per session and copied per test. PostgreSQL uses
``VPP_TEST_POSTGRES_URL`` as tests/service does: skipped when unset, failed in CI (``CI=true``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vpp.api.app import create_app

from .seed import Keys, seed


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Keys]:
    """A seeded SQLite database file (do not modify: tests get copies)."""
    folder = tmp_path_factory.mktemp("seeded")
    keys = seed(f"sqlite:///{folder / 'vpp.db'}", folder)
    return folder / "vpp.db", keys


@pytest.fixture
def seeded(template: tuple[Path, Keys], tmp_path: Path) -> tuple[str, Keys]:
    """URL of a private copy of the seeded SQLite database, and its keys."""
    path, keys = template
    copy = tmp_path / "vpp.db"
    shutil.copy(path, copy)
    return f"sqlite:///{copy}", keys


@pytest.fixture(params=["sqlite", "postgresql"])
def any_seeded(request: pytest.FixtureRequest, template: tuple[Path, Keys], tmp_path: Path) -> Iterator[
    tuple[str, Keys]
]:
    """A seeded database on SQLite (a copy) and on PostgreSQL (seeded afresh)."""
    if request.param == "sqlite":
        path, keys = template
        shutil.copy(path, tmp_path / "vpp.db")
        yield f"sqlite:///{tmp_path / 'vpp.db'}", keys
        return
    url = request.getfixturevalue("fresh_postgres_url")
    yield url, seed(url, tmp_path)


def make_client(url: str, folder: Path) -> TestClient:
    """A test client of the app on ``url`` (use as a context manager: runs the lifespan)."""
    return TestClient(create_app(url, data_dir=folder / "api"))


@pytest.fixture
def client(seeded: tuple[str, Keys], tmp_path: Path) -> Iterator[TestClient]:
    """A client on a seeded SQLite copy; ``client.keys`` holds the operator and read keys."""
    url, keys = seeded
    with make_client(url, tmp_path) as test_client:
        test_client.keys = keys  # type: ignore[attr-defined]
        yield test_client


def as_operator(client: TestClient) -> dict[str, str]:
    """Headers with the operator key."""
    return {"X-API-Key": client.keys.operator}  # type: ignore[attr-defined]


def as_reader(client: TestClient) -> dict[str, str]:
    """Headers with the read-only key."""
    return {"X-API-Key": client.keys.read}  # type: ignore[attr-defined]
