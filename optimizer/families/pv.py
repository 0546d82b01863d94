"""PV family: output of every PV unit, curtailable down to zero where allowed.

::

    available_mw[a,t] = capacity_mw[a] * profile[a,t]           (clipped to [0, capacity])
    floor_mw[a,t] <= output_mw[a,t] <= available_mw[a,t]        floor = available if not curtailable, else 0
    net_mw[a,t] = output_mw[a,t]
    cost curtailment = sum curtailment_cost[a] * (available_mw[a,t] - output_mw[a,t]) * dt[t]
    tie-break (objective only) = CURTAILMENT_TIEBREAK * sum (available_mw[a,t] - output_mw[a,t]) * dt[t]

The tie-break makes spilling cost :data:`CURTAILMENT_TIEBREAK` yuan/MWh in the objective only (it is
not a reported cost): at a price of exactly 0 with no curtailment cost the solver was indifferent
and spilled everything; now nothing is curtailed at a price >= 0 unless a limit forces it. It can
only change a decision worth less than that per MWh of PV energy, far below any price's precision.

``available_mw`` and ``floor_mw`` are mutable Params, so a re-solve can swap in a new forecast
(:func:`set_forecast`) and optimise only the rest of the day (:func:`restart`: both are 0 before
period ``k``) without rebuilding the model. PV has no state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

from optimizer.families.common import (
    FamilySchedule,
    ValueReader,
    as_matrix,
    checked_forecast,
    param_init,
    write_from_period,
)
from optimizer.families.protocol import Ordering, Restart, no_carry
from optimizer.problem import PrepareContext
from vpp.assets import PvSpec

CURTAILMENT_TIEBREAK = 1e-4
"""Objective-only cost of each MWh of PV spilled (yuan/MWh): breaks the tie at a price of 0."""


RESTART: Restart = "any_period"
FORECAST_FIELDS: tuple[str, ...] = ("available_mw",)
DAY_VARYING: tuple[str, ...] | None = ("available_mw", "floor_mw")
ORDERED_VARS: Ordering | None = (("output_mw", 1),)
TWO_WAY = False
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`)."""


@dataclass(frozen=True)
class PvData:
    """PV arrays: (A,) per asset, (A, T) per asset and period."""

    ids: list[str]
    available_mw: np.ndarray
    floor_mw: np.ndarray
    curtailable: np.ndarray
    curtailment_cost_yuan_per_mwh: np.ndarray
    dt_h: np.ndarray


def prepare(specs: list[PvSpec], ctx: PrepareContext) -> PvData:
    """PV specs to arrays; the per-unit profile is clipped to [0, 1]."""
    capacity = np.array([s.capacity_mw for s in specs])
    profile = np.vstack([ctx.profile(s, "profile", s.profile) for s in specs])
    available = capacity[:, None] * np.clip(profile, 0.0, 1.0)
    curtailable = np.array([s.curtailable for s in specs])
    return PvData(
        ids=[s.id for s in specs],
        available_mw=available,
        floor_mw=np.where(curtailable[:, None], 0.0, available),
        curtailable=curtailable,
        curtailment_cost_yuan_per_mwh=np.array([s.curtailment_cost for s in specs]),
        dt_h=ctx.dt_h,
    )


def build(b: pyo.Block, data: PvData, m: pyo.ConcreteModel) -> None:
    """Create PV output variables, ``net_mw`` and the curtailment cost on block ``b``."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    # Python floats: numpy scalars times Pyomo objects are slow
    weight = (data.curtailment_cost_yuan_per_mwh[:, None] * data.dt_h[None, :]).tolist()
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.available_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.available_mw, ids))
    b.floor_mw = pyo.Param(b.A, m.T, mutable=True, initialize=param_init(data.floor_mw, ids))
    b.output_mw = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (b.floor_mw[a, t], b.available_mw[a, t]))
    b.net_mw = pyo.Expression(b.A, m.T, rule=lambda b, a, t: b.output_mw[a, t])
    costly = [a for a in ids if data.curtailment_cost_yuan_per_mwh[pos[a]] != 0]
    b.curtailment_cost_yuan = pyo.Expression(
        expr=spilled(b, [(a, weight[pos[a]]) for a in costly]) if costly else 0.0
    )
    b.cost_terms = {"curtailment": b.curtailment_cost_yuan}
    spill = [a for a in ids if data.curtailable[pos[a]]]
    hours = data.dt_h.tolist()
    b.tiebreak_yuan = pyo.Expression(
        expr=CURTAILMENT_TIEBREAK * spilled(b, [(a, hours) for a in spill]) if spill else 0.0
    )


def spilled(b: pyo.Block, weights: list[tuple[str, list[float]]]) -> LinearExpression:
    """``sum over (a, w) in weights and t of w[t] * (available_mw[a,t] - output_mw[a,t])``, flat.

    The terms Pyomo's operators would build from ``w * (available - output)``, in the same order,
    without a product node per term: the compiler reads the objective in one pass (same costs,
    same constant). Every ``w[t]`` is non-zero (cost x period length, both > 0).
    """
    available, output = b.available_mw, b.output_mw
    args: list[object] = []
    for a, w in weights:
        for t, wt in enumerate(w):
            args.append(wt * available[a, t])
            args.append(MonomialTermExpression((-wt, output[a, t])))
    return LinearExpression(args)


def extract(b: pyo.Block, data: PvData, values: ValueReader) -> FamilySchedule:
    """Solved output and curtailment, each (A, T)."""
    output = as_matrix(values, b.output_mw, len(data.ids))
    curtailed = np.maximum(data.available_mw - output, 0.0)
    cost = (data.curtailment_cost_yuan_per_mwh[:, None] * curtailed * data.dt_h).sum()
    return FamilySchedule(
        net_mw=output,
        series={"output_mw": output, "curtailed_mw": curtailed},
        costs_yuan={"curtailment": float(cost)},
    )


def restart(b: pyo.Block, data: PvData, k: int, state: dict[str, dict[str, float]]) -> None:
    """Optimise periods ``k..T-1`` only: ``available_mw = floor_mw = 0`` before ``k``.

    PV has no state, so ``state`` is ignored. The forecast last given to :func:`set_forecast`
    (else the prepared one) applies from ``k`` on.

    Parameters
    ----------
    b : pyo.Block
        The PV block built by :func:`build`.
    data : PvData
        The data it was built from.
    k : int
        First period still to optimise.
    state : dict
        Unused (PV holds no energy).
    """
    prev = getattr(b, "_restart_k", 0)
    b._restart_k = int(k)
    _apply(b, data, range(min(k, prev), max(k, prev)))


def set_forecast(b: pyo.Block, data: PvData, name: str, array: np.ndarray) -> None:
    """Replace the available output forecast (MW), shape (A, T), keeping the restart period.

    Parameters
    ----------
    b : pyo.Block
        The PV block.
    data : PvData
        The data it was built from (for curtailability).
    name : str
        ``available_mw`` (MW).
    array : np.ndarray
        New available output per asset and period (MW), clipped at 0.

    Raises
    ------
    ValueError
        Unknown ``name`` or wrong shape.
    """
    if name != "available_mw":
        raise ValueError(f"pv forecasts: 'available_mw', not {name!r}")
    b._forecast_available_mw = checked_forecast(
        array, data.available_mw, "pv available_mw", clip_negative=True
    )
    _apply(b, data)


def _apply(b: pyo.Block, data: PvData, periods: range | None = None) -> None:
    """Write the Params of ``periods`` (default all) from the forecast and the restart period."""
    k = getattr(b, "_restart_k", 0)
    available = getattr(b, "_forecast_available_mw", data.available_mw)
    floor = np.where(data.curtailable[:, None], 0.0, available)
    write_from_period(b.available_mw, data.ids, available, k, periods)
    write_from_period(b.floor_mw, data.ids, floor, k, periods)


carry = no_carry
