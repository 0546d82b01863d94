"""Battery-swap station family: charging, discharge and stored energy of every station at once.

Sets: ``A`` (station ids), the model's ``T`` (periods). With ``dt[t]`` the period length (h) and
``swap_mwh[a,t] = swap_demand[a,t] * pack_energy_mwh[a]`` (:mod:`vpp.assets.swap_station`)::

    0 <= charge_mw[a,t]    <= charge_max_mw[a,t]
    0 <= discharge_mw[a,t] <= discharge_max_mw[a,t]
    0 <= stored_mwh[a,t]   <= stock_mwh[a]
    0 <= ready_mwh[a,t]
    swap_ready:    ready_mwh[a,t]  = stored_mwh[a,t-1] - swap_mwh[a,t]   (stored_mwh[a,-1] = stored0_mwh[a])
    stock_balance: stored_mwh[a,t] = ready_mwh[a,t] + eta_c[a] * dt[t] * charge_mw[a,t]
                                     - dt[t] / eta_d[a] * discharge_mw[a,t]
    stored_final:  stored_mwh[a,T-1] >= stored_final_mwh[a]
    net_mw[a,t] = discharge_mw[a,t] - charge_mw[a,t]

Charge and discharge are a simultaneous-flow pair (:func:`two_way`): :mod:`optimizer.exclusive`
adds a binary wherever a solve does both. ``charge_max_mw``, ``discharge_max_mw``, ``swap_mwh``
(the forecast, :func:`set_forecast`), ``stored0_mwh`` and ``stored_final_mwh`` are mutable Params:
a real-time re-solve (:func:`restart`) zeroes the past and restarts from the measured stored energy.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.exclusive import TwoWay
from optimizer.families.common import (
    FamilySchedule,
    ValueReader,
    as_matrix,
    param_init,
    replace_forecast,
    restart_window,
    write_from_period,
)
from optimizer.families.protocol import Ordering, Restart, SeriesAt
from optimizer.problem import PrepareContext
from vpp.assets.swap_station import STORED_MWH, SwapStationSpec

RESTART: Restart = "any_period"
FORECAST_FIELDS: tuple[str, ...] = ("swap_mwh",)
DAY_VARYING: tuple[str, ...] | None = ("swap_mwh", "stored0_mwh")
ORDERED_VARS: Ordering | None = (("charge_mw", -1), ("discharge_mw", 1))
TWO_WAY = True
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`). The ordering of
the stochastic model's DA copies is the battery's: the swaps are the same in both copies, so the
stored energy of any dispatch between them lies between theirs."""


@dataclass(frozen=True)
class SwapStationData:
    """Swap-station arrays: (A,) per station, (A, T) per station and period. Units in the names."""

    ids: list[str]
    charge_max_mw: np.ndarray
    discharge_max_mw: np.ndarray
    eta_charge: np.ndarray
    eta_discharge: np.ndarray
    stock_mwh: np.ndarray
    swap_mwh: np.ndarray
    stored0_mwh: np.ndarray
    stored_final_mwh: np.ndarray
    dt_h: np.ndarray


def prepare(specs: list[SwapStationSpec], ctx: PrepareContext) -> SwapStationData:
    """Station specs to arrays; the initial-state override is ``stored_mwh`` (MWh)."""
    ones = np.ones(ctx.n_periods)
    stock = np.array([s.stock_mwh for s in specs])
    demand = np.vstack([ctx.profile(s, "swap_demand", s.swap_demand) for s in specs])
    stored0 = np.array([ctx.state(s.id, STORED_MWH.name, s.stored_initial_mwh) for s in specs])
    return SwapStationData(
        ids=[s.id for s in specs],
        charge_max_mw=np.array([s.charger_power_mw for s in specs])[:, None] * ones,
        discharge_max_mw=np.array([s.discharge_power_mw for s in specs])[:, None] * ones,
        eta_charge=np.array([s.charge_efficiency for s in specs]),
        eta_discharge=np.array([s.discharge_efficiency for s in specs]),
        stock_mwh=stock,
        swap_mwh=np.maximum(demand, 0.0) * np.array([s.pack_energy_mwh for s in specs])[:, None],
        stored0_mwh=np.clip(stored0, 0.0, stock),
        stored_final_mwh=np.array([s.stored_final_mwh for s in specs]),
        dt_h=ctx.dt_h,
    )


def build(b: pyo.Block, data: SwapStationData, m: pyo.ConcreteModel) -> None:
    """Create the station variables, constraints, ``net_mw`` and (no) cost terms on block ``b``."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    last = len(data.dt_h) - 1
    charge_coef = (data.eta_charge[:, None] * data.dt_h[None, :]).tolist()
    discharge_coef = (data.dt_h[None, :] / data.eta_discharge[:, None]).tolist()
    stock = data.stock_mwh.tolist()
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.charge_max_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.charge_max_mw, ids))
    b.discharge_max_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.discharge_max_mw, ids))
    b.swap_mwh = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.swap_mwh, ids))
    stored0 = dict(zip(ids, data.stored0_mwh.tolist(), strict=True))
    b.stored0_mwh = pyo.Param(b.A, mutable=True, initialize=stored0)
    b.stored_final_mwh = pyo.Param(
        b.A, mutable=True, initialize=dict(zip(ids, data.stored_final_mwh.tolist(), strict=True))
    )
    b.charge_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, b.charge_max_mw[a, t]))
    b.discharge_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, b.discharge_max_mw[a, t]))
    b.stored_mwh = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, stock[pos[a]]))
    b.ready_mwh = pyo.Var(b.A, m.T, bounds=(0.0, None))

    def swap_ready(b, a, t):
        before = b.stored0_mwh[a] if t == 0 else b.stored_mwh[a, t - 1]
        return b.ready_mwh[a, t] == before - b.swap_mwh[a, t]

    def stock_balance(b, a, t):
        i = pos[a]
        return b.stored_mwh[a, t] == (
            b.ready_mwh[a, t]
            + charge_coef[i][t] * b.charge_mw[a, t]
            - discharge_coef[i][t] * b.discharge_mw[a, t]
        )

    b.swap_ready = pyo.Constraint(b.A, m.T, rule=swap_ready)
    b.stock_balance = pyo.Constraint(b.A, m.T, rule=stock_balance)
    b.stored_final = pyo.Constraint(b.A, rule=lambda b, a: b.stored_mwh[a, last] >= b.stored_final_mwh[a])
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: b.discharge_mw[a, t] - b.charge_mw[a, t])
    b.cost_terms = {}


def two_way(b: pyo.Block, data: SwapStationData) -> list[TwoWay]:
    """Charging and discharge of every station that may discharge, in every period."""
    rows = [i for i in range(len(data.ids)) if data.discharge_max_mw[i].max() > 0]
    n_periods = len(data.dt_h)
    keys = [(data.ids[i], t) for i in rows for t in range(n_periods)]
    if not keys:
        return []
    charge = data.charge_max_mw[rows].reshape(-1)
    discharge = data.discharge_max_mw[rows].reshape(-1)
    return [TwoWay("swap_station", b.charge_mw, b.discharge_mw, keys, charge, discharge)]


def extract(b: pyo.Block, data: SwapStationData, values: ValueReader) -> FamilySchedule:
    """Solved charging, discharge and stored energy, each (A, T), and the swaps served (MWh)."""
    n = len(data.ids)
    charge = as_matrix(values, b.charge_mw, n)
    discharge = as_matrix(values, b.discharge_mw, n)
    stored = as_matrix(values, b.stored_mwh, n)
    swap = getattr(b, "_forecast_swap_mwh", data.swap_mwh)
    return FamilySchedule(
        net_mw=discharge - charge,
        series={"charge_mw": charge, "discharge_mw": discharge, "stored_mwh": stored, "swap_mwh": swap},
    )


def restart(b: pyo.Block, data: SwapStationData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Optimise periods ``k..T-1`` only, from the measured stored energy.

    Before ``k`` charging, discharge and swaps are 0 (the past is settled), so the stored energy is
    held at ``stored0_mwh`` through it. ``stored0_mwh[a]`` becomes ``state[a]["stored_mwh"]`` (MWh,
    clipped to ``[0, stock]``; missing: the prepared value) and the end-of-day target is lowered to
    what can still be reached when needed.
    """
    k, periods = restart_window(b, k)
    swap = getattr(b, "_forecast_swap_mwh", data.swap_mwh)
    write_from_period(b.charge_max_mw, data.ids, data.charge_max_mw, k, periods)
    write_from_period(b.discharge_max_mw, data.ids, data.discharge_max_mw, k, periods)
    write_from_period(b.swap_mwh, data.ids, swap, k, periods)
    for i, a in enumerate(data.ids):
        stored = float(state.get(a, {}).get(STORED_MWH.name, data.stored0_mwh[i]))
        stored = float(np.clip(stored, 0.0, data.stock_mwh[i]))
        b.stored0_mwh[a] = stored
        charged = data.eta_charge[i] * float((data.charge_max_mw[i, k:] * data.dt_h[k:]).sum())
        reachable = min(stored + charged, float(data.stock_mwh[i])) - float(swap[i, k:].sum())
        b.stored_final_mwh[a] = float(min(data.stored_final_mwh[i], max(reachable, 0.0)))


def set_forecast(b: pyo.Block, data: SwapStationData, name: str, array: np.ndarray) -> None:
    """Replace the swap forecast ``swap_mwh`` (MWh taken out by swaps per period), shape (A, T)."""
    replace_forecast(b, data, "swap_mwh", name, array, family="swap_station", clip_negative=True)


def carry(entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
    """Stored energy at the period's end (MWh)."""
    entry[STORED_MWH.name] = at("stored_mwh")
