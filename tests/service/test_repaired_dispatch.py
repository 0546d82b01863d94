"""A scheduled dispatch whose solve is repaired is dispatched, logged and recorded as repaired.

The fleet: a Shandong battery (1 MW / 2 MWh, half full, eta 0.9/0.9) behind a zero export limit, at
50 yuan/MWh until noon and -100 after. Dispatched at 10:00, a relaxation burns energy before noon
(charging and discharging at once) to import more after it. The solve loop gets a deadline that is
spent as soon as it is checked (:class:`SpentAfterSolve`: as if the machine stalled during the
first solve), so the burning schedule is repaired by one LP (``optimizer/repair.py``) instead of
escalated. Before, the record said ``solver_status`` feasible and its setpoints ``optimal``:
nothing told an operator the dispatch was repaired.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import optimizer.solver as solver_module
from market.calendar import gate_closure, trading_day_index
from optimizer.escalation import Deadline
from vpp.cli import app
from vpp.service import jobs, simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import JobRun, Setpoint, make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline
from vpp.service.simulate import _combined
from vpp.service.status import day_summary, service_status

DAY = dt.date(2024, 6, 5)
ETA = 0.9
PORTFOLIO = """
name: burn
market: shandong
grid: {import_limit_mw: 5, export_limit_mw: 0}
assets:
  - {id: bess, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0,
     charge_efficiency: 0.9, discharge_efficiency: 0.9}
"""


class SpentAfterSolve(Deadline):
    """A budget whose every solve gets the full limit but that is spent when the loop checks it."""

    def left(self) -> float:
        return self.seconds

    def spent(self) -> bool:
        return True


def burning_pipeline(folder: Path) -> Pipeline:
    """The burning fleet's pipeline on a SQLite database in ``folder`` after its bid, its clock
    standing at 09:59:40 of DAY (registered for the scheduled jobs; dispose of its engine)."""
    (folder / "p.yaml").write_text(PORTFOLIO)
    index = trading_day_index("shandong", DAY)
    price = np.where(np.arange(96) < 48, 50.0, -100.0)
    pd.DataFrame({"timestamp": [t.isoformat() for t in index], "da_price": price}).to_csv(
        folder / "prices.csv", index=False
    )
    at = pd.Timestamp(f"{DAY} 09:59:40", tz="Asia/Shanghai").timestamp()
    config = ServiceConfig(
        db_url=f"sqlite:///{folder / 'vpp.db'}", portfolio=str(folder / "p.yaml"),
        inbox=str(folder / "inbox"), outbox=str(folder / "outbox"),
        clock={"segments": [[time.time(), at]], "speed": 1e-6},  # simulated time stands (1 us per s)
    )
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    simulated_gateways.publish_day_ahead(config.inbox, str(folder / "prices.csv"), pipeline.market, DAY)
    assert pipeline.bid_day(gate_closure(pipeline.market, DAY) - pd.Timedelta(minutes=30))["status"] == "ok"
    jobs.register(pipeline)
    return pipeline


@pytest.fixture
def pipe(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """:func:`burning_pipeline`, on a :class:`SpentAfterSolve` deadline from the bid on when
    parametrised indirectly with True (the bid's exact escalation would leave its binaries in the
    day's model, which the dispatch re-solves: it would not burn)."""
    if getattr(request, "param", False):
        monkeypatch.setattr(solver_module, "Deadline", SpentAfterSolve)
    request.getfixturevalue("caplog").set_level(logging.WARNING)
    pipeline = burning_pipeline(tmp_path)
    yield pipeline
    pipeline.engine.dispose()


@pytest.mark.parametrize("pipe", [True], indirect=True)
def test_repaired_dispatch_is_sent_logged_and_recorded(pipe, caplog):
    # The scheduled job: the period in progress (09:45, k = 39) and the next one (10:00, k = 40).
    jobs.dispatch_job(pipe.config.to_dict())
    index = trading_day_index(pipe.market, DAY)
    starts = [index[39].tz_convert("UTC").to_pydatetime(), index[40].tz_convert("UTC").to_pydatetime()]
    with pipe.sessions() as s:
        dispatch = sa.select(JobRun).where(JobRun.job == "dispatch")
        runs = s.scalars(dispatch.order_by(JobRun.period_start)).all()
        setpoints = s.scalars(sa.select(Setpoint).order_by(Setpoint.period_start)).all()
    assert [r.period_start for r in runs] == starts == [p.period_start for p in setpoints]  # none skipped
    for run in runs:
        assert run.status == "ok" and run.fallback_reason is None  # no fallback: the schedule is feasible
        assert run.solver_status == "feasible"
        solve = json.loads(run.detail)["solve"]
        assert solve["repaired"] is True and solve["proven_optimal"] is False
        assert solve["termination"].startswith("Repaired")
        assert solve["bound_yuan"] >= solve["objective_yuan"]
    assert [p.source for p in setpoints] == ["repaired", "repaired"]
    for start in (index[39], index[40]):
        assert any(
            r.name == "vpp.service.pipeline" and str(start) in r.getMessage()
            and "repaired" in r.getMessage() and "not proven optimal" in r.getMessage()
            for r in caplog.records
        ), [r.getMessage() for r in caplog.records]
    # Feasible: no export past the zero limit, and the stored energy follows each setpoint with one
    # direction per period (a burn would leave less stored than the net power says).
    soc = 1.0  # the bid idles until noon: the day-ahead plan's 1 MWh is the state at 09:45
    for p in setpoints:
        assert -1.0 - 1e-9 <= p.setpoint_mw <= 1e-9
        soc += (ETA * max(-p.setpoint_mw, 0.0) - max(p.setpoint_mw, 0.0) / ETA) * 0.25
        assert p.soc_end_mwh == pytest.approx(soc, abs=1e-6)
        assert 0.0 - 1e-9 <= p.soc_end_mwh <= 2.0 + 1e-9
    # What an operator reads: vpp status and the simulated day's summary.
    last = service_status(pipe.engine, pipe.market, pd.Timestamp(index[40]))["jobs"]["dispatch"]["last_run"]
    assert last["solver_status"] == "feasible" and last["termination"].startswith("Repaired")
    shown = CliRunner().invoke(app, ["status", "--db", pipe.config.db_url, "--market", "shandong"])
    assert shown.exit_code == 0, shown.output
    assert re.search(r"dispatch .* ok \(repaired\)", shown.stdout) and "MW (repaired)" in shown.stdout
    summary = day_summary(pipe.engine, pipe.market, DAY)
    assert summary["fallbacks"] == 0 and summary["not_proven_optimal"] == 2 and summary["repaired"] == 2
    days = _combined([summary, day_summary(pipe.engine, pipe.market, DAY + dt.timedelta(days=1))])
    assert (days["not_proven_optimal"], days["repaired"]) == (2, 2)  # a simulated week's summary
    # The bid (solved on the same spent budget) was repaired too, and says so in its record.
    with pipe.sessions() as s:
        bid = s.scalar(sa.select(JobRun).where(JobRun.job == "bid"))
    assert bid.status == "ok" and json.loads(bid.detail)["solve"]["repaired"] is True
    bid_log = caplog.get_records("setup")  # the bid ran in the fixture
    assert any(r.name == "vpp.service.bidding" and "not proven optimal" in r.getMessage() for r in bid_log)


def test_exact_dispatch_is_recorded_proven_optimal(pipe):
    out = jobs.dispatch_job(pipe.config.to_dict())
    assert out["status"] == "ok" and out["solve"]["proven_optimal"] and not out["solve"]["repaired"]
    with pipe.sessions() as s:
        assert {p.source for p in s.scalars(sa.select(Setpoint))} == {"optimal"}
    summary = day_summary(pipe.engine, pipe.market, DAY)
    assert summary["not_proven_optimal"] == 0 and summary["repaired"] == 0
