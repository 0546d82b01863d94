"""Battery family: optima small enough to compute by hand, solved through both hand-offs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer.problem import prepare_problem
from optimizer.solver import SolveOptions, solve
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]


def index(n_periods: int, freq: str = "h") -> pd.DatetimeIndex:
    return pd.date_range("2024-06-01", periods=n_periods, freq=freq, tz="Asia/Shanghai", name="timestamp")


def portfolio(*batteries: dict, import_limit_mw: float = 100.0) -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "t",
            "grid": {"import_limit_mw": import_limit_mw, "export_limit_mw": 100},
            "assets": list(batteries),
        }
    )


def battery(id_: str = "bess-1", **fields) -> dict:
    spec = {"type": "battery", "id": id_, "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 0.0}
    return spec | fields


def series(result, name: str, id_: str = "bess-1") -> np.ndarray:
    return result.series[f"battery.{name}"][id_].to_numpy()


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_battery_arbitrage_two_price_levels(handoff):
    # Charge 1 MW, discharge 0.81 MW, eta 0.9/0.9, 2 MWh, empty at start and end; prices 100,100,500,500.
    # Buying at 100 and selling at 500 * 0.9 * 0.9 = 405 pays, so it charges at full power both cheap
    # hours: stored 0.9 then 1.8 MWh (cost 2 x 100 = 200). 1.8 MWh stored delivers 1.8 * 0.9 = 1.62 MWh,
    # exactly 0.81 MW in each dear hour (soc 1.8 - 0.81/0.9 = 0.9, then 0): revenue 1.62 x 500 = 810.
    # Objective 810 - 200 = 610 yuan; the discharge limit makes the split between dear hours unique.
    spec = battery(charge_efficiency=0.9, discharge_efficiency=0.9, power_mw=None)
    spec |= {"charge_power_mw": 1.0, "discharge_power_mw": 0.81}
    problem = prepare_problem(portfolio(spec), index(4), [100.0, 100.0, 500.0, 500.0])
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(series(result, "charge_mw"), [1.0, 1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "discharge_mw"), [0.0, 0.0, 0.81, 0.81], atol=1e-6)
    np.testing.assert_allclose(series(result, "soc_mwh"), [0.9, 1.8, 0.9, 0.0], atol=1e-6)
    np.testing.assert_allclose(result.net_mw.to_numpy(), [-1.0, -1.0, 0.81, 0.81], atol=1e-6)
    assert result.objective_yuan == pytest.approx(610.0, abs=1e-6)
    assert result.terms_yuan["revenue"] == pytest.approx(610.0, abs=1e-6)
    assert result.stats.n_binaries == 0


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_battery_ends_day_at_initial_soc(handoff):
    # 2 MW / 2 MWh, lossless, starts with 1 MWh; prices 100, 500, 100, 500.
    # Hour 0: charge 1 MW (full); hour 1: sell 2 MW (empty); hour 2: charge 2 MW (full); hour 3: the
    # day must end at the initial 1 MWh, so it sells only 1 MW.
    # Objective -100 + 1000 - 200 + 500 = 1200; with soc_final 0 it would sell 2 MW: 1700.
    prices = [100.0, 500.0, 100.0, 500.0]
    spec = battery(power_mw=2.0, soc_initial_mwh=1.0, charge_efficiency=1.0, discharge_efficiency=1.0)
    result = solve(prepare_problem(portfolio(spec), index(4), prices), SolveOptions(handoff=handoff))
    np.testing.assert_allclose(series(result, "soc_mwh"), [2.0, 0.0, 2.0, 1.0], atol=1e-6)
    assert result.objective_yuan == pytest.approx(1200.0, abs=1e-6)
    emptied = battery(power_mw=2.0, soc_initial_mwh=1.0, soc_final_mwh=0.0)
    emptied |= {"charge_efficiency": 1.0, "discharge_efficiency": 1.0}
    result = solve(prepare_problem(portfolio(emptied), index(4), prices), SolveOptions(handoff=handoff))
    assert series(result, "soc_mwh")[-1] == pytest.approx(0.0, abs=1e-6)
    assert result.objective_yuan == pytest.approx(1700.0, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
@pytest.mark.parametrize("freq", ["h", "15min"])
def test_battery_self_discharge_loses_energy_while_waiting(handoff, freq):
    # 1 MWh stored, 10 %/h self-discharge, must end empty; no grid import (so no topping up), and
    # only the last period pays (100 yuan/MWh; 0 before). Waiting 3 h keeps 0.9^3 = 0.729 MWh whatever
    # the period length, and the last period's own loss leaves retention * 0.729 to sell, with
    # retention = 0.9^dt per period: 0.9^4 = 0.6561 MWh in both cases, 65.61 yuan.
    # (Charging loses 10 %, so charging and discharging at once never pays.)
    n = 4 if freq == "h" else 16
    dt = 1.0 if freq == "h" else 0.25
    prices = [0.0] * (n - 1) + [100.0]
    spec = battery(
        power_mw=4.0,
        energy_mwh=1.0,
        soc_initial_mwh=1.0,
        soc_final_mwh=0.0,
        self_discharge_per_hour=0.1,
        charge_efficiency=0.9,
        discharge_efficiency=1.0,
    )
    pf = portfolio(spec, import_limit_mw=0.0)
    result = solve(prepare_problem(pf, index(n, freq), prices), SolveOptions(handoff=handoff))
    retention = 0.9**dt
    soc = retention ** np.arange(1, n + 1)
    soc[-1] = 0.0
    np.testing.assert_allclose(series(result, "soc_mwh"), soc, atol=1e-6)
    sold_mwh = retention**n  # = 0.9^4 = 0.6561 for both period lengths
    assert sold_mwh == pytest.approx(0.6561)
    discharge = series(result, "discharge_mw")
    np.testing.assert_allclose(discharge[:-1], 0.0, atol=1e-6)
    assert discharge[-1] * dt == pytest.approx(sold_mwh, abs=1e-6)
    assert result.objective_yuan == pytest.approx(100.0 * sold_mwh, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_battery_max_cycles_per_day_binds(handoff):
    # 24 hourly periods: 10 yuan/MWh until noon, 100 after. 1 MW / 1 MWh, lossless, empty at both ends.
    # Free of limits it buys 1 MWh and sells it: 100 - 10 = 90. At 0.5 cycles a day it may discharge
    # only 0.5 x 1 MWh x 24/24 = 0.5 MWh, so it buys and sells 0.5 MWh: 45 yuan.
    prices = [10.0] * 12 + [100.0] * 12
    lossless = {"power_mw": 1.0, "energy_mwh": 1.0, "charge_efficiency": 1.0, "discharge_efficiency": 1.0}
    free = solve(
        prepare_problem(portfolio(battery(**lossless)), index(24), prices), SolveOptions(handoff=handoff)
    )
    assert free.objective_yuan == pytest.approx(90.0, abs=1e-6)
    limited = battery(**lossless, max_cycles_per_day=0.5)
    result = solve(prepare_problem(portfolio(limited), index(24), prices), SolveOptions(handoff=handoff))
    assert series(result, "discharge_mw").sum() == pytest.approx(0.5, abs=1e-6)
    assert series(result, "charge_mw").sum() == pytest.approx(0.5, abs=1e-6)
    assert result.objective_yuan == pytest.approx(45.0, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
@pytest.mark.parametrize(("wear", "expected"), [(20.0, 0.0), (5.0, 5.0)])
def test_battery_degradation_cost_makes_small_spread_unprofitable(handoff, wear, expected):
    # Lossless 1 MW / 1 MWh, prices 100 then 110: one cycle earns 10 yuan and wears `wear` yuan.
    # At 20 yuan/MWh it stays idle (objective 0); at 5 it cycles once (10 - 5 = 5).
    spec = battery(energy_mwh=1.0, charge_efficiency=1.0, discharge_efficiency=1.0, degradation_cost=wear)
    result = solve(prepare_problem(portfolio(spec), index(2), [100.0, 110.0]), SolveOptions(handoff=handoff))
    assert result.objective_yuan == pytest.approx(expected, abs=1e-6)
    cycled = 1.0 if expected else 0.0
    np.testing.assert_allclose(series(result, "charge_mw"), [cycled, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "discharge_mw"), [0.0, cycled], atol=1e-6)
    assert result.terms_yuan["degradation"] == pytest.approx(wear * cycled, abs=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_battery_never_charges_and_discharges_at_once_at_negative_price(handoff):
    # Full 1 MW / 1 MWh batteries (eta 0.9/0.9) that must end empty; prices -50 then 100.
    # The LP would burn energy at -50: charge 1 MW and discharge 0.81 MW at once (soc stays full),
    # importing 0.19 MW for 9.5 yuan, then sell 0.9 MWh at 100: 99.5 yuan each. The binary of the
    # negative period forbids that: idle at -50 (full), sell 0.9 at 100: 90 yuan each.
    full = {"power_mw": 1.0, "energy_mwh": 1.0, "soc_initial_mwh": 1.0, "soc_final_mwh": 0.0}
    full |= {"charge_efficiency": 0.9, "discharge_efficiency": 0.9}
    pf = portfolio(battery("a", **full), battery("b", **full))
    result = solve(prepare_problem(pf, index(2), [-50.0, 100.0]), SolveOptions(handoff=handoff))
    assert result.stats.n_binaries == 1 * 2  # negative periods x batteries
    for id_ in ("a", "b"):
        both = np.minimum(series(result, "charge_mw", id_), series(result, "discharge_mw", id_))
        np.testing.assert_allclose(both, 0.0, atol=1e-6)
        np.testing.assert_allclose(series(result, "discharge_mw", id_), [0.0, 0.9], atol=1e-6)
    assert result.objective_yuan == pytest.approx(180.0, abs=1e-6)
    relaxed = prepare_problem(pf, index(2), [-50.0, 100.0], allow_binaries=False)
    lp = solve(relaxed, SolveOptions(handoff=handoff))
    assert lp.stats.n_binaries == 0
    assert lp.objective_yuan == pytest.approx(2 * 99.5, abs=1e-6)
    np.testing.assert_allclose(lp.series["battery.discharge_mw"]["a"], [0.81, 0.9], atol=1e-6)


def test_battery_binaries_only_in_negative_price_periods():
    prices = [-50.0, 100.0, -20.0, 200.0, 30.0, -1.0]
    pf = portfolio(battery("a"), battery("b"), battery("c"))
    result = solve(prepare_problem(pf, index(6), prices))
    assert result.stats.n_binaries == 3 * 3  # 3 negative periods x 3 batteries
    charge = result.series["battery.charge_mw"].to_numpy()
    discharge = result.series["battery.discharge_mw"].to_numpy()
    np.testing.assert_allclose(np.minimum(charge, discharge), 0.0, atol=1e-6)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_battery_positive_prices_need_no_binaries(handoff):
    pf = portfolio(battery("a"), battery("b", charge_efficiency=0.8))
    result = solve(prepare_problem(pf, index(4), [0.0, 100.0, 5.0, 300.0]), SolveOptions(handoff=handoff))
    assert result.stats.n_binaries == 0
    assert result.stats.mip_gap is None
