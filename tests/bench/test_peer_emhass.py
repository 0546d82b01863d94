"""bench/bench_peer_emhass.py: the engine's half on a hand-computable day; EMHASS's where installed."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pandas as pd
import pytest

from bench import bench_peer_emhass as peer

# Four 15-minute periods. One battery: 1 MW each way, 0.5 MWh, charge efficiency 0.8, discharge 1.0,
# empty at the start and allowed to end empty. Optimum by hand: charge 1 MW in both cheap periods
# (0.5 MWh bought, 0.4 MWh stored), sell 0.25 MWh at 400 and the remaining 0.15 MWh at 300:
#   -0.25 * 100 - 0.25 * 50 + 0.25 * 400 + 0.15 * 300 = 107.50 yuan.
PRICES = [100.0, 50.0, 400.0, 300.0]
HAND_REVENUE_YUAN = 107.50
BATTERY = {
    "type": "battery",
    "id": "bess-1",
    "power_mw": 1.0,
    "energy_mwh": 0.5,
    "charge_efficiency": 0.8,
    "discharge_efficiency": 1.0,
    "soc_initial_mwh": 0.0,
    "soc_min_mwh": 0.0,
    "soc_max_mwh": 0.5,
}


def tiny_day() -> peer.Day:
    index = pd.date_range("2024-04-16 00:00", periods=4, freq="15min", tz="Asia/Shanghai", name="timestamp")
    return peer.Day(index=index, price=np.array(PRICES), dt_h=0.25)


def test_engine_half_reaches_the_hand_computed_revenue() -> None:
    day = tiny_day()
    record = peer.run_engine(day, [BATTERY], time_limit_s=30.0, threads=1)
    peer.value(day, [BATTERY], record)
    assert record["revenue_yuan"] == pytest.approx(HAND_REVENUE_YUAN, abs=0.005)
    assert record["objective_yuan"] == pytest.approx(HAND_REVENUE_YUAN, abs=1e-6)
    np.testing.assert_allclose(record["charge_mw"][0], [1.0, 1.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(record["discharge_mw"][0], [0.0, 0.0, 1.0, 0.6], atol=1e-7)
    assert record["violation"] <= 1e-9


def test_model_violation_measures_an_overdrawn_battery() -> None:
    # Selling 0.25 MWh from an empty battery leaves it 0.25 MWh below its floor and final state.
    charge = np.zeros((1, 4))
    discharge = np.array([[1.0, 0.0, 0.0, 0.0]])
    assert peer.model_violation([BATTERY], charge, discharge, 0.25) == pytest.approx(0.25)
    # Charging 1.5 MW breaks the 1 MW limit by 0.5 MW (stored 0.3 MWh, inside the window).
    too_fast = np.array([[1.5, 0.0, 0.0, 0.0]])
    assert peer.model_violation([BATTERY], too_fast, np.zeros((1, 4)), 0.25) == pytest.approx(0.5)


def test_bench_command_prints_the_engine_revenue(tmp_path, capsys) -> None:
    out = tmp_path / "peer.json"
    assert peer.main(["--sizes", "1", "--peer-python", "none", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    row = json.loads(out.read_text())["results"][0]
    assert row["emhass"] is None
    assert row["engine"]["revenue_yuan"] > 0
    assert f"revenue {row['engine']['revenue_yuan']:,.2f} yuan" in printed
    # Settling the engine's own objective: no wear cost, so the objective is the revenue (to the fen).
    assert row["engine"]["revenue_yuan"] == pytest.approx(row["engine"]["objective_yuan"], abs=0.5)


def _peer_python():
    if peer.DEFAULT_PEER_PYTHON.exists():
        return peer.DEFAULT_PEER_PYTHON
    if importlib.util.find_spec("emhass") is not None:
        return sys.executable
    return None


@pytest.mark.skipif(_peer_python() is None, reason="EMHASS is not installed (bench/RESULTS.md: its own venv)")
def test_emhass_half_reaches_the_same_hand_computed_revenue() -> None:
    day = tiny_day()
    record = peer.run_emhass(_peer_python(), day, [BATTERY], max_seconds=30.0, mip_rel_gap=0.0, threads=1)
    assert record is not None and record["status"] == "Optimal"
    peer.value(day, [BATTERY], record)
    assert record["revenue_yuan"] == pytest.approx(HAND_REVENUE_YUAN, abs=0.005)
    assert record["violation"] <= 1e-6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "0"], "--sizes"),
        (["--sizes", "1,x"], "--sizes"),
        (["--max-seconds", "0"], "--max-seconds"),
        (["--mip-rel-gap", "1.5"], "--mip-rel-gap"),
        (["--peer-python", "/nonexistent/python"], "/nonexistent/python"),
    ],
)
def test_bad_options_exit_with_a_message_naming_them(argv, message, tmp_path, capsys) -> None:
    out = tmp_path / "peer.json"
    with pytest.raises(SystemExit) as exit_info:
        peer.main([*argv, "--out", str(out)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def _fake_interpreter(tmp_path, body: str):
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\n{body}\n")
    script.chmod(0o755)
    return script


def test_a_peer_without_emhass_is_skipped_and_a_failing_one_stops_the_bench(tmp_path, capsys) -> None:
    day = tiny_day()
    without = _fake_interpreter(tmp_path, "echo 'EMHASS is not importable' >&2; exit 3")
    assert peer.run_emhass(without, day, [BATTERY], 10.0, 0.0, 1) is None
    assert "not importable" in capsys.readouterr().err
    failing = _fake_interpreter(tmp_path, "echo 'solver exploded' >&2; exit 1")
    with pytest.raises(SystemExit, match="solver exploded"):
        peer.run_emhass(failing, day, [BATTERY], 10.0, 0.0, 1)
