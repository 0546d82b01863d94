"""Fixtures of the service tests: a database per test, parametrised over SQLite and PostgreSQL.

PostgreSQL tests use the server at ``VPP_TEST_POSTGRES_URL`` (``.ci/run`` starts one). They are
skipped when it is unset, except in CI (``CI=true``), where a missing URL fails them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vpp.service.config import ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
PORTFOLIO = ROOT / "vpp" / "examples" / "minimal.yaml"
PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
DAY = "2024-01-02"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vpp.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> ServiceConfig:
    """Service settings on the fresh database with the tiny example portfolio."""
    return ServiceConfig(
        db_url=db_url,
        portfolio=str(PORTFOLIO),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )
