"""Reproducible mixed fleets on a real price day, for the benchmarks.

A fleet of N assets: 40 % batteries, 30 % PV, 20 % flexible loads (fixed loads when the
``flexible_load`` family is not registered), 10 % fixed loads; 96 periods of 15 minutes of the
Gansu day-ahead market on 2024-04-16 (``bench/data/SOURCE.md``). The grid export limit is set below
the fleet's midday PV surplus so that it binds at the PV peak (curtailment or charging), and stays
above what the non-curtailable units alone must export, so the problem is feasible.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer.families import FAMILIES
from optimizer.problem import Problem, prepare_problem
from vpp.portfolio import Portfolio

DATA = Path(__file__).resolve().parent / "data" / "gansu_2024-04-16_to_19_15min.csv"
"""Four real days of Gansu prices and provincial load/PV forecasts (15 min, +08:00)."""

TIMEZONE = "Asia/Shanghai"
DAY = "2024-04-16"
"""The day-ahead day; the following days give the new prices of the re-solve benchmark."""

MIX = {"battery": 0.4, "pv": 0.3, "flexible_load": 0.2, "load": 0.1}
"""Share of each family in a fleet."""


@dataclass(frozen=True)
class Fleet:
    """A generated fleet and its day.

    Attributes
    ----------
    portfolio : Portfolio
        The validated portfolio.
    index : pd.DatetimeIndex
        Period starts (Asia/Shanghai), 96 x 15 min.
    price : np.ndarray
        Day-ahead price (yuan/MWh), shape (96,).
    counts : dict[str, int]
        Number of assets per family.
    """

    portfolio: Portfolio
    index: pd.DatetimeIndex
    price: np.ndarray
    counts: dict[str, int]

    def problem(self) -> Problem:
        """The prepared problem of this fleet at its day-ahead price."""
        return prepare_problem(self.portfolio, self.index, self.price)


def read_days() -> pd.DataFrame:
    """The bundled days: ``da_price`` (yuan/MWh), ``load_forecast_mw``, ``pv_forecast_mw`` (MW)."""
    frame = pd.read_csv(DATA)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"]).dt.tz_convert(TIMEZONE)
    return frame.set_index("timestamp")


def day_prices(day: str) -> np.ndarray:
    """Day-ahead prices (yuan/MWh) of one bundled day, shape (96,)."""
    frame = read_days()
    return frame.loc[frame.index.strftime("%Y-%m-%d") == day, "da_price"].to_numpy(dtype=float)


def family_counts(n_assets: int) -> dict[str, int]:
    """Assets per family for a fleet of ``n_assets`` (largest-remainder rounding of :data:`MIX`)."""
    mix = dict(MIX)
    if "flexible_load" not in FAMILIES:
        mix["load"] += mix.pop("flexible_load")
    raw = {k: v * n_assets for k, v in mix.items()}
    counts = {k: int(np.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - counts[k], reverse=True)[: n_assets - sum(counts.values())]:
        counts[k] += 1
    return counts


def make_fleet(n_assets: int, seed: int = 0) -> Fleet:
    """A mixed fleet of ``n_assets`` assets on :data:`DAY`, reproducible from ``seed``.

    Parameters
    ----------
    n_assets : int
        Number of assets (>= 1).
    seed : int
        Seed of the asset parameters.
    """
    rng = np.random.default_rng(seed)
    frame = read_days()
    day = frame.loc[frame.index.strftime("%Y-%m-%d") == DAY]
    index = pd.DatetimeIndex(day.index, name="timestamp", freq="15min")
    n_t = len(index)
    pv_shape = (day["pv_forecast_mw"] / day["pv_forecast_mw"].max()).clip(0, 1).to_numpy()
    load_shape = (day["load_forecast_mw"] / day["load_forecast_mw"].max()).to_numpy()
    counts = family_counts(n_assets)
    assets: list[dict] = []

    for i in range(counts.get("battery", 0)):
        power = float(rng.uniform(0.5, 5.0))
        energy = power * float(rng.choice([1.0, 2.0, 4.0]))
        assets.append(
            {
                "type": "battery",
                "id": f"bess-{i + 1}",
                "power_mw": round(power, 3),
                "energy_mwh": round(energy, 3),
                "soc_initial_mwh": round(0.5 * energy, 3),
                "charge_efficiency": round(float(rng.uniform(0.9, 0.97)), 3),
                "discharge_efficiency": round(float(rng.uniform(0.9, 0.97)), 3),
                "self_discharge_per_hour": round(float(rng.uniform(0.0, 0.002)), 5),
                "degradation_cost": round(float(rng.uniform(0.0, 20.0)), 2),
                "max_cycles_per_day": 1.0 if rng.random() < 0.3 else None,
            }
        )
    noncurtailable_pv = np.zeros(n_t)
    total_pv = np.zeros(n_t)
    for i in range(counts.get("pv", 0)):
        capacity = float(rng.uniform(1.0, 10.0))
        profile = np.clip(pv_shape * rng.uniform(0.85, 1.0) * (1 + 0.03 * rng.standard_normal(n_t)), 0, 1)
        profile = np.round(profile, 4)
        curtailable = bool(rng.random() < 0.8)
        total_pv += capacity * profile
        if not curtailable:
            noncurtailable_pv += capacity * profile
        assets.append(
            {
                "type": "pv",
                "id": f"pv-{i + 1}",
                "capacity_mw": round(capacity, 3),
                "profile": profile.tolist(),
                "curtailable": curtailable,
                "curtailment_cost": round(float(rng.uniform(0.0, 10.0)), 2) if curtailable else 0.0,
            }
        )
    least_load = np.zeros(n_t)
    most_load = np.zeros(n_t)
    for i in range(counts.get("flexible_load", 0)):
        scale = float(rng.uniform(0.5, 3.0))
        baseline = np.round(load_shape * rng.uniform(0.8, 1.0, n_t), 4)
        least_load += 0.7 * scale * baseline
        most_load += 1.3 * scale * baseline
        assets.append(
            {
                "type": "flexible_load",
                "id": f"flex-{i + 1}",
                "baseline": baseline.tolist(),
                "scale_mw": round(scale, 3),
                "up_frac": 0.3,
                "down_frac": 0.3,
                "energy_tolerance_frac": 0.05,
                "curtailment_cost": 600.0 if rng.random() < 0.5 else None,
            }
        )
    for i in range(counts.get("load", 0)):
        scale = float(rng.uniform(0.5, 3.0))
        profile = np.round(load_shape * rng.uniform(0.8, 1.0, n_t), 4)
        least_load += scale * profile
        most_load += scale * profile
        assets.append(
            {"type": "load", "id": f"load-{i + 1}", "profile": profile.tolist(), "scale_mw": round(scale, 3)}
        )

    battery_power = sum(a["power_mw"] for a in assets if a["type"] == "battery")
    must_export = float(np.max(noncurtailable_pv - least_load, initial=0.0))
    midday_surplus = float(np.max(total_pv - least_load, initial=0.0))
    export_limit = max(0.5 * midday_surplus, 1.05 * must_export + 0.1)
    import_limit = float(most_load.max()) + 0.5 * battery_power + 0.1
    portfolio = Portfolio(
        name=f"bench-{n_assets}-seed{seed}",
        market="gansu",
        grid={"import_limit_mw": round(import_limit, 3), "export_limit_mw": round(export_limit, 3)},
        assets=assets,
    )
    price = day["da_price"].to_numpy(dtype=float)
    return Fleet(portfolio=portfolio, index=index, price=price, counts=counts)
