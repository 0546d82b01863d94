"""PV family: curtailment at negative prices, its cost, and the grid limit, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.problem import prepare_problem
from optimizer.solver import SolveOptions, solve
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]
INDEX = pd.date_range("2024-06-01", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")
PROFILE = [0.2, 0.6, 1.0, 0.5]


def portfolio(*assets: dict, export_limit_mw: float = 100.0) -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "t",
            "grid": {"import_limit_mw": 100, "export_limit_mw": export_limit_mw},
            "assets": list(assets),
        }
    )


def pv(id_: str, **fields) -> dict:
    return {"type": "pv", "id": id_, "capacity_mw": 2.0, "profile": PROFILE} | fields


def output(result, id_: str) -> np.ndarray:
    return result.series["pv.output_mw"][id_].to_numpy()


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_pv_curtailed_at_negative_prices(handoff):
    # Available 2 MW x profile = 0.4, 1.2, 2.0, 1.0 MW. Prices 50, -20, 30, -5.
    # Curtailable: 0 in the negative hours, everything otherwise; non-curtailable: everything always.
    prices = [50.0, -20.0, 30.0, -5.0]
    problem = prepare_problem(portfolio(pv("flex"), pv("must", curtailable=False)), INDEX, prices)
    result = solve(problem, SolveOptions(handoff=handoff))
    available = np.array([0.4, 1.2, 2.0, 1.0])
    np.testing.assert_allclose(output(result, "flex"), [0.4, 0.0, 2.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(output(result, "must"), available, atol=1e-6)
    np.testing.assert_allclose(
        result.series["pv.curtailed_mw"]["flex"].to_numpy(), [0.0, 1.2, 0.0, 1.0], atol=1e-6
    )
    np.testing.assert_allclose(result.series["pv.curtailed_mw"]["must"].to_numpy(), 0.0, atol=1e-6)
    # flex: 0.4*50 + 2*30 = 80; must: 80 - 1.2*20 - 1.0*5 = 51
    assert result.objective_yuan == pytest.approx(131.0, abs=1e-6)
    assert result.stats.n_binaries == 0


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_pv_curtailment_cost_keeps_output_up_to_that_price(handoff):
    # Spilling costs 30 yuan/MWh: at -20 it pays less to export than to spill (keeps 1.2 MW), at -50
    # it spills (1.0 MW). Objective 0.4*50 - 1.2*20 + 2*30 - 1.0*30 (spill) = 26.
    prices = [50.0, -20.0, 30.0, -50.0]
    problem = prepare_problem(portfolio(pv("costly", curtailment_cost=30.0)), INDEX, prices)
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(output(result, "costly"), [0.4, 1.2, 2.0, 0.0], atol=1e-6)
    assert result.terms_yuan["curtailment"] == pytest.approx(30.0, abs=1e-6)
    assert result.objective_yuan == pytest.approx(26.0, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_pv_curtailed_cheapest_first_at_the_export_limit(handoff):
    # Export limit 1.5 MW, price 100 throughout; both units have 0.4, 1.2, 2.0, 1.0 MW available.
    # Above the limit the unit that spills for free gives way first: at 01:00 (2.4 MW) it spills
    # 0.9, at 03:00 (2.0 MW) 0.5, and at 02:00 (4.0 MW) all its 2.0 MW while the costly unit spills
    # 0.5 MW too (5 yuan/MWh x 0.5 = 2.5 yuan). Exported 0.8 + 3 x 1.5 = 5.3 MWh: 530 - 2.5 yuan.
    prices = [100.0, 100.0, 100.0, 100.0]
    pf = portfolio(pv("free"), pv("costly", curtailment_cost=5.0), export_limit_mw=1.5)
    result = solve(prepare_problem(pf, INDEX, prices), SolveOptions(handoff=handoff))
    np.testing.assert_allclose(output(result, "costly"), [0.4, 1.2, 1.5, 1.0], atol=1e-6)
    np.testing.assert_allclose(output(result, "free"), [0.4, 0.3, 0.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(result.net_mw.to_numpy(), [0.8, 1.5, 1.5, 1.5], atol=1e-6)
    assert result.terms_yuan["curtailment"] == pytest.approx(2.5, abs=1e-6)
    assert result.objective_yuan == pytest.approx(100.0 * 5.3 - 2.5, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_pv_not_curtailed_at_a_price_of_zero_unless_a_limit_forces_it(handoff):
    # Available 0.4, 1.2, 2.0, 1.0 MW at prices 0, 0, 30, 0 with no curtailment cost: spilling at 0
    # earns nothing either way, and the engine must not spill (it used to spill all three zero-price
    # hours). Behind a 1.5 MW export limit the 2.0 MW hour is curtailed by 0.5 MW (forced), the
    # zero-price ones not at all. Objective: 2.0 * 30 = 60 yuan (1.5 * 30 = 45 behind the limit).
    prices = [0.0, 0.0, 30.0, 0.0]
    for limit, expected, revenue in [(100.0, [0.4, 1.2, 2.0, 1.0], 60.0), (1.5, [0.4, 1.2, 1.5, 1.0], 45.0)]:
        problem = prepare_problem(portfolio(pv("flex"), export_limit_mw=limit), INDEX, prices)
        result = solve(problem, SolveOptions(handoff=handoff))
        np.testing.assert_allclose(output(result, "flex"), expected, atol=1e-6)
        assert result.objective_yuan == pytest.approx(revenue, abs=1e-6)
        assert result.terms_yuan.get("curtailment", 0.0) == 0.0
