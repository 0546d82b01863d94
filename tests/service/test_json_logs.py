"""`vpp run` logs: JSON lines with job, trading day and period, times in the market zone (issue 14 item 5)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from vpp.logs import CONTEXT_FIELDS, configure_logging
from vpp.service import jobs
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline

PORTFOLIO = Path(__file__).resolve().parents[2] / "vpp" / "examples" / "minimal.yaml"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The root logger's JSON lines (market zone Asia/Shanghai), restored afterwards."""
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging("WARNING", "json", "Asia/Shanghai")
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_fallback_dispatch_logs_its_job_day_and_period(tmp_path: Path, captured: io.StringIO) -> None:
    config = ServiceConfig(
        db_url=f"sqlite:///{tmp_path / 'vpp.db'}",
        portfolio=str(PORTFOLIO),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
        dispatch_lead_s=60,
    )
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    now = pd.Timestamp("2024-01-02 09:59:00+08:00")  # 60 s before the 10:00 period
    try:
        result = jobs._call(pipeline, "dispatch_period", now)  # no prices at all: a fallback dispatch
    finally:
        engine.dispose()
    assert result["status"] == "fallback"
    logging.getLogger("vpp.test").warning("outside any job")
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert lines, "the fallback was logged"
    for line in lines:
        assert set(CONTEXT_FIELDS) <= line.keys()
        assert line["time"].endswith("+08:00")  # the market's zone, offset marked
    in_job = [line for line in lines if line["job"] is not None]
    assert in_job and all(
        (line["job"], line["trading_day"], line["period"], line["at"])
        == ("dispatch", "2024-01-02", "2024-01-02T10:00:00+08:00", "2024-01-02T09:59:00+08:00")
        for line in in_job
    )
    assert any("fallback" in line["message"] for line in in_job)
    assert lines[-1]["message"] == "outside any job" and lines[-1]["job"] is None


def test_in_market_zone_marks_instants_and_rounds_floats() -> None:
    import datetime as dt

    from vpp.commands.status import in_market_zone

    value = {
        "finished_at": dt.datetime(2024, 1, 2, 2, 0, 1, 123456),  # naive: UTC as stored
        "period": "2024-01-02T16:45:00+00:00",
        "day": "2024-01-02",
        "rows": [{"setpoint_mw": -1.0000000000000002, "soc": -0.0000000001}],
    }
    assert in_market_zone(value, "Asia/Shanghai") == {
        "finished_at": "2024-01-02T10:00:01+08:00",
        "period": "2024-01-03T00:45:00+08:00",
        "day": "2024-01-02",
        "rows": [{"setpoint_mw": -1.0, "soc": 0.0}],
    }


def test_status_json_times_are_in_the_market_zone(tmp_path: Path) -> None:
    import re

    from typer.testing import CliRunner

    from vpp.cli import app

    db = f"sqlite:///{tmp_path / 'vpp.db'}"
    config = ServiceConfig(
        db_url=db,
        portfolio=str(PORTFOLIO),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
        dispatch_lead_s=60,
    )
    engine = make_engine(db)
    upgrade_schema(engine)
    jobs._call(Pipeline(config, engine), "dispatch_period", pd.Timestamp("2024-01-02 09:59:00+08:00"))
    engine.dispose()
    result = CliRunner().invoke(app, ["status", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    instants = re.findall(r'"(\d{4}-\d{2}-\d{2}T[^"]+)"', result.stdout)
    assert instants and all(t.endswith("+08:00") for t in instants), instants
    status = json.loads(result.stdout)
    assert status["jobs"]["dispatch"]["last_run"]["period"] == "2024-01-02T10:00:00+08:00"
    table = CliRunner().invoke(app, ["status", "--db", db])
    assert "times Asia/Shanghai" in table.stdout and "2024-01-02 10:00" in table.stdout
