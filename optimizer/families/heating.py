"""Heating family: electric space heating that uses the building's thermal mass as storage.

Sets: ``A`` (heating ids), the model's ``T`` (periods). With ``dt[t]`` the period length (h),
``temperature_c[a,t]`` the indoor temperature at the END of period t (deg C) and
``power_mw[a,t]`` the electric power drawn (MW)::

    0 <= power_mw[a,t] <= rated_power_mw[a]
    temp_min_c[a] <= temperature_c[a,t] <= temp_max_c[a]
    heating_balance:  C[a] * (temperature_c[a,t] - temperature_c[a,t-1])
                        = dt[t] * (cop[a] * power_mw[a,t] - heat_demand_mw[a,t]
                                   - UA[a] * (temperature_c[a,t-1] - outdoor_temperature_c[a,t]))
                      (temperature_c[a,-1] = temp_initial_c[a])
    heating_final:    temperature_c[a,T-1] >= temp_final_c[a]
    heat_mw[a,t] = cop[a] * power_mw[a,t]            (MW thermal delivered)
    net_mw[a,t] = -power_mw[a,t]                     (heating consumes)

``C`` is the thermal capacity (MWh/K) and ``UA`` the heat loss (MW/K). The two forms of the spec
share the balance: the heat-demand form has ``UA = 0`` and ``heat_demand_mw`` from its profile; the
outdoor form has ``heat_demand_mw = 0``, ``UA = heat_loss_mw_per_k`` and the outdoor temperature
profile. The family has no cost terms: the electricity is paid through the fleet's net export.

``temp_initial_c`` (initial-state key ``temperature_c``), ``temp_final_c``, ``heat_demand_mw``
and ``outdoor_temperature_c`` are mutable Params: a real-time re-solve restarts from the measured
temperature or takes a new forecast without rebuilding the model.

``prepare`` checks each building before any model exists and raises :class:`vpp.errors.InputError`
naming the asset and the first failing period when the band cannot hold: even full power cannot
keep the temperature at or above ``temp_min_c`` (the highest reachable trajectory, full power
clipped at ``temp_max_c``, falls below it), heating off cannot keep it at or below ``temp_max_c``,
or the end-of-day temperature is out of reach. It also requires ``dt * UA <= C`` (a building's
time constant of at least one period), without which the balance overshoots the outdoor
temperature.

Real-time restart: ``restart`` sets the day-start temperature only (within a day the past is pinned
by ``ModelSolver.carry_out``); power bounds (``rated_power_mw``) and the
heat-loss coefficient ``UA`` are not mutable Params, so the past periods cannot be pinned (power 0,
temperature held). The backtest simulator (``simulator.day_model``) therefore rebuilds a model over
the remaining periods for a portfolio with this family (slow, and daily budgets are re-sized over
the remaining horizon).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families.common import FamilySchedule, ValueReader, as_matrix, param_init
from optimizer.families.protocol import Ordering, Restart, SeriesAt
from optimizer.problem import PrepareContext
from vpp.assets import HeatingSpec
from vpp.assets.heating import TEMPERATURE_C
from vpp.errors import InputError

_TOL_K = 1e-7
"""Tolerance (K) of the reachability check."""


RESTART: Restart = "day_start"
FORECAST_FIELDS: tuple[str, ...] = ("heat_demand_mw", "outdoor_temperature_c")
DAY_VARYING: tuple[str, ...] | None = ("heat_demand_mw", "outdoor_temperature_c", "temp0_c")
ORDERED_VARS: Ordering | None = None
TWO_WAY = False
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class HeatingData:
    """Heating arrays: (A,) per asset, (A, T) per asset and period. Units in the names.

    ``heat_loss_mw_per_k`` is 0 and ``outdoor_temperature_c`` 0 for heat-demand-form assets;
    ``heat_demand_mw`` is 0 for outdoor-form assets.
    """

    ids: list[str]
    rated_power_mw: np.ndarray
    cop: np.ndarray
    capacity_mwh_per_k: np.ndarray
    heat_loss_mw_per_k: np.ndarray
    heat_demand_mw: np.ndarray
    outdoor_temperature_c: np.ndarray
    temp_min_c: np.ndarray
    temp_max_c: np.ndarray
    temp0_c: np.ndarray
    temp_final_c: np.ndarray
    dt_h: np.ndarray


def prepare(specs: list[HeatingSpec], ctx: PrepareContext) -> HeatingData:
    """Heating specs to arrays, checked for feasibility; initial-state key ``temperature_c``."""
    zeros = np.zeros(ctx.n_periods)
    demand = np.vstack(
        [
            zeros if s.heat_demand_mw is None else ctx.profile(s, "heat_demand_mw", s.heat_demand_mw)
            for s in specs
        ]
    )
    outdoor = np.vstack(
        [
            zeros
            if s.outdoor_temperature_c is None
            else ctx.profile(s, "outdoor_temperature_c", s.outdoor_temperature_c)
            for s in specs
        ]
    )
    data = HeatingData(
        ids=[s.id for s in specs],
        rated_power_mw=np.array([s.rated_power_mw for s in specs]),
        cop=np.array([s.cop for s in specs]),
        capacity_mwh_per_k=np.array([s.thermal_capacity_mwh_per_k for s in specs]),
        heat_loss_mw_per_k=np.array(
            [s.heat_loss_mw_per_k if s.outdoor_temperature_c is not None else 0.0 for s in specs]
        ),
        heat_demand_mw=demand,
        outdoor_temperature_c=outdoor,
        temp_min_c=np.array([s.temp_min_c for s in specs]),
        temp_max_c=np.array([s.temp_max_c for s in specs]),
        temp0_c=np.array([ctx.state(s.id, "temperature_c", s.temp_initial_c) for s in specs]),
        temp_final_c=np.array([s.temp_final for s in specs]),
        dt_h=ctx.dt_h,
    )
    check_feasible(data, ctx)
    return data


def step_temperature(data: HeatingData, before: np.ndarray, power_mw: np.ndarray, t: int) -> np.ndarray:
    """Temperature at the end of period t (A,) from the one before and the power (MW), per the balance."""
    dt = data.dt_h[t]
    heat = data.cop * power_mw - data.heat_demand_mw[:, t]
    loss = data.heat_loss_mw_per_k * (before - data.outdoor_temperature_c[:, t])
    return before + dt * (heat - loss) / data.capacity_mwh_per_k


def reachable_band(data: HeatingData) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Highest and lowest reachable temperatures (A, T) and the unclipped steps that produced them.

    ``high_raw[:, t]`` is full power from the highest temperature reachable at t-1, ``low_raw`` is
    heating off from the lowest; ``high``/``low`` clip those to the band. With ``dt * UA <= C``
    the balance is monotone in the previous temperature and the power, so a period t is feasible
    exactly when ``high_raw[:, t] >= temp_min`` and ``low_raw[:, t] <= temp_max``.
    """
    n_assets, n_periods = data.heat_demand_mw.shape
    high_raw, low_raw = np.empty((n_assets, n_periods)), np.empty((n_assets, n_periods))
    high, low = data.temp0_c.copy(), data.temp0_c.copy()
    for t in range(n_periods):
        high_raw[:, t] = step_temperature(data, high, data.rated_power_mw, t)
        low_raw[:, t] = step_temperature(data, low, np.zeros(n_assets), t)
        high = np.clip(high_raw[:, t], data.temp_min_c, data.temp_max_c)
        low = np.clip(low_raw[:, t], data.temp_min_c, data.temp_max_c)
    clip = (data.temp_min_c[:, None], data.temp_max_c[:, None])
    return np.clip(high_raw, *clip), np.clip(low_raw, *clip), high_raw, low_raw


def check_feasible(data: HeatingData, ctx: PrepareContext) -> None:
    """Raise :class:`InputError` naming the first heating asset whose band cannot hold, and when."""
    fast = data.dt_h.max() * data.heat_loss_mw_per_k > data.capacity_mwh_per_k
    if fast.any():
        i = int(np.flatnonzero(fast)[0])
        raise InputError(
            f"heating '{data.ids[i]}' loses heat faster than one period can represent: "
            f"heat_loss_mw_per_k x period ({data.dt_h.max():g} h) exceeds thermal_capacity_mwh_per_k "
            f"{data.capacity_mwh_per_k[i]:g}",
            field=f"{data.ids[i]}.heat_loss_mw_per_k",
        )
    high, _, high_raw, low_raw = reachable_band(data)
    too_cold = high_raw < data.temp_min_c[:, None] - _TOL_K
    too_hot = low_raw > data.temp_max_c[:, None] + _TOL_K
    short_end = high[:, -1] < data.temp_final_c - _TOL_K
    for i, asset in enumerate(data.ids):
        if too_cold[i].any():
            t = int(np.flatnonzero(too_cold[i])[0])
            raise InputError(
                f"heating '{asset}' cannot keep the temperature at or above temp_min_c "
                f"{data.temp_min_c[i]:g} deg C: even at full power ({data.rated_power_mw[i]:g} MW) it falls "
                f"to {high_raw[i, t]:.2f} deg C in period {t}",
                field=asset,
                timestamp=ctx.index[t],
            )
        if too_hot[i].any():
            t = int(np.flatnonzero(too_hot[i])[0])
            raise InputError(
                f"heating '{asset}' cannot keep the temperature at or below temp_max_c "
                f"{data.temp_max_c[i]:g} deg C: even with heating off it rises to {low_raw[i, t]:.2f} deg C "
                f"in period {t}",
                field=asset,
                timestamp=ctx.index[t],
            )
        if short_end[i]:
            raise InputError(
                f"heating '{asset}' cannot end the horizon at or above temp_final_c "
                f"{data.temp_final_c[i]:g} deg C: at most {high[i, -1]:.2f} deg C is reachable",
                field=f"{asset}.temp_final_c",
            )


def build(b: pyo.Block, data: HeatingData, m: pyo.ConcreteModel) -> None:
    """Create heating power and temperature variables, the thermal balance and ``net_mw`` on ``b``."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    dt = data.dt_h
    last = len(dt) - 1
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.temp0_c = pyo.Param(b.A, mutable=True, initialize=dict(zip(ids, data.temp0_c.tolist(), strict=True)))
    b.temp_final_c = pyo.Param(
        b.A, mutable=True, initialize=dict(zip(ids, data.temp_final_c.tolist(), strict=True))
    )
    b.heat_demand_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.heat_demand_mw, ids))
    b.outdoor_temperature_c = pyo.Param(
        b.A, m.T, mutable=True, initialize=param_init(data.outdoor_temperature_c, ids)
    )
    b.power_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, data.rated_power_mw[pos[a]]))
    b.temperature_c = pyo.Var(
        b.A, m.T, bounds=lambda b, a, t: (data.temp_min_c[pos[a]], data.temp_max_c[pos[a]])
    )

    def balance(b, a, t):
        i = pos[a]
        before = b.temp0_c[a] if t == 0 else b.temperature_c[a, t - 1]
        heat = data.cop[i] * b.power_mw[a, t] - b.heat_demand_mw[a, t]
        if data.heat_loss_mw_per_k[i] > 0:
            heat = heat - data.heat_loss_mw_per_k[i] * (before - b.outdoor_temperature_c[a, t])
        return data.capacity_mwh_per_k[i] * (b.temperature_c[a, t] - before) == dt[t] * heat

    b.balance = pyo.Constraint(b.A, m.T, rule=balance)
    b.final = pyo.Constraint(b.A, rule=lambda b, a: b.temperature_c[a, last] >= b.temp_final_c[a])
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: -b.power_mw[a, t])
    b.cost_terms = {}


def extract(b: pyo.Block, data: HeatingData, values: ValueReader) -> FamilySchedule:
    """Solved electric power, indoor temperature (end of period) and heat delivered, each (A, T)."""
    n = len(data.ids)
    power = as_matrix(values, b.power_mw, n)
    temperature = as_matrix(values, b.temperature_c, n)
    return FamilySchedule(
        net_mw=-power,
        series={"power_mw": power, "temperature_c": temperature, "heat_mw": data.cop[:, None] * power},
    )


def restart(b: pyo.Block, data: HeatingData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Set the indoor temperature at the start of the horizon from ``state`` (day start, ``k = 0``).

    Within a day a real-time re-solve keeps the past by pinning it instead
    (:meth:`optimizer.solver.ModelSolver.carry_out` in backtests,
    :meth:`~optimizer.solver.ModelSolver.restart_pinning_past` in the service), so only ``k = 0``
    is supported here.
    ``state[a]["temperature_c"]`` (deg C) is clipped to the band; missing assets keep their spec.
    """
    if k != 0:
        raise ValueError(f"heating restarts at the day start only (RESTART day_start), not at {k}")
    for i, a in enumerate(data.ids):
        temp = float(state.get(a, {}).get("temperature_c", data.temp0_c[i]))
        b.temp0_c[a] = float(np.clip(temp, data.temp_min_c[i], data.temp_max_c[i]))


def set_forecast(b: pyo.Block, data: HeatingData, name: str, values: np.ndarray) -> None:
    """Replace ``heat_demand_mw`` or ``outdoor_temperature_c`` (A, T) of every heating asset."""
    if name not in ("heat_demand_mw", "outdoor_temperature_c"):
        raise ValueError(f"heating has no forecast '{name}'")
    param = getattr(b, name)
    for a, row in zip(data.ids, np.asarray(values, dtype=float).tolist(), strict=True):
        for t, v in enumerate(row):
            param[a, t] = v


def carry(entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
    """Indoor temperature at the period's end (deg C)."""
    temp = at("temperature_c")
    if temp is not None:
        entry[TEMPERATURE_C.name] = temp
