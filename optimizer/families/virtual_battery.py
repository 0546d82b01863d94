"""Virtual-battery family: a group of similar batteries as one, exact for a pro-rata split.

The members ``i`` of a group differ slightly in efficiency and self-discharge. The virtual battery
has the summed limits and energies and is driven by one pair ``charge_mw``, ``discharge_mw``, but
carries TWO state-of-charge trajectories (MWh), one with the group's lowest efficiencies and
retention (the battery family's ``soc_mwh``) and one with the highest::

    soc_mwh[t]    = r_min[t] soc_mwh[t-1]    + eta_c_min c[t] dt - d[t] dt / eta_d_min  >= soc_min
    soc_hi_mwh[t] = r_max[t] soc_hi_mwh[t-1] + eta_c_max c[t] dt - d[t] dt / eta_d_max  <= soc_max
    soc_mwh[-1] = E min_i(soc0_i / E_i),   soc_hi_mwh[-1] = E max_i(soc0_i / E_i)

with per-unit limits the most restrictive of the group (:mod:`optimizer.aggregation`). Split pro rata
(``c_i = s_i c``, ``d_i = s_i d``, ``s_i = E_i / E``), a member's state satisfies
``s_i soc <= soc_i <= s_i soc_hi`` in every period (the step is increasing in the efficiencies, the
retention and the previous state, which is >= 0; by induction), so every member stays within its
own bounds, final energy and cycle budget: the split is feasible, whatever the virtual battery
does. It never charges and discharges at once (:func:`two_way`), so neither does a member.
Listed in :data:`optimizer.families.VIRTUAL_FAMILIES` (made by :mod:`optimizer.aggregation`, never read
from a portfolio file).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from optimizer.families import battery
from optimizer.families.battery import BatteryData
from optimizer.families.common import FamilySchedule, ValueReader
from optimizer.families.protocol import Ordering, Restart, no_carry

RESTART: Restart = "never"
FORECAST_FIELDS: tuple[str, ...] = ()
DAY_VARYING: tuple[str, ...] | None = None
ORDERED_VARS: Ordering | None = battery.ORDERED_VARS
TWO_WAY = True
"""The family's capabilities (:class:`optimizer.families.protocol.FamilyModel`): solved once per
model (no restart), state not carried."""


@dataclass(frozen=True)
class VirtualBatteryData:
    """A battery family data (lowest efficiencies, lowest initial energy per unit) plus the highest
    efficiencies, retention (A, T) and initial energy ``soc0_max_mwh`` (MWh) of the group, (A,)."""

    base: BatteryData
    eta_charge_max: np.ndarray
    eta_discharge_max: np.ndarray
    retention_max: np.ndarray
    soc0_max_mwh: np.ndarray

    @property
    def ids(self) -> list[str]:
        """Virtual asset ids."""
        return self.base.ids


def prepare(specs: list, ctx: object) -> None:
    """Virtual batteries come from :mod:`optimizer.aggregation`, never from a portfolio file."""
    return None


def build(b: pyo.Block, data: VirtualBatteryData, m: pyo.ConcreteModel) -> None:
    """The battery block of ``data.base`` plus ``soc_hi_mwh`` and ``soc_hi_balance``."""
    base = data.base
    battery.build(b, base, m)
    pos = {a: i for i, a in enumerate(base.ids)}
    dt = base.dt_h
    b.soc_hi_mwh = pyo.Var(b.A, m.T, bounds=lambda b, a, t: (None, base.soc_max_mwh[pos[a]]))

    def balance(b, a, t):
        i = pos[a]
        before = float(data.soc0_max_mwh[i]) if t == 0 else b.soc_hi_mwh[a, t - 1]
        return b.soc_hi_mwh[a, t] == (
            float(data.retention_max[i, t]) * before
            + data.eta_charge_max[i] * dt[t] * b.charge_mw[a, t]
            - dt[t] / data.eta_discharge_max[i] * b.discharge_mw[a, t]
        )

    b.soc_hi_balance = pyo.Constraint(b.A, m.T, rule=balance)


def two_way(b: pyo.Block, data: VirtualBatteryData) -> list:
    """The base battery's charge and discharge: never both at once (members split pro rata)."""
    return battery.two_way(b, data.base)


def extract(b: pyo.Block, data: VirtualBatteryData, values: ValueReader) -> FamilySchedule:
    """As the battery family (``soc_mwh`` is the low-efficiency trajectory)."""
    return battery.extract(b, data.base, values)



carry = no_carry
