"""Issue 12, inbox items: quarantine, large files, one reader, bid failures, complete files,
settled days, physical and market ranges, symlinks (each test failed on the code before the fix)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from market.calendar import gate_closure, trading_day_index
from market.presets import get_market
from vpp.service import simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import JobRun, Price, Settlement, Statement, Telemetry, make_engine, upgrade_schema
from vpp.service.inbox import process_inbox
from vpp.service.inbox_files import READY_SUFFIX, mark_ready, reader_lock
from vpp.service.pipeline import Pipeline
from vpp.service.status import service_status

from .conftest import DAY, PRICES

SHANXI = get_market("shanxi")
HEADER = "timestamp,asset_id,metered_mw,soc_mwh\n"
GOOD_ROW = "2024-01-02T10:00:00+08:00,bess-1,0.25,1.1\n"


def _telemetry_rows(n: int, start: str = "2024-01-02T00:00:00+08:00") -> str:
    stamps = pd.date_range(start, periods=n, freq="15min")
    return "".join(f"{t.isoformat()},bess-1,0.1,1.0\n" for t in stamps)


def _list_store(stored: list[tuple[str, int]]):
    def store(kind: str, rows: list[dict]) -> int:
        stored.append((kind, len(rows)))
        return len(rows)

    return store


@pytest.fixture
def pipe(config: ServiceConfig):
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    yield Pipeline(config, engine)
    engine.dispose()


def _count(pipe: Pipeline, model: type, *where: object) -> int:
    with pipe.sessions() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))


# -- item 1: the service owns its quarantine -------------------------------------------------------


def test_any_file_name_is_quarantined_with_its_reason_and_the_pass_goes_on(tmp_path, caplog):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = {
        "rejected": "x\n",  # a FILE named like the old reject folder
        "processed": "x\n",
        "telemetry_" + "x" * 236 + ".csv": HEADER + "2024-01-02T10:00:00+08:00,bess-1,lots,1\n",  # 250 chars
        "telemetry_a\nWARNING forged line.csv": HEADER + "bad\n",
        "-rf telemetry.csv": "x\n",
        "telemetry_价格_ünï.csv": HEADER + GOOD_ROW,
        "telemetry_ok.csv": HEADER + GOOD_ROW,
    }
    for name, body in names.items():
        (inbox / name).write_text(body, encoding="utf-8")
    stored: list[tuple[str, int]] = []
    with caplog.at_level(logging.WARNING, logger="vpp.service.inbox"):
        report = process_inbox(inbox, SHANXI, {"bess-1"}, _list_store(stored))
        again = process_inbox(inbox, SHANXI, {"bess-1"}, _list_store(stored))
    assert sorted(report.processed) == ["telemetry_ok.csv", "telemetry_价格_ünï.csv"]
    assert len(report.rejected) == 5 and again.processed == again.rejected == []
    assert stored == [("telemetry", 1), ("telemetry", 1)]
    rejected = inbox / ".vpp" / "rejected"
    reasons = sorted(rejected.glob("*.error.txt"))
    assert len(reasons) == 5 and all(len(p.name.encode()) <= 255 for p in reasons)
    long_reason = next(p for p in reasons if p.name.startswith("telemetry_xxx")).read_text(encoding="utf-8")
    assert "row 1" in long_reason and "metered_mw" in long_reason and "x" * 236 in long_reason
    assert sorted(p.name for p in inbox.iterdir()) == [".vpp"]  # everything filed away, nothing left
    assert caplog.records and all("\n" not in r.getMessage() for r in caplog.records)  # no forged lines
    assert any("telemetry_a\\nWARNING forged line.csv" in r.getMessage() for r in caplog.records)


def test_old_reject_and_processed_folders_in_the_inbox_are_left_alone(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "rejected").mkdir(parents=True)
    (inbox / "processed").mkdir()
    (inbox / "telemetry_ok.csv").write_text(HEADER + GOOD_ROW, encoding="utf-8")
    report = process_inbox(inbox, SHANXI, {"bess-1"}, _list_store([]))
    assert report.processed == ["telemetry_ok.csv"] and report.rejected == []
    assert (inbox / ".vpp" / "processed" / "telemetry_ok.csv").is_file()


# -- item 8, the inbox half: no symlinks followed, no contents in world-readable files --------------


def test_symlinks_and_fifos_are_quarantined_unread(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text(HEADER + "2024-01-02T10:00:00+08:00,bess-1,SECRET-CELL,1\n", encoding="utf-8")
    (inbox / "telemetry_link.csv").symlink_to(secret)
    os.mkfifo(inbox / "telemetry_fifo.csv")
    (inbox / "telemetry_bad.csv").write_text(HEADER + "2024-01-02T10:00:00+08:00,bess-1,OWN-CELL,1\n")
    report = process_inbox(inbox, SHANXI, {"bess-1"}, _list_store([]))
    assert sorted(report.rejected) == ["telemetry_bad.csv", "telemetry_fifo.csv", "telemetry_link.csv"]
    rejected = inbox / ".vpp" / "rejected"
    assert (rejected / "telemetry_link.csv").is_symlink() and secret.read_text().count("SECRET") == 1
    link_reason = (rejected / "telemetry_link.csv.error.txt").read_text()
    assert "symbolic link" in link_reason and "SECRET" not in link_reason
    assert "regular file" in (rejected / "telemetry_fifo.csv.error.txt").read_text()
    for reason in rejected.glob("*.error.txt"):  # may quote a cell of the file: owner only
        assert reason.stat().st_mode & 0o077 == 0, reason


# -- item 2: large files in batches; a file that fails to store never jams the inbox ---------------


def _year_of_prices(path: Path, rows: int) -> None:
    stamps = pd.date_range("2023-01-01", periods=rows, freq="15min", tz="Asia/Shanghai")
    frame = pd.DataFrame({"timestamp": stamps, "da_price": 300.0, "rt_price": 310.0})
    frame["timestamp"] = frame["timestamp"].map(lambda t: t.isoformat())
    frame.to_csv(path, index=False)


def test_a_year_of_prices_is_stored_in_seconds(pipe: Pipeline):
    inbox = Path(pipe.config.inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    _year_of_prices(inbox / "prices_2023.csv", 35_040)
    mark_ready(inbox / "prices_2023.csv")
    clock = time.perf_counter()
    report = pipe.ingest(pd.Timestamp("2024-01-01 10:00", tz="Asia/Shanghai"))
    seconds = time.perf_counter() - clock
    assert report.processed == ["prices_2023.csv"] and report.rows == 35_040
    assert _count(pipe, Price) == 35_040 and seconds < 30, seconds


def test_bulk_writes_store_the_same_keys_as_row_writes(pipe: Pipeline):
    from vpp.service import repository

    stamps = pd.date_range("2024-01-01", periods=2500, freq="15min", tz="Asia/Shanghai")
    rows = [
        {
            "period_start": t.tz_convert("UTC").to_pydatetime(),
            "asset_id": "bess-1",
            "metered_mw": 0.5,
            "soc_mwh": None,
        }
        for t in stamps
    ]
    with pipe.sessions.begin() as s:
        assert repository.insert_ignore(s, Telemetry, rows, ["period_start", "asset_id"]) == 2500  # bulk
        assert repository.insert_ignore(s, Telemetry, rows[:3], ["period_start", "asset_id"]) == 0  # row way
        assert repository.insert_ignore(s, Telemetry, rows, ["period_start", "asset_id"]) == 0
        changed = [dict(r, metered_mw=-0.25) for r in rows]
        assert repository.upsert(s, Telemetry, changed, ["period_start", "asset_id"], ["metered_mw"]) == 2500
    with pipe.sessions() as s:
        stored = repository.telemetry_between(
            s, rows[0]["period_start"], rows[-1]["period_start"] + dt.timedelta(1)
        )
    assert len(stored) == 2500 and {t.metered_mw for t in stored} == {-0.25}
    assert sorted(t.period_start for t in stored) == [r["period_start"] for r in rows]


def test_a_file_the_database_fails_to_store_is_rejected_after_three_passes(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "telemetry_a.csv").write_text(HEADER + GOOD_ROW)
    calls: list[str] = []

    def store(kind: str, rows: list[dict]) -> int:
        calls.append(kind)
        if len(calls) % 2 == 1:  # the first file of every pass fails in the database
            cause = Exception("too many SQL variables")
            raise sa.exc.OperationalError("INSERT ...", {"p": "row data"}, cause)
        return len(rows)

    for n in range(3):
        (inbox / f"telemetry_b{n}.csv").write_text(HEADER + GOOD_ROW)
        report = process_inbox(inbox, SHANXI, {"bess-1"}, store)
        assert report.processed == [f"telemetry_b{n}.csv"]  # a later file is never blocked
        assert report.rejected == ([] if n < 2 else ["telemetry_a.csv"])
    reason = (inbox / ".vpp" / "rejected" / "telemetry_a.csv.error.txt").read_text()
    assert "3 of 3 attempts" in reason and "too many SQL variables" in reason and "row data" not in reason


# -- item 3: one reader at a time; a failed bid is recorded, retried and alerted -------------------


def test_a_pass_reads_nothing_while_another_reader_holds_the_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "telemetry_a.csv").write_text(HEADER + GOOD_ROW)
    held, release = threading.Event(), threading.Event()

    def other_reader() -> None:
        with reader_lock(inbox, 1.0):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_reader)
    thread.start()
    held.wait(10)
    try:
        report = process_inbox(inbox, SHANXI, {"bess-1"}, _list_store([]), lock_timeout_s=0.2)
    finally:
        release.set()
        thread.join()
    assert report.busy and report.processed == [] and (inbox / "telemetry_a.csv").exists()
    assert process_inbox(inbox, SHANXI, {"bess-1"}, _list_store([])).processed == ["telemetry_a.csv"]


def test_concurrent_readers_store_every_file_once(pipe: Pipeline):
    inbox = Path(pipe.config.inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    for i in range(40):
        stamp = pd.Timestamp("2024-01-01T00:00:00+08:00") + pd.Timedelta(minutes=15 * i)
        (inbox / f"telemetry_{i:03d}.csv").write_text(HEADER + f"{stamp.isoformat()},bess-1,0.1,1.0\n")
        mark_ready(inbox / f"telemetry_{i:03d}.csv")
    reports, errors = [], []

    def read() -> None:
        try:
            reports.append(pipe.ingest(pd.Timestamp("2024-01-01 12:00", tz="Asia/Shanghai")))
        except Exception as exc:  # the test reports any
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sum(len(r.processed) for r in reports) == 40
    assert all(r.rejected == [] for r in reports) and _count(pipe, Telemetry) == 40


def test_a_bid_whose_inbox_read_fails_is_recorded_retried_and_alerted(pipe: Pipeline, monkeypatch):
    day = dt.date.fromisoformat(DAY)
    simulated_gateways.publish_day_ahead(pipe.config.inbox, str(PRICES), pipe.market, day)
    closure = gate_closure(pipe.market, DAY)
    bid_at = closure - pd.Timedelta(minutes=30)
    real_ingest = pipe.ingest

    def racing_ingest(now):  # what the second reader of the old code got
        raise FileNotFoundError(2, "No such file or directory", "inbox/telemetry_x.csv")

    monkeypatch.setattr(pipe, "ingest", racing_ingest)
    out = pipe.bid_day(bid_at)
    assert out["status"] == "failed"
    with pipe.sessions() as s:
        run = s.scalar(sa.select(JobRun).where(JobRun.job == "bid"))
    assert run.status == "failed" and run.fallback_reason.startswith("FileNotFoundError")
    # still failing at the next period: the failure is updated, attempts counted
    assert pipe.retry_bid(bid_at + pd.Timedelta(minutes=15))["status"] == "failed"
    with pipe.sessions() as s:
        run = s.scalar(sa.select(JobRun).where(JobRun.job == "bid"))
    assert json.loads(run.detail)["attempts"] == 2
    # never succeeded by the gate closure: an alert in `vpp status`
    alerts = service_status(pipe.engine, pipe.market, closure + pd.Timedelta(minutes=1))["alerts"]
    assert [a["kind"] for a in alerts] == ["bid_missing"] and "FileNotFoundError" in alerts[0]["message"]
    # the ingest job retries it while the gate is open, and then the alert is gone
    monkeypatch.setattr(pipe, "ingest", real_ingest)
    assert pipe.retry_bid(closure + pd.Timedelta(minutes=1)) is None  # gate closed: the next day's
    assert pipe.retry_bid(bid_at + pd.Timedelta(minutes=20))["status"] == "ok"
    assert pipe.retry_bid(bid_at + pd.Timedelta(minutes=25)) is None
    assert service_status(pipe.engine, pipe.market, closure + pd.Timedelta(minutes=1))["alerts"] == []


# -- item 4: a file is read only once complete -------------------------------------------------------


def test_a_file_being_written_slowly_is_not_read_half_way(config: ServiceConfig):
    slow = dataclasses.replace(config, inbox_settle_s=0.6)
    engine = make_engine(slow.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(slow, engine)
    inbox = Path(slow.inbox)
    inbox.mkdir(parents=True)
    now = pd.Timestamp("2024-01-02 12:00", tz="Asia/Shanghai")
    rows = _telemetry_rows(41).splitlines(keepends=True)
    with open(inbox / "telemetry_slow.csv", "w", encoding="utf-8") as handle:
        handle.write(HEADER + "".join(rows[:3]))
        handle.flush()
        report = pipe.ingest(now)  # 3 of 41 rows written: not read
        assert report.waiting == ["telemetry_slow.csv"] and report.processed == report.rejected == []
        for row in rows[3:]:
            handle.write(row)
            handle.flush()
            time.sleep(0.01)
            assert pipe.ingest(now).processed == []
    assert _count(pipe, Telemetry) == 0
    time.sleep(0.7)  # unchanged for the settle time: complete
    assert pipe.ingest(now).processed == ["telemetry_slow.csv"] and _count(pipe, Telemetry) == 41
    # with a ready marker a file is read at once, and the marker goes with it
    (inbox / "telemetry_marked.csv").write_text(HEADER + _telemetry_rows(1, "2024-01-03T00:00:00+08:00"))
    mark_ready(inbox / "telemetry_marked.csv")
    assert pipe.ingest(now).processed == ["telemetry_marked.csv"]
    assert not (inbox / f"telemetry_marked.csv{READY_SUFFIX}").exists()
    engine.dispose()


# -- item 7: settled days immutable unless revised; physical and market ranges ----------------------


def _settled(pipe: Pipeline) -> list:
    """Bid, dispatch and settle DAY; returns the day's UTC period starts."""
    market = pipe.market
    day = dt.date.fromisoformat(DAY)
    simulated_gateways.publish_day_ahead(pipe.config.inbox, str(PRICES), market, day)
    assert pipe.bid_day(gate_closure(market, DAY) - pd.Timedelta(minutes=30))["status"] == "ok"
    index = trading_day_index(market, day)
    for start in index[:4]:
        pipe.dispatch_period(start - pd.Timedelta(seconds=30))
    prices = pd.read_csv(PRICES)
    inbox = Path(pipe.config.inbox)
    prices.to_csv(inbox / "prices_rt_day.csv", index=False)
    mark_ready(inbox / "prices_rt_day.csv")
    pipe.ingest(index[10])
    after = index[-1] + market.period + pd.Timedelta(seconds=pipe.config.settle_delay_s + 60)
    assert pipe.settle_day(after)["status"] == "ok"
    return list(index.tz_convert("UTC").to_pydatetime())


def test_a_settled_day_changes_only_through_a_revision(pipe: Pipeline):
    utc = _settled(pipe)
    inbox = Path(pipe.config.inbox)
    with pipe.sessions() as s:
        before = s.get(Statement, dt.date.fromisoformat(DAY)).revenue
        first = s.scalar(sa.select(Settlement).where(Settlement.period_start == utc[0]))
        old_rt = s.get(Price, utc[0]).rt_price
    prices = pd.read_csv(PRICES)
    prices.to_csv(inbox / "prices_again.csv", index=False)  # the same figures again: harmless
    prices.loc[0, "rt_price"] = old_rt + 100.0
    prices.to_csv(inbox / "prices_late.csv", index=False)
    for name in ("prices_again.csv", "prices_late.csv"):
        mark_ready(inbox / name)
    report = pipe.ingest(pd.Timestamp("2024-01-03 10:00", tz="Asia/Shanghai"))
    assert report.processed == ["prices_again.csv"] and report.rejected == ["prices_late.csv"]
    reason = (inbox / ".vpp" / "rejected" / "prices_late.csv.error.txt").read_text()
    assert "trading day 2024-01-02 is settled" in reason and "2024-01-02T00:00:00+08:00" in reason
    assert "revision_prices" in reason
    with pipe.sessions() as s:
        assert s.get(Price, utc[0]).rt_price == old_rt
    # the explicit revision: stored, re-settled, recorded
    prices.to_csv(inbox / "revision_prices_2024-01-02.csv", index=False)
    mark_ready(inbox / "revision_prices_2024-01-02.csv")
    assert pipe.ingest(pd.Timestamp("2024-01-03 10:15", tz="Asia/Shanghai")).processed == [
        "revision_prices_2024-01-02.csv"
    ]
    with pipe.sessions() as s:
        after = s.get(Statement, dt.date.fromisoformat(DAY)).revenue
        revision = s.scalar(sa.select(JobRun).where(JobRun.job == "settle_revision"))
        assert s.get(Price, utc[0]).rt_price == old_rt + 100.0
    # the RT leg of period 0 moves by (actual - day-ahead) MWh x 100 yuan/MWh, nothing else
    deviation = first.q_actual_mwh - first.q_da_mwh
    assert after - before == pytest.approx(deviation * 100.0, abs=1e-6)
    assert revision.period_key == "2024-01-02#1"
    assert json.loads(revision.detail)["revenue_yuan_before"] == pytest.approx(before)


def test_telemetry_outside_the_physical_range_is_rejected_naming_asset_period_limit(pipe: Pipeline):
    inbox = Path(pipe.config.inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "telemetry_huge.csv").write_text(HEADER + "2024-01-02T10:00:00+08:00,bess-1,1e9,1.0\n")
    (inbox / "telemetry_soc.csv").write_text(HEADER + "2024-01-02T10:15:00+08:00,bess-1,0.5,7.0\n")
    (inbox / "telemetry_ok.csv").write_text(HEADER + "2024-01-02T10:30:00+08:00,bess-1,-1.0,0.0\n")
    for name in ("telemetry_huge.csv", "telemetry_soc.csv", "telemetry_ok.csv"):
        mark_ready(inbox / name)
    report = pipe.ingest(pd.Timestamp("2024-01-02 11:00", tz="Asia/Shanghai"))
    assert report.processed == ["telemetry_ok.csv"]
    assert sorted(report.rejected) == ["telemetry_huge.csv", "telemetry_soc.csv"]
    rejected = inbox / ".vpp" / "rejected"
    huge = (rejected / "telemetry_huge.csv.error.txt").read_text()
    assert "bess-1" in huge and "2024-01-02T10:00:00+08:00" in huge and "[-1.1, 1.1] MW" in huge
    soc = (rejected / "telemetry_soc.csv.error.txt").read_text()
    assert "bess-1" in soc and "2024-01-02T10:15:00+08:00" in soc and "[0, 2.1] MWh" in soc
    assert _count(pipe, Telemetry) == 1
