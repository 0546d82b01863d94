"""Battery-swap station family: optima small enough to compute by hand, restart and bad input."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from market.scenarios import PriceScenarios
from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from optimizer.stochastic import StochasticOptions, solve_stochastic
from simulator.state import advance
from vpp.errors import InfeasibleError
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]


def index(n_periods: int) -> pd.DatetimeIndex:
    return pd.date_range("2024-06-01", periods=n_periods, freq="h", tz="Asia/Shanghai", name="timestamp")


def portfolio(*assets: dict) -> Portfolio:
    return Portfolio.model_validate(
        {"name": "t", "grid": {"import_limit_mw": 100, "export_limit_mw": 100}, "assets": list(assets)}
    )


def station(**fields) -> dict:
    spec = {
        "type": "swap_station",
        "id": "swap-1",
        "packs": 2,
        "pack_energy_mwh": 0.9,
        "charger_power_mw": 1.0,
        "charge_efficiency": 0.9,
        "swap_demand": [0.0, 0.0, 1.0, 0.0],
        "full_packs_initial": 0.0,
    }
    return spec | fields


def series(result, name: str, id_: str = "swap-1") -> np.ndarray:
    return result.series[f"swap_station.{name}"][id_].to_numpy()


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_one_swap_is_charged_in_the_cheapest_hour_before_it(handoff):
    # 2 packs of 0.9 MWh, both empty; one pack swapped at the start of hour 2; charger 1 MW at 90 %:
    # one hour of charging fills a pack (1 MW x 1 h x 0.9 = 0.9 MWh). Hours 0 and 1 come before the
    # swap; hour 1 is the cheaper (10 < 50). Charging in hour 2 (30) is too late, hour 3 (80) dearer
    # and not needed (the day ends at 0 full packs, as it began). Cost 10 yuan.
    problem = prepare_problem(portfolio(station()), index(4), [50.0, 10.0, 30.0, 80.0])
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(series(result, "charge_mw"), [0.0, 1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "stored_mwh"), [0.0, 0.9, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "discharge_mw"), 0.0, atol=1e-6)
    np.testing.assert_allclose(result.net_mw.to_numpy(), [0.0, -1.0, 0.0, 0.0], atol=1e-6)
    assert result.objective_yuan == pytest.approx(-10.0, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_two_swaps_need_two_full_packs_by_then(handoff):
    # Two packs out at hour 2: 1.8 MWh stored by the end of hour 1, i.e. both cheap-enough hours at
    # full power (50 and 10): cost 60. Then nothing: the day ends empty, as it began.
    spec = station(swap_demand=[0.0, 0.0, 2.0, 0.0])
    problem = prepare_problem(portfolio(spec), index(4), [50.0, 10.0, 30.0, 80.0])
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(series(result, "charge_mw"), [1.0, 1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "stored_mwh"), [0.9, 1.8, 0.0, 0.0], atol=1e-6)
    assert result.objective_yuan == pytest.approx(-60.0, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_idle_packs_discharge_to_the_grid_when_allowed(handoff):
    # One full 1 MWh pack, no swaps, lossless: sell it at 100 in hour 0, buy it back at 10 in hour 1
    # (the day must end with the pack full): +90 yuan. Without discharge power the station idles.
    spec = station(
        packs=1,
        pack_energy_mwh=1.0,
        charge_efficiency=1.0,
        discharge_efficiency=1.0,
        swap_demand=0.0,
        full_packs_initial=1.0,
        discharge_power_mw=1.0,
    )
    prices = [100.0, 10.0, 50.0]
    result = solve(prepare_problem(portfolio(spec), index(3), prices), SolveOptions(handoff=handoff))
    np.testing.assert_allclose(result.net_mw.to_numpy(), [1.0, -1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "stored_mwh"), [0.0, 1.0, 1.0], atol=1e-6)
    assert result.objective_yuan == pytest.approx(90.0, abs=1e-6)
    idle = solve(prepare_problem(portfolio(spec | {"discharge_power_mw": 0.0}), index(3), prices))
    np.testing.assert_allclose(idle.net_mw.to_numpy(), 0.0, atol=1e-6)


def test_never_charges_and_discharges_at_once_at_negative_prices():
    # Burning energy through the 81 % round trip pays at -50 yuan/MWh; the exclusive binaries forbid it.
    spec = station(packs=1, swap_demand=0.0, full_packs_initial=0.5)
    spec |= {"discharge_power_mw": 1.0, "discharge_efficiency": 0.9}
    result = solve(prepare_problem(portfolio(spec), index(2), [-50.0, -50.0]))
    both = np.minimum(series(result, "charge_mw"), series(result, "discharge_mw"))
    np.testing.assert_allclose(both, 0.0, atol=1e-6)
    assert result.stats.n_binaries > 0


def test_demand_beyond_the_packs_full_at_the_start_is_infeasible_and_named():
    spec = station(swap_demand=[1.0, 0.0, 0.0, 0.0])  # no full pack at the day's start
    with pytest.raises(InfeasibleError) as err:
        solve(prepare_problem(portfolio(spec), index(4), [50.0, 10.0, 30.0, 80.0]))
    assert "swap-1" in str(err.value)
    assert err.value.violations[0]["family"] == "swap_station"


def test_restart_mid_day_continues_from_the_carried_stock():
    # Solve the day, carry out hours 0 and 1, restart at 2 from the carried state: same plan.
    spec = station(swap_demand=[0.0, 0.0, 1.0, 1.0], charger_power_mw=2.0)
    problem = prepare_problem(portfolio(spec), index(4), [50.0, 10.0, 30.0, 80.0])
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    day = solver.solve()
    state: dict = {}
    for k in range(2):
        state = advance(day, k, state)
    assert state["swap-1"]["stored_mwh"] == pytest.approx(1.8, abs=1e-6)
    solver.restart(2, state)
    rest = solver.solve()
    np.testing.assert_allclose(series(rest, "stored_mwh")[2:], series(day, "stored_mwh")[2:], atol=1e-6)
    np.testing.assert_allclose(rest.net_mw.to_numpy()[:2], 0.0, atol=1e-6)


def test_spec_refuses_more_full_packs_than_packs():
    with pytest.raises(ValidationError, match=r"full_packs_initial 3\.0 exceeds packs 2"):
        portfolio(station(full_packs_initial=3.0))


@pytest.mark.parametrize("mode", ["quantity", "price_quantity"])
def test_stochastic_bid_with_one_scenario_is_the_deterministic_optimum(mode):
    # The DA copies of the station are ordered as a battery's (ORDERED_VARS): one scenario gives
    # back the deterministic schedule, and a curve stays inside its box.
    spec = station(swap_demand=[0.0, 0.0, 1.0, 0.0], discharge_power_mw=1.0, discharge_efficiency=0.9)
    prices = np.array([50.0, 10.0, 30.0, 80.0])
    det = solve(prepare_problem(portfolio(spec), index(4), prices))
    scenarios = PriceScenarios.single(index(4), prices)
    problem = prepare_problem(portfolio(spec), index(4), prices)
    res = solve_stochastic(problem, scenarios, StochasticOptions(mode))
    assert res.expected_profit_yuan == pytest.approx(det.objective_yuan, rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(res.net_mw[0], det.net_mw.to_numpy(), atol=1e-6)
    assert (res.hi_mw >= res.lo_mw - 1e-7).all()


def test_no_code_outside_its_two_modules_names_the_swap_station():
    # The family took vpp/assets/swap_station.py, optimizer/families/swap_station.py and one line
    # in the registry: every other source module reaches it through the registry only.
    root = Path(__file__).resolve().parents[2]
    own = {"vpp/assets/swap_station.py", "optimizer/families/swap_station.py", "vpp/assets/registry.py"}
    naming = []
    for package in ("vpp", "market", "optimizer", "simulator"):
        for path in (root / package).rglob("*.py"):
            rel = path.relative_to(root).as_posix()
            if rel not in own and re.search(r"swap_station|SwapStation", path.read_text(encoding="utf-8")):
                naming.append(rel)
    assert naming == []
    registry = (root / "vpp/assets/registry.py").read_text(encoding="utf-8")
    assert [line for line in registry.splitlines() if "swap_station" in line] == ['    "swap_station",']
