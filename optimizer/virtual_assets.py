"""The data of virtual assets: several assets of one family combined into one row of its data.

Used by :func:`optimizer.aggregation.aggregate` (the groups and the formulas of each family are in
that module's docstring). Works on frozen family data (numpy only); every per-asset field is
sliced, summed or combined, fields per horizon (``dt_h``, ``binary_periods``, ``exclusive``) are
kept as they are.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from optimizer.families.virtual_battery import VirtualBatteryData
from optimizer.families.virtual_flexible_load import VirtualFlexibleLoadData

_PER_HORIZON = {"dt_h", "binary_periods", "exclusive"}
"""Family data fields that are not per asset (per horizon, or per problem)."""


def take(data: Any, rows: list[int]) -> Any:
    """The family data of the assets at positions ``rows`` (every per-asset field sliced)."""
    updates: dict[str, Any] = {}
    for f in dataclasses.fields(data):
        value = getattr(data, f.name)
        if f.name in _PER_HORIZON:
            continue
        if f.name == "ids":
            updates["ids"] = [value[i] for i in rows]
        elif isinstance(value, np.ndarray) and value.ndim >= 1:
            updates[f.name] = value[rows]
    return dataclasses.replace(data, **updates)


def virtual_battery(d: Any, rows: list[int], vid: str) -> VirtualBatteryData:
    """One virtual battery ``vid`` from the batteries at ``rows`` of ``d`` (per unit of energy the
    most restrictive member; MW, MWh, yuan/MWh as the battery data)."""
    sub = take(d, rows)
    e = sub.energy_mwh
    ev = float(e.sum())

    def ratio(x: np.ndarray, how: Any) -> float:
        return ev * float(how(x / e))

    charge = ratio(sub.charge_limit_mw, np.min)
    discharge = ratio(sub.discharge_limit_mw, np.min)
    n_t = d.charge_max_mw.shape[1]
    one = np.ones((1, n_t))
    budget = ratio(sub.max_discharge_mwh, np.min) if np.isfinite(sub.max_discharge_mwh).all() else np.inf
    low = dataclasses.replace(
        sub,
        ids=[vid],
        charge_limit_mw=np.array([charge]),
        discharge_limit_mw=np.array([discharge]),
        charge_max_mw=charge * one,
        discharge_max_mw=discharge * one,
        eta_charge=np.array([sub.eta_charge.min()]),
        eta_discharge=np.array([sub.eta_discharge.min()]),
        energy_mwh=np.array([ev]),
        soc_min_mwh=np.array([ratio(sub.soc_min_mwh, np.max)]),
        soc_max_mwh=np.array([ratio(sub.soc_max_mwh, np.min)]),
        soc0_mwh=np.array([ratio(sub.soc0_mwh, np.min)]),
        soc_final_mwh=np.array([ratio(sub.soc_final_mwh, np.max)]),
        retention=sub.retention.min(axis=0, keepdims=True),
        degradation_cost_yuan_per_mwh=np.array(
            [float(np.average(sub.degradation_cost_yuan_per_mwh, weights=e))]
        ),
        max_discharge_mwh=np.array([budget]),
    )
    return VirtualBatteryData(
        base=low,
        eta_charge_max=np.array([sub.eta_charge.max()]),
        eta_discharge_max=np.array([sub.eta_discharge.max()]),
        retention_max=sub.retention.max(axis=0, keepdims=True),
        soc0_max_mwh=np.array([ratio(sub.soc0_mwh, np.max)]),
    )


def virtual_pv(d: Any, rows: list[int], vid: str) -> Any:
    """One PV row ``vid``: summed availability and floor (MW), capacity-weighted curtailment cost."""
    sub = take(d, rows)
    cap = sub.available_mw.max(axis=1) + 1e-12
    return dataclasses.replace(
        sub,
        ids=[vid],
        available_mw=sub.available_mw.sum(axis=0, keepdims=True),
        floor_mw=sub.floor_mw.sum(axis=0, keepdims=True),
        curtailable=sub.curtailable[:1],
        curtailment_cost_yuan_per_mwh=np.array(
            [float(np.average(sub.curtailment_cost_yuan_per_mwh, weights=cap))]
        ),
    )


def virtual_load(d: Any, rows: list[int], vid: str) -> Any:
    """One fixed load ``vid``: the members' consumption summed (MW)."""
    sub = take(d, rows)
    return dataclasses.replace(sub, ids=[vid], consumption_mw=sub.consumption_mw.sum(axis=0, keepdims=True))


def virtual_flexible_load(d: Any, groups: list[list[int]], vids: list[str]) -> VirtualFlexibleLoadData:
    """One virtual flexible load per group (``vids[k]`` of rows ``groups[k]``): summed band (MW),
    each member's energy window (MWh) and curtailment cost kept."""
    low = (1.0 - d.down_frac[:, None]) * d.baseline_mw
    width = (d.up_frac[:, None] + d.down_frac[:, None]) * d.baseline_mw
    rows = [i for g in groups for i in g]
    member_group = np.concatenate([np.full(len(g), k) for k, g in enumerate(groups)])
    return VirtualFlexibleLoadData(
        ids=vids,
        low_mw=np.vstack([low[g].sum(axis=0) for g in groups]),
        width_mw=np.vstack([width[g].sum(axis=0) for g in groups]),
        member_group=member_group,
        member_low_mwh=low[rows] @ d.dt_h,
        member_width_mw=width[rows],
        member_energy_min_mwh=d.energy_min_mwh[rows],
        member_energy_max_mwh=d.energy_max_mwh[rows],
        member_curtailment_cost=d.curtailment_cost_yuan_per_mwh[rows],
        dt_h=d.dt_h,
    )


def one_row(data: Any) -> Any:
    """Check that a virtual asset's data has one row in every per-asset field (a field added to a
    family later and not aggregated here fails loudly)."""
    inner = data.base if isinstance(data, VirtualBatteryData) else data
    for f in dataclasses.fields(inner):
        value = getattr(inner, f.name)
        if f.name not in _PER_HORIZON and isinstance(value, np.ndarray | list) and len(value) != 1:
            raise ValueError(f"aggregation does not know how to combine field '{f.name}'")
    return data


def concat(parts: list[Any]) -> Any:
    """One family data object from several (per-asset fields stacked)."""
    updates: dict[str, Any] = {}
    for f in dataclasses.fields(parts[0]):
        if f.name in _PER_HORIZON:
            continue
        values = [getattr(p, f.name) for p in parts]
        stacked = [a for v in values for a in v] if f.name == "ids" else np.concatenate(values, axis=0)
        updates[f.name] = stacked
    return dataclasses.replace(parts[0], **updates)
