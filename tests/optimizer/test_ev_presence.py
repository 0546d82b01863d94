"""Issue 13 item 10: a vehicle is connected for the share of each period it is present, and one
session never fails the whole bid. Hand-computed optima on hourly and 15-minute horizons."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from optimizer.problem import prepare_problem
from optimizer.solver import solve
from vpp.cli import app
from vpp.errors import InputWarning
from vpp.portfolio import Portfolio

HOURLY = pd.date_range("2024-06-01", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")
GANSU_DAY = Path(__file__).resolve().parents[1] / "data" / "gansu_2024-01-02_15min.csv"


def _portfolio(*sessions: dict, **hub) -> Portfolio:
    spec = {"type": "ev_hub", "id": "hub", "sessions": list(sessions)} | hub
    return Portfolio.model_validate(
        {"name": "t", "grid": {"import_limit_mw": 100, "export_limit_mw": 100}, "assets": [spec]}
    )


def _session(arrival: str, departure: str, energy: float, power: float = 1.0) -> dict:
    return {"arrival": arrival, "departure": departure, "energy_mwh": energy, "max_power_mw": power}


def _charge(result) -> np.ndarray:
    return result.series["ev_hub.charge_mw"]["hub"].to_numpy()


def test_a_car_leaving_mid_period_gets_at_most_its_share_of_that_period():
    # Present 00:00-02:20: a third of period 2, which is the cheapest it sees. It may take at most
    # 1/3 x 1 MW x 1 h there; the rest of its 1 MWh comes in period 1 (40), none in period 3 (gone).
    # The old rule counted period 2 in full and scheduled 1 MWh after the car had left.
    problem = prepare_problem(_portfolio(_session("00:00", "02:20", 1.0)), HOURLY, [50.0, 40.0, 1.0, 1.0])
    np.testing.assert_allclose(problem.families["ev_hub"].connected, [[1.0, 1.0, 1 / 3, 0.0]])
    result = solve(problem)
    np.testing.assert_allclose(_charge(result), [0.0, 2 / 3, 1 / 3, 0.0], atol=1e-6)
    assert result.terms_yuan["revenue"] == pytest.approx(-(40 * 2 / 3 + 1 / 3), abs=1e-6)


def test_a_session_shorter_than_one_period_is_served_not_refused():
    # 01:10-01:40 in an hourly market: half of period 1, 0.4 MWh at 1 MW is reachable (<= 0.5 MWh)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputWarning)  # feasible: no warning either
        problem = prepare_problem(_portfolio(_session("01:10", "01:40", 0.4)), HOURLY, [1.0] * 4)
    result = solve(problem)
    np.testing.assert_allclose(_charge(result), [0.0, 0.4, 0.0, 0.0], atol=1e-6)


def test_an_impossible_session_is_served_as_far_as_possible_and_named():
    sessions = [_session("01:10", "01:40", 0.8), _session("00:00", "04:00", 1.0)]
    with pytest.warns(InputWarning, match=r"'hub' session 0 \(hub/s0.*0\.3 MWh short"):
        problem = prepare_problem(_portfolio(*sessions), HOURLY, [9.0, 5.0, 1.0, 7.0])
    result = solve(problem)
    # s0 gets 0.5 MWh (half an hour at 1 MW) in period 1; s1 its 1 MWh at the cheapest, period 2
    np.testing.assert_allclose(_charge(result), [0.0, 0.5, 1.0, 0.0], atol=1e-6)


def test_v2g_vehicle_leaving_mid_period_discharges_only_its_share():
    # v2g, lossless, 1 MWh battery room, may leave empty (min_departure_frac 0), present 00:00-01:30:
    # it buys 1 MWh at -10 in period 0 but can sell only 0.5 x 1 MW x 1 h = 0.5 MWh at 100 in
    # period 1, where it is present for half the hour (the old rule let it sell the whole 1 MWh).
    problem = prepare_problem(
        _portfolio(_session("00:00", "01:30", 1.0), v2g=True, v2g_efficiency=1.0, min_departure_frac=0.0),
        HOURLY, [-10.0, 100.0, 0.0, 0.0],
    )
    result = solve(problem)
    net = result.asset_net_mw["hub"].to_numpy()
    np.testing.assert_allclose(net, [-1.0, 0.5, 0.0, 0.0], atol=1e-6)
    assert result.terms_yuan["revenue"] == pytest.approx(10.0 + 50.0, abs=1e-6)


def test_cli_bid_warns_about_one_impossible_session_and_still_bids(tmp_path):
    portfolio = tmp_path / "ev.yaml"
    portfolio.write_text(yaml.safe_dump({
        "name": "ev", "market": "gansu", "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
        "assets": [{"type": "ev_hub", "id": "depot", "sessions": [
            _session("10:05", "10:10", 1.0),   # 5 minutes at 1 MW: 1/12 MWh at most
            _session("08:00", "18:00", 2.0),
        ]}],
    }), encoding="utf-8")
    out = tmp_path / "bid.csv"
    result = CliRunner().invoke(app, ["bid", "--portfolio", str(portfolio), "--prices", str(GANSU_DAY),
                                      "--day", "2024-01-02", "--out", str(out), "--no-plot",
                                      "--allow-late"])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "'depot' session 0" in result.output
    bid = pd.read_csv(out)
    # 2 MWh for the long stay and 1/12 MWh for the short one, nothing more
    assert -(bid["net_mw"].sum() * 0.25) == pytest.approx(2.0 + 1 / 12, abs=1e-6)
