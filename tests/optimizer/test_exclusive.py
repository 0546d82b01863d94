"""Storage never charges and discharges at once (issue 13 item 5), checked against an independent MILP.

The reference is a MILP written here with numpy and solved by ``scipy.optimize.milp`` (HiGHS through
SciPy, not the project's model): one binary per battery and period, the same physics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from optimizer.exclusive import SIMULTANEOUS_MW
from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]


def index(n_periods: int) -> pd.DatetimeIndex:
    return pd.date_range("2024-06-01", periods=n_periods, freq="h", tz="Asia/Shanghai", name="timestamp")


def portfolio(
    assets: list[dict], export_limit_mw: float = 100.0, import_limit_mw: float = 100.0
) -> Portfolio:
    grid = {"import_limit_mw": import_limit_mw, "export_limit_mw": export_limit_mw}
    return Portfolio.model_validate({"name": "t", "grid": grid, "assets": assets})


def battery(id_: str = "bess", **fields) -> dict:
    spec = {"type": "battery", "id": id_, "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0}
    spec |= {"charge_efficiency": 0.9, "discharge_efficiency": 0.9}
    return spec | fields


def reference_milp(
    prices: np.ndarray,
    batteries: list[dict],
    pv_mw: np.ndarray,
    export_limit_mw: float,
    import_limit_mw: float,
) -> float:
    """Optimum (yuan) of hourly batteries + fixed PV output, one binary per battery and period.

    Per battery ``b`` and hour ``t``: ``c, d in [0, P]``, ``s in [0, E]``,
    ``s[t] = s[t-1] + eta_c c - d / eta_d`` (``s[-1] = soc0``), ``s[T-1] >= soc0``,
    ``c <= P y``, ``d <= P (1 - y)``; the fleet ``pv + sum(d - c)`` lies in ``[-import, export]``.
    Maximises ``sum_t price[t] (pv[t] + sum_b (d - c))``.
    """
    n_t, n_b = len(prices), len(batteries)
    width = 4 * n_t  # c, d, s, y of one battery
    n = n_b * width
    cost = np.zeros(n)
    lower, upper = np.zeros(n), np.zeros(n)
    integrality = np.zeros(n)
    rows = lil_matrix((n_b * (3 * n_t + 1) + n_t, n))
    lo, hi = [], []
    r = 0
    for i, spec in enumerate(batteries):
        p, e, soc0 = spec["power_mw"], spec["energy_mwh"], spec["soc_initial_mwh"]
        eta_c, eta_d = spec["charge_efficiency"], spec["discharge_efficiency"]
        c, d, s, y = (i * width + k * n_t + np.arange(n_t) for k in range(4))
        cost[c], cost[d] = prices, -prices  # milp minimises
        upper[c], upper[d], upper[s], upper[y] = p, p, e, 1.0
        integrality[y] = 1
        for t in range(n_t):
            rows[r, s[t]], rows[r, c[t]], rows[r, d[t]] = 1.0, -eta_c, 1.0 / eta_d
            if t:
                rows[r, s[t - 1]] = -1.0
            lo.append(soc0 if t == 0 else 0.0)
            hi.append(soc0 if t == 0 else 0.0)
            rows[r + 1, c[t]], rows[r + 1, y[t]] = 1.0, -p
            lo.append(-np.inf)
            hi.append(0.0)
            rows[r + 2, d[t]], rows[r + 2, y[t]] = 1.0, p
            lo.append(-np.inf)
            hi.append(p)
            r += 3
        rows[r, s[n_t - 1]] = 1.0
        lo.append(soc0)
        hi.append(np.inf)
        r += 1
    for t in range(n_t):
        for i in range(n_b):
            rows[r, i * width + t], rows[r, i * width + n_t + t] = -1.0, 1.0
        lo.append(-import_limit_mw - pv_mw[t])
        hi.append(export_limit_mw - pv_mw[t])
        r += 1
    result = milp(
        cost,
        constraints=LinearConstraint(rows.tocsr(), lo, hi),
        integrality=integrality,
        bounds=Bounds(lower, upper),
        options={"mip_rel_gap": 1e-9},
    )
    assert result.status == 0, result.message
    return float(-result.fun + np.dot(prices, pv_mw))


def worst_simultaneous_mw(result) -> float:
    both = np.minimum(result.series["battery.charge_mw"], result.series["battery.discharge_mw"])
    return float(both.to_numpy().max())


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_no_burning_behind_a_zero_export_limit(handoff):
    # 1 MW / 2 MWh battery, eta 0.9/0.9, half full (1 MWh), export limit 0; prices 50, 50, -100, -100.
    # It cannot export, so it cannot empty itself: it only fills its 1 MWh of room in the negative
    # hours, importing 1 / 0.9 = 1.111 MWh at -100: 111.11 yuan. An LP burns 1 MW in and out in the
    # first two hours (net 0, losing 0.9 - 1/0.9 = 0.2111 MWh per hour) to import 0.469 MWh more:
    # 158.02 yuan, the old answer (binaries only in negative-price hours).
    prices = np.array([50.0, 50.0, -100.0, -100.0])
    spec = battery()
    problem = prepare_problem(portfolio([spec], export_limit_mw=0.0), index(4), prices)
    result = solve(problem, SolveOptions(handoff=handoff))
    assert worst_simultaneous_mw(result) <= SIMULTANEOUS_MW
    assert result.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)
    assert result.objective_yuan == pytest.approx(
        reference_milp(prices, [spec], np.zeros(4), 0.0, 100.0), abs=1e-3
    )
    np.testing.assert_allclose(result.series["battery.soc_mwh"]["bess"], [1.0, 1.0, 1.9, 2.0], atol=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_no_burning_at_positive_prices_before_negative_ones(handoff):
    # Must-take PV exports 1 MW at the 1 MW export limit in hours 0-1 (price 300), then nothing; the
    # battery (1 MW / 2 MWh, 0.9/0.9) starts full and must end full. It cannot discharge in hours 0-1
    # (the limit binds) nor charge (full). Best: in hour 2 discharge 0.81 MW (paying 81 at -100,
    # soc 2 -> 1.1), in hour 3 charge 1 MW (earning 100, soc 1.1 -> 2.0): 600 + 19 = 619 yuan. An
    # LP also burns 1 MW in and out at 300 yuan/MWh in hours 0-1 (net 0, 0.2111 MWh lost per hour)
    # to import more at -100: more than 619, not achievable.
    prices = np.array([300.0, 300.0, -100.0, -100.0])
    pv_mw = np.array([1.0, 1.0, 0.0, 0.0])
    spec = battery(soc_initial_mwh=2.0)
    pv = {"type": "pv", "id": "pv", "capacity_mw": 1.0, "profile": pv_mw.tolist(), "curtailable": False}
    problem = prepare_problem(portfolio([spec, pv], export_limit_mw=1.0), index(4), prices)
    result = solve(problem, SolveOptions(handoff=handoff))
    assert worst_simultaneous_mw(result) <= SIMULTANEOUS_MW
    assert result.objective_yuan == pytest.approx(619.0, abs=1e-3)
    assert result.objective_yuan == pytest.approx(reference_milp(prices, [spec], pv_mw, 1.0, 100.0), abs=1e-3)
    np.testing.assert_allclose(result.series["battery.soc_mwh"]["bess"], [2.0, 2.0, 1.1, 2.0], atol=1e-6)


def test_relaxed_solve_is_an_upper_bound_and_exact_one_follows():
    # The same model solved relaxed (perfect foresight's bound) then exact: relaxed >= exact, and
    # the exact re-solve of the same model has no simultaneous flows.
    prices = np.array([50.0, 50.0, -100.0, -100.0])
    problem = prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), prices)
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    solver.set_prices(prices, allow_relaxed=True)
    relaxed = solver.solve()
    assert relaxed.objective_yuan >= 1000.0 / 9.0 + 1.0
    solver.set_prices(prices)
    exact = solver.solve()
    assert worst_simultaneous_mw(exact) <= SIMULTANEOUS_MW
    assert exact.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)
    assert exact.stats.bound_yuan == pytest.approx(exact.objective_yuan, rel=1e-4)


def test_relaxation_first_proves_an_exact_lp_answer_without_the_mip():
    # Binaries added by a burning day (50, 50, -100, -100 behind a zero export limit: 111.11 yuan)
    # stay in the model. At 10, 20, -30, 40 burning pays nowhere (one negative hour, 1 MW of charge
    # stores 0.9 MWh of the 1 MWh room): charge 1 MW at -30, 30 yuan. The relaxation (binaries
    # continuous, their rows kept) is then exact, so relaxation_first answers with one LP (gap 0,
    # the MIP's optimum) and leaves the binaries integer in HiGHS. Before, every later solve of such
    # a model was a MIP (perfect foresight: 0.25-0.8 s instead of 0.01 s a day).
    import highspy

    problem = prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), np.zeros(4))
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    solver.set_prices(np.array([50.0, 50.0, -100.0, -100.0]))
    burning = solver.solve_arrays(relaxation_first=True)
    assert burning.stats.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)
    assert burning.stats.n_binaries > 0 and burning.stats.exclusive_rounds >= 2
    calm = np.array([10.0, 20.0, -30.0, 40.0])
    solver.set_prices(calm)
    lp = solver.solve_arrays(relaxation_first=True)
    assert lp.stats.exclusive_rounds == 1 and lp.stats.mip_gap is None  # one LP run, no MIP
    assert lp.stats.bound_yuan == lp.stats.objective_yuan
    assert lp.stats.objective_yuan == pytest.approx(30.0, abs=1e-6)
    integrality = solver.highs_adapter.highs.getLp().integrality_
    assert sum(k == highspy.HighsVarType.kInteger for k in integrality) == burning.stats.n_binaries
    mip = solver.solve_arrays()  # the same model as a MIP: the same optimum
    assert mip.stats.mip_gap is not None
    assert mip.stats.objective_yuan == pytest.approx(30.0, abs=1e-6)
    assert reference_milp(calm, [battery()], np.zeros(4), 0.0, 100.0) == pytest.approx(30.0, abs=1e-6)


def test_relaxation_first_falls_back_to_the_mip_when_the_relaxation_burns():
    # Binaries exist, then a burning day again: the relaxation burns, so the MIP runs and its exact
    # answer (111.11 yuan, no simultaneous flows) is returned.
    problem = prepare_problem(portfolio([battery()], export_limit_mw=0.0), index(4), np.zeros(4))
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    burn = np.array([50.0, 50.0, -100.0, -100.0])
    solver.set_prices(burn)
    solver.solve_arrays()
    solver.set_prices(np.array([10.0, 20.0, -30.0, 40.0]))
    solver.solve_arrays(relaxation_first=True)
    solver.set_prices(burn)
    again = solver.solve_arrays(relaxation_first=True)
    assert again.stats.exclusive_rounds >= 2 and again.stats.mip_gap is not None
    assert again.stats.objective_yuan == pytest.approx(1000.0 / 9.0, abs=1e-3)
    both = np.minimum(again.series["battery.charge_mw"], again.series["battery.discharge_mw"])
    assert float(both.max()) <= SIMULTANEOUS_MW


def test_v2g_vehicle_does_not_burn_at_negative_prices():
    # A v2g vehicle plugged in all day (4 h) at a 1 MW charger, 0.9/0.9, must leave with 0.5 MWh
    # (half of 1 MWh), arriving empty. Prices -100 all day: importing pays. Best: charge 1 MW (0.9 MWh
    # stored, +100), give it back at 0.81 MW (-81), then fill 1 MWh with 1.111 MWh (+111.11):
    # 130.11 yuan. An LP also charges and discharges at once within the charger limit (141.44).
    hub = {
        "type": "ev_hub",
        "id": "hub",
        "v2g": True,
        "charge_efficiency": 0.9,
        "v2g_efficiency": 0.9,
        "min_departure_frac": 0.5,
        "sessions": [
            {
                "arrival": "2024-06-01T00:00:00+08:00",
                "departure": "2024-06-01T04:00:00+08:00",
                "energy_mwh": 1.0,
                "max_power_mw": 1.0,
            }
        ],
    }
    prices = np.full(4, -100.0)
    problem = prepare_problem(portfolio([hub]), index(4), prices)
    result = solve(problem, SolveOptions())
    both = np.minimum(result.series["ev_hub.charge_mw"], result.series["ev_hub.discharge_mw"])
    assert float(both.to_numpy().max()) <= SIMULTANEOUS_MW
    assert result.objective_yuan == pytest.approx(100.0 - 81.0 + 1000.0 / 9.0, abs=1e-3)


battery_specs = st.fixed_dictionaries(
    {
        "power_mw": st.sampled_from([0.5, 1.0, 2.0]),
        "energy_mwh": st.sampled_from([1.0, 2.0, 4.0]),
        "soc_frac": st.sampled_from([0.0, 0.5, 1.0]),
        "charge_efficiency": st.sampled_from([0.8, 0.95, 1.0]),
        "discharge_efficiency": st.sampled_from([0.85, 0.95]),
    }
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prices=st.lists(st.integers(-200, 400).map(float), min_size=6, max_size=6),
    specs=st.lists(battery_specs, min_size=1, max_size=2),
    pv_mw=st.lists(st.sampled_from([0.0, 0.5, 1.5]), min_size=6, max_size=6),
    export_limit_mw=st.sampled_from([0.0, 0.5, 1.0, 5.0]),
    import_limit_mw=st.sampled_from([0.5, 5.0]),
    handoff=st.sampled_from(HANDOFFS),
)
def test_never_charges_and_discharges_at_once(
    prices, specs, pv_mw, export_limit_mw, import_limit_mw, handoff
):
    # Any prices, limits and batteries: no simultaneous flows beyond 1e-6 MW, and the optimum is the
    # independent MILP's (to the MIP gap).
    batteries = [
        battery(
            f"b{i}",
            power_mw=s["power_mw"],
            energy_mwh=s["energy_mwh"],
            soc_initial_mwh=s["soc_frac"] * s["energy_mwh"],
            charge_efficiency=s["charge_efficiency"],
            discharge_efficiency=s["discharge_efficiency"],
        )
        for i, s in enumerate(specs)
    ]
    pv_arr = np.asarray(pv_mw)
    pv = {
        "type": "pv",
        "id": "pv",
        "capacity_mw": 1.5,
        "profile": (pv_arr / 1.5).tolist(),
        "curtailable": False,
    }
    assets = [*batteries, pv] if pv_arr.any() else batteries
    feasible = np.all(pv_arr <= export_limit_mw + sum(b["power_mw"] for b in batteries))
    if not feasible:
        return
    try:
        reference = reference_milp(np.asarray(prices), batteries, pv_arr, export_limit_mw, import_limit_mw)
    except AssertionError:  # infeasible limits: not this test's concern
        return
    problem = prepare_problem(portfolio(assets, export_limit_mw, import_limit_mw), index(6), prices)
    result = solve(problem, SolveOptions(handoff=handoff, explain_infeasible=False))
    assert worst_simultaneous_mw(result) <= SIMULTANEOUS_MW
    scale = 1.0 + abs(reference)
    assert result.objective_yuan == pytest.approx(reference, abs=2e-4 * scale)
