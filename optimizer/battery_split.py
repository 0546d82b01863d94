"""Closed-form split of a virtual battery's schedule to its members, pro rata to energy.

A virtual battery (:mod:`optimizer.families.virtual_battery`) of members ``i`` with energies ``E_i`` and
``s_i = E_i / sum_j E_j`` never charges and discharges at once, so its net export ``x[t]`` (MW)
fixes its charge ``c[t] = max(-x[t], 0)`` and discharge ``d[t] = max(x[t], 0)``. Every member then
gets ``c_i = s_i c``, ``d_i = s_i d`` (net ``s_i x``). The proof in :mod:`optimizer.families.virtual_battery`
shows this split keeps every member within its power limits, its state-of-charge window, its
final energy and its cycle budget; :func:`pro_rata_split` computes the members' states anyway and
reports the largest violation (MW or MWh), so a caller can fall back to an LP when the schedule
was not one the virtual battery could run (for instance a relaxed LP that charged and discharged
at once). The members' degradation cost equals the virtual battery's (its cost is the
energy-weighted mean of theirs), so the split keeps the aggregated objective exactly.

Everything is numpy over (members, periods): no model, no solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.families.battery import BatteryData


@dataclass(frozen=True)
class BatterySplit:
    """Members' schedules of one virtual battery.

    Attributes
    ----------
    net_mw : np.ndarray
        Net export per member (MW, positive = to the grid), (M, T).
    soc_mwh : np.ndarray
        Stored energy at the end of each period (MWh), (M, T).
    violation : float
        Largest amount by which any member exceeds a limit, state window, final energy or cycle
        budget (MW or MWh; 0 when every member is within its own bounds).
    """

    net_mw: np.ndarray
    soc_mwh: np.ndarray
    violation: float


def pro_rata_split(data: BatteryData, rows: np.ndarray, net_mw: np.ndarray) -> BatterySplit:
    """Split the virtual net export ``net_mw`` (MW, (T,)) to the batteries ``rows`` of ``data``.

    Parameters
    ----------
    data : BatteryData
        The full problem's battery data.
    rows : np.ndarray
        Positions in ``data`` of the virtual battery's members, (M,).
    net_mw : np.ndarray
        The virtual battery's net export (MW), (T,).
    """
    rows = np.asarray(rows, dtype=int)
    x = np.asarray(net_mw, dtype=float)
    energy = data.energy_mwh[rows]
    share = (energy / energy.sum())[:, None]
    charge = share * np.maximum(-x, 0.0)[None, :]
    discharge = share * np.maximum(x, 0.0)[None, :]
    dt = data.dt_h
    gain = data.eta_charge[rows, None] * dt[None, :]
    loss = dt[None, :] / data.eta_discharge[rows, None]
    retention = data.retention[rows]
    soc = np.empty_like(charge)
    before = data.soc0_mwh[rows].astype(float)
    for t in range(x.size):  # a recursion in time, vectorised over members
        before = retention[:, t] * before + gain[:, t] * charge[:, t] - loss[:, t] * discharge[:, t]
        soc[:, t] = before
    excess = [
        charge - data.charge_max_mw[rows],
        discharge - data.discharge_max_mw[rows],
        data.soc_min_mwh[rows, None] - soc,
        soc - data.soc_max_mwh[rows, None],
        (data.soc_final_mwh[rows] - soc[:, -1])[:, None],
        ((discharge * dt[None, :]).sum(axis=1) - data.max_discharge_mwh[rows])[:, None],
    ]
    violation = max(0.0, *(float(np.max(e, initial=0.0)) for e in excess))
    return BatterySplit(net_mw=discharge - charge, soc_mwh=soc, violation=violation)
