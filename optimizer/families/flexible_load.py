"""Flexible-load family: consumption that may move between periods while keeping its daily energy.

Sets: ``A`` (flexible-load ids), ``AC`` (those with a ``curtailment_cost``, a subset of ``A``), the
model's ``T`` (periods). With ``dt[t]`` the period length (h) and ``baseline_mw[a,t] = scale_mw[a] *
baseline[a,t]`` (MW, >= 0)::

    baseline_mw[a,t] * (1 - down_frac[a]) <= consumption_mw[a,t] <= baseline_mw[a,t] * (1 + up_frac[a])
    energy_max:  sum_t consumption_mw[a,t] * dt[t] <= energy_max_mwh[a]
    energy_min:  sum_t consumption_mw[a,t] * dt[t] + curtailed_mwh[a] >= energy_min_mwh[a]
                 (curtailed_mwh only for a in AC; 0 <= curtailed_mwh[a], MWh)
    net_mw[a,t] = -consumption_mw[a,t]                                      (MW, export positive)
    cost load_curtailment = sum_{a in AC} curtailment_cost[a] * curtailed_mwh[a]        (yuan)

The daily energy targets are what remains of the baseline's daily energy after what was consumed
before the horizon's first period. Initial-state keys (MWh, default 0): ``energy_consumed_mwh``
(consumed today before the horizon) and ``baseline_energy_before_mwh`` (the baseline's energy today
before the horizon, for a horizon that starts mid-day)::

    E_base[a] = baseline_energy_before_mwh[a] + sum_t baseline_mw[a,t] * dt[t]       (MWh, the day)
    energy_max_mwh[a] = E_base[a] * (1 + energy_tolerance_frac[a]) - energy_consumed_mwh[a]
    energy_min_mwh[a] = E_base[a] * (1 - energy_tolerance_frac[a]) - energy_consumed_mwh[a]

A horizon that is not one trading day keeps the baseline's energy over that horizon (plus
``baseline_energy_before_mwh``). ``baseline_mw``,
``energy_max_mwh`` and ``energy_min_mwh`` are mutable Params: a real-time re-solve pins the past
(baseline 0), swaps in a new baseline forecast and restarts from the measured consumption without
rebuilding the model. Curtailment relaxes only the daily energy floor, never the per-period floor;
``curtailed_mwh`` is absent (not merely fixed) for loads without a curtailment cost.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families.common import (
    FamilySchedule,
    ValueReader,
    as_matrix,
    param_init,
    replace_forecast,
    write_forecast,
)
from optimizer.families.protocol import Ordering, Restart, SeriesAt, add_energy
from optimizer.problem import PrepareContext
from vpp.assets import FlexibleLoadSpec
from vpp.assets.flexible_load import ENERGY_CONSUMED_MWH
from vpp.errors import InputError

RESTART: Restart = "any_period"
FORECAST_FIELDS: tuple[str, ...] = ("baseline_mw",)
DAY_VARYING: tuple[str, ...] | None = ("baseline_mw", "energy_max_mwh", "energy_min_mwh")
ORDERED_VARS: Ordering | None = None
TWO_WAY = False
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class FlexibleLoadData:
    """Flexible-load arrays: (A,) per asset, (A, T) per asset and period. Units in the names.

    ``curtailment_cost_yuan_per_mwh`` is NaN for loads that may not curtail.
    """

    ids: list[str]
    baseline_mw: np.ndarray
    up_frac: np.ndarray
    down_frac: np.ndarray
    energy_max_mwh: np.ndarray
    energy_min_mwh: np.ndarray
    curtailment_cost_yuan_per_mwh: np.ndarray
    dt_h: np.ndarray

    @property
    def curtailable(self) -> np.ndarray:
        """Boolean (A,): the load has a curtailment cost."""
        return np.isfinite(self.curtailment_cost_yuan_per_mwh)


def prepare(specs: list[FlexibleLoadSpec], ctx: PrepareContext) -> FlexibleLoadData:
    """Flexible-load specs to arrays (initial-state keys in the module docstring).

    Raises
    ------
    InputError
        A baseline value is negative (consumption is a positive magnitude).
    """
    scale = np.array([s.scale_mw for s in specs])
    profile = np.vstack([ctx.profile(s, "baseline", s.baseline) for s in specs])
    negative = profile < 0
    if negative.any():
        a, t = np.argwhere(negative)[0]
        raise InputError(
            f"baseline is negative ({profile[a, t]:.6g}); consumption is a positive magnitude",
            field=f"{specs[a].id}.baseline",
            timestamp=ctx.index[t],
        )
    baseline = scale[:, None] * profile
    tolerance = np.array([s.energy_tolerance_frac for s in specs])
    consumed = np.array([ctx.state(s.id, "energy_consumed_mwh", 0.0) for s in specs])
    before = np.array([ctx.state(s.id, "baseline_energy_before_mwh", 0.0) for s in specs])
    energy_base = before + baseline @ ctx.dt_h
    return FlexibleLoadData(
        ids=[s.id for s in specs],
        baseline_mw=baseline,
        up_frac=np.array([s.up_frac for s in specs]),
        down_frac=np.array([s.down_frac for s in specs]),
        energy_max_mwh=energy_base * (1.0 + tolerance) - consumed,
        energy_min_mwh=energy_base * (1.0 - tolerance) - consumed,
        curtailment_cost_yuan_per_mwh=np.array(
            [np.nan if s.curtailment_cost is None else s.curtailment_cost for s in specs]
        ),
        dt_h=ctx.dt_h,
    )


def build(b: pyo.Block, data: FlexibleLoadData, m: pyo.ConcreteModel) -> None:
    """Create consumption variables, the daily energy window, ``net_mw`` and the curtailment cost."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    dt = data.dt_h.tolist()  # Python floats: numpy scalars times Pyomo objects are slow
    low = (1.0 - data.down_frac).tolist()
    high = (1.0 + data.up_frac).tolist()
    cost = data.curtailment_cost_yuan_per_mwh
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.AC = pyo.Set(initialize=[a for a in ids if data.curtailable[pos[a]]], within=b.A, ordered=True)
    b.baseline_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.baseline_mw, ids))
    b.energy_max_mwh = pyo.Param(b.A, mutable=True, initialize=per_asset(data.energy_max_mwh, ids))
    b.energy_min_mwh = pyo.Param(b.A, mutable=True, initialize=per_asset(data.energy_min_mwh, ids))
    b.consumption_mw = pyo.Var(
        b.A,
        m.T,
        bounds=lambda b, a, t: (low[pos[a]] * b.baseline_mw[a, t], high[pos[a]] * b.baseline_mw[a, t]),
    )
    b.curtailed_mwh = pyo.Var(b.AC, bounds=(0.0, None))

    def energy(b, a):
        return sum(dt[t] * b.consumption_mw[a, t] for t in m.T)

    b.energy_max = pyo.Constraint(b.A, rule=lambda b, a: energy(b, a) <= b.energy_max_mwh[a])
    b.energy_min = pyo.Constraint(
        b.A,
        rule=lambda b, a: energy(b, a) + (b.curtailed_mwh[a] if a in b.AC else 0.0) >= b.energy_min_mwh[a],
    )
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: -b.consumption_mw[a, t])
    b.load_curtailment_cost_yuan = pyo.Expression(
        expr=sum(cost[pos[a]] * b.curtailed_mwh[a] for a in b.AC) if len(b.AC) else 0.0
    )
    b.cost_terms = {"load_curtailment": b.load_curtailment_cost_yuan}


def per_asset(array: np.ndarray, ids: list[str]) -> dict[str, float]:
    """Initial values of a Param indexed by asset from an (A,) array."""
    return {a: float(v) for a, v in zip(ids, array, strict=True)}


def extract(b: pyo.Block, data: FlexibleLoadData, values: ValueReader) -> FamilySchedule:
    """Solved consumption and its baseline, each (A, T); the curtailment cost from ``curtailed_mwh``."""
    consumption = as_matrix(values, b.consumption_mw, len(data.ids))
    curtailed = np.zeros(len(data.ids))
    curtailed[data.curtailable] = values(b.curtailed_mwh) if data.curtailable.any() else 0.0
    cost = float(np.nansum(data.curtailment_cost_yuan_per_mwh * curtailed))
    # The Param, not the prepared array: a re-solve may have swapped in a new forecast.
    baseline = np.fromiter((pyo.value(p) for p in b.baseline_mw.values()), float).reshape(consumption.shape)
    return FamilySchedule(
        net_mw=-consumption,
        series={"consumption_mw": consumption, "baseline_mw": baseline},
        costs_yuan={"load_curtailment": cost},
    )


def restart(b: pyo.Block, data: FlexibleLoadData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Optimise periods ``k..T-1`` only, from the energy consumed so far today.

    For ``t < k`` the baseline Param is 0 (so consumption is pinned at 0: the past is settled);
    the daily window shrinks by ``state[a]["energy_consumed_mwh"]`` (MWh consumed in periods
    ``0..k-1``, default 0)::

        energy_max_mwh[a] = max(prepared energy_max - consumed, least consumption still possible)
        energy_min_mwh[a] = prepared energy_min - consumed   (capped at the most still possible
                                                              for loads that cannot curtail)

    Parameters
    ----------
    b : pyo.Block
        The flexible-load block built by :func:`build`.
    data : FlexibleLoadData
        The data it was built from.
    k : int
        First period still to optimise.
    state : dict[str, dict[str, float]]
        Per asset id: ``energy_consumed_mwh`` (MWh).
    """
    baseline = write_forecast(b, data, "baseline_mw", k)
    _set_energy_window(b, data, baseline, k, state)


def set_forecast(b: pyo.Block, data: FlexibleLoadData, name: str, array: np.ndarray) -> None:
    """Replace the baseline forecast (MW), shape (A, T), keeping the restart period.

    Raises
    ------
    ValueError
        Unknown ``name`` (only ``baseline_mw``) or wrong shape.
    """
    replace_forecast(b, data, "baseline_mw", name, array, family="flexible_load", clip_negative=True)


def _set_energy_window(
    b: pyo.Block, data: FlexibleLoadData, baseline: np.ndarray, k: int, state: dict[str, dict[str, float]]
) -> None:
    """Write the daily energy window (MWh) for restart period ``k`` from ``baseline`` (A, T) in MW."""
    rest = baseline[:, k:] @ data.dt_h[k:]
    least = (1.0 - data.down_frac) * rest
    most = (1.0 + data.up_frac) * rest
    for i, a in enumerate(data.ids):
        consumed = float(state.get(a, {}).get("energy_consumed_mwh", 0.0))
        upper = max(float(data.energy_max_mwh[i]) - consumed, float(least[i]))
        lower = float(data.energy_min_mwh[i]) - consumed
        if not data.curtailable[i]:
            lower = min(lower, float(most[i]))
        b.energy_max_mwh[a] = upper
        b.energy_min_mwh[a] = lower


def carry(entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
    """Energy consumed today (MWh)."""
    add_energy(entry, ENERGY_CONSUMED_MWH.name, at("consumption_mw"), dt_h)
