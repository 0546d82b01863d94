"""Virtual flexible load: a group of flexible loads moved together, exact for its split.

Members ``i`` of a group have per-period bounds ``l_i[t] = (1 - down_i) b_i[t]`` and
``h_i[t] = (1 + up_i) b_i[t]`` (MW, ``b_i`` the baseline) and a daily energy window
``[emin_i, emax_i]`` (MWh). The virtual load chooses one band position ``theta[g,t]`` in [0, 1] per
period; every member then consumes ``c_i[t] = l_i[t] + theta[g,t] (h_i[t] - l_i[t])``::

    net_mw[g,t] = -(sum_i l_i[t] + theta[g,t] sum_i (h_i[t] - l_i[t]))
    member_energy_max:  L_i + sum_t dt[t] theta[g,t] w_i[t] <= emax_i          (w_i = h_i - l_i)
    member_energy_min:  L_i + sum_t dt[t] theta[g,t] w_i[t] + curtailed_i >= emin_i
    cost load_curtailment = sum_i curtailment_cost_i curtailed_i   (curtailed_i only where allowed)

with ``L_i = sum_t dt[t] l_i[t]``. Every member's limits and window hold by construction, so the
split back (``c_i`` above, closed form) is always feasible. It is an inner approximation of the
group: members shift in the same pattern. Listed in :data:`optimizer.families.VIRTUAL_FAMILIES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families.common import FamilySchedule, ValueReader, as_matrix
from optimizer.families.protocol import Ordering, Restart, no_carry

RESTART: Restart = "never"
FORECAST_FIELDS: tuple[str, ...] = ()
DAY_VARYING: tuple[str, ...] | None = None
ORDERED_VARS: Ordering | None = None
TWO_WAY = False
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`): solved once per
model (no restart), state not carried."""


@dataclass(frozen=True)
class VirtualFlexibleLoadData:
    """Per virtual load ``g``: summed bounds (V, T); per member: its group, band and window.

    Attributes
    ----------
    ids : list of str
        Virtual ids (V).
    low_mw, width_mw : np.ndarray
        ``sum_i l_i`` and ``sum_i w_i`` (MW), (V, T).
    member_group : np.ndarray
        Row of each member's virtual load (M,).
    member_low_mwh : np.ndarray
        ``L_i`` (MWh), (M,).
    member_width_mw : np.ndarray
        ``w_i`` (MW), (M, T).
    member_energy_min_mwh, member_energy_max_mwh : np.ndarray
        Energy windows (MWh), (M,).
    member_curtailment_cost : np.ndarray
        yuan/MWh, NaN where the member may not curtail, (M,).
    dt_h : np.ndarray
        Period lengths (h), (T,).
    """

    ids: list[str]
    low_mw: np.ndarray
    width_mw: np.ndarray
    member_group: np.ndarray
    member_low_mwh: np.ndarray
    member_width_mw: np.ndarray
    member_energy_min_mwh: np.ndarray
    member_energy_max_mwh: np.ndarray
    member_curtailment_cost: np.ndarray
    dt_h: np.ndarray


def prepare(specs: list, ctx: object) -> None:
    """Virtual loads come from :mod:`optimizer.aggregation`, never from a portfolio file."""
    return None


def build(b: pyo.Block, data: VirtualFlexibleLoadData, m: pyo.ConcreteModel) -> None:
    """Band positions ``theta``, ``net_mw``, the members' energy windows and curtailment cost."""
    ids = data.ids
    pos = {a: i for i, a in enumerate(ids)}
    dt = data.dt_h
    n_t = len(dt)
    b.A = pyo.Set(initialize=ids, ordered=True)
    b.theta = pyo.Var(b.A, m.T, bounds=(0.0, 1.0))
    low, width = data.low_mw, data.width_mw
    b.net_mw = pyo.Expression(
        b.A, m.T, rule=lambda b, a, t: -(float(low[pos[a], t]) + float(width[pos[a], t]) * b.theta[a, t])
    )
    members = range(len(data.member_group))
    curtails = [i for i in members if np.isfinite(data.member_curtailment_cost[i])]
    b.M = pyo.Set(initialize=list(members), ordered=True)
    b.curtailed_mwh = pyo.Var(curtails, bounds=(0.0, None))

    def energy(b, i):
        a = ids[int(data.member_group[i])]
        w = data.member_width_mw[i]
        return float(data.member_low_mwh[i]) + sum(
            float(dt[t] * w[t]) * b.theta[a, t] for t in range(n_t) if w[t] != 0.0
        )

    emin, emax, cost = data.member_energy_min_mwh, data.member_energy_max_mwh, data.member_curtailment_cost
    b.member_energy_max = pyo.Constraint(b.M, rule=lambda b, i: energy(b, i) <= float(emax[i]))

    def energy_min(b, i):
        slack = b.curtailed_mwh[i] if i in b.curtailed_mwh else 0.0  # noqa: SIM401 (a Pyomo Var)
        return energy(b, i) + slack >= float(emin[i])

    b.member_energy_min = pyo.Constraint(b.M, rule=energy_min)
    b.load_curtailment_cost_yuan = pyo.Expression(
        expr=sum(float(cost[i]) * b.curtailed_mwh[i] for i in curtails) if curtails else 0.0
    )
    b.cost_terms = {"load_curtailment": b.load_curtailment_cost_yuan}


def extract(b: pyo.Block, data: VirtualFlexibleLoadData, values: ValueReader) -> FamilySchedule:
    """Net export and consumption of the virtual loads, (V, T)."""
    theta = as_matrix(values, b.theta, len(data.ids))
    consumption = data.low_mw + theta * data.width_mw
    return FamilySchedule(net_mw=-consumption, series={"consumption_mw": consumption})



carry = no_carry
