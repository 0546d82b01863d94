"""Issue 12 item 14: ``backtest``, ``sweep`` and the service name the asset or group, constraint
and period of an infeasible portfolio as ``vpp bid`` does, and a group import limit of 0 is named
as the cause, not the battery's state of charge."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from market.calendar import gate_closure
from vpp.cli import app
from vpp.examples_paths import DEFAULT_PRICES
from vpp.service import simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import JobRun, make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline

from ._scale import ROOT, record

# A battery behind a feeder that may import nothing, asked to end the day 1 MWh fuller.
FEEDER_AT_ZERO = """\
name: feeder-at-zero
market: shanxi
grid: {import_limit_mw: 5, export_limit_mw: 5}
group_limits:
  feeder-1: {import_limit_mw: 0, export_limit_mw: 5}
assets:
  - {id: bess-1, type: battery, group: feeder-1, power_mw: 1.0, energy_mwh: 2.0,
     soc_initial_mwh: 0.5, soc_final_mwh: 1.5}
"""
DAY = "2024-04-15"


def _named(text: str, day: str) -> None:
    """The message names the constraint, the group and a period of ``day``, never the SoC."""
    flat = " ".join(text.split())
    assert "group_limit[feeder-1," in flat and "(group feeder-1, at " + day in flat, text
    assert "soc" not in flat.lower(), text


@pytest.fixture
def portfolio(tmp_path: Path) -> Path:
    path = tmp_path / "feeder.yaml"
    path.write_text(FEEDER_AT_ZERO)
    return path


def test_backtest_names_the_group_limit_and_period(portfolio: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--portfolio",
            str(portfolio),
            "--prices",
            str(DEFAULT_PRICES),
            "--start",
            DAY,
            "--end",
            DAY,
            "--strategy",
            "da_only",
            "--quiet",
            "--out",
            str(tmp_path / "bt"),
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    _named(result.output, DAY)
    record("infeasible_named_backtest", {"named": 1})


def test_sweep_names_the_group_limit_and_period(portfolio: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            "--param",
            "assets[bess-1].energy_mwh=2,3",
            "--portfolio",
            str(portfolio),
            "--prices",
            str(DEFAULT_PRICES),
            "--start",
            DAY,
            "--end",
            DAY,
            "--strategy",
            "da_only",
            "--quiet",
            "--out",
            str(tmp_path / "sw"),
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    _named(result.output, DAY)


def test_the_service_records_a_failed_bid_naming_the_group_limit(portfolio: Path, tmp_path: Path) -> None:
    prices = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
    day = dt.date(2024, 1, 2)
    config = ServiceConfig(
        db_url=f"sqlite:///{tmp_path / 'vpp.db'}",
        portfolio=str(portfolio),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    try:
        pipe = Pipeline(config, engine)
        simulated_gateways.publish_day_ahead(config.inbox, str(prices), pipe.market, day)
        out = pipe.bid_day(gate_closure(pipe.market, day) - pd.Timedelta(minutes=30))
        assert out["status"] == "failed"
        _named(out["reason"], str(day))
        with pipe.sessions() as s:
            run = s.scalar(sa.select(JobRun).where(JobRun.job == "bid"))
        assert run.status == "failed"
        _named(run.fallback_reason, str(day))
    finally:
        engine.dispose()
