"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_ENV = "VPP_TEST_POSTGRES_URL"
"""Environment variable with the URL of a PostgreSQL server the tests may create databases on."""


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test.

    Skipped when ``VPP_TEST_POSTGRES_URL`` is unset, except in CI (``CI=true``), where that fails:
    CI must run the PostgreSQL tests (``.ci/run`` starts a server).
    """
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


def simulation_command(config, day: str, prices: str, day_seconds: float, *extra: str) -> list[str]:
    """The ``vpp run --simulate`` command line (a subprocess the tests can kill) for ``config``."""
    return [
        sys.executable,
        "-m",
        "vpp.cli",
        "run",
        "--portfolio",
        str(config.portfolio),
        "--db",
        config.db_url,
        "--inbox",
        str(config.inbox),
        "--outbox",
        str(config.outbox),
        "--simulate",
        str(day),
        "--prices",
        str(prices),
        "--day-seconds",
        str(day_seconds),
        *extra,
    ]


@pytest.fixture
def simulate_command() -> Callable[..., list[str]]:
    """:func:`simulation_command`, for tests in any package."""
    return simulation_command
