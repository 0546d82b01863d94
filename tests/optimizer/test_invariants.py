"""Properties every optimal schedule must have, over random small portfolios of every family.

Checked on the extracted series (not on the model), to 1e-6: state-of-charge and temperature
continuity, each asset's net export from its own series, the fleet net as the sum of asset nets,
and every limit (grid, group, power, energy and state windows). Families not registered in
``optimizer.families.FAMILIES`` are left out of the random portfolios.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.families import FAMILIES
from optimizer.problem import prepare_problem
from optimizer.result import ScheduleResult
from optimizer.solver import SolveOptions, solve
from vpp.assets import ASSET_TYPES
from vpp.portfolio import Portfolio

TOL = 1e-6
GROUP = "feeder-a"


class Budget:
    """What the assets of a scope (fleet or group) must export, can export and may import (MW)."""

    def __init__(self, n_periods: int) -> None:
        self.need = np.zeros(n_periods)
        self.peak = np.zeros(n_periods)
        self.draw = np.zeros(n_periods)


# -- random specs, one maker per family: (rng, sun profile, budgets) -> spec ----------------------------
def make_battery(rng, sun, budgets):
    power, hours = float(rng.uniform(0.2, 2)), float(rng.uniform(0.5, 4))
    energy = power * hours
    soc_min = energy * float(rng.uniform(0, 0.2))
    spec = {
        "type": "battery",
        "charge_power_mw": power,
        "discharge_power_mw": power * float(rng.uniform(0.5, 1.5)),
        "energy_mwh": energy,
        "soc_min_mwh": soc_min,
        "soc_initial_mwh": float(rng.uniform(soc_min, energy)),
        "charge_efficiency": float(rng.uniform(0.8, 1)),
        "discharge_efficiency": float(rng.uniform(0.8, 1)),
        "self_discharge_per_hour": float(rng.uniform(0, 0.03)),
        "degradation_cost": float(rng.uniform(0, 30)),
        "max_cycles_per_day": float(rng.uniform(0.5, 3)) if rng.random() < 0.4 else None,
    }
    if rng.random() < 0.3:
        spec["soc_final_mwh"] = float(rng.uniform(soc_min, spec["soc_initial_mwh"]))
    for b in budgets:
        b.draw += power
    return spec


def make_pv(rng, sun, budgets):
    capacity = float(rng.uniform(0.5, 5))
    profile = np.clip(sun * rng.uniform(0.6, 1, sun.size), 0, 1)
    curtailable = bool(rng.random() < 0.7)
    for b in budgets:
        b.peak += capacity * profile
        if not curtailable:
            b.need += capacity * profile
    return {
        "type": "pv",
        "capacity_mw": capacity,
        "profile": profile.tolist(),
        "curtailable": curtailable,
        "curtailment_cost": float(rng.uniform(0, 20)) if curtailable else 0.0,
    }


def make_load(rng, sun, budgets):
    scale, profile = float(rng.uniform(0.1, 2)), rng.uniform(0, 1, sun.size)
    for b in budgets:
        b.need -= scale * profile
        b.peak -= scale * profile
        b.draw += scale * profile
    return {"type": "load", "profile": profile.tolist(), "scale_mw": scale}


def make_flexible_load(rng, sun, budgets):
    scale, baseline = float(rng.uniform(0.1, 2)), rng.uniform(0, 1, sun.size)
    down, up = float(rng.uniform(0, 0.6)), float(rng.uniform(0, 0.6))
    for b in budgets:
        # Its daily energy may force consumption up to the baseline in every period, so the import
        # limits must leave room for the whole baseline (the per-period floor is not enough).
        b.need -= scale * baseline
        b.peak -= (1 - down) * scale * baseline
        b.draw += (1 + up) * scale * baseline
    return {
        "type": "flexible_load",
        "baseline": baseline.tolist(),
        "scale_mw": scale,
        "up_frac": up,
        "down_frac": down,
        "energy_tolerance_frac": float(rng.uniform(0, 0.2)),
        "curtailment_cost": float(rng.uniform(20, 500)) if rng.random() < 0.5 else None,
    }


def make_generator(rng, sun, budgets):
    max_mw = float(rng.uniform(0.2, 2))
    spec = {"type": "generator", "max_mw": max_mw, "marginal_cost": float(rng.uniform(0, 300))}
    if rng.random() < 0.4:  # unit commitment: binaries
        spec |= {"min_mw": max_mw * float(rng.uniform(0.2, 0.6)), "startup_cost": float(rng.uniform(0, 50))}
    elif rng.random() < 0.5:
        spec["ramp_mw_per_hour"] = max_mw * float(rng.uniform(0.2, 1))
    for b in budgets:
        b.peak += max_mw
    return spec


def make_heating(rng, sun, budgets):
    rated = float(rng.uniform(0.1, 0.5))
    demand = rng.uniform(0.1, 0.5, sun.size) * 3.0 * rated  # at most half of full heat (cop 3)
    for b in budgets:
        b.draw += rated
    return {
        "type": "heating",
        "rated_power_mw": rated,
        "cop": 3.0,
        "thermal_capacity_mwh_per_k": float(rng.uniform(0.5, 2)),
        "heat_demand_mw": demand.tolist(),
        "temp_min_c": 18.0,
        "temp_max_c": 22.0,
        "temp_initial_c": float(rng.uniform(19, 21)),
    }


def make_ev_hub(rng, sun, budgets):
    max_mw = float(rng.uniform(0.2, 1))
    for b in budgets:
        b.draw += max_mw
    return {
        "type": "ev_hub",
        "charge_efficiency": float(rng.uniform(0.85, 1)),
        "fleet": {
            "max_power_mw": max_mw,
            "daily_energy_mwh": float(rng.uniform(0.1, 0.5)) * 24 * max_mw * 0.85,
        },
    }


def make_swap_station(rng, sun, budgets):
    packs, pack = int(rng.integers(1, 6)), float(rng.uniform(0.05, 0.3))
    charger, eta = float(rng.uniform(0.2, 1.5)), float(rng.uniform(0.85, 1))
    # Swaps that half the chargers can always serve (periods of at least 15 minutes): start full,
    # swap at most the packs full at a period's start, recharge at half power in between. The
    # import limits keep room for that half (a forced draw).
    stored, demand = packs * pack, np.zeros(sun.size)
    for t in range(sun.size):
        full = int(stored / pack + 1e-9)
        if rng.random() < 0.3:
            demand[t] = float(rng.integers(0, full + 1))
        stored = min(stored - demand[t] * pack + eta * 0.5 * charger * 0.25, packs * pack)
    for b in budgets:
        b.need -= 0.5 * charger
        b.draw += charger
    spec = {
        "type": "swap_station",
        "packs": packs,
        "pack_energy_mwh": pack,
        "charger_power_mw": charger,
        "charge_efficiency": eta,
        "swap_demand": demand.tolist(),
        "full_packs_initial": float(packs),
        "full_packs_final": float(rng.uniform(0, stored / pack)),
    }
    if rng.random() < 0.5:
        spec["discharge_power_mw"] = float(rng.uniform(0.1, 1))
        spec["discharge_efficiency"] = float(rng.uniform(0.85, 1))
    return spec


MAKERS: dict[str, Callable] = {
    "battery": make_battery,
    "pv": make_pv,
    "load": make_load,
    "flexible_load": make_flexible_load,
    "generator": make_generator,
    "heating": make_heating,
    "ev_hub": make_ev_hub,
    "swap_station": make_swap_station,
}


def random_case(
    seed: int, n_assets: int, n_periods: int, freq: str
) -> tuple[Portfolio, pd.DatetimeIndex, np.ndarray]:
    """A feasible portfolio of the registered families, its horizon (one day at most) and prices."""
    rng = np.random.default_rng(seed)
    families = [f for f in MAKERS if f in FAMILIES]
    sun = np.clip(np.sin(np.pi * (np.arange(n_periods) + 0.5) / n_periods), 0, 1)
    fleet, group = Budget(n_periods), Budget(n_periods)
    assets = []
    for i in range(n_assets):
        family = families[i] if i < len(families) else families[int(rng.integers(len(families)))]
        grouped = bool(rng.random() < 0.5)
        spec = MAKERS[family](rng, sun, [fleet, group] if grouped else [fleet])
        assets.append(spec | {"id": f"{family}-{i}"} | ({"group": GROUP} if grouped else {}))

    def limit(b: Budget) -> dict[str, float]:
        must = float(np.max(b.need, initial=0))
        return {
            "import_limit_mw": float(np.max(b.draw, initial=0)) * float(rng.uniform(0.6, 1.2)) + 0.05,
            "export_limit_mw": max(0.5 * float(np.max(b.peak, initial=0)), 1.05 * must + 0.05),
        }

    grid, group_limit = limit(fleet), limit(group)
    # Fixed draw (loads, least flexible consumption) must fit under the import limits.
    for lim, b in ((grid, fleet), (group_limit, group)):
        lim["import_limit_mw"] = max(lim["import_limit_mw"], float(np.max(-b.need, initial=0)) + 0.05)
    groups = {GROUP: group_limit} if any("group" in a for a in assets) else {}
    portfolio = Portfolio.model_validate(
        {"name": "random", "grid": grid, "group_limits": groups, "assets": assets}
    )
    index = pd.date_range("2024-06-01", periods=n_periods, freq=freq, tz="Asia/Shanghai", name="timestamp")
    prices = rng.uniform(-100, 600, n_periods) if rng.random() < 0.3 else rng.uniform(0, 600, n_periods)
    return portfolio, index, prices


# -- the invariants ------------------------------------------------------------------------------------
def close(a, b, what: str) -> None:
    np.testing.assert_allclose(
        np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=TOL, rtol=0, err_msg=what
    )


def within(values, low, high, what: str) -> None:
    values = np.asarray(values, dtype=float)
    assert (values >= np.asarray(low) - TOL).all(), f"{what}: below {low}: {values}"
    assert (values <= np.asarray(high) + TOL).all(), f"{what}: above {high}: {values}"


def check_battery(spec, r: ScheduleResult, dt: np.ndarray, price: np.ndarray) -> None:
    a = spec.id
    c = r.series["battery.charge_mw"][a].to_numpy()
    d = r.series["battery.discharge_mw"][a].to_numpy()
    soc = r.series["battery.soc_mwh"][a].to_numpy()
    retention = (1 - spec.self_discharge_per_hour) ** dt
    before = np.r_[spec.soc_initial_mwh, soc[:-1]]
    expected = retention * before + spec.charge_efficiency * c * dt - d * dt / spec.discharge_efficiency
    close(soc, expected, f"{a} soc continuity")
    within(c, 0, spec.charge_limit_mw, f"{a} charge")
    within(d, 0, spec.discharge_limit_mw, f"{a} discharge")
    within(soc, spec.soc_min_mwh, spec.soc_ceiling_mwh, f"{a} soc window")
    assert soc[-1] >= spec.soc_final_floor_mwh - TOL, f"{a} soc_final"
    close(r.asset_net_mw[a], d - c, f"{a} net = discharge - charge")
    if spec.max_cycles_per_day is not None:
        assert (d * dt).sum() <= spec.max_cycles_per_day * spec.energy_mwh * dt.sum() / 24 + TOL
    negative = price < 0
    close(np.minimum(c, d)[negative], 0.0, f"{a} charges and discharges at once at a negative price")


def check_pv(spec, r: ScheduleResult, dt, price) -> None:
    a = spec.id
    out = r.series["pv.output_mw"][a].to_numpy()
    available = spec.capacity_mw * np.clip(np.asarray(spec.profile, dtype=float), 0, 1)
    within(out, 0 if spec.curtailable else available, available, f"{a} output")
    close(r.series["pv.curtailed_mw"][a], available - out, f"{a} curtailed")
    close(r.asset_net_mw[a], out, f"{a} net = output")


def check_load(spec, r: ScheduleResult, dt, price) -> None:
    close(r.asset_net_mw[spec.id], -spec.scale_mw * np.asarray(spec.profile, dtype=float), f"{spec.id} net")


def check_flexible_load(spec, r: ScheduleResult, dt, price) -> None:
    a = spec.id
    x = r.series["flexible_load.consumption_mw"][a].to_numpy()
    base = spec.scale_mw * np.asarray(spec.baseline, dtype=float)
    within(x, (1 - spec.down_frac) * base, (1 + spec.up_frac) * base, f"{a} consumption")
    energy, base_energy = (x * dt).sum(), (base * dt).sum()
    assert energy <= base_energy * (1 + spec.energy_tolerance_frac) + TOL, f"{a} energy above window"
    if spec.curtailment_cost is None:
        assert energy >= base_energy * (1 - spec.energy_tolerance_frac) - TOL, f"{a} energy below window"
    close(r.asset_net_mw[a], -x, f"{a} net = -consumption")


def check_generator(spec, r: ScheduleResult, dt, price) -> None:
    a = spec.id
    out = r.series["generator.output_mw"][a].to_numpy()
    within(out, 0, spec.max_mw, f"{a} output")
    if spec.min_mw > 0:
        assert ((out <= TOL) | (out >= spec.min_mw - TOL)).all(), f"{a} below its minimum while on: {out}"
    if spec.ramp_mw_per_hour is not None and not spec.needs_commitment:
        steps = np.diff(np.r_[spec.initial_output_mw, out])
        within(np.abs(steps), 0, spec.ramp_mw_per_hour * dt, f"{a} ramp")
    close(r.asset_net_mw[a], out, f"{a} net = output")


def check_heating(spec, r: ScheduleResult, dt, price) -> None:
    a = spec.id
    p = r.series["heating.power_mw"][a].to_numpy()
    temp = r.series["heating.temperature_c"][a].to_numpy()
    within(p, 0, spec.rated_power_mw, f"{a} power")
    within(temp, spec.temp_min_c, spec.temp_max_c, f"{a} temperature band")
    before = np.r_[spec.temp_initial_c, temp[:-1]]
    demand = np.asarray(spec.heat_demand_mw, dtype=float)
    close(
        spec.thermal_capacity_mwh_per_k * (temp - before), dt * (spec.cop * p - demand), f"{a} heat balance"
    )
    assert temp[-1] >= spec.temp_final - TOL
    close(r.asset_net_mw[a], -p, f"{a} net = -power")


def check_ev_hub(spec, r: ScheduleResult, dt, price) -> None:
    a = spec.id
    fleet = r.series["ev_hub.fleet_charge_mw"][a].to_numpy()
    within(fleet, 0, spec.fleet.max_power_mw, f"{a} fleet charging")
    delivered = (spec.charge_efficiency * fleet * dt).sum()
    close(delivered, spec.fleet.daily_energy_mwh * dt.sum() / 24, f"{a} fleet energy")
    close(r.asset_net_mw[a], -r.series["ev_hub.charge_mw"][a].to_numpy(), f"{a} net = -charge")


def check_swap_station(spec, r: ScheduleResult, dt, price) -> None:
    a = spec.id
    c = r.series["swap_station.charge_mw"][a].to_numpy()
    d = r.series["swap_station.discharge_mw"][a].to_numpy()
    stored = r.series["swap_station.stored_mwh"][a].to_numpy()
    swap = spec.pack_energy_mwh * np.asarray(spec.swap_demand, dtype=float)
    before = np.r_[spec.stored_initial_mwh, stored[:-1]]
    expected = before - swap + spec.charge_efficiency * c * dt - d * dt / spec.discharge_efficiency
    close(stored, expected, f"{a} stock continuity (energy balance)")
    within(before - swap, 0, np.inf, f"{a} full packs meet the swaps")
    within(c, 0, spec.charger_power_mw, f"{a} charging")
    within(d, 0, spec.discharge_power_mw, f"{a} discharge")
    within(stored, 0, spec.stock_mwh, f"{a} stock")
    assert stored[-1] >= spec.stored_final_mwh - TOL, f"{a} final stock"
    close(r.asset_net_mw[a], d - c, f"{a} net = discharge - charge")
    close(np.minimum(c, d), 0.0, f"{a} charges and discharges at once")


CHECKS = {
    "battery": check_battery,
    "pv": check_pv,
    "load": check_load,
    "flexible_load": check_flexible_load,
    "generator": check_generator,
    "heating": check_heating,
    "ev_hub": check_ev_hub,
    "swap_station": check_swap_station,
}


def check_schedule(portfolio: Portfolio, result: ScheduleResult, price: np.ndarray) -> None:
    dt = np.asarray(result.dt_h, dtype=float)
    net = result.net_mw.to_numpy()
    assert list(result.asset_net_mw.columns) == [a.id for a in portfolio.assets]
    close(net, result.asset_net_mw.sum(axis=1), "fleet net = sum of asset nets")
    within(net, -portfolio.grid.import_limit_mw, portfolio.grid.export_limit_mw, "grid connection")
    for group, lim in portfolio.group_limits.items():
        members = [a.id for a in portfolio.assets if a.group == group]
        within(result.asset_net_mw[members].sum(axis=1), -lim.import_limit_mw, lim.export_limit_mw, group)
    close(result.terms_yuan["revenue"], (price * net * dt).sum(), "revenue = sum price x net x dt")
    for spec in portfolio.assets:
        CHECKS[spec.type](spec, result, dt, price)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_assets=st.integers(1, 9),
    n_periods=st.sampled_from([1, 3, 8, 24]),
    freq=st.sampled_from(["h", "15min"]),
    handoff=st.sampled_from(["persistent", "compiled"]),
)
def test_schedules_respect_physics_and_limits(seed, n_assets, n_periods, freq, handoff):
    portfolio, index, price = random_case(seed, n_assets, n_periods, freq)
    result = solve(prepare_problem(portfolio, index, price), SolveOptions(handoff=handoff))
    check_schedule(portfolio, result, price)


def test_every_asset_family_is_covered():
    # Asset types a portfolio can hold (families registered at run time for internal use, such as
    # aggregates, are not portfolio assets).
    assert {"battery", "pv", "load"} <= set(FAMILIES)
    missing = (set(FAMILIES) & set(ASSET_TYPES)) - set(MAKERS)
    assert not missing, f"add random specs and invariants for {sorted(missing)}"
