"""In-process faults: injected solver failures, a broken outbox, a really full outbox disk (a tiny
tmpfs), HiGHS really stopping at its time limit, a dropped database connection mid-transaction.
Nothing lost, nothing written twice, every fault counted. (kill -9 of the running service:
``test_kills.py``.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from market.calendar import gate_closure, trading_day_index
from vpp.assets.battery import BatterySpec
from vpp.service import outbox as outbox_files
from vpp.service import repository, simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import Bid, DayAheadSchedule, Forecast, JobRun, make_engine, upgrade_schema
from vpp.service.pipeline import INJECT_ENV, Pipeline

from ._scale import ROOT, record, scaled

PORTFOLIO = ROOT / "vpp" / "examples" / "minimal.yaml"
PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
DAY = dt.date(2024, 1, 2)


def _config(db_url: str, folder: Path) -> ServiceConfig:
    return ServiceConfig(
        db_url=db_url, portfolio=str(PORTFOLIO), inbox=str(folder / "inbox"), outbox=str(folder / "outbox")
    )


# ---------------------------------------------------------------- in-process faults


def _url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vpp.db'}"
    return request.getfixturevalue("fresh_postgres_url")


def _bid_now(pipeline: Pipeline, day: dt.date) -> pd.Timestamp:
    return gate_closure(pipeline.market, day) - pd.Timedelta(minutes=30)


def _started(config: ServiceConfig) -> Iterator[Pipeline]:
    """A pipeline on a migrated database with the day's prices in the inbox and its bid made."""
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    simulated_gateways.publish_day_ahead(pipeline.config.inbox, str(PRICES), pipeline.market, DAY)
    assert pipeline.bid_day(_bid_now(pipeline, DAY))["status"] == "ok"
    yield pipeline
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def pipe(request, tmp_path) -> Iterator[Pipeline]:
    yield from _started(_config(_url(request, tmp_path), tmp_path))


def _now(k: int) -> pd.Timestamp:
    return trading_day_index("shanxi", DAY)[k] - pd.Timedelta(seconds=30)


def test_injected_solver_failures_give_recorded_fallbacks(pipe, monkeypatch):
    monkeypatch.setenv(INJECT_ENV, "2,5")
    out = [pipe.dispatch_period(_now(k)) for k in range(8)]
    assert [o["status"] for o in out].count("fallback") == 2
    with pipe.sessions() as s:
        runs = repository.runs(
            s, "dispatch", *(trading_day_index("shanxi", DAY)[[0, 8]].tz_convert("UTC").to_pydatetime())
        )
    reasons = [r.fallback_reason for r in runs if r.status == "fallback"]
    assert len(runs) == 8 and len(reasons) == 2 and all("injected" in r for r in reasons)
    record("fault_solver", {"injected": 2, "fallbacks_recorded": len(reasons), "periods": len(runs)})


def test_broken_outbox_keeps_the_setpoint_in_the_database_and_the_period(pipe, tmp_path, caplog):
    outbox = Path(pipe.config.outbox)
    outbox.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(outbox)
    outbox.write_text("a file where the outbox folder should be\n")  # writes fail like a full disk
    result = pipe.dispatch_period(_now(3))
    assert result["status"] == "ok" and "outbox_error" in result
    assert "outbox write failed" in caplog.text
    slot_utc = trading_day_index("shanxi", DAY)[3].tz_convert("UTC").to_pydatetime()
    with pipe.sessions() as s:
        assert repository.run_done(
            s, "dispatch", repository.find_run(s, "dispatch", _key(pipe, 3)).period_key
        )
        assert set(repository.setpoints_at(s, slot_utc)) == {"bess-1"}
    # the disk is back: the rerun is skipped (done) and rewrites the missing files from the database
    outbox.unlink()
    assert pipe.dispatch_period(_now(3))["status"] == "skipped"
    assert (
        outbox / f"setpoints_{trading_day_index('shanxi', DAY)[3].strftime('%Y-%m-%dT%H-%M')}.json"
    ).exists()
    with pipe.sessions() as s:
        assert len(repository.setpoints_at(s, slot_utc)) == 1
    record("fault_outbox", {"injected": 1, "period_kept": 1, "files_rewritten": 1})


def _key(pipe: Pipeline, k: int) -> str:
    from vpp.service import planning

    return planning.dispatch_slot(pipe.market, _now(k), pipe.config.dispatch_lead_s).key


def test_dropped_connection_mid_transaction_leaves_nothing_half_written(pipe, monkeypatch):
    real = repository.insert_ignore
    drops = {"n": 0}

    def dropping(session, model, rows, keys):
        if model.__name__ == "Setpoint":  # after the run row was claimed in the same transaction
            drops["n"] += 1
            raise sa.exc.OperationalError(
                "INSERT INTO setpoints", {}, ConnectionError("server closed the connection")
            )
        return real(session, model, rows, keys)

    monkeypatch.setattr(repository, "insert_ignore", dropping)
    with pytest.raises(sa.exc.OperationalError):
        pipe.dispatch_period(_now(4))
    with pipe.sessions() as s:
        assert repository.find_run(s, "dispatch", _key(pipe, 4)) is None  # the claim was rolled back
        assert (
            repository.setpoints_at(s, trading_day_index("shanxi", DAY)[4].tz_convert("UTC").to_pydatetime())
            == {}
        )
    monkeypatch.setattr(repository, "insert_ignore", real)
    assert pipe.dispatch_period(_now(4))["status"] == "ok"  # the retry does the period, once
    assert pipe.dispatch_period(_now(4))["status"] == "skipped"
    with pipe.sessions() as s:
        assert (
            len(
                repository.setpoints_at(
                    s, trading_day_index("shanxi", DAY)[4].tz_convert("UTC").to_pydatetime()
                )
            )
            == 1
        )
    record("fault_db_drop", {"injected": drops["n"], "half_written": 0, "recovered": 1})


# ---------------------------------------------------------------- a really full outbox disk

FULL_PERIODS = min(scaled(4, 2), 80)  # periods 3.. of one day
TMPFS_SIZE = f"{4 * (2 * FULL_PERIODS + 8)}k"  # 4 KiB pages: room for every file once the filler is gone


@pytest.fixture
def tiny_disk(tmp_path) -> Iterator[Path]:
    """A tiny tmpfs (64 KiB at scale 1) mounted for the test (needs root and mount rights, else skipped)."""
    where = tmp_path / "tiny_disk"
    where.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a real full disk needs a tmpfs mount: run as root (CI does)")
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot run mount for a tmpfs outbox: {exc}")
    if mounted.returncode != 0 or not os.path.ismount(where):
        pytest.skip(f"cannot mount a tmpfs at {where} (no mount rights here?): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)
        assert not os.path.ismount(where)


def _fill(folder: Path) -> Path:
    """Write a filler file in ``folder`` until the disk is full (ENOSPC); check that it is."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as sink:
        for _ in range(100_000):  # 400 MB at most: the tmpfs is a few pages
            try:
                sink.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
                break
        else:
            pytest.fail(f"{folder} never filled up: not a size-limited tmpfs")
    probe = folder / "probe"
    with pytest.raises(OSError) as full:
        probe.write_text("x")
    assert full.value.errno == errno.ENOSPC
    probe.unlink(missing_ok=True)
    return filler


def _stored_setpoints(pipe: Pipeline, k: int) -> dict:
    slot_utc = trading_day_index("shanxi", DAY)[k].tz_convert("UTC").to_pydatetime()
    with pipe.sessions() as s:
        return {
            a: (round(r.setpoint_mw, 6), r.soc_end_mwh, r.source)
            for a, r in repository.setpoints_at(s, slot_utc).items()
        }


def _json_path(pipe: Pipeline, k: int) -> Path:
    return outbox_files.setpoint_paths(pipe.config.outbox, trading_day_index("shanxi", DAY)[k])[1]


def test_full_outbox_disk_loses_no_period_and_leaves_no_partial_file(pipe, tiny_disk, caplog):
    # the outbox moves to the tiny disk (with what it held), which then fills up
    shutil.copytree(pipe.config.outbox, tiny_disk, dirs_exist_ok=True)
    pipe.config = dataclasses.replace(pipe.config, outbox=str(tiny_disk))
    filler = _fill(tiny_disk)
    before = sorted(p.name for p in tiny_disk.iterdir())
    periods = list(range(3, 3 + FULL_PERIODS))
    tomorrow = DAY + dt.timedelta(days=1)

    out = [pipe.dispatch_period(_now(k)) for k in periods]
    bid = pipe.bid_day(_bid_now(pipe, tomorrow))  # tomorrow's bid, on persistence prices
    assert [o["status"] for o in out] == ["ok"] * FULL_PERIODS
    assert all("No space left on device" in o["outbox_error"] for o in out)
    assert bid["status"] == "ok" and "No space left on device" in bid["outbox_error"]
    assert caplog.text.count("outbox write failed") == FULL_PERIODS + 1
    committed = 0
    with pipe.sessions() as s:
        for k in periods:
            run = repository.find_run(s, "dispatch", _key(pipe, k))
            committed += run is not None and run.status == "ok"
        bids = s.scalar(sa.select(sa.func.count()).select_from(Bid).where(Bid.trading_day == tomorrow))
    assert committed == FULL_PERIODS and bids == len(trading_day_index("shanxi", tomorrow))
    assert all(set(_stored_setpoints(pipe, k)) == {"bess-1"} for k in periods)
    # the atomic writer left nothing behind: no temp file, no empty or truncated file
    after = sorted(p.name for p in tiny_disk.iterdir())
    partial = sorted(set(after) - set(before))
    assert partial == [] and after == before
    missing_while_full = sum(not _json_path(pipe, k).exists() for k in periods)
    assert missing_while_full == FULL_PERIODS

    # space is back: the next dispatch pass writes its period and rewrites every missing file
    filler.unlink()
    nxt = pipe.dispatch_period(_now(periods[-1] + 1))
    assert nxt["status"] == "ok" and "outbox_error" not in nxt
    assert nxt["outbox_rewritten"] == FULL_PERIODS + 1  # the periods and tomorrow's bid
    for k in [*periods, periods[-1] + 1]:
        document = json.loads(_json_path(pipe, k).read_text(encoding="utf-8"))
        assert document["period_start"] == trading_day_index("shanxi", DAY)[k].isoformat()
        sent = {
            r["asset_id"]: (r["setpoint_mw"], r["soc_end_mwh"], r["source"]) for r in document["setpoints"]
        }
        assert sent == _stored_setpoints(pipe, k)
        assert _json_path(pipe, k).with_suffix(".csv").stat().st_size > 0
    in_bid_file = pd.read_csv(outbox_files.bid_path(tiny_disk, tomorrow.isoformat()))
    with pipe.sessions() as s:
        stored_bid = s.scalars(
            sa.select(Bid.net_mw).where(Bid.trading_day == tomorrow).order_by(Bid.period_start)
        )
        assert in_bid_file["net_mw"].tolist() == list(stored_bid)
    assert list(in_bid_file.columns) == ["timestamp", "net_mw"]
    assert not [p.name for p in tiny_disk.iterdir() if p.name.startswith(".")]
    # nothing more to rewrite, nothing written twice
    assert "outbox_rewritten" not in pipe.dispatch_period(_now(periods[-1] + 1))
    assert pipe.bid_day(_bid_now(pipe, tomorrow)) == {"day": tomorrow.isoformat(), "status": "skipped"}
    with pipe.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(JobRun).where(JobRun.job == "dispatch")) == (
            FULL_PERIODS + 1
        )
    record(
        "fault_disk_full",
        {
            "periods": FULL_PERIODS,
            "committed": committed,
            "bids_committed": 1,
            "files_missing_while_full": missing_while_full,
            "partial_files": len(partial),
            "files_rewritten": nxt["outbox_rewritten"],
        },
    )


# ---------------------------------------------------------------- HiGHS stops at its time limit

TINY_LIMIT_S = 1e-6
TIMEOUTS = min(scaled(5, 5), 80)
FLEET = """\
name: timeout-fleet
market: shanxi
grid: {import_limit_mw: 3.0, export_limit_mw: 2.5}
assets:
  - {id: bess-a, type: battery, power_mw: 1.0, energy_mwh: 2.0, charge_efficiency: 0.95,
     discharge_efficiency: 0.95, soc_initial_mwh: 1.0, soc_min_mwh: 0.2}
  - {id: bess-b, type: battery, charge_power_mw: 2.0, discharge_power_mw: 1.5, energy_mwh: 4.0,
     charge_efficiency: 0.93, discharge_efficiency: 0.93, soc_initial_mwh: 3.7, soc_min_mwh: 0.4,
     soc_max_mwh: 3.8}
  - {id: bess-c, type: battery, power_mw: 0.5, energy_mwh: 2.0, charge_efficiency: 0.9,
     discharge_efficiency: 0.9, soc_initial_mwh: 0.3, soc_min_mwh: 0.2}
  - {id: bess-d, type: battery, power_mw: 1.5, energy_mwh: 3.0, charge_efficiency: 0.95,
     discharge_efficiency: 0.95, soc_initial_mwh: 1.5, soc_min_mwh: 0.3, degradation_cost: 20.0}
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def fleet_pipe(request, tmp_path) -> Iterator[Pipeline]:
    """Four batteries; the dispatch solves get a 1 us HiGHS time limit (the bid a normal one)."""
    portfolio = tmp_path / "fleet.yaml"
    portfolio.write_text(FLEET, encoding="utf-8")
    config = dataclasses.replace(
        _config(_url(request, tmp_path), tmp_path), portfolio=str(portfolio), solver_time_limit_s=TINY_LIMIT_S
    )
    yield from _started(config)


def _check_fallback(pipe: Pipeline, k: int) -> int:
    """Assert period ``k`` got a recorded time-out fallback, sent; return setpoints out of any limit."""
    slot_utc = trading_day_index("shanxi", DAY)[k].tz_convert("UTC").to_pydatetime()
    with pipe.sessions() as s:
        run = repository.find_run(s, "dispatch", _key(pipe, k))
        stored = repository.setpoints_at(s, slot_utc)
    assert run.status == "fallback" and run.solver_status == "timeout"
    assert "Time limit reached" in run.fallback_reason
    specs = {a.id: a for a in pipe.loaded.portfolio.assets}
    assert set(stored) == set(specs) and {r.source for r in stored.values()} == {"fallback"}
    bad = 0
    for asset_id, row in stored.items():
        spec = specs[asset_id]
        assert isinstance(spec, BatterySpec)
        bad += not -spec.charge_limit_mw - 1e-9 <= row.setpoint_mw <= spec.discharge_limit_mw + 1e-9
        bad += not spec.soc_min_mwh - 1e-9 <= row.soc_end_mwh <= spec.soc_ceiling_mwh + 1e-9
    grid = pipe.loaded.portfolio.grid
    total = sum(r.setpoint_mw for r in stored.values())
    bad += not -grid.import_limit_mw - 1e-9 <= total <= grid.export_limit_mw + 1e-9
    sent = json.loads(_json_path(pipe, k).read_text(encoding="utf-8"))["setpoints"]
    assert {r["asset_id"]: r["source"] for r in sent} == dict.fromkeys(specs, "fallback")
    return bad


def test_solver_time_limit_gives_a_recorded_fallback_then_a_solution(fleet_pipe, monkeypatch):
    pipe = fleet_pipe
    assert pipe.dispatch_time_limit_s == TINY_LIMIT_S
    # HiGHS really stops at its time limit (no injected exception), every time
    periods = list(range(3, 3 + TIMEOUTS))
    out = [pipe.dispatch_period(_now(k)) for k in periods]
    assert [(o["status"], o["solver_status"]) for o in out] == [("fallback", "timeout")] * TIMEOUTS
    assert all("HiGHS stopped without a solution: Time limit reached" in o["fallback_reason"] for o in out)
    out_of_bounds = sum(_check_fallback(pipe, k) for k in periods)
    assert out_of_bounds == 0
    # the first fallback follows the day-ahead schedule (feasible from the day-ahead state)
    first = trading_day_index("shanxi", DAY)[periods[0]].tz_convert("UTC").to_pydatetime()
    with pipe.sessions() as s:
        plan = {a: r.net_mw for a, r in repository.day_ahead_at(s, first).items()}
    assert {a: round(r[0], 6) for a, r in _stored_setpoints(pipe, periods[0]).items()} == pytest.approx(plan)

    # the next period with a normal limit solves, on the same persistent model, from the fallback's state
    pipe.dispatch_time_limit_s = 60.0
    after = pipe.dispatch_period(_now(periods[-1] + 1))
    assert (after["status"], after["solver_status"], after["state_source"]) == ("ok", "optimal", "setpoints")

    # a day-ahead bid whose solve times out: a failed run with the reason, no half-written bid
    tomorrow = DAY + dt.timedelta(days=1)
    pipe.config = dataclasses.replace(pipe.config, bid_time_limit_s=TINY_LIMIT_S)
    failed = pipe.bid_day(_bid_now(pipe, tomorrow))
    assert failed["status"] == "failed" and failed["solver_status"] == "timeout"
    assert "Time limit reached" in failed["reason"]

    def written(model) -> int:
        with pipe.sessions() as s:
            stmt = sa.select(sa.func.count()).select_from(model).where(model.trading_day == tomorrow)
            return s.scalar(stmt)

    with pipe.sessions() as s:
        run = repository.find_run(s, "bid", tomorrow.isoformat())
    assert (run.status, run.solver_status) == ("failed", "timeout")
    assert "Time limit reached" in run.fallback_reason
    half_written = written(Bid) + written(DayAheadSchedule) + written(Forecast)
    assert half_written == 0 and not outbox_files.bid_path(pipe.config.outbox, tomorrow.isoformat()).exists()
    # the retry with a normal limit replaces the failed run and bids the whole day, once
    pipe.config = dataclasses.replace(pipe.config, bid_time_limit_s=120.0)
    assert pipe.bid_day(_bid_now(pipe, tomorrow))["status"] == "ok"
    periods_tomorrow = len(trading_day_index("shanxi", tomorrow))
    assert written(Bid) == periods_tomorrow and written(DayAheadSchedule) == 4 * periods_tomorrow
    with pipe.sessions() as s:
        assert repository.find_run(s, "bid", tomorrow.isoformat()).status == "ok"
    assert outbox_files.bid_path(pipe.config.outbox, tomorrow.isoformat()).exists()

    # an explicit limit of 0 s is a limit too (it used to fall back silently to a quarter period)
    zero = Pipeline(dataclasses.replace(pipe.config, solver_time_limit_s=0.0), pipe.engine)
    assert zero.dispatch_time_limit_s == 0.0
    at_zero = zero.dispatch_period(_now(periods[-1] + 2))
    assert (at_zero["status"], at_zero["solver_status"]) == ("fallback", "timeout")

    # a HiGHS stop that is not the time limit (an iteration limit) is an error, not a time-out
    options = pipe.models.options
    monkeypatch.setattr(
        pipe.models, "options", dataclasses.replace(options, highs_options=(("simplex_iteration_limit", 0),))
    )
    other = pipe.dispatch_period(_now(periods[-1] + 3))
    assert (other["status"], other["solver_status"]) == ("fallback", "error")
    assert "Iteration limit reached" in other["fallback_reason"]
    record(
        "fault_solver_timeout",
        {
            "timeouts": TIMEOUTS + 1,
            "fallbacks_recorded": sum(o["status"] == "fallback" for o in [*out, at_zero]),
            "setpoints_out_of_bounds": out_of_bounds,
            "periods_lost": 0,
            "recovered_ok": int(after["status"] == "ok"),
            "bid_timeouts": 1,
            "bid_rows_half_written": half_written,
            "bid_retry_ok": 1,
            "other_stop_not_timeout": int(other["solver_status"] == "error"),
        },
    )
