"""EV-hub family: hand-computed optima on a 4-period hourly horizon, solved with HiGHS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyomo.environ as pyo
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyomo.contrib.solver.solvers.highs import Highs

from optimizer.families import ev_hub, ev_sessions
from optimizer.model import build_model
from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions, solve
from vpp.errors import InputError, InputWarning
from vpp.portfolio import Portfolio

HANDOFFS = ["persistent", "compiled"]
INDEX = pd.date_range("2024-06-01", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")


def portfolio(*assets: dict) -> Portfolio:
    return Portfolio.model_validate(
        {"name": "t", "grid": {"import_limit_mw": 100, "export_limit_mw": 100}, "assets": list(assets)}
    )


def hub(id_: str = "hub", sessions: list[dict] | None = None, **fields) -> dict:
    return {"type": "ev_hub", "id": id_, "sessions": sessions or []} | fields


def session(arrival: str, departure: str, energy: float, power: float = 1.0) -> dict:
    return {"arrival": arrival, "departure": departure, "energy_mwh": energy, "max_power_mw": power}


def series(result, name: str, id_: str = "hub") -> np.ndarray:
    return result.series[f"ev_hub.{name}"][id_].to_numpy()


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_ev_session_gets_its_energy_by_departure(handoff):
    # Connected in periods 1 and 2 (01:00 to 03:00); cheaper periods 0 and 3 are outside the stay.
    problem = prepare_problem(
        portfolio(hub(sessions=[session("01:00", "03:00", 1.0)])), INDEX, [5.0, 50.0, 20.0, 1.0]
    )
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(result.asset_net_mw["hub"], [0.0, 0.0, -1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "charge_mw"), [0.0, 0.0, 1.0, 0.0], atol=1e-6)
    assert result.terms_yuan["revenue"] == pytest.approx(-20.0, abs=1e-6)
    assert result.terms_yuan["v2g_degradation"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("handoff", HANDOFFS)
def test_v2g_discharges_at_the_high_price_and_recharges_before_departure(handoff):
    # Stay 00:00-03:00, 1 MWh needed, 1 MW, v2g efficiency 0.9, wear 10 yuan/MWh. The vehicle fills
    # up at 20 (it may hold at most its 1 MWh need), sells 0.9 MW (1 MWh from the battery) at 100,
    # refills at 20; the price of 500 comes after it left. net = [-1, 0.9, -1, 0].
    spec = hub(
        sessions=[session("00:00", "03:00", 1.0)], v2g=True, v2g_efficiency=0.9, v2g_degradation_cost=10.0
    )
    problem = prepare_problem(portfolio(spec), INDEX, [20.0, 100.0, 20.0, 500.0])
    result = solve(problem, SolveOptions(handoff=handoff))
    np.testing.assert_allclose(result.asset_net_mw["hub"], [-1.0, 0.9, -1.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(series(result, "discharge_mw"), [0.0, 0.9, 0.0, 0.0], atol=1e-6)
    # revenue = -20 + 90 - 20 = 50; wear = 0.9 * 10 = 9
    assert result.terms_yuan["revenue"] == pytest.approx(50.0, abs=1e-6)
    assert result.terms_yuan["v2g_degradation"] == pytest.approx(9.0, abs=1e-6)
    assert result.objective_yuan == pytest.approx(41.0, abs=1e-6)


def test_v2g_min_departure_frac_lets_the_vehicle_leave_half_full():
    # Stay covers the whole horizon; half of the 1 MWh must be there at the end: after refilling at
    # 20 it sells 0.5 MWh from the battery (0.45 MW at 0.9) at 100 in the last period.
    spec = hub(
        sessions=[session("00:00", "04:00", 1.0)],
        v2g=True,
        v2g_efficiency=0.9,
        v2g_degradation_cost=10.0,
        min_departure_frac=0.5,
    )
    result = solve(prepare_problem(portfolio(spec), INDEX, [20.0, 100.0, 20.0, 100.0]))
    np.testing.assert_allclose(result.asset_net_mw["hub"], [-1.0, 0.9, -1.0, 0.45], atol=1e-6)
    # revenue = -20 + 90 - 20 + 45 = 95; wear = (0.9 + 0.45) * 10 = 13.5
    assert result.terms_yuan["revenue"] == pytest.approx(95.0, abs=1e-6)
    assert result.terms_yuan["v2g_degradation"] == pytest.approx(13.5, abs=1e-6)


def test_session_that_cannot_get_its_energy_is_served_as_far_as_possible_with_a_warning():
    # issue 13 item 10: one impossible session no longer fails the whole problem
    spec = hub("depot", sessions=[session("01:00", "03:00", 1.0), session("01:00", "03:00", 1.9)])
    spec["charge_efficiency"] = 0.9
    with pytest.warns(InputWarning) as caught:
        problem = prepare_problem(portfolio(spec), INDEX, [1.0] * 4)
    message = str(caught[0].message)
    # 2 connected hours at 1 MW and 90 %: at most 1.8 MWh, the second session needs 1.9
    assert "depot" in message and "session 1" in message and "served as far as possible" in message
    assert "1.9 MWh" in message and "1.8 MWh" in message and "0.1 MWh short" in message
    data = problem.families["ev_hub"]
    np.testing.assert_allclose(data.need_mwh, [1.0, 1.8])
    np.testing.assert_allclose(data.shortfall_mwh, [0.0, 0.1], atol=1e-12)
    result = solve(problem)
    # the short session draws its 2 MWh (full power while present), the other exactly 1 / 0.9 MWh
    net = result.asset_net_mw["depot"].to_numpy()
    assert net.sum() == pytest.approx(-(2.0 + 1.0 / 0.9), abs=1e-6)
    assert net[0] == pytest.approx(0.0, abs=1e-9) and net[3] == pytest.approx(0.0, abs=1e-9)


def test_fleet_draws_its_pro_rata_energy_where_available_and_cheap():
    # 12 MWh a day over 4 of 24 hours = 2 MWh; availability caps each period, cheapest first:
    # period 3 (price 1) has no charger, period 2 (5) half, period 1 (10) all, then 0.5 at 30.
    spec = hub(fleet={"max_power_mw": 1.0, "availability": [1.0, 1.0, 0.5, 0.0], "daily_energy_mwh": 12.0})
    result = solve(prepare_problem(portfolio(spec), INDEX, [30.0, 10.0, 5.0, 1.0]))
    np.testing.assert_allclose(series(result, "fleet_charge_mw"), [0.5, 1.0, 0.5, 0.0], atol=1e-6)
    np.testing.assert_allclose(result.asset_net_mw["hub"], [-0.5, -1.0, -0.5, 0.0], atol=1e-6)
    assert result.terms_yuan["revenue"] == pytest.approx(-(15.0 + 10.0 + 2.5), abs=1e-6)


def test_fleet_that_cannot_get_its_energy_is_an_input_error():
    # 4 h at 1 MW x 50 % availability x 0.9 = 1.8 MWh possible; 12 MWh a day x 4/24 = 2 MWh needed
    spec = hub(
        "depot",
        fleet={"max_power_mw": 1.0, "availability": 0.5, "daily_energy_mwh": 12.0},
        charge_efficiency=0.9,
    )
    with pytest.raises(InputError, match=r"'depot' fleet needs 2 MWh .* at most 1\.8 MWh"):
        prepare_problem(portfolio(spec), INDEX, [1.0] * 4)


def test_fleet_energy_already_delivered_today_counts_toward_the_day():
    # Horizon 20:00-24:00: with 10 MWh delivered earlier today, 12 - 10 = 2 MWh remain.
    index = pd.date_range("2024-06-01 20:00", periods=4, freq="h", tz="Asia/Shanghai", name="timestamp")
    spec = hub(fleet={"max_power_mw": 1.0, "daily_energy_mwh": 12.0})
    problem = prepare_problem(
        portfolio(spec), index, [4.0, 3.0, 2.0, 1.0], initial_state={"hub": {"fleet_delivered_mwh": 10.0}}
    )
    np.testing.assert_allclose(problem.families["ev_hub"].fleet_energy_mwh, [2.0])
    result = solve(problem)
    np.testing.assert_allclose(series(result, "fleet_charge_mw"), [0.0, 0.0, 1.0, 1.0], atol=1e-6)


def test_fleet_day_covers_a_daylight_saving_day_once():
    index = pd.date_range("2024-03-31", periods=23, freq="h", tz="Europe/Berlin", name="timestamp")
    assert ev_sessions.fleet_days(index, np.ones(23)) == pytest.approx((1.0, 0.0))


def test_sessions_placed_on_the_horizon_with_their_presence_share():
    sessions = [
        session("00:30", "02:30", 0.8),  # half of period 0, all of period 1, half of period 2
        session("2024-06-01T02:00:00", "2024-06-01T07:00:00", 3.0),  # leaves 3 h after the end
        session("2024-06-02T01:00:00", "2024-06-02T03:00:00", 1.0),  # another day: dropped
        session("2024-05-31T23:00:00+08:00", "2024-06-01T01:00:00+08:00", 1.5),  # 1 MWh given before
    ]
    problem = prepare_problem(
        portfolio(hub(sessions=sessions)),
        INDEX,
        [1.0, 2.0, 40.0, 30.0],
        initial_state={"hub": {"s3.delivered_mwh": 1.0}},
    )
    data = problem.families["ev_hub"]
    assert data.vehicle_ids == ["hub/s0", "hub/s1", "hub/s3"]
    np.testing.assert_array_equal(data.connected, [[0.5, 1, 0.5, 0], [0, 0, 1, 1], [1, 0, 0, 0]])
    # s1 can still take 3 h x 1 MW after the horizon: it must hold 3 - 3 = 0 at the end, may take 3
    np.testing.assert_allclose(data.need_mwh, [0.8, 0.0, 1.5])
    np.testing.assert_allclose(data.delivered_mwh, [0.0, 0.0, 1.0])
    result = solve(problem)
    # s3: its last 0.5 MWh in period 0 (price 1); s0, present for half of period 0, takes at most
    # 0.5 x 1 MW x 1 h = 0.5 MWh there and the other 0.3 MWh in period 1 (price 2)
    np.testing.assert_allclose(series(result, "charge_mw"), [1.0, 0.3, 0.0, 0.0], atol=1e-6)


def test_hub_with_no_session_on_the_horizon_is_idle():
    spec = hub(sessions=[session("2024-06-05T01:00:00", "2024-06-05T03:00:00", 1.0)])
    result = solve(prepare_problem(portfolio(spec), INDEX, [1.0] * 4))
    np.testing.assert_allclose(result.asset_net_mw["hub"], 0.0)


def test_persistent_resolve_reads_new_connection_masks_and_targets():
    problem = prepare_problem(
        portfolio(hub(sessions=[session("00:00", "04:00", 1.0)])), INDEX, [5.0, 50.0, 20.0, 10.0]
    )
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    np.testing.assert_allclose(series(solver.solve(), "charge_mw"), [1.0, 0.0, 0.0, 0.0], atol=1e-6)
    block = solver.model.ev_hub
    block.connected["hub/s0", 0] = 0.0  # the vehicle turned up late
    block.need_mwh["hub/s0"] = 0.5
    block.cap_mwh["hub/s0"] = 0.5
    np.testing.assert_allclose(series(solver.solve(), "charge_mw"), [0.0, 0.0, 0.0, 0.5], atol=1e-6)


@st.composite
def hubs(draw):
    specs = []
    for h in range(draw(st.integers(1, 3))):
        v2g = draw(st.booleans())
        eta = draw(st.sampled_from([1.0, 0.9]))
        sessions = []
        for _ in range(draw(st.integers(1, 3))):
            start = draw(st.integers(0, 7))  # half hours: arrivals may fall mid-period
            stop = draw(st.integers(start + 1, 8))
            power = draw(st.sampled_from([0.5, 1.0, 2.0]))
            connected_h = (stop - start) / 2  # hours present, all inside the 4-hour horizon
            share = draw(st.floats(0.0, 1.0))
            sessions.append(
                session(
                    f"{start // 2:02d}:{30 * (start % 2):02d}",
                    f"{stop // 2:02d}:{30 * (stop % 2):02d}",
                    round(share * eta * power * connected_h, 6) * 0.999,
                    power,
                )
            )
        specs.append(
            hub(
                f"h{h}",
                sessions=sessions,
                v2g=v2g,
                charge_efficiency=eta,
                min_departure_frac=draw(st.sampled_from([0.5, 1.0])),
            )
        )
    return specs


def solved_vehicles(problem) -> tuple[dict[str, np.ndarray], ev_hub.EvHubData]:
    """Per-vehicle schedules from a direct Pyomo solve with the values loaded into the model."""
    model = build_model(problem)
    Highs().solve(model)

    def values(component):
        return np.array([pyo.value(v) for v in component.values()], dtype=float)

    data = problem.families["ev_hub"]
    return ev_hub.vehicle_schedule(model.ev_hub, data, values), data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=hubs(), prices=st.lists(st.integers(-50, 300), min_size=4, max_size=4))
def test_every_session_gets_its_energy_by_departure_and_charges_only_when_connected(specs, prices):
    problem = prepare_problem(portfolio(*specs), INDEX, [float(p) for p in prices])
    vehicles, data = solved_vehicles(problem)
    charge, discharge, energy = vehicles["charge_mw"], vehicles["discharge_mw"], vehicles["energy_mwh"]
    off = data.connected == 0
    assert np.all(np.abs(charge[off]) <= 1e-7) and np.all(np.abs(discharge[off]) <= 1e-7)
    assert np.all(charge >= -1e-7) and np.all(discharge >= -1e-7)
    assert np.all(charge + discharge <= data.max_power_mw[:, None] + 1e-7)
    assert np.all(energy >= -1e-7)
    for i, vid in enumerate(data.vehicle_ids):
        spec = next(s for s in specs if s["id"] == vid.split("/")[0])
        need = spec["sessions"][data.vehicle_session[i]]["energy_mwh"]
        last = int(np.flatnonzero(data.connected[i])[-1])
        if spec["v2g"]:
            assert energy[i, last] >= spec["min_departure_frac"] * need - 1e-6
        else:
            assert energy[i, last] == pytest.approx(need, abs=1e-6)
        # nothing changes once the vehicle has gone
        np.testing.assert_allclose(energy[i, last:], energy[i, last], atol=1e-7)
    # the public solve (compiled hand-off, numpy extract) of the LP finds the same optimum; the exact
    # one (no v2g charge and discharge at once) no more
    revenue = float(np.dot(prices, (data.hub_matrix() @ (discharge - charge)).sum(axis=0)))
    relaxed = prepare_problem(portfolio(*specs), INDEX, [float(p) for p in prices], allow_binaries=False)
    result = solve(relaxed, SolveOptions(handoff="compiled"))
    assert result.objective_yuan == pytest.approx(revenue, abs=1e-6)
    exact = solve(problem, SolveOptions(handoff="compiled"))
    assert exact.objective_yuan <= revenue + 1e-6
