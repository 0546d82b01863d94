"""The open part of a warm real-time re-solve (``optimizer.open_lp``) against cold full solves."""

from __future__ import annotations

import highspy
import numpy as np
import pytest

from bench.fleet import make_fleet
from optimizer.highs_setup import new_highs
from optimizer.open_lp import lp_data, open_part, statuses
from optimizer.solver import ModelSolver, SolveOptions


def _cold_objective(highs: highspy.Highs) -> float:
    """The optimum of the LP ``highs`` holds, solved cold in a fresh instance."""
    fresh = new_highs()
    fresh.passModel(highs.getLp())
    fresh.run()
    assert fresh.modelStatusToString(fresh.getModelStatus()) == "Optimal"
    return float(fresh.getInfo().objective_function_value)


def test_open_lp_re_solves_equal_cold_full_solves() -> None:
    fleet = make_fleet(20, 1)
    solver = ModelSolver(fleet.problem(), SolveOptions(handoff="persistent", warm_start=True, open_lp=True))
    solver.solve_arrays()
    adapter = solver.highs_adapter
    base = np.asarray(fleet.price, dtype=float)
    for k in range(1, 90, 8):
        for period in range(k - 8 if k > 8 else 0, k):
            solver.carry_out(period)
        price = base.copy()
        price[k : k + 4] += np.array([80.0, -60.0, 40.0, -20.0])[: price[k : k + 4].size]
        solver.set_prices(price)
        arrays = solver.solve_arrays()
        if k >= 48:  # half the day carried out: the open LP solved it
            assert adapter.open_solves > 0
        lp_cost = np.asarray(adapter.highs.getLp().col_cost_)
        col_value = solver._kept.last.col_value
        full = adapter.highs  # given back the open run's optimum
        synced = float(full.getInfo().objective_function_value)
        assert synced == pytest.approx(arrays.stats.objective_yuan, rel=1e-9)
        cold = _cold_objective(full)
        assert arrays.stats.objective_yuan == pytest.approx(cold, rel=1e-9)
        # the open solution is the full LP's: its cost, with the fixed past, is the optimum
        assert float(lp_cost @ col_value) + float(full.getLp().offset_) == pytest.approx(cold, rel=1e-9)
        # and it is feasible: every carried-out column sits at its pin
        lp = full.getLp()
        lower, upper = np.asarray(lp.col_lower_), np.asarray(lp.col_upper_)
        assert np.all(col_value >= lower - 1e-7) and np.all(col_value <= upper + 1e-7)
    assert adapter.open_solves >= 5


def test_open_part_keeps_a_square_basis_and_drops_the_past() -> None:
    fleet = make_fleet(20, 2)
    solver = ModelSolver(fleet.problem(), SolveOptions(handoff="persistent", warm_start=True))
    optimum = solver.solve_arrays().stats.objective_yuan
    for period in range(60):
        solver.carry_out(period)
    highs = solver.highs_adapter.highs
    basis = highs.getBasis()
    part = open_part(lp_data(highs), statuses(basis.col_status), statuses(basis.row_status))
    assert part is not None
    assert part.n_dropped_cols > 0.5 * highs.getNumCol()
    assert part.kept_rows.size < highs.getNumRow()
    codes = statuses(part.basis.col_status), statuses(part.basis.row_status)
    assert int((codes[0] == 1).sum() + (codes[1] == 1).sum()) == part.kept_rows.size
    sub = new_highs()
    sub.passModel(part.lp)
    sub.setBasis(part.basis)
    sub.run()
    assert sub.getInfo().simplex_iteration_count == 0  # the same vertex, still optimal
    assert float(sub.getInfo().objective_function_value) == pytest.approx(optimum, rel=1e-9)


def test_a_changed_coefficient_reaches_the_open_lp() -> None:
    # The open LP keeps the matrix between re-solves; a Param in a coefficient must refresh it.
    import pyomo.environ as pyo

    from optimizer.highs_adapter import PersistentHighs
    from optimizer.param_sync import ParamChanges
    from optimizer.pinning import PinPolicy

    m = pyo.ConcreteModel()
    m.T = pyo.RangeSet(0, 5)
    m.p = pyo.Param(m.T, mutable=True, initialize={t: 1.0 + t for t in range(6)})
    m.c = pyo.Param(mutable=True, initialize=1.0)
    m.x = pyo.Var(m.T, bounds=(0, 1))
    m.cap = pyo.Constraint(expr=sum(m.c * m.x[t] for t in m.T) <= 2.5)
    m.obj = pyo.Objective(expr=sum(m.p[t] * m.x[t] for t in m.T), sense=pyo.maximize)
    adapter, changes, pins = PersistentHighs(m), ParamChanges(m), PinPolicy(m, 6)
    options = SolveOptions(warm_start=True, open_lp=True)
    first = adapter.run(options, time_limit_s=10.0, mip=False)
    assert first.objective == pytest.approx(13.0)  # x5 = x4 = 1, x3 = 0.5: 6 + 5 + 2
    for t in range(4):  # the past carried out: x0..x2 at 0, x3 at 0.5
        pins.carry_out(adapter, t, first.col_value)
    assert adapter.run(options, time_limit_s=10.0, mip=False).objective == pytest.approx(13.0)
    assert adapter.open_solves == 1
    m.c = 2.0  # 2 * 0.5 + 2 (x4 + x5) <= 2.5: x5 = 0.75 (a stale matrix would keep 13)
    changes.mark([m.c])
    changes.push(adapter, pins, scan=False)
    solved = adapter.run(options, time_limit_s=10.0, mip=False)
    assert adapter.open_solves == 2
    assert solved.objective == pytest.approx(2.0 + 6.0 * 0.75, rel=1e-9)
    assert solved.objective == pytest.approx(_cold_objective(adapter.highs), rel=1e-9)


def test_open_lp_dispatch_equals_the_full_warm_re_solve() -> None:
    fleet = make_fleet(20, 3)
    routes = [
        ModelSolver(fleet.problem(), SolveOptions(handoff="persistent", warm_start=True, open_lp=flag))
        for flag in (False, True)
    ]
    for solver in routes:
        solver.solve_arrays()
    base = np.asarray(fleet.price, dtype=float)
    same_assets = 0
    for k in range(1, 96):
        price = base.copy()
        price[k : k + 2] += 90.0 * np.sin(k)
        results = []
        for solver in routes:
            solver.carry_out(k - 1)
            solver.set_prices(price)
            results.append(solver.solve_arrays())
        full, cut = results
        assert cut.stats.objective_yuan == pytest.approx(full.stats.objective_yuan, rel=1e-9)
        # the fleet's position is the same; tied assets (equal flexible loads) may split it otherwise,
        # as a warm start against a cold one does (bench/RESULTS.md)
        np.testing.assert_allclose(cut.net_mw[k:], full.net_mw[k:], atol=1e-6)
        same_assets += bool(np.allclose(cut.asset_net_mw[:, k], full.asset_net_mw[:, k], atol=1e-6))
    assert routes[1].highs_adapter.open_solves >= 40
    assert same_assets >= 90  # measured: 93 of the 95 steps dispatch every asset the same


def test_open_lp_without_scipy_is_a_clear_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The opt-in cut needs scipy (not a core dependency): asked for without it, the solve says so."""
    import sys

    from vpp.errors import SolverError

    monkeypatch.setitem(sys.modules, "optimizer.open_lp", None)  # its import fails, as without scipy
    fleet = make_fleet(5, 1)
    solver = ModelSolver(fleet.problem(), SolveOptions(handoff="persistent", warm_start=True, open_lp=True))
    with pytest.raises(SolverError, match=r"SolveOptions\.open_lp needs scipy"):
        solver.solve_arrays()
