"""Fixtures of the service tests: a database per test, parametrised over SQLite and PostgreSQL.

PostgreSQL tests use the server at ``VPP_TEST_POSTGRES_URL`` (``.ci/run`` starts one). They are
skipped when it is unset, except in CI (``CI=true``), where a missing URL fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from vpp.service.config import ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
PORTFOLIO = ROOT / "vpp" / "examples" / "minimal.yaml"
PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
DAY = "2024-01-02"
POSTGRES_ENV = "VPP_TEST_POSTGRES_URL"


def _postgres_database() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"vpp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'vpp.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def config(db_url: str, tmp_path: Path) -> ServiceConfig:
    """Service settings on the fresh database with the tiny example portfolio."""
    return ServiceConfig(
        db_url=db_url,
        portfolio=str(PORTFOLIO),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )
