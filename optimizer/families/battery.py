"""Battery family: charge, discharge and state of charge of every battery at once.

Sets: ``A`` (battery ids), the model's ``T`` (periods). With ``dt[t]`` the period length (h)::

    0 <= charge_mw[a,t]    <= charge_max_mw[a,t]
    0 <= discharge_mw[a,t] <= discharge_max_mw[a,t]
    soc_min[a] <= soc_mwh[a,t] <= soc_max[a]
    battery_soc_balance:  soc_mwh[a,t] = retention[a,t] * soc_mwh[a,t-1]
                                        + eta_c[a] * charge_mw[a,t] * dt[t]
                                        - discharge_mw[a,t] * dt[t] / eta_d[a]
                          (soc_mwh[a,-1] = soc0_mwh[a])
    battery_soc_final:    soc_mwh[a,T-1] >= soc_final_mwh[a]
    battery_cycles:       sum_t discharge_mw[a,t] dt[t] <= max_cycles[a] * energy[a] * hours/24
    net_mw[a,t] = discharge_mw[a,t] - charge_mw[a,t]
    cost degradation = sum degradation_cost[a] * discharge_mw[a,t] * dt[t]

No simultaneous charge and discharge: a binary ``charging[a,t]`` forbids it in the periods of
``binary_periods`` (built with the model)::

    charge_mw[a,t] <= charge_limit[a] * charging[a,t]
    discharge_mw[a,t] <= discharge_limit[a] * (1 - charging[a,t])

and :func:`two_way` hands every other period to :mod:`optimizer.exclusive`, which adds the same
binary wherever a solve charges and discharges at once (burning energy pays not only at a negative
price but also before one, or when the export limit binds). ``exclusive = False`` (prepared with
``allow_binaries=False``) leaves the LP relaxation.

``charge_max_mw``, ``discharge_max_mw``, ``retention``, ``soc0_mwh``, ``soc_final_mwh`` and
``max_discharge_mwh`` (the cycle budget) are mutable Params: a real-time re-solve (:func:`restart`)
pins the past (limits 0, retention 1) and restarts from the measured state without rebuilding the
model.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer.exclusive import TwoWay
from optimizer.families.common import FamilySchedule, ValueReader, as_matrix, param_init
from optimizer.families.protocol import Ordering, Restart, SeriesAt, add_energy
from optimizer.problem import PrepareContext
from vpp.assets import BatterySpec
from vpp.assets.battery import DISCHARGED_MWH, SOC_MWH

RESTART: Restart = "any_period"
FORECAST_FIELDS: tuple[str, ...] = ()
DAY_VARYING: tuple[str, ...] | None = ("soc0_mwh",)
ORDERED_VARS: Ordering | None = (("charge_mw", -1), ("discharge_mw", 1))
TWO_WAY = True
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class BatteryData:
    """Battery arrays: (A,) per asset, (A, T) per asset and period. Units in the names."""

    ids: list[str]
    charge_limit_mw: np.ndarray
    discharge_limit_mw: np.ndarray
    charge_max_mw: np.ndarray
    discharge_max_mw: np.ndarray
    eta_charge: np.ndarray
    eta_discharge: np.ndarray
    energy_mwh: np.ndarray
    soc_min_mwh: np.ndarray
    soc_max_mwh: np.ndarray
    soc0_mwh: np.ndarray
    soc_final_mwh: np.ndarray
    retention: np.ndarray
    degradation_cost_yuan_per_mwh: np.ndarray
    max_discharge_mwh: np.ndarray
    dt_h: np.ndarray
    binary_periods: np.ndarray
    exclusive: bool = True


def prepare(specs: list[BatterySpec], ctx: PrepareContext) -> BatteryData:
    """Battery specs to arrays; initial-state overrides use key ``soc_mwh``."""
    n_periods = ctx.n_periods
    charge = np.array([s.charge_limit_mw for s in specs])
    discharge = np.array([s.discharge_limit_mw for s in specs])
    self_discharge = np.array([s.self_discharge_per_hour for s in specs])
    energy = np.array([s.energy_mwh for s in specs])
    hours = float(ctx.dt_h.sum())
    cycles = np.array([np.inf if s.max_cycles_per_day is None else s.max_cycles_per_day for s in specs])
    soc_min = np.array([s.soc_min_mwh for s in specs])
    soc_max = np.array([s.soc_ceiling_mwh for s in specs])
    soc0 = np.array([ctx.state(s.id, "soc_mwh", s.soc_initial_mwh) for s in specs])
    soc0 = np.clip(soc0, soc_min, soc_max)
    binary_periods = np.flatnonzero(ctx.price < 0) if ctx.allow_binaries else np.array([], dtype=int)
    return BatteryData(
        ids=[s.id for s in specs],
        charge_limit_mw=charge,
        discharge_limit_mw=discharge,
        charge_max_mw=np.repeat(charge[:, None], n_periods, axis=1),
        discharge_max_mw=np.repeat(discharge[:, None], n_periods, axis=1),
        eta_charge=np.array([s.charge_efficiency for s in specs]),
        eta_discharge=np.array([s.discharge_efficiency for s in specs]),
        energy_mwh=energy,
        soc_min_mwh=soc_min,
        soc_max_mwh=soc_max,
        soc0_mwh=soc0,
        soc_final_mwh=np.array([s.soc_final_floor_mwh for s in specs]),
        retention=(1.0 - self_discharge[:, None]) ** ctx.dt_h[None, :],
        degradation_cost_yuan_per_mwh=np.array([s.degradation_cost for s in specs]),
        max_discharge_mwh=cycles * energy * hours / 24.0,
        dt_h=ctx.dt_h,
        binary_periods=binary_periods,
        exclusive=ctx.allow_binaries,
    )


def build(b: pyo.Block, data: BatteryData, m: pyo.ConcreteModel) -> None:
    """Create the battery variables, constraints, ``net_mw`` and cost terms on block ``b``."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    dt = data.dt_h.tolist()  # Python floats: numpy scalars times Pyomo objects are slow
    last = len(dt) - 1
    charge_coef = (data.eta_charge[:, None] * data.dt_h[None, :]).tolist()
    discharge_coef = (data.dt_h[None, :] / data.eta_discharge[:, None]).tolist()
    soc_min, soc_max = data.soc_min_mwh.tolist(), data.soc_max_mwh.tolist()
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.charge_max_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.charge_max_mw, ids))
    b.discharge_max_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.discharge_max_mw, ids))
    b.retention = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.retention, ids))
    b.soc0_mwh = pyo.Param(b.A, mutable=True, initialize=dict(zip(ids, data.soc0_mwh, strict=True)))
    b.soc_final_mwh = pyo.Param(b.A, mutable=True, initialize=dict(zip(ids, data.soc_final_mwh, strict=True)))
    b.charge_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, b.charge_max_mw[a, t]))
    b.discharge_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (0.0, b.discharge_max_mw[a, t]))
    b.soc_mwh = pyo.Var(
        b.A,
        m.T,
        bounds=lambda b, a, t: (soc_min[pos[a]], soc_max[pos[a]]),
    )

    soc, charge, discharge, retention = b.soc_mwh, b.charge_mw, b.discharge_mw, b.retention

    def soc_balance(b, a, t):
        # One flat linear expression (the rows Pyomo's operators would build, without the
        # intermediate sums): soc[t] - retention * soc[t-1] - eta_c dt charge + dt/eta_d discharge.
        i = pos[a]
        before = (
            -(retention[a, t] * b.soc0_mwh[a])
            if t == 0
            else MonomialTermExpression((-retention[a, t], soc[a, t - 1]))
        )
        return (
            LinearExpression(
                [
                    soc[a, t],
                    before,
                    MonomialTermExpression((-charge_coef[i][t], charge[a, t])),
                    MonomialTermExpression((discharge_coef[i][t], discharge[a, t])),
                ]
            )
            == 0.0
        )

    b.soc_balance = pyo.Constraint(b.A, m.T, rule=soc_balance)
    b.soc_final = pyo.Constraint(b.A, rule=lambda b, a: b.soc_mwh[a, last] >= b.soc_final_mwh[a])
    limited = [a for a in ids if np.isfinite(data.max_discharge_mwh[pos[a]])]
    if limited:
        b.max_discharge_mwh = pyo.Param(
            limited, mutable=True, initialize={a: float(data.max_discharge_mwh[pos[a]]) for a in limited}
        )
        b.cycles = pyo.Constraint(
            limited,
            rule=lambda b, a: sum(dt[t] * b.discharge_mw[a, t] for t in m.T) <= b.max_discharge_mwh[a],
        )
    if len(data.binary_periods):
        periods = [int(t) for t in data.binary_periods]
        b.charging = pyo.Var(b.A, periods, domain=pyo.Binary)
        b.charge_exclusive = pyo.Constraint(
            b.A,
            periods,
            rule=lambda b, a, t: b.charge_mw[a, t] <= data.charge_limit_mw[pos[a]] * b.charging[a, t],
        )
        b.discharge_exclusive = pyo.Constraint(
            b.A,
            periods,
            rule=lambda b, a, t: (
                b.discharge_mw[a, t] <= data.discharge_limit_mw[pos[a]] * (1 - b.charging[a, t])
            ),
        )
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: b.discharge_mw[a, t] - b.charge_mw[a, t])
    wear = (data.degradation_cost_yuan_per_mwh[:, None] * data.dt_h[None, :]).tolist()
    weights = {
        (a, t): wear[pos[a]][t] for a in ids if data.degradation_cost_yuan_per_mwh[pos[a]] != 0 for t in m.T
    }
    b.degradation_cost_yuan = pyo.Expression(
        expr=sum(w * b.discharge_mw[k] for k, w in weights.items()) if weights else 0.0
    )
    b.cost_terms = {"degradation": b.degradation_cost_yuan}


def two_way(b: pyo.Block, data: BatteryData) -> list[TwoWay]:
    """Charge and discharge of every battery and period without a built binary (see module doc)."""
    if not data.exclusive:
        return []
    n_periods = len(data.dt_h)
    free = np.ones(n_periods, dtype=bool)
    free[data.binary_periods] = False
    periods = np.flatnonzero(free)
    free_periods = periods.tolist()  # Python ints
    keys = [(a, t) for a in data.ids for t in free_periods]
    reps = periods.size
    return [
        TwoWay(
            "battery",
            b.charge_mw,
            b.discharge_mw,
            keys,
            np.repeat(data.charge_limit_mw, reps),
            np.repeat(data.discharge_limit_mw, reps),
        )
    ]


def extract(b: pyo.Block, data: BatteryData, values: ValueReader) -> FamilySchedule:
    """Solved charge, discharge and state of charge, each (A, T)."""
    n = len(data.ids)
    charge = as_matrix(values, b.charge_mw, n)
    discharge = as_matrix(values, b.discharge_mw, n)
    soc = as_matrix(values, b.soc_mwh, n)
    return FamilySchedule(
        net_mw=discharge - charge,
        series={"charge_mw": charge, "discharge_mw": discharge, "soc_mwh": soc},
        costs_yuan={
            "degradation": float((data.degradation_cost_yuan_per_mwh[:, None] * discharge * data.dt_h).sum())
        },
    )


def restart(b: pyo.Block, data: BatteryData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Make the block optimise periods ``k..T-1`` only, from the measured state.

    For ``t < k``: ``charge_max_mw = discharge_max_mw = 0`` and ``retention = 1``, so the stored
    energy is held at ``soc0_mwh`` through the past periods; for ``t >= k`` the prepared limits and
    retention are restored. ``soc_final_mwh`` is lowered to what can still be reached when needed.
    ``soc0_mwh[a]`` becomes ``state[a]["soc_mwh"]`` (MWh, clipped to
    ``[soc_min, soc_max]``) and the cycle budget shrinks by ``state[a]["discharged_mwh"]`` (MWh
    already discharged today, default 0). Assets missing from ``state`` keep their prepared
    initial state.

    Parameters
    ----------
    b : pyo.Block
        The battery block built by :func:`build`.
    data : BatteryData
        The data it was built from.
    k : int
        First period still to optimise (0 = the whole day).
    state : dict[str, dict[str, float]]
        Per asset id: ``soc_mwh`` (MWh) and optionally ``discharged_mwh`` (MWh).
    """
    prev = getattr(b, "_restart_k", 0)
    changed = range(min(k, prev), max(k, prev))  # only periods whose past/future side changed
    b._restart_k = int(k)
    for i, a in enumerate(data.ids):
        for t in changed:
            past = t < k
            b.charge_max_mw[a, t] = 0.0 if past else float(data.charge_max_mw[i, t])
            b.discharge_max_mw[a, t] = 0.0 if past else float(data.discharge_max_mw[i, t])
            b.retention[a, t] = 1.0 if past else float(data.retention[i, t])
        measured = state.get(a, {})
        soc = float(measured.get("soc_mwh", data.soc0_mwh[i]))
        soc = float(np.clip(soc, data.soc_min_mwh[i], data.soc_max_mwh[i]))
        b.soc0_mwh[a] = soc
        # Keep the end-of-day target reachable from the measured state (it always is when the
        # state came from a feasible plan; this guards a start below target late in the day).
        reachable = soc + data.eta_charge[i] * float((data.charge_max_mw[i, k:] * data.dt_h[k:]).sum())
        b.soc_final_mwh[a] = float(min(data.soc_final_mwh[i], reachable))
        if hasattr(b, "max_discharge_mwh") and a in b.max_discharge_mwh:
            used = float(measured.get("discharged_mwh", 0.0))
            b.max_discharge_mwh[a] = max(float(data.max_discharge_mwh[i]) - used, 0.0)


def carry(entry: MutableMapping[str, float], at: SeriesAt, dt_h: float) -> None:
    """Stored energy at the period's end and the energy discharged today (MWh)."""
    entry[SOC_MWH.name] = at("soc_mwh")
    add_energy(entry, DISCHARGED_MWH.name, at("discharge_mw"), dt_h)
