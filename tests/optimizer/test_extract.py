"""``optimizer.extract.extract_arrays``: result arrays from a model and a HiGHS solution, no ModelSolver."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from optimizer.extract import ResultLayout, extract_arrays
from optimizer.highs_bridge import ColumnReader, compile_to_highs, read_highs
from optimizer.model import build_model
from optimizer.problem import prepare_problem
from optimizer.result import SolveStats
from optimizer.solver import ModelSolver, SolveOptions
from vpp.portfolio import Portfolio

# Prices 100, 100, 500, 500 over four hours. bess-1 (charge 1 MW, discharge 0.81 MW, efficiencies 0.9,
# 2 MWh, empty at start and end) charges 1 MW in both cheap hours (soc 0.9, 1.8 MWh) and delivers 0.81 MW
# in both dear ones: 810 - 200 = 610 yuan (tests/optimizer/test_battery.py). bess-2 (0.5 MW, 1 MWh,
# lossless) must charge 0.5 MW in both cheap hours to fill and empties at 0.5 MW: 500 - 100 = 400 yuan.
PORTFOLIO = {
    "name": "t",
    "grid": {"import_limit_mw": 100, "export_limit_mw": 100},
    "assets": [
        {"type": "battery", "id": "bess-1", "energy_mwh": 2.0, "soc_initial_mwh": 0.0,
         "charge_efficiency": 0.9, "discharge_efficiency": 0.9,
         "charge_power_mw": 1.0, "discharge_power_mw": 0.81},
        {"type": "battery", "id": "bess-2", "power_mw": 0.5, "energy_mwh": 1.0, "soc_initial_mwh": 0.0,
         "charge_efficiency": 1.0, "discharge_efficiency": 1.0},
    ],
}
PRICES = [100.0, 100.0, 500.0, 500.0]


@pytest.fixture(scope="module")
def problem():
    index = pd.date_range("2024-06-01", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")
    return prepare_problem(Portfolio.model_validate(PORTFOLIO), index, PRICES)


def _stats(raw) -> SolveStats:
    return SolveStats(
        status=raw.status, termination=raw.termination, mip_gap=None, build_seconds=0.0,
        handoff_seconds=0.0, solve_seconds=raw.seconds, handoff="compiled",
        n_variables=len(raw.col_value), n_constraints=0, n_binaries=0, objective_yuan=raw.objective,
    )


def _solved(problem):
    model = build_model(problem)
    highs, column_of = compile_to_highs(model)
    highs.run()
    return model, read_highs(highs, column_of, 0.0, sense=-1.0)


def test_extracts_the_hand_computed_schedule(problem) -> None:
    model, raw = _solved(problem)
    stats = _stats(raw)
    arrays = extract_arrays(model, problem, raw, stats)
    assert arrays.asset_ids == ["bess-1", "bess-2"]
    np.testing.assert_allclose(arrays.asset_net_mw[0], [-1.0, -1.0, 0.81, 0.81], atol=1e-6)
    np.testing.assert_allclose(arrays.asset_net_mw[1], [-0.5, -0.5, 0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(arrays.net_mw, [-1.5, -1.5, 1.31, 1.31], atol=1e-6)
    np.testing.assert_allclose(arrays.series["battery.soc_mwh"][0], [0.9, 1.8, 0.9, 0.0], atol=1e-6)
    np.testing.assert_allclose(arrays.series["battery.soc_mwh"][1], [0.5, 1.0, 0.5, 0.0], atol=1e-6)
    assert arrays.stats is stats
    assert raw.objective == pytest.approx(610.0 + 400.0, abs=1e-6)
    np.testing.assert_allclose(arrays.price, PRICES)


def test_a_shared_layout_gives_the_same_arrays_as_modelsolver(problem) -> None:
    model, raw = _solved(problem)
    layout = ResultLayout(model, problem)
    first = extract_arrays(model, problem, raw, _stats(raw), layout)
    again = extract_arrays(model, problem, raw, _stats(raw), layout)  # cached columns
    reference = ModelSolver(problem, SolveOptions(handoff="compiled")).solve_arrays()
    for arrays in (again, reference):
        np.testing.assert_allclose(arrays.asset_net_mw, first.asset_net_mw, atol=1e-9)
        assert arrays.series.keys() == first.series.keys()
        for key in first.series:
            np.testing.assert_allclose(arrays.series[key], first.series[key], atol=1e-9, err_msg=key)


def test_a_variable_highs_does_not_hold_reads_its_pyomo_value(problem) -> None:
    model, raw = _solved(problem)
    soc = model.battery.soc_mwh
    dropped = {id(v) for v in soc.values()}
    column_of = {key: col for key, col in raw.column_of.items() if key not in dropped}
    for t, var in enumerate(soc.values()):
        var.value = 10.0 + t
    partial = dataclasses.replace(raw, column_of=column_of)  # a new map: the layout recomputes columns
    layout = ResultLayout(model, problem)
    extract_arrays(model, problem, raw, _stats(raw), layout)
    arrays = extract_arrays(model, problem, partial, _stats(raw), layout)
    np.testing.assert_allclose(arrays.series["battery.soc_mwh"][0], [10.0, 11.0, 12.0, 13.0])
    np.testing.assert_allclose(arrays.asset_net_mw[0], [-1.0, -1.0, 0.81, 0.81], atol=1e-6)


def test_column_reader_keeps_a_lists_columns_per_map(problem) -> None:
    model, raw = _solved(problem)
    soc = list(model.battery.soc_mwh.values())
    reader = ColumnReader()
    first = reader.values_of(raw)(soc)
    np.testing.assert_allclose(first, [0.9, 1.8, 0.9, 0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(reader.values_of(raw)(soc), first)  # kept columns
    shifted = dataclasses.replace(  # another map (a rebuilt model): looked up again; unknown -> 0
        raw, column_of={key: col for key, col in raw.column_of.items() if key != id(soc[0])}
    )
    assert reader.values_of(shifted)(soc)[0] == 0.0
    reader.clear()
    np.testing.assert_allclose(reader.values_of(raw)(soc), first)
