"""`vpp bid` is safe by default (issue 14 item 1).

--portfolio and --prices are required, --day defaults to the next trading day whose gate closure is
ahead, a late bid is refused unless --allow-late, and the prices used are labelled forecast or
realised in the table, the JSON output and OUT_summary.json.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from market.calendar import gate_closure, next_trading_day, trading_day_index
from vpp.cli import app
from vpp.examples_paths import EXAMPLES_DIR

MINIMAL = EXAMPLES_DIR / "minimal.yaml"
runner = CliRunner()


def _two_level_prices(path, day) -> pd.DataFrame:
    """96 Shanxi periods of ``day``: 100 yuan/MWh before noon, 500 from noon."""
    index = trading_day_index("shanxi", day)
    price = np.where(index.hour < 12, 100.0, 500.0)
    frame = pd.DataFrame(
        {"timestamp": index.strftime("%Y-%m-%dT%H:%M:%S%z"), "da_price": price, "rt_price": price}
    )
    frame["timestamp"] = [f"{t[:-2]}:{t[-2:]}" for t in frame["timestamp"]]
    frame.to_csv(path, index=False)
    return frame


def test_next_trading_day_is_the_first_whose_gate_closure_is_ahead():
    # Shanxi closes day D at 09:30 on D-1
    assert str(next_trading_day("shanxi", pd.Timestamp("2024-01-01 09:00"))) == "2024-01-02"
    assert str(next_trading_day("shanxi", pd.Timestamp("2024-01-01 09:30"))) == "2024-01-03"
    assert str(next_trading_day("shanxi", pd.Timestamp("2024-01-01 01:31", tz="UTC"))) == "2024-01-03"
    now = pd.Timestamp.now(tz="Asia/Shanghai")
    assert gate_closure("shanxi", next_trading_day("shanxi", now)) > now


@pytest.mark.parametrize("missing", ["--portfolio", "--prices"])
def test_portfolio_and_prices_are_required(tmp_path, missing):
    args = {"--portfolio": str(MINIMAL), "--prices": str(tmp_path / "p.csv")}
    args.pop(missing)
    result = runner.invoke(app, ["bid", *[x for kv in args.items() for x in kv]])
    assert result.exit_code == 2
    assert f"Missing option '{missing}'" in result.output


def test_default_day_is_the_next_trading_day_and_its_prices_a_forecast(tmp_path):
    day = next_trading_day("shanxi", pd.Timestamp.now(tz="Asia/Shanghai"))
    prices = _two_level_prices(tmp_path / "forecast.csv", day)
    out = tmp_path / "bid.csv"
    args = [
        "--portfolio",
        str(MINIMAL),
        "--prices",
        str(tmp_path / "forecast.csv"),
        "--out",
        str(out),
        "--prices-label",
        "start",
    ]
    result = runner.invoke(app, ["bid", *args, "--no-plot", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["trading_day"] == day.isoformat()
    assert summary["late"] is False
    assert summary["prices"]["kind"] == "forecast"
    assert json.loads((tmp_path / "bid_summary.json").read_text()) == {**summary, "files": summary["files"]}
    bid = pd.read_csv(out)
    net = bid["net_mw"].to_numpy()
    # the battery buys only while cheap and sells only while dear; revenue = sum(price * MW * 0.25 h)
    assert (net[:48] <= 1e-6).all() and (net[48:] >= -1e-6).all() and net.max() > 0.5
    assert summary["expected_revenue_yuan"] == pytest.approx(float(net @ prices["da_price"]) * 0.25, abs=0.01)
    assert summary["net_energy_mwh"] == pytest.approx(net.sum() * 0.25, abs=1e-3)


def test_late_bid_is_refused_without_allow_late_and_nothing_written(tmp_path):
    _two_level_prices(tmp_path / "p.csv", pd.Timestamp("2024-04-16").date())
    out = tmp_path / "out" / "bid.csv"
    args = [
        "bid",
        "--portfolio",
        str(MINIMAL),
        "--prices",
        str(tmp_path / "p.csv"),
        "--day",
        "2024-04-16",
        "--out",
        str(out),
        "--no-plot",
        "--prices-label",
        "start",
    ]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "gate closure" in refused.output and "--allow-late" in refused.output
    assert "Traceback" not in refused.output
    assert not out.parent.exists()

    accepted = runner.invoke(app, [*args, "--allow-late"])
    assert accepted.exit_code == 0, accepted.output
    assert "expected revenue at realised prices" in accepted.stdout
    assert "realised (da_price of p.csv)" in accepted.stdout
    summary = json.loads((tmp_path / "out" / "bid_summary.json").read_text())
    assert summary["late"] is True and summary["prices"]["kind"] == "realised"

    relabelled = runner.invoke(app, [*args, "--allow-late", "--price-kind", "forecast", "--json"])
    assert relabelled.exit_code == 0, relabelled.output
    assert json.loads(relabelled.stdout)["prices"]["kind"] == "forecast"


def test_unknown_price_kind_is_an_input_error(tmp_path):
    result = runner.invoke(
        app,
        ["bid", "--portfolio", str(MINIMAL), "--prices", str(tmp_path / "p.csv"), "--price-kind", "guess"],
    )
    assert result.exit_code == 1
    assert "--price-kind" in result.output
