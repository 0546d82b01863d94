"""One active scheduler per database (issue 12 item 5): the lease, its standby and ``vpp status``.

In process: the lease refuses a second holder naming the first, a standby takes over when the
holder releases, and a simulation keeps its jobs out of the service's job store. Two processes
(``vpp run --simulate``): a second run on a held database is refused, a ``--standby`` one waits,
the holder is killed with SIGKILL, the standby takes over and finishes the day: every period
dispatched once, nothing written twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tests.hardening._scale import record
from vpp.cli import app
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, upgrade_schema
from vpp.service.lease import LeaseHeldError, SchedulerLeaseHolder, read_lease
from vpp.service.pipeline import INJECT_ENV, Pipeline
from vpp.service.scheduler import JOB_TABLES, add_jobs, build_scheduler
from vpp.service.status import service_status

from .conftest import DAY, PRICES, ROOT

DAY_SECONDS = 64.0
"""Two thirds of a second of wall time per period."""

UNTIL = "10:00"
PERIODS = 40
"""Periods up to ``UNTIL``: the holder must still run while the other two start (imports are slow
on a loaded runner)."""


def test_a_second_holder_is_refused_and_a_standby_takes_over(config: ServiceConfig) -> None:
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    first = SchedulerLeaseHolder(engine, "service", heartbeat_s=0.2)
    assert first.acquire()
    first.start_heartbeat()
    second = SchedulerLeaseHolder(engine, "service")
    with pytest.raises(LeaseHeldError) as refused:
        second.acquire()
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message and "--standby" in message and "vpp run (service)" in message
    info = read_lease(engine)
    assert info is not None and info.held() and info.holder == first.holder
    waited, took = threading.Event(), threading.Event()
    standby = threading.Thread(
        target=lambda: second.acquire(standby=True, on_wait=lambda _: waited.set()) and took.set()
    )
    standby.start()
    assert waited.wait(10) and not took.wait(1.0)  # still waiting while the first holds it
    first.release()
    assert took.wait(10)
    standby.join(10)
    info = read_lease(engine)
    assert info is not None and info.held() and info.holder == second.holder
    second.release()
    info = read_lease(engine)
    assert info is not None and not info.held()
    engine.dispose()


def test_a_restart_waits_for_the_lock_of_a_holder_that_died_on_this_host(config: ServiceConfig) -> None:
    """A crashed holder's lock is dropped by the server a moment after its death: a plain restart
    (no --standby) on the same host waits for that instead of refusing."""
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    dead = subprocess.Popen(["true"])
    dead.wait()
    crashed = SchedulerLeaseHolder(engine, "service")
    assert crashed.acquire()
    with engine.begin() as conn:  # the row names a process that no longer exists
        conn.execute(sa.text("UPDATE scheduler_lease SET pid = :pid"), {"pid": dead.pid})
    threading.Timer(1.0, crashed._lock.unlock).start()  # the server drops the dead session's lock
    restarted = SchedulerLeaseHolder(engine, "service")
    started = time.monotonic()
    assert restarted.acquire()
    assert 0.5 < time.monotonic() - started < 10
    info = read_lease(engine)
    assert info is not None and info.holder == restarted.holder and info.pid == os.getpid()
    restarted.release()
    engine.dispose()


def _command(config: ServiceConfig, *extra: str) -> list[str]:
    from tests.conftest import simulation_command

    return simulation_command(config, DAY, str(PRICES), DAY_SECONDS, "--until", UNTIL, *extra)


def _runs(url: str) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            q = lambda sql: [tuple(r) for r in conn.execute(sa.text(sql)).all()]  # noqa: E731
            return {
                "dispatched": q(
                    "SELECT period_key FROM job_runs WHERE job = 'dispatch' AND status <> 'failed'"
                ),
                "dup_runs": q(
                    "SELECT job, period_key FROM job_runs GROUP BY job, period_key HAVING COUNT(*) > 1"
                ),
                "setpoints": q("SELECT period_start, asset_id FROM setpoints"),
                "lease": q("SELECT pid, mode FROM scheduler_lease"),
            }
    except sa.exc.DBAPIError:
        return {"dispatched": [], "dup_runs": [], "setpoints": [], "lease": []}
    finally:
        engine.dispose()


def _wait(predicate, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)


def _production_jobs(config: ServiceConfig) -> list[tuple]:
    """Put a production service's jobs in the database's service job store; return the rows."""
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    scheduler = build_scheduler(engine, config, pipeline.market)
    scheduler.start(paused=True)
    add_jobs(scheduler, config, pipeline.market)
    scheduler.shutdown(wait=False)
    rows = _job_rows(engine, JOB_TABLES["service"])
    engine.dispose()
    return rows


def _job_rows(engine: sa.Engine, table: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()]


@pytest.mark.slow
@pytest.mark.xdist_group("clock")  # two `vpp run` processes on a wall clock (README "Tests")
def test_second_run_is_refused_standby_takes_over_after_kill_9(config: ServiceConfig, tmp_path: Path) -> None:
    """Issue 12 item 5 with two processes on one database: before the lease, the second run
    replaced the first's jobs (and a simulation deleted production's)."""
    production = dataclasses.replace(
        config, outbox=str(tmp_path / "prod_outbox"), inbox=str(tmp_path / "prod_in")
    )
    before = _production_jobs(production)
    assert {r[0] for r in before} == {"bid", "dispatch", "ingest", "settle"}
    env = {k: v for k, v in os.environ.items() if k != INJECT_ENV}
    env["PYTHONPATH"] = str(ROOT)
    url = config.db_url
    holder_log, standby_log = tmp_path / "holder.log", tmp_path / "standby.log"
    with holder_log.open("wb") as sink:
        holder = subprocess.Popen(_command(config), env=env, stdout=sink, stderr=subprocess.STDOUT)
    _wait(lambda: _runs(url)["lease"] == [(holder.pid, "simulation")], 90, holder, holder_log)
    # a standby process, and meanwhile a second simulation on other folders: refused, writes nothing
    standby_out = tmp_path / "standby.json"
    with standby_log.open("wb") as sink, standby_out.open("wb") as out:
        standby = subprocess.Popen(_command(config, "--standby"), env=env, stdout=out, stderr=sink)
    intruder = dataclasses.replace(config, inbox=str(tmp_path / "b_in"), outbox=str(tmp_path / "b_out"))
    second = CliRunner().invoke(app, _command(intruder)[3:])  # in process: no second slow start-up
    refused = second.stderr
    assert second.exit_code == 1, second.output[-2000:]
    assert "already has an active scheduler" in refused and f"pid {holder.pid}" in refused
    assert "--standby" in refused and "Traceback" not in second.output
    assert not Path(intruder.outbox).exists() or not any(Path(intruder.outbox).iterdir())
    # vpp status names the holder
    status = CliRunner().invoke(app, ["status", "--db", url, "--json"])
    assert status.exit_code == 0, status.output
    lease = json.loads(status.stdout)["lease"]
    assert lease["held"] and lease["pid"] == holder.pid and lease["mode"] == "simulation"
    # the standby waits while the holder runs
    _wait(lambda: "standby: the scheduler lease is held" in standby_log.read_text(), 90, standby, standby_log)
    _wait(lambda: len(_runs(url)["dispatched"]) >= 4, 60, holder, holder_log)
    assert holder.poll() is None, "the holder finished before the standby waited: raise UNTIL"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    killed = time.monotonic()
    before_kill = _runs(url)["dispatched"]
    killed_at = len(before_kill)
    keys_before = [pd.Timestamp(k).tz_convert("Asia/Shanghai") for (k,) in before_kill]
    _wait(lambda: _runs(url)["lease"] == [(standby.pid, "simulation")], 30, standby, standby_log)
    takeover_s = time.monotonic() - killed
    standby.wait(timeout=120)
    assert standby.returncode == 0, standby_log.read_text()[-3000:]
    assert "took over the scheduler lease" in standby_log.read_text()
    state = _runs(url)
    assert state["dup_runs"] == [] and len(state["setpoints"]) == len(state["dispatched"])
    keys = {pd.Timestamp(k).tz_convert("Asia/Shanghai") for (k,) in state["dispatched"]}
    day = pd.date_range(f"{DAY} 00:00", periods=PERIODS, freq="15min", tz="Asia/Shanghai")
    resumed = pd.Timestamp(json.loads(standby_out.read_text())["resumed_at"])
    # the standby resumed at the holder's last dispatched period and dispatched on to the end
    assert max(keys_before) == resumed and day[-1] in keys
    after = [t for t in day if t > resumed]
    lost_after = sorted(set(after) - keys)
    assert len(lost_after) <= len(after) // 10, lost_after  # a loaded runner may starve a firing
    lost = sorted(set(day) - keys)
    record(
        "two_instances_kill",
        {
            "backend": url.split(":")[0].split("+")[0],
            "processes": 2,
            "in_process_runs": 1,
            "refused": 1,
            "kills": 1,
            "killed_after_dispatches": killed_at,
            "periods": PERIODS,
            "periods_lost": len(lost),
            "periods_lost_after_takeover": len(lost_after),
            "duplicates": len(state["dup_runs"]),
            "takeover_s": round(takeover_s, 2),
            "production_jobs_changed": 0,
        },
    )
    # production's jobs were never touched; the simulations kept theirs in their own table
    engine = make_engine(url)
    assert _job_rows(engine, JOB_TABLES["service"]) == before
    assert {r[0] for r in _job_rows(engine, JOB_TABLES["simulation"])} >= {"dispatch", "gateway"}
    info = read_lease(engine)
    assert info is not None and info.pid == standby.pid and not info.held()  # released at the end
    engine.dispose()


def test_status_reports_a_dispatch_gap_once_a_period_passed_undispatched(config: ServiceConfig) -> None:
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    lease = SchedulerLeaseHolder(engine, "service")
    lease.acquire()
    t0 = pd.Timestamp(f"{DAY} 10:00", tz="Asia/Shanghai")
    assert pipeline.dispatch_period(t0 - pd.Timedelta(minutes=1))["status"] in ("ok", "fallback")
    market = pipeline.market
    on_time = service_status(engine, market, now=t0 + pd.Timedelta(minutes=29))
    assert on_time["dispatch_gap"]["overdue_periods"] == 0 and on_time["lease"]["held"]
    late = service_status(engine, market, now=t0 + pd.Timedelta(minutes=30, seconds=1))
    assert late["dispatch_gap"] == {
        "last_dispatched": t0.isoformat(),
        "overdue_periods": 1,
        "since": (t0 + pd.Timedelta(minutes=15)).isoformat(),
    }
    lease.release()
    engine.dispose()


def test_status_shows_no_gap_for_a_finished_simulation(config: ServiceConfig) -> None:
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    lease = SchedulerLeaseHolder(engine, "simulation", clock={"segments": [[time.time(), 0.0]], "speed": 1.0})
    lease.acquire()
    pipeline.dispatch_period(pd.Timestamp(f"{DAY} 09:59", tz="Asia/Shanghai"))
    lease.release()
    status = service_status(engine, pipeline.market, now=pd.Timestamp(dt.datetime.now(dt.UTC)))
    assert status["dispatch_gap"]["overdue_periods"] == 0 and not status["lease"]["held"]
    engine.dispose()


@pytest.mark.slow
@pytest.mark.xdist_group("clock")  # two `vpp run` processes on a wall clock (README "Tests")
def test_production_service_standby_takes_over_after_kill_9_and_releases_on_sigterm(
    config: ServiceConfig, tmp_path: Path
) -> None:
    """The wall-clock service (``vpp run`` without --simulate): kill -9 of the holder, the standby
    takes over; SIGTERM stops it and releases the lease."""
    env = {k: v for k, v in os.environ.items() if k != INJECT_ENV}
    env["PYTHONPATH"] = str(ROOT)
    command = _command(config)[:12]  # python -m vpp.cli run --portfolio P --db URL --inbox I --outbox O
    assert command[-2] == "--outbox"
    url = config.db_url
    holder_log, standby_log = tmp_path / "holder.log", tmp_path / "standby.log"
    with holder_log.open("wb") as sink:
        holder = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    _wait(lambda: _runs(url)["lease"] == [(holder.pid, "service")], 90, holder, holder_log)
    with standby_log.open("wb") as sink:
        standby = subprocess.Popen([*command, "--standby"], env=env, stdout=sink, stderr=subprocess.STDOUT)
    _wait(lambda: "standby: the scheduler lease is held" in standby_log.read_text(), 90, standby, standby_log)
    assert _runs(url)["lease"] == [(holder.pid, "service")]
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    _wait(lambda: _runs(url)["lease"] == [(standby.pid, "service")], 30, standby, standby_log)
    _wait(lambda: "took over the scheduler lease" in standby_log.read_text(), 30, standby, standby_log)
    standby.send_signal(signal.SIGTERM)
    assert standby.wait(timeout=60) == 0, standby_log.read_text()[-3000:]
    engine = make_engine(url)
    info = read_lease(engine)
    engine.dispose()
    assert info is not None and info.pid == standby.pid and not info.held()
