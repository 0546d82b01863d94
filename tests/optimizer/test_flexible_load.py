"""Flexible-load family: hand-computed optima on a 4-period hourly horizon, solved with HiGHS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.errors import InputError
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]
INDEX = pd.date_range("2024-06-01", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")
PRICES = [10.0, 100.0, 10.0, 100.0]


def portfolio(*assets: dict) -> Portfolio:
    return Portfolio.model_validate(
        {"name": "t", "grid": {"import_limit_mw": 100, "export_limit_mw": 100}, "assets": list(assets)}
    )


def flex(id_: str = "fl", **fields) -> dict:
    spec = {"type": "flexible_load", "id": id_, "baseline": 1.0, "up_frac": 0.5, "down_frac": 0.5}
    return spec | fields


def consumption(result, id_: str = "fl") -> np.ndarray:
    return result.series["flexible_load.consumption_mw"][id_].to_numpy()


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_flexible_load_shifts_consumption_to_cheap_periods(handoff):
    # Baseline 1 MW x 4 h = 4 MWh, tolerance 0: move 0.5 MW from each expensive hour to a cheap one.
    problem = prepare_problem(portfolio(flex()), INDEX, PRICES)
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(consumption(result), [1.5, 0.5, 1.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(result.asset_net_mw["fl"], [-1.5, -0.5, -1.5, -0.5], atol=1e-6)
    # revenue = -(1.5*10 + 0.5*100 + 1.5*10 + 0.5*100) = -130 (the baseline would pay 220)
    assert result.terms_yuan["revenue"] == pytest.approx(-130.0, abs=1e-6)
    assert result.terms_yuan["load_curtailment"] == pytest.approx(0.0, abs=1e-9)
    assert result.objective_yuan == pytest.approx(-130.0, abs=1e-6)
    np.testing.assert_allclose(result.series["flexible_load.baseline_mw"]["fl"], 1.0)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_flexible_load_curtails_when_curtailment_is_cheaper_than_buying(handoff):
    # up 20 %: cheap hours take at most 1.2 MW, expensive hours at least 0.5 MW -> 3.4 of 4 MWh.
    # The missing 0.6 MWh costs 100 to buy in an expensive hour but 50 to curtail: "cheap" curtails,
    # "dear" (curtailment 150) buys it in the expensive hours instead.
    cheap = flex("cheap", up_frac=0.2, curtailment_cost=50.0)
    dear = flex("dear", up_frac=0.2, curtailment_cost=150.0)
    problem = prepare_problem(portfolio(cheap, dear, flex("rigid", up_frac=0.2)), INDEX, PRICES)
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(consumption(result, "cheap"), [1.2, 0.5, 1.2, 0.5], atol=1e-6)
    for id_ in ("dear", "rigid"):
        x = consumption(result, id_)
        np.testing.assert_allclose(x[[0, 2]], [1.2, 1.2], atol=1e-6)
        assert x.sum() == pytest.approx(4.0, abs=1e-6)  # 0.6 MWh more, split freely over hours 1, 3
    # curtailment: 0.6 MWh x 50 = 30; revenue: cheap -(2*1.2*10 + 2*0.5*100) = -124,
    # dear and rigid -(2*1.2*10 + 1.6*100) = -184 each
    assert result.terms_yuan["load_curtailment"] == pytest.approx(30.0, abs=1e-6)
    assert result.terms_yuan["revenue"] == pytest.approx(-124.0 - 2 * 184.0, abs=1e-6)
    assert result.objective_yuan == pytest.approx(-124.0 - 2 * 184.0 - 30.0, abs=1e-6)


def test_energy_consumed_before_the_horizon_counts_toward_daily_energy():
    # 1 MWh already consumed: 3 MWh remain; the 0.5 MW floors take 2 MWh, the cheapest hour the rest.
    problem = prepare_problem(
        portfolio(flex()),
        INDEX,
        [10.0, 100.0, 20.0, 100.0],
        initial_state={"fl": {"energy_consumed_mwh": 1.0}},
    )
    result = solve(problem)
    np.testing.assert_allclose(consumption(result), [1.5, 0.5, 0.5, 0.5], atol=1e-6)
    # revenue = -(1.5*10 + 0.5*100 + 0.5*20 + 0.5*100) = -125
    assert result.terms_yuan["revenue"] == pytest.approx(-125.0, abs=1e-6)


def test_a_horizon_starting_mid_day_keeps_the_whole_day_energy():
    # The day's baseline had 4 MWh before the horizon and 5 MWh were consumed: 4 + 4 - 5 = 3 MWh
    # remain, as in the test above.
    state = {"fl": {"energy_consumed_mwh": 5.0, "baseline_energy_before_mwh": 4.0}}
    problem = prepare_problem(portfolio(flex()), INDEX, [10.0, 100.0, 20.0, 100.0], initial_state=state)
    data = problem.families["flexible_load"]
    np.testing.assert_allclose([data.energy_min_mwh[0], data.energy_max_mwh[0]], [3.0, 3.0])
    np.testing.assert_allclose(consumption(solve(problem)), [1.5, 0.5, 0.5, 0.5], atol=1e-6)


def test_energy_tolerance_caps_consumption_at_negative_prices():
    # tolerance 25 %: at most 5 MWh. Floors 0.5 MW everywhere (2 MWh), then the best-paid hours
    # 1, 3 (-20) and 2 (-15) go to 1.5 MW: 5 MWh, hour 0 (-10) stays at its floor.
    problem = prepare_problem(
        portfolio(flex(energy_tolerance_frac=0.25)), INDEX, [-10.0, -20.0, -15.0, -20.0]
    )
    result = solve(problem, SolveOptions(handoff="compiled"))
    np.testing.assert_allclose(consumption(result), [0.5, 1.5, 1.5, 1.5], atol=1e-6)
    # revenue = 0.5*10 + 1.5*20 + 1.5*15 + 1.5*20 = 87.5
    assert result.terms_yuan["revenue"] == pytest.approx(87.5, abs=1e-6)


def test_persistent_resolve_updates_baseline_and_energy_in_place():
    problem = prepare_problem(portfolio(flex()), INDEX, PRICES)
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    solver.solve()
    block = solver.model.flexible_load
    for t in range(4):
        block.baseline_mw["fl", t] = 2.0
    block.energy_max_mwh["fl"] = 8.0
    block.energy_min_mwh["fl"] = 8.0
    result = solver.solve()
    np.testing.assert_allclose(consumption(result), [3.0, 1.0, 3.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(result.series["flexible_load.baseline_mw"]["fl"], 2.0)
    assert result.terms_yuan["revenue"] == pytest.approx(-260.0, abs=1e-6)


def test_negative_baseline_is_an_input_error():
    with pytest.raises(InputError, match=r"fl\.baseline"):
        prepare_problem(portfolio(flex(baseline=[1.0, -0.1, 1.0, 1.0])), INDEX, PRICES)
