"""Two first starts on a fresh database: both upgrade the schema at once and both come up.

Each round starts two processes that import the service, wait for the same wall instant, then
call :func:`vpp.service.db.upgrade_schema` on the same fresh database (issue 12 item 6: without a
lock one of them died in ``upgrade_schema``, PostgreSQL 8 rounds of 8, SQLite 1 of 4).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from vpp.service.db import make_engine

from .conftest import ROOT

ROUNDS = 3

UPGRADE = """
import sys, time
from vpp.service.db import make_engine, upgrade_schema
url, at = sys.argv[1], float(sys.argv[2])
engine = make_engine(url)
time.sleep(max(0.0, at - time.time()))
upgrade_schema(engine)
print("up")
"""


def _fresh(backend: str, request: pytest.FixtureRequest, tmp_path, i: int) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'vpp_{i}.db'}"
    return request.getfixturevalue("fresh_postgres_url") if i == 0 else _another_postgres(request, i)


def _another_postgres(request: pytest.FixtureRequest, i: int) -> str:
    """A further fresh PostgreSQL database (the fixture gives one per test): dropped at teardown."""
    from sqlalchemy.engine import make_url

    base = make_url(request.getfixturevalue("fresh_postgres_url"))
    name = f"{base.database}_{i}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.mark.slow  # six service processes
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_first_starts_on_a_fresh_database_both_come_up(backend, request, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for i in range(ROUNDS):
        url = _fresh(backend, request, tmp_path, i)
        at = time.time() + 3.0  # both processes have imported the service by then
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", UPGRADE, url, str(at)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=120) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0 and out.strip() == "up", f"round {i}: {err[-2000:]}"
        engine = make_engine(url)
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
        engine.dispose()
        assert len(versions) == 1, versions
