"""``ModelSolver.restart_pinning_past``: restart mid-day where a family can, pin its past where not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from optimizer.solver import ModelSolver, SolveOptions
from simulator.day_ahead import day_problem
from vpp.portfolio_io import load_portfolio

ROOT = Path(__file__).resolve().parents[2]
URBAN = ROOT / "vpp" / "examples" / "shanxi_urban_renewal.yaml"
DAY = dt.date(2024, 1, 2)
K = 5


@pytest.fixture(scope="module")
def problem():
    """The urban-renewal day (EV hubs and heating cannot restart mid-day) at a falling price."""
    loaded = load_portfolio(URBAN)
    return day_problem(loaded, DAY, np.linspace(450.0, 150.0, 96))


def _assert_model_bounds(solver: ModelSolver) -> None:
    """Every HiGHS column and group-limit row has the bounds of its Pyomo variable or constraint."""
    adapter = solver.highs_adapter
    highs = adapter.highs
    lp = highs.getLp()
    lower, upper = np.array(lp.col_lower_), np.array(lp.col_upper_)
    column_of = adapter.column_of
    for var in solver.model.component_data_objects(pyo.Var):
        col = column_of[id(var)]
        want = (-np.inf if var.lb is None else var.lb, np.inf if var.ub is None else var.ub)
        assert (lower[col], upper[col]) == pytest.approx(want), var.name
    for con in solver.model.group_limit.values():
        (row,) = adapter.rows([con])
        assert (lp.row_lower_[row], lp.row_upper_[row]) == pytest.approx(
            (pyo.value(con.lower), pyo.value(con.upper))
        )


def _past_series(result, k: int) -> dict[str, np.ndarray]:
    return {
        key: frame.to_numpy()[:k]
        for key, frame in result.series.items()
        if key.startswith(("ev_hub.", "heating."))
    }


def test_plain_restart_still_refuses_mid_day(problem) -> None:
    solver = ModelSolver(problem)
    with pytest.raises(NotImplementedError, match="ev_hub"):
        solver.restart(K, {})


def test_past_is_pinned_at_the_plan_and_released_again(problem) -> None:
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    assert solver.restart_pinning_past(0, {}).note is None
    day_plan = solver.solve()
    plan = solver.past_plan()

    # A price that makes the past cheap: free, the EVs and the heat pump would move there.
    solver.set_prices(np.r_[np.zeros(K), np.full(96 - K, 500.0)])
    pinning = solver.restart_pinning_past(K, {}, plan)
    assert pinning.families == ("ev_hub", "heating") and pinning.note == "pinned"
    pinned = solver.solve()
    for key, past in _past_series(pinned, K).items():
        np.testing.assert_allclose(past, _past_series(day_plan, K)[key], atol=1e-9, err_msg=key)

    solver.release_periods()
    _assert_model_bounds(solver)

    replanned = solver.restart_pinning_past(K, {}, None)
    assert replanned.replanned and replanned.note == "re-planned"
    free = solver.solve()
    drawn_mw = free.series["ev_hub.charge_mw"].to_numpy()[:K].sum()  # re-planned into the free past
    assert drawn_mw > day_plan.series["ev_hub.charge_mw"].to_numpy()[:K].sum() + 1e-3


def test_plain_restart_drops_the_pins(problem) -> None:
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    solver.restart_pinning_past(0, {})
    first = solver.solve()
    solver.set_prices(np.r_[np.zeros(K), np.full(96 - K, 500.0)])
    solver.restart_pinning_past(K, {}, solver.past_plan())
    solver.solve()
    solver.set_prices(problem.price)
    solver.restart(0, {})
    again = solver.solve()
    assert again.objective_yuan == pytest.approx(first.objective_yuan, rel=1e-9)


def test_compiled_handoff_refuses_to_pin_clearly(problem) -> None:
    solver = ModelSolver(problem, SolveOptions(handoff="compiled"))
    assert solver.restart_pinning_past(0, {}).families == ()
    solver.solve()
    assert solver.past_plan() is None
    with pytest.raises(NotImplementedError, match="persistent hand-off"):
        solver.restart_pinning_past(K, {})
