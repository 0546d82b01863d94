"""A solve whose time budget runs out while storage still charges and discharges at once is repaired.

The budget is spent deterministically: the solve loop's clock (:mod:`optimizer.escalation`) stands
still for its first two readings (the start, and the time limit given to the first HiGHS run) and then
reads far past any budget, as if the machine had stalled during the first solve. The escalation of
:mod:`optimizer.exclusive` then cannot add its binaries; before the repair the solve raised
``SolverError("time limit ... reached before storage stopped charging and discharging at once")``.
"""

from __future__ import annotations

import logging
import re
import types

import numpy as np
import pyomo.environ as pyo
import pytest

import optimizer.escalation as escalation
import optimizer.stochastic as stochastic_module
from market.scenarios import PriceScenarios
from optimizer.exclusive import SIMULTANEOUS_MW
from optimizer.problem import prepare_problem
from optimizer.repair import REPAIRED
from optimizer.solver import ModelSolver, SolveOptions
from optimizer.stochastic import StochasticOptions, solve_stochastic
from tests.optimizer.test_exclusive import battery, index, portfolio, worst_simultaneous_mw
from vpp.errors import SolverError

BURN_PRICES = np.array([50.0, 50.0, -100.0, -100.0])
"""Behind a zero export limit an LP burns 1 MW in and out in hours 0-1 (net 0, 0.2111 MWh lost an
hour) to import more at -100 in hours 2-3 (tests/optimizer/test_exclusive.py)."""


def stalled_clock(monkeypatch: pytest.MonkeyPatch, still: int = 2) -> None:
    """Give the solve loop a ``time.monotonic`` that reads 0 ``still`` times, then 1e9 s."""
    readings = iter([0.0] * still)
    monkeypatch.setattr(escalation, "time", types.SimpleNamespace(monotonic=lambda: next(readings, 1e9)))


def soc_continuity_error(result, eta: float = 0.9, soc0: float = 1.0) -> float:
    """Largest |soc[t] - soc[t-1] - eta c[t] + d[t] / eta| (MWh, hourly periods) of battery ``bess``."""
    c = result.series["battery.charge_mw"]["bess"].to_numpy()
    d = result.series["battery.discharge_mw"]["bess"].to_numpy()
    soc = result.series["battery.soc_mwh"]["bess"].to_numpy()
    before = np.concatenate([[soc0], soc[:-1]])
    return float(np.abs(soc - before - eta * c + d / eta).max())


@pytest.mark.parametrize("handoff", ["persistent", "compiled"])
def test_spent_budget_repairs_a_burning_schedule(monkeypatch, handoff):
    # 1 MW / 2 MWh battery, eta 0.9/0.9, half full, export limit 0, prices 50, 50, -100, -100
    # (binaries built in the negative hours 2-3). The first solve burns 1 MW in and out in hours 0-1:
    # 158.02 yuan, the bound of the exact optimum. The repair keeps charge (the larger flow, or a tie)
    # in every period and re-solves the LP: charging at 50 only costs, so it fills the 1 MWh of room
    # in hours 2-3, importing 1 / 0.9 = 1.111 MWh at -100: 1000/9 = 111.11 yuan, here also the exact
    # optimum (which bounds any feasible schedule from above).
    stalled_clock(monkeypatch)
    problem = prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), BURN_PRICES)
    result = ModelSolver(problem, SolveOptions(handoff=handoff)).solve()
    assert worst_simultaneous_mw(result) <= SIMULTANEOUS_MW
    assert soc_continuity_error(result) <= 1e-6
    assert result.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)
    # Idle at 50, full at the end; how the 1.111 MWh splits over hours 2-3 is a tie.
    np.testing.assert_allclose(result.net_mw.to_numpy()[:2], 0.0, atol=1e-6)
    assert result.series["battery.soc_mwh"]["bess"].iloc[-1] == pytest.approx(2.0, abs=1e-6)
    stats = result.stats
    assert stats.status == "feasible" and stats.termination.startswith(REPAIRED)
    assert stats.mip_gap is None
    # Relaxed burn: soc 1 - 2 * (1/0.9 - 0.9) = 0.5778 after hours 0-1, then 1.4222 MWh of room
    # filled with 1.4222 / 0.9 = 1.5802 MWh at -100 (hours 0-1 trade net 0): 158.02 yuan.
    assert stats.bound_yuan == pytest.approx(100.0 * (1.0 + 2.0 * (1.0 / 0.9 - 0.9)) / 0.9, abs=1e-3)
    assert stats.exclusive_rounds == 2  # the burning solve and the repair LP


@pytest.mark.parametrize("handoff", ["persistent", "compiled"])
def test_repair_warning_reads_as_an_operator_needs_it(monkeypatch, caplog, handoff):
    # Eight hours: 50 yuan for six, -100 for the last two. The relaxation burns 1 MW in and out in
    # hours 0, 1, 3 and 4 (4 x 0.2111 MWh lost make the room to import 2 MWh at -100: 200 yuan, the
    # bound); the repair fills the 1 MWh of room it has, 1000/9 = 111.11 yuan. The warning said
    # "period 0 (2024-06-01 00:00:00+08:00)" four times and "objective 111.111, bound 200.0" (or
    # "bound 158.02469135802468"); it names the asset once, the first three hours on the date once
    # in the market's time, how many more, the burn in MW and the money in yuan to the fen.
    stalled_clock(monkeypatch)
    prices = np.array([50.0] * 6 + [-100.0] * 2)
    problem = prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(8), prices)
    with caplog.at_level(logging.WARNING, logger="optimizer.repair"):
        result = ModelSolver(problem, SolveOptions(handoff=handoff)).solve()
    assert result.stats.termination.startswith(REPAIRED)
    [message] = [r.getMessage() for r in caplog.records if r.name == "optimizer.repair"]
    assert "battery 'bess' 1.000 MW both ways at 2024-06-01 00:00, 01:00, 03:00 and 1 more" in message
    assert "(objective 111.11 yuan, bound 200.00 yuan)" in message
    assert "time limit 60 s reached" in message
    assert "+08:00" not in message and not re.search(r"\d\.\d{4,}", message)


@pytest.mark.parametrize("handoff", ["persistent", "compiled"])
def test_repair_keeps_the_model_for_later_exact_solves(monkeypatch, handoff):
    # After a repair the bounds and integrality are back: the next solve (clock real again) is the
    # exact one, by escalation, with the same 111.11 yuan and a proven bound.
    solver = ModelSolver(
        prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), BURN_PRICES),
        SolveOptions(handoff=handoff),
    )
    stalled_clock(monkeypatch)
    assert solver.solve().stats.termination.startswith(REPAIRED)
    monkeypatch.undo()
    solver.set_prices(np.array([10.0, 20.0, -30.0, 40.0]))  # burns nowhere: charge 1 MW at -30
    again = solver.solve()
    assert again.stats.status == "optimal"
    assert again.objective_yuan == pytest.approx(30.0, abs=1e-6)


def test_relaxation_first_repairs_a_burning_relaxation_once_the_budget_is_spent(monkeypatch):
    # Perfect foresight's path (relaxation_first): binaries exist from an earlier burning day, the
    # relaxation (binaries continuous) burns again, and the budget is spent during it (clock: the
    # start, the relaxation's limit, then past). No MIP is started with 0 s left: the relaxation's
    # solution is repaired, 111.11 yuan as above, below the relaxation's 158.02 bound.
    solver = ModelSolver(
        prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), np.zeros(4)),
        SolveOptions(handoff="persistent"),
    )
    solver.set_prices(BURN_PRICES)
    assert solver.solve_arrays().stats.n_binaries > 0
    stalled_clock(monkeypatch)
    result = solver.solve_arrays(relaxation_first=True).to_result()
    assert result.stats.termination.startswith(REPAIRED) and result.stats.exclusive_rounds == 2
    assert worst_simultaneous_mw(result) <= SIMULTANEOUS_MW
    assert soc_continuity_error(result) <= 1e-6
    assert result.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)
    assert result.stats.bound_yuan >= result.objective_yuan


def second_solve_stops(
    monkeypatch: pytest.MonkeyPatch, handoff: str, message: str
) -> tuple[ModelSolver, list]:
    """The burning day's solver whose second solve raises ``SolverError(message)``; and its calls."""
    solver = ModelSolver(
        prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), BURN_PRICES),
        SolveOptions(handoff=handoff),
    )
    real, calls = solver._solve_once, []

    def solve_once(deadline):
        calls.append(deadline)
        if len(calls) == 2:
            raise SolverError(message)
        return real(deadline)

    monkeypatch.setattr(solver, "_solve_once", solve_once)
    return solver, calls


@pytest.mark.parametrize("handoff", ["persistent", "compiled"])
def test_a_solve_without_solution_at_the_spent_budget_repairs_the_burning_one_before(monkeypatch, handoff):
    # Round 1 burns with time left (clock still for 4 readings), binaries are added, and round 2 (the
    # MIP) stops without a solution as HiGHS does at its time limit under load (injected here: this
    # small MIP is solved by presolve even with 0 s), the budget now spent. Before, that was a
    # SolverError; now round 1's solution is repaired: 111.11 yuan, exact.
    stalled_clock(monkeypatch, still=4)
    stop = "HiGHS stopped without a solution: Time limit reached (time limit 60.0 s)"
    solver, calls = second_solve_stops(monkeypatch, handoff, stop)
    result = solver.solve()
    assert len(calls) == 2 and solver._integers.lazy.n_binaries > 0  # round 2 had its binaries
    assert result.stats.termination.startswith(REPAIRED)
    assert worst_simultaneous_mw(result) <= SIMULTANEOUS_MW
    assert soc_continuity_error(result) <= 1e-6
    assert result.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)


def test_a_solve_without_solution_before_the_budget_is_spent_still_fails(monkeypatch):
    # The same stop with time left is not the budget's doing: the SolverError stands.
    stop = "HiGHS stopped without a solution: Iteration limit reached"
    solver, _ = second_solve_stops(monkeypatch, "persistent", stop)
    with pytest.raises(SolverError, match="Iteration limit"):
        solver.solve()


def test_repair_that_cannot_hold_names_asset_and_period(monkeypatch):
    # Must-take PV of 1 MW behind a zero export limit, a full battery (10 MW, 2 MWh): the LP absorbs
    # the PV only by burning (charge 5.26 MW, discharge 4.26 MW, soc unchanged); no exact schedule
    # exists. The repair keeps charge only, which the full battery cannot take: a SolverError that
    # names the battery and the period, as the service's fallback expects (never a traceback).
    stalled_clock(monkeypatch)
    pv = {"type": "pv", "id": "pv", "capacity_mw": 1.0, "profile": [1.0, 0.0], "curtailable": False}
    spec = battery(power_mw=10.0, soc_initial_mwh=2.0)
    problem = prepare_problem(portfolio([spec, pv], export_limit_mw=0.0), index(2), np.array([10.0, 10.0]))
    with pytest.raises(SolverError) as info:
        ModelSolver(problem, SolveOptions(handoff="persistent")).solve()
    message = str(info.value)
    assert "reached before storage stopped charging and discharging at once" in message
    assert "(battery 'bess' 4.263 MW both ways at 2024-06-01 00:00)" in message


@pytest.mark.parametrize("mode", ["quantity", "price_quantity"])
def test_spent_budget_repairs_the_stochastic_model(monkeypatch, mode):
    # Two scenarios, weights 1/2, DA = RT in each: s0 50, 50, -100, -100; s1 50, 50, -50, -50 (the
    # battery and zero export limit above; the problem, as the bid commands prepare it, has no
    # negative price, so no built binary). With DA = RT a scenario's profit is its price times its
    # own dispatch, whatever the position: each scenario copy fills its 1 MWh of room in hours 2-3,
    # 1000/9 and 500/9 yuan, expected 750/9 = 83.33. The relaxation burns in hours 0-1 of every copy
    # (158.02 and 79.01 yuan, expected 118.52).
    stalled_clock(monkeypatch)
    built: list[pyo.ConcreteModel] = []
    build = stochastic_module.build_stochastic_model

    def keep(*args, **kwargs):
        built.append(build(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(stochastic_module, "build_stochastic_model", keep)
    prices = np.array([BURN_PRICES, [50.0, 50.0, -50.0, -50.0]])
    scenarios = PriceScenarios(index(4), prices, prices.copy(), np.array([0.5, 0.5]))
    problem = prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), np.zeros(4))
    result = solve_stochastic(problem, scenarios, StochasticOptions(mode=mode))
    assert result.repaired
    assert result.expected_profit_yuan == pytest.approx(750.0 / 9.0, abs=1e-3)
    np.testing.assert_allclose(result.profit_yuan, [1000.0 / 9.0, 500.0 / 9.0], atol=1e-3)
    m = built[0]
    copies = [*dict.fromkeys(m._copies), *m.rt_blocks]  # da, or da_lo and da_hi; then every scenario
    for copy in copies:
        b = copy.battery
        c = np.array([pyo.value(b.charge_mw["bess", t]) for t in range(4)])
        d = np.array([pyo.value(b.discharge_mw["bess", t]) for t in range(4)])
        soc = np.array([pyo.value(b.soc_mwh["bess", t]) for t in range(4)])
        assert float(np.minimum(c, d).max()) <= SIMULTANEOUS_MW
        before = np.concatenate([[1.0], soc[:-1]])
        np.testing.assert_allclose(soc - before, 0.9 * c - d / 0.9, atol=1e-6)
        assert soc[-1] >= 1.0 - 1e-6
    # The positions are what the DA copies deliver (the constraints the repair keeps): L <= q <= H,
    # the lower copy charging at least and discharging at most what the upper one does.
    lo, hi = m._copies
    low = np.array([pyo.value(lo.net_mw[t]) for t in range(4)])
    high = np.array([pyo.value(hi.net_mw[t]) for t in range(4)])
    assert np.all(result.q_da_mw >= low - 1e-9) and np.all(result.q_da_mw <= high + 1e-9)
    for t in range(4):
        b_lo, b_hi = lo.battery, hi.battery
        assert pyo.value(b_lo.charge_mw["bess", t]) >= pyo.value(b_hi.charge_mw["bess", t]) - 1e-9
        assert pyo.value(b_lo.discharge_mw["bess", t]) <= pyo.value(b_hi.discharge_mw["bess", t]) + 1e-9


@pytest.mark.parametrize("mode", ["quantity", "price_quantity"])
def test_stochastic_repair_that_cannot_hold_is_a_solver_error(monkeypatch, mode):
    # The must-take PV case above in the two-stage model: every copy can absorb the PV only by
    # burning; the repair names a copy's battery and the period.
    stalled_clock(monkeypatch)
    pv = {"type": "pv", "id": "pv", "capacity_mw": 1.0, "profile": [1.0, 0.0], "curtailable": False}
    spec = battery(power_mw=10.0, soc_initial_mwh=2.0)
    problem = prepare_problem(portfolio([spec, pv], export_limit_mw=0.0), index(2), np.array([10.0, 10.0]))
    prices = np.array([[10.0, 10.0]])
    scenarios = PriceScenarios(index(2), prices, prices.copy(), np.array([1.0]))
    with pytest.raises(SolverError, match=r"rt_0.battery 'bess' 4.263 MW both ways at 2024-06-01 00:00\)"):
        solve_stochastic(problem, scenarios, StochasticOptions(mode=mode))
