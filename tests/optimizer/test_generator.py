"""Generator family: unit commitment, minimum up/down time, start-up cost and ramps, by hand.

Every case is hourly (dt = 1 h), so MW and MWh coincide and the objective is
sum_t price[t] * output[t] - sum_t marginal_cost * output[t] - startup_cost * starts.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.families import generator
from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.errors import InputError
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]


def hourly(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2025-01-01", periods=n, freq="h", tz="Asia/Shanghai", name="timestamp")


def portfolio(*assets: dict, export_mw: float = 10.0) -> Portfolio:
    return Portfolio.model_validate(
        {
            "name": "gen-test",
            "grid": {"import_limit_mw": 10.0, "export_limit_mw": export_mw},
            "assets": [{"type": "generator", **a} for a in assets],
        }
    )


def run(pf: Portfolio, prices: list[float], handoff: str = "persistent", **kwargs):
    problem = prepare_problem(pf, hourly(len(prices)), prices, **kwargs)
    return solve(problem, SolveOptions(handoff=handoff))


def output(result, asset: str = "g") -> np.ndarray:
    return result.series["generator.output_mw"][asset].to_numpy()


def on(result, asset: str = "g") -> np.ndarray:
    return result.series["generator.on"][asset].to_numpy()


MIN_UP_UNIT = {"id": "g", "min_mw": 1.0, "max_mw": 2.0, "marginal_cost": 50.0, "min_up_hours": 3.0}


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_generator_held_on_by_min_up_time(handoff):
    # Prices [100, 100, 10, 10], cost 50: worth 50/MWh in periods 0-1, -40/MWh in 2-3.
    # Starting in period 0 commits the unit for periods 0-2 (3 h): 2*50 + 2*50 + 1*(10-50) = 160
    # (period 2 at the 1 MW minimum), then off. Starting in period 1: 100 - 40 - 40 = 20. Off: 0.
    result = run(portfolio(MIN_UP_UNIT), [100, 100, 10, 10], handoff)
    np.testing.assert_allclose(output(result), [2, 2, 1, 0], atol=1e-6)
    np.testing.assert_allclose(on(result), [1, 1, 1, 0])
    assert result.objective_yuan == pytest.approx(160.0)
    assert result.terms_yuan["revenue"] == pytest.approx(100 * 2 + 100 * 2 + 10 * 1)
    assert result.terms_yuan["fuel"] == pytest.approx(50 * 5)
    assert result.terms_yuan["startup"] == pytest.approx(0.0)
    assert result.stats.n_binaries == 3 * 4  # on, start, stop over 4 periods


@pytest.mark.parametrize(
    ("startup_cost", "expected_output", "expected_objective"),
    [
        (150.0, [0, 0, 0, 0], 0.0),  # spike worth (100-50)*2 = 100 < 150: stays off
        (50.0, [0, 2, 0, 0], 50.0),  # 100 - 50 = 50 > 0: runs for the spike only
    ],
)
def test_generator_startup_cost_against_a_short_price_spike(
    startup_cost, expected_output, expected_objective
):
    unit = {"id": "g", "max_mw": 2.0, "marginal_cost": 50.0, "startup_cost": startup_cost}
    result = run(portfolio(unit), [40, 100, 40, 40])
    np.testing.assert_allclose(output(result), expected_output, atol=1e-6)
    assert result.objective_yuan == pytest.approx(expected_objective)
    assert result.terms_yuan["startup"] == pytest.approx(startup_cost if expected_objective else 0.0)


def test_generator_startup_cost_keeps_a_running_unit_on_through_a_dip():
    # On at 2 MW, prices [100, 40, 100], cost 50, start-up 100, min 1 MW. Staying on at the
    # minimum through the dip: 100 - 10 + 100 = 190; stopping and restarting: 100 + 100 - 100 = 100.
    unit = {
        "id": "g",
        "min_mw": 1.0,
        "max_mw": 2.0,
        "marginal_cost": 50.0,
        "startup_cost": 100.0,
        "initial_on": True,
        "initial_output_mw": 2.0,
    }
    result = run(portfolio(unit), [100, 40, 100])
    np.testing.assert_allclose(output(result), [2, 1, 2], atol=1e-6)
    assert result.objective_yuan == pytest.approx(190.0)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_generator_ramp_limit(handoff):
    # LP unit (no commitment), 0..4 MW, ramp 1 MW/h from 0 MW, cost 50, prices [10, 10, 100, 100, 10]
    # (-40, -40, +50, +50, -40 per MWh). Along the ramp chain p = [x, x+1, x+2, x+3, x+2] the
    # objective is -20x + 130, so x = 0: output [0, 1, 2, 3, 2], revenue 530, fuel 400, objective 130
    # (without the ramp limit: 4 MW in periods 2-3 only, 400).
    unit = {"id": "g", "max_mw": 4.0, "marginal_cost": 50.0, "ramp_mw_per_hour": 1.0}
    result = run(portfolio(unit), [10, 10, 100, 100, 10], handoff)
    np.testing.assert_allclose(output(result), [0, 1, 2, 3, 2], atol=1e-6)
    assert result.objective_yuan == pytest.approx(130.0)
    assert result.terms_yuan["revenue"] == pytest.approx(530.0)
    assert result.terms_yuan["fuel"] == pytest.approx(400.0)
    assert result.stats.n_binaries == 0
    np.testing.assert_allclose(on(result), [0, 1, 1, 1, 1])


def test_generator_ramp_down_to_minimum_before_stopping():
    # Committed unit on at 4 MW, min 2 MW, ramp 1 MW/h, zero prices: it wants to stop at once but
    # may only leave from at most max(min, ramp) = 2 MW: 4 -> 3 -> 2 -> off. Cost 50*(3+2) = 250.
    unit = {
        "id": "g",
        "min_mw": 2.0,
        "max_mw": 4.0,
        "marginal_cost": 50.0,
        "ramp_mw_per_hour": 1.0,
        "initial_on": True,
        "initial_output_mw": 4.0,
    }
    result = run(portfolio(unit), [0, 0, 0, 0])
    np.testing.assert_allclose(output(result), [3, 2, 0, 0], atol=1e-6)
    np.testing.assert_allclose(on(result), [1, 1, 0, 0])
    assert result.objective_yuan == pytest.approx(-250.0)


def test_generator_starts_at_minimum_above_one_period_of_ramp():
    # min 2 MW > ramp 1 MW/h: a start may jump straight to 2 MW, then ramp 1 MW/h (without the
    # jump the unit could never start: 0). Prices [0, 100, 100, 100], cost 80: [0, 2, 3, 4] earns
    # 20*(2+3+4) = 180; starting in period 0 instead, [2, 3, 4, 4]: -160 + 20*11 = 60.
    unit = {"id": "g", "min_mw": 2.0, "max_mw": 4.0, "marginal_cost": 80.0, "ramp_mw_per_hour": 1.0}
    result = run(portfolio(unit), [0, 100, 100, 100])
    np.testing.assert_allclose(output(result), [0, 2, 3, 4], atol=1e-6)
    assert result.objective_yuan == pytest.approx(180.0)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_generator_without_binaries_is_a_plain_lp(handoff):
    pf = portfolio(MIN_UP_UNIT)
    relaxed = run(pf, [100, 100, 10, 10], handoff, allow_binaries=False)
    assert relaxed.stats.n_binaries == 0
    assert relaxed.stats.mip_gap is None
    assert relaxed.objective_yuan == pytest.approx(160.0)  # the relaxation is tight here

    # A 2 MW block (min = max) behind a 1 MW export limit: the MIP cannot run it (0), the LP runs
    # it "half on" at 1 MW for 2 h at 100 - 50: 100.
    block = {"id": "g", "min_mw": 2.0, "max_mw": 2.0, "marginal_cost": 50.0}
    mip = run(portfolio(block, export_mw=1.0), [100, 100], handoff)
    lp = run(portfolio(block, export_mw=1.0), [100, 100], handoff, allow_binaries=False)
    assert mip.objective_yuan == pytest.approx(0.0)
    assert mip.stats.n_binaries == 6
    assert lp.objective_yuan == pytest.approx(100.0)
    assert lp.stats.n_binaries == 0
    np.testing.assert_allclose(on(lp), [0.5, 0.5], atol=1e-6)


def test_generator_lp_unit_has_no_binaries_next_to_a_committed_one():
    # "lp" (0..1 MW, cost 20) runs whenever the price beats 20: 2 * 80 = 160; "g" as in the
    # min-up case: 160. Only "g" carries binaries.
    lp = {"id": "lp", "max_mw": 1.0, "marginal_cost": 20.0}
    result = run(portfolio(lp, MIN_UP_UNIT), [100, 100, 10, 10])
    assert result.stats.n_binaries == 12
    np.testing.assert_allclose(output(result, "lp"), [1, 1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(output(result, "g"), [2, 2, 1, 0], atol=1e-6)
    assert list(result.asset_net_mw.columns) == ["lp", "g"]
    assert result.objective_yuan == pytest.approx(320.0)


@pytest.mark.parametrize(
    ("state", "prices", "expected_output", "expected_objective"),
    [
        # On for 1 h of a 3 h minimum up time: held on in periods 0-1 at 1 MW at a loss of 40 each.
        (
            {"initial_on": True, "initial_output_mw": 1.0, "initial_hours_in_state": 1.0},
            [10] * 4,
            [1, 1, 0, 0],
            -80,
        ),
        # Off for 1 h of a 2 h minimum down time: may not start before period 1.
        ({"initial_hours_in_state": 1.0}, [100, 100], [0, 2], 100),
    ],
)
def test_generator_initial_state_carries_min_up_and_down(state, prices, expected_output, expected_objective):
    unit = {**MIN_UP_UNIT, "min_down_hours": 2.0, **state}
    result = run(portfolio(unit), prices)
    np.testing.assert_allclose(output(result), expected_output, atol=1e-6)
    assert result.objective_yuan == pytest.approx(expected_objective)


def test_generator_initial_state_is_mutable_for_a_persistent_resolve():
    # Solve from "off for long", then re-solve in place from "on for 1 h at 1 MW": the result must
    # equal a fresh solve from that state (held on in periods 0-1: -80).
    pf = portfolio({**MIN_UP_UNIT, "ramp_mw_per_hour": 1.0})
    prices = [10, 10, 10, 10]
    solver = ModelSolver(prepare_problem(pf, hourly(4), prices), SolveOptions(handoff="persistent"))
    assert solver.solve().objective_yuan == pytest.approx(0.0)

    data = solver.problem.families["generator"]
    on_min, on_max = generator.forced_states(
        data.dt_h, np.array([1.0]), np.array([1.0]), data.min_up_hours, data.min_down_hours
    )
    block = solver.model.generator
    block.on0["g"] = 1.0
    block.output0_mw["g"] = 1.0
    for t in range(4):
        block.on_min["g", t] = on_min[0, t]
        block.on_max["g", t] = on_max[0, t]
    resolved = solver.solve()
    fresh = run(pf, prices, initial_state={"g": {"on": 1, "output_mw": 1.0, "hours_in_state": 1.0}})
    assert resolved.objective_yuan == pytest.approx(-80.0)
    assert fresh.objective_yuan == pytest.approx(-80.0)
    np.testing.assert_allclose(output(resolved), output(fresh), atol=1e-6)


def test_generator_min_up_window_in_quarter_hours():
    # 45 min minimum up time on a 15-minute grid is 3 periods: windows [t-2, t].
    dt = np.full(5, 0.25)
    first = generator.window_first(dt, np.array([0.75, 0.0]))
    np.testing.assert_array_equal(first[0], [0, 0, 0, 1, 2])
    np.testing.assert_array_equal(first[1], [1, 2, 3, 4, 5])  # no limit: empty windows


def test_generator_off_with_output_is_an_input_error():
    unit = {**MIN_UP_UNIT, "initial_on": False, "initial_output_mw": 1.5}
    with pytest.raises(InputError, match="'g' is off at the start"):
        prepare_problem(portfolio(unit), hourly(2), [0, 0])


def brute_force_commitment(prices, unit, on0, hours0):
    """Best objective over every on/off pattern (hourly, no ramp), checking min up/down by hand."""
    n = len(prices)
    margin = np.asarray(prices, dtype=float) - unit["marginal_cost"]
    per_period = np.maximum(margin * unit["max_mw"], margin * unit["min_mw"])
    up, down = int(np.ceil(unit["min_up_hours"])), int(np.ceil(unit["min_down_hours"]))
    best = -np.inf
    for pattern in itertools.product([0, 1], repeat=n):
        x = [on0, *pattern]
        ok = True
        for t in range(1, n + 1):
            if x[t] != x[t - 1]:
                hold = up if x[t] else down
                ok &= all(x[k] == x[t] for k in range(t, min(t + hold, n + 1)))
        held = max((up if on0 else down) - hours0, 0)
        ok &= all(x[k] == on0 for k in range(1, min(held, n) + 1))
        if ok:
            starts = sum(x[t] > x[t - 1] for t in range(1, n + 1))
            best = max(
                best, float(per_period[np.asarray(pattern) == 1].sum()) - unit["startup_cost"] * starts
            )
    return best


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prices=st.lists(st.integers(0, 120), min_size=5, max_size=5),
    min_up=st.integers(0, 3),
    min_down=st.integers(0, 3),
    startup=st.sampled_from([0.0, 30.0, 120.0]),
    on0=st.integers(0, 1),
    hours0=st.integers(0, 3),
)
def test_generator_commitment_matches_brute_force(prices, min_up, min_down, startup, on0, hours0):
    unit = {
        "id": "g",
        "min_mw": 1.0,
        "max_mw": 2.0,
        "marginal_cost": 50.0,
        "startup_cost": startup,
        "min_up_hours": float(min_up),
        "min_down_hours": float(min_down),
        "initial_on": bool(on0),
        "initial_output_mw": float(on0),
        "initial_hours_in_state": float(hours0),
    }
    result = run(portfolio(unit), [float(p) for p in prices], HANDOFFS[sum(prices) % 2])
    expected = brute_force_commitment(prices, unit, on0, hours0)
    assert result.objective_yuan == pytest.approx(expected, abs=1e-6)
