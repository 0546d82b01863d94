"""Heating family: the building as thermal storage, both thermal forms, by hand.

Hourly periods (dt = 1 h). Balance: C * (T[t] - T[t-1]) = dt * (cop * p[t] - Q[t]) with
Q = heat demand, or Q = UA * (T[t-1] - T_out[t]) in the outdoor form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.errors import InputError
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]


def hourly(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", periods=n, freq="h", tz="Asia/Shanghai", name="timestamp")


def portfolio(**asset) -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "heat-test",
            "grid": {"import_limit_mw": 10.0, "export_limit_mw": 10.0},
            "assets": [{"type": "heating", "id": "h", **asset}],
        }
    )


def series(result, name: str) -> np.ndarray:
    return result.series[f"heating.{name}"]["h"].to_numpy()


# rated 2 MW, cop 2, C = 1 MWh/K, demand 1 MW thermal: dT = 2p - 1 per hour.
DEMAND_HOUSE = {
    "rated_power_mw": 2.0,
    "cop": 2.0,
    "thermal_capacity_mwh_per_k": 1.0,
    "heat_demand_mw": 1.0,
    "temp_min_c": 18.0,
    "temp_max_c": 22.0,
    "temp_initial_c": 20.0,
}


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_heating_stays_within_temperature_band(handoff):
    # Prices [10, 10, 100, 100]. 4 MWh thermal of demand and T[3] >= 20 = T[-1] need 2 MWh
    # electric. The cheap periods can take at most what lifts 20 to temp_max 22 by the end of
    # period 1: 2 * (p0 + p1) - 2 <= 2, so p0 + p1 = 2 MWh; then it coasts 22 -> 21 -> 20 with
    # the heating off. Cost 10 * 2 = 20 yuan; objective -20.
    pf = portfolio(**DEMAND_HOUSE)
    result = solve(prepare_problem(pf, hourly(4), [10, 10, 100, 100]), SolveOptions(handoff=handoff))
    power, temp = series(result, "power_mw"), series(result, "temperature_c")
    assert ((temp >= 18 - 1e-6) & (temp <= 22 + 1e-6)).all()
    np.testing.assert_allclose(temp[1:], [22, 21, 20], atol=1e-6)
    np.testing.assert_allclose(power[2:], [0, 0], atol=1e-6)
    assert power.sum() == pytest.approx(2.0)
    assert result.energy_import_mwh == pytest.approx(2.0)
    assert result.objective_yuan == pytest.approx(-20.0)
    np.testing.assert_allclose(series(result, "heat_mw"), 2 * power)
    np.testing.assert_allclose(result.asset_net_mw["h"].to_numpy(), -power)
    assert result.terms_yuan == {"revenue": pytest.approx(-20.0)}


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_heating_outdoor_form_by_hand(handoff):
    # C = 1, UA = 0.1, cop 2, T_out = [10, 0, -10]: T[t] = 0.9 T[t-1] + 2 p[t] + 0.1 T_out[t].
    # Period 0 (price 10): preheat to temp_max: 22 = 18 + 2 p0 + 1 -> p0 = 1.5.
    # Period 1 (100): coast, T = 19.8 (>= temp_min 19). Period 2 (100): 1 MW there lifts T[2] by
    # 2 K, in period 1 only by 1.8 K, so heat last: 20 = 17.82 + 2 p2 - 1 -> p2 = 1.59.
    # Preheating one more MWh in period 0 would give 1.62 K at T[2] for 10 yuan, but T[0] is at 22.
    # Cost 10 * 1.5 + 100 * 1.59 = 174.
    pf = portfolio(
        rated_power_mw=3.0,
        cop=2.0,
        thermal_capacity_mwh_per_k=1.0,
        heat_loss_mw_per_k=0.1,
        outdoor_temperature_c=[10.0, 0.0, -10.0],
        temp_min_c=19.0,
        temp_max_c=22.0,
        temp_initial_c=20.0,
    )
    result = solve(prepare_problem(pf, hourly(3), [10, 100, 100]), SolveOptions(handoff=handoff))
    np.testing.assert_allclose(series(result, "power_mw"), [1.5, 0.0, 1.59], atol=1e-6)
    np.testing.assert_allclose(series(result, "temperature_c"), [22.0, 19.8, 20.0], atol=1e-6)
    assert result.objective_yuan == pytest.approx(-174.0)


def test_heating_initial_temperature_is_mutable_for_a_persistent_resolve():
    # From 21 deg C, T[3] >= temp_final 20 needs only 1.5 MWh; the cheap periods hold 1.5 of it
    # (21 -> 22 needs 2(p0+p1) - 2 <= 1): cost 15. Same as a fresh solve with that state.
    pf = portfolio(**DEMAND_HOUSE, temp_final_c=20.0)
    prices = [10, 10, 100, 100]
    solver = ModelSolver(prepare_problem(pf, hourly(4), prices), SolveOptions(handoff="persistent"))
    assert solver.solve().objective_yuan == pytest.approx(-20.0)
    solver.model.heating.temp0_c["h"] = 21.0
    resolved = solver.solve()
    fresh = solve(prepare_problem(pf, hourly(4), prices, initial_state={"h": {"temperature_c": 21.0}}))
    assert resolved.objective_yuan == pytest.approx(-15.0)
    assert fresh.objective_yuan == pytest.approx(-15.0)


@pytest.mark.parametrize(
    ("changes", "match", "period"),
    [
        # Full power: 20 -> 22 -> 22 -> 19 -> 16: below temp_min 18 in period 3.
        ({"rated_power_mw": 1.0, "heat_demand_mw": [0, 0, 5, 5]}, "at or above temp_min_c 18.*16.00", 3),
        # Heat gains of 3 MW with the heating off: 20 -> 23 > temp_max 22 in period 0.
        ({"heat_demand_mw": -3.0}, "at or below temp_max_c 22", 0),
        # Full power only matches the demand: 20 deg C at most, temp_final 21.
        ({"rated_power_mw": 0.5, "temp_final_c": 21.0}, "temp_final_c 21", None),
    ],
)
def test_heating_impossible_band_is_an_input_error(changes, match, period):
    pf = portfolio(**{**DEMAND_HOUSE, **changes})
    index = hourly(4)
    with pytest.raises(InputError, match=match) as err:
        prepare_problem(pf, index, [10, 10, 10, 10])
    assert "'h'" in str(err.value)
    if period is not None:
        assert err.value.timestamp == index[period]
        assert f"period {period}" in str(err.value)


def test_heating_time_constant_shorter_than_a_period_is_an_input_error():
    pf = portfolio(
        rated_power_mw=1.0,
        thermal_capacity_mwh_per_k=0.5,
        heat_loss_mw_per_k=1.0,
        outdoor_temperature_c=0.0,
    )
    with pytest.raises(InputError, match="'h' loses heat faster"):
        prepare_problem(pf, hourly(2), [10, 10])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n=st.integers(min_value=2, max_value=6),
    outdoor=st.booleans(),
    temp0=st.floats(min_value=18.0, max_value=22.0),
)
def test_heating_band_and_balance_hold_for_random_prices(data, n, outdoor, temp0):
    prices = data.draw(st.lists(st.floats(-50, 500, allow_nan=False), min_size=n, max_size=n))
    rated, cop, capacity, ua = 1.0, 3.0, 2.0, 0.05
    if outdoor:
        # Full power (3 MW heat) beats the largest loss 0.05 * (22 + 10); T_out < temp_min: feasible.
        t_out = data.draw(st.lists(st.floats(-10, 15, allow_nan=False), min_size=n, max_size=n))
        thermal = {"heat_loss_mw_per_k": ua, "outdoor_temperature_c": t_out}
        demand, loss_ua, t_out_arr = np.zeros(n), ua, np.asarray(t_out)
    else:
        # Demand within the heat-pump output: feasible from any start in the band.
        q = data.draw(st.lists(st.floats(0, cop * rated, allow_nan=False), min_size=n, max_size=n))
        thermal = {"heat_demand_mw": q}
        demand, loss_ua, t_out_arr = np.asarray(q), 0.0, np.zeros(n)
    pf = portfolio(
        rated_power_mw=rated,
        cop=cop,
        thermal_capacity_mwh_per_k=capacity,
        temp_initial_c=temp0,
        **thermal,
    )
    handoff = HANDOFFS[n % 2]
    result = solve(prepare_problem(pf, hourly(n), prices), SolveOptions(handoff=handoff))
    power, temp = series(result, "power_mw"), series(result, "temperature_c")
    assert (temp >= 18.0 - 1e-6).all() and (temp <= 22.0 + 1e-6).all()
    assert (power >= -1e-9).all() and (power <= rated + 1e-9).all()
    assert temp[-1] >= temp0 - 1e-6
    before = np.concatenate([[temp0], temp[:-1]])
    lhs = capacity * (temp - before)
    rhs = 1.0 * (cop * power - demand - loss_ua * (before - t_out_arr))
    np.testing.assert_allclose(lhs, rhs, atol=1e-6)
