"""Aggregate similar assets into virtual assets for a large bid, and split the result back.

Works on a prepared :class:`optimizer.problem.Problem` (numpy only). Groups and virtual assets
(``S_g`` the members of group ``g``, sums over ``i in S_g``):

- battery, grouped by (charge and discharge efficiency, each in ``eff_bins`` bins, duration
  ``E / P_discharge`` in hours rounded to ``duration_decimals``, cycle-limited or not, initial and
  final state of charge as fractions rounded to 2 decimals), into a
  :mod:`optimizer.families.virtual_battery` (family ``virtual_battery``) with ``E_V = sum E_i`` and
  per unit of energy the most restrictive member: ``P_V = E_V min_i(P_i / E_i)`` (charge and discharge),
  ``soc_min_V = E_V max_i(soc_min_i / E_i)``, ``soc_max_V = E_V min_i(soc_max_i / E_i)``,
  ``soc_final_V = E_V max_i(soc_final_i / E_i)``, cycle budget ``E_V min_i(budget_i / E_i)``,
  two state trajectories with the lowest and the highest efficiencies, retention and initial
  energy; degradation cost energy-weighted. A pro-rata split of it is feasible for every member
  (proof in :mod:`optimizer.families.virtual_battery`).
- pv, grouped by curtailable and curtailment cost in bins of ``cost_bin`` yuan/MWh:
  ``available_V = sum available_i``, ``floor_V = sum floor_i``, cost capacity-weighted.
- flexible_load: one :mod:`optimizer.families.virtual_flexible_load` moving every member within its band by a
  common position per period, each member's energy window kept as its own constraint (exact split).
- load (fixed): one virtual load, the sum of the consumptions.
- other families are kept asset by asset.

Split back (:func:`split_back`): PV, fixed and flexible loads period by period, each member at the
same position within its own range (exact; for flexible loads that is the virtual load's
``theta``). Batteries: pro rata to energy in closed form (:mod:`optimizer.battery_split`: feasible for
every member, proof in :mod:`optimizer.families.virtual_battery`, the members' states checked anyway; the same
cost as the virtual battery). Where the check fails (a schedule the virtual battery could not run,
e.g. charging and discharging at once in a relaxed LP), or with ``method="lp"``, a small LP of the
members alone (their own limits, states and cycle budgets; cheapest at the problem's price) finds
the members' dispatch whose summed net equals the virtual net ``x_g[t]``. Aggregation is
conservative for batteries (two-sided efficiencies) and averages cost coefficients, so the
aggregated optimum only approximates the full one; tests and the benchmark measure how far.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from optimizer.battery_split import pro_rata_split
from optimizer.families.virtual_battery import VirtualBatteryData
from optimizer.families.virtual_flexible_load import VirtualFlexibleLoadData
from optimizer.pinned import pinned_schedule
from optimizer.problem import Problem
from optimizer.solver import SolveOptions
from vpp.errors import InfeasibleError

_PER_HORIZON = {"dt_h", "binary_periods", "exclusive"}
"""Family data fields that are not per asset (per horizon, or per problem)."""


@dataclass(frozen=True)
class Aggregation:
    """An aggregated problem and how to map it back.

    Attributes
    ----------
    original : Problem
        The full problem.
    problem : Problem
        The aggregated problem (virtual assets ``family:g<k>``, unaggregated assets keep their id).
    members : dict[str, list[str]]
        Virtual asset id -> member asset ids.
    family_of : dict[str, str]
        Virtual asset id -> family.
    """

    original: Problem
    problem: Problem
    members: dict[str, list[str]]
    family_of: dict[str, str] = field(default_factory=dict)

    @property
    def n_virtual(self) -> int:
        """Number of assets of the aggregated problem."""
        return len(self.problem.asset_family)


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


def _bins(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Index of equal-width bins between the smallest and the largest value (0..n_bins-1)."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.zeros(len(values), dtype=int)
    return np.minimum(((values - low) / (high - low) * n_bins).astype(int), n_bins - 1)


def _battery_groups(d: Any, eff_bins: int, duration_decimals: int) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    charge_bin, discharge_bin = _bins(d.eta_charge, eff_bins), _bins(d.eta_discharge, eff_bins)
    for i in range(len(d.ids)):
        e = d.energy_mwh[i]
        key = (
            int(charge_bin[i]),
            int(discharge_bin[i]),
            round(e / d.discharge_limit_mw[i], duration_decimals),
            bool(np.isfinite(d.max_discharge_mwh[i])),
            round(d.soc0_mwh[i] / e, 2),
            round(d.soc_final_mwh[i] / e, 2),
        )
        groups[key].append(i)
    return groups


def _virtual_battery(d: Any, rows: list[int], vid: str) -> VirtualBatteryData:
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


def _virtual_pv(d: Any, rows: list[int], vid: str) -> Any:
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


def _virtual_load(d: Any, rows: list[int], vid: str) -> Any:
    sub = take(d, rows)
    return dataclasses.replace(sub, ids=[vid], consumption_mw=sub.consumption_mw.sum(axis=0, keepdims=True))


def _virtual_flexible(d: Any, groups: list[list[int]], vids: list[str]) -> VirtualFlexibleLoadData:
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


def aggregate(
    problem: Problem,
    *,
    eff_bins: int = 2,
    duration_decimals: int = 1,
    cost_bin: float = 5.0,
) -> Aggregation:
    """Group similar assets of ``problem`` into virtual assets (module docstring).

    Parameters
    ----------
    problem : Problem
        The full problem (no group limits: grouped assets could straddle them).
    eff_bins : int
        Number of equal-width bins of the charge and of the discharge efficiency (between the
        fleet's lowest and highest): more bins, smaller gap to the full model, more groups.
    duration_decimals : int
        Rounding of the battery duration (h).
    cost_bin : float
        Bin width of the PV curtailment cost (yuan/MWh).
    """
    if problem.group_limits:
        raise ValueError("aggregation does not support group limits")
    families: dict[str, Any] = {}
    members: dict[str, list[str]] = {}
    family_of: dict[str, str] = {}
    for name, data in problem.families.items():
        if name == "battery":
            groups = _battery_groups(data, eff_bins, duration_decimals)
            make = _virtual_battery
        elif name == "pv":
            groups = defaultdict(list)
            for i in range(len(data.ids)):
                key = (bool(data.curtailable[i]), int(data.curtailment_cost_yuan_per_mwh[i] // cost_bin))
                groups[key].append(i)
            make = _virtual_pv
        elif name == "load":
            groups = {(): list(range(len(data.ids)))}
            make = _virtual_load
        elif name == "flexible_load":  # one virtual load; members keep their own windows
            vid = f"{name}:g1"
            families["virtual_flexible_load"] = _virtual_flexible(data, [list(range(len(data.ids)))], [vid])
            members[vid], family_of[vid] = list(data.ids), name
            continue
        else:
            families[name] = data
            for a in data.ids:
                members[a], family_of[a] = [a], name
            continue
        parts = []
        for k, rows in enumerate(groups.values()):
            vid = f"{name}:g{k + 1}"
            parts.append(_one_row(make(data, rows, vid)))
            members[vid], family_of[vid] = [data.ids[i] for i in rows], name
        if name == "battery":
            families["virtual_battery"] = VirtualBatteryData(
                base=_concat([p.base for p in parts]),
                eta_charge_max=np.concatenate([p.eta_charge_max for p in parts]),
                eta_discharge_max=np.concatenate([p.eta_discharge_max for p in parts]),
                retention_max=np.concatenate([p.retention_max for p in parts]),
                soc0_max_mwh=np.concatenate([p.soc0_max_mwh for p in parts]),
            )
        else:
            families[name] = _concat(parts)
    aggregated = dataclasses.replace(
        problem,
        families=families,
        asset_family={v: _aggregated_family(family_of[v]) for v in members},
        group_members={},
    )
    return Aggregation(original=problem, problem=aggregated, members=members, family_of=family_of)


def _one_row(data: Any) -> Any:
    """Check that a virtual asset's data has one row in every per-asset field (a field added to a
    family later and not aggregated here fails loudly)."""
    inner = data.base if isinstance(data, VirtualBatteryData) else data
    for f in dataclasses.fields(inner):
        value = getattr(inner, f.name)
        if f.name not in _PER_HORIZON and isinstance(value, np.ndarray | list) and len(value) != 1:
            raise ValueError(f"aggregation does not know how to combine field '{f.name}'")
    return data


def _aggregated_family(family: str) -> str:
    return {"battery": "virtual_battery", "flexible_load": "virtual_flexible_load"}.get(family, family)


def _concat(parts: list[Any]) -> Any:
    """One family data object from several (per-asset fields stacked)."""
    updates: dict[str, Any] = {}
    for f in dataclasses.fields(parts[0]):
        if f.name in _PER_HORIZON:
            continue
        values = [getattr(p, f.name) for p in parts]
        stacked = [a for v in values for a in v] if f.name == "ids" else np.concatenate(values, axis=0)
        updates[f.name] = stacked
    return dataclasses.replace(parts[0], **updates)


def member_problem(agg: Aggregation, vid: str) -> Problem:
    """The problem of the members of virtual asset ``vid`` alone (no grid limit)."""
    family = agg.family_of[vid]
    data = agg.original.families[family]
    pos = {a: i for i, a in enumerate(data.ids)}
    sub = take(data, [pos[a] for a in agg.members[vid]])
    return dataclasses.replace(
        agg.original,
        import_limit_mw=1e9,
        export_limit_mw=1e9,
        group_limits={},
        group_members={},
        families={family: sub},
        asset_family={a: family for a in agg.members[vid]},
    )


SPLIT_TOLERANCE = 1e-6
"""Largest violation (MW or MWh) of a member's own bounds the closed-form split may show (the
solver's feasibility tolerance on the virtual battery, shared pro rata); beyond it, the LP."""


def split_back(
    agg: Aggregation, virtual_net: pd.DataFrame, *, method: Literal["pro_rata", "lp"] = "pro_rata"
) -> pd.DataFrame:
    """Per-asset net export (MW) of the full fleet from the virtual assets' net export.

    Parameters
    ----------
    agg : Aggregation
    virtual_net : pd.DataFrame
        One column per virtual asset id (MW), one row per period.
    method : {"pro_rata", "lp"}
        Batteries: closed-form pro-rata split (LP only where its check fails), or an LP per
        virtual battery (cheapest members at the problem's price; slower).

    Returns
    -------
    pd.DataFrame
        One column per original asset (portfolio order). Every column comes from a feasible
        dispatch of that asset, and each group's columns sum to its virtual column.

    Raises
    ------
    InfeasibleError
        A group's members cannot deliver the virtual asset's net (names the virtual asset).
    """
    if method not in ("pro_rata", "lp"):
        raise ValueError(f"unknown split method '{method}'; known: pro_rata, lp")
    rows_of = {fam: {a: i for i, a in enumerate(data.ids)} for fam, data in agg.original.families.items()}
    out: dict[str, np.ndarray] = {}
    for vid, ids in agg.members.items():
        x = virtual_net[vid].to_numpy(dtype=float)
        family = agg.family_of[vid]
        if len(ids) == 1 and ids[0] == vid:
            out[vid] = x
            continue
        rows = np.array([rows_of[family][a] for a in ids], dtype=int)
        if family in ("pv", "load", "flexible_load"):
            split = _split_per_period(agg.original.families[family], family, rows, x)
        else:
            split = None
            if method == "pro_rata":
                split = pro_rata_split(agg.original.families[family], rows, x)
                split = split.net_mw if split.violation <= SPLIT_TOLERANCE else None
            if split is None:
                split = _split_lp(agg, vid, x)
        out.update(zip(ids, split, strict=True))
    columns = agg.original.asset_ids
    return pd.DataFrame(np.column_stack([out[a] for a in columns]), index=virtual_net.index, columns=columns)


def _split_lp(agg: Aggregation, vid: str, x: np.ndarray) -> np.ndarray:
    """The members' cheapest dispatch at the problem's price whose summed net is ``x`` exactly,
    (M, T). Pinned exactly: a window as narrow as HiGHS's MIP feasibility tolerance (1e-6 MW) can
    make its MIP prove a deliverable position infeasible (:func:`optimizer.pinned.pinned_schedule`)."""
    options = SolveOptions(handoff="compiled", explain_infeasible=False)
    try:
        result = pinned_schedule(member_problem(agg, vid), x, options)
    except InfeasibleError as exc:
        raise InfeasibleError(f"members of virtual asset {vid} cannot deliver its schedule: {exc}") from None
    return result.asset_net_mw[agg.members[vid]].to_numpy().T


def _split_per_period(data: Any, family: str, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """PV and fixed loads have no inter-period constraint: split each period within the members'
    ranges, ``net_i = lo_i + theta (hi_i - lo_i)`` with ``theta = (x - lo_V) / (hi_V - lo_V)``,
    (M, T)."""
    if family == "pv":
        lo, hi = data.floor_mw[rows], data.available_mw[rows]
    elif family == "flexible_load":  # the virtual load's common band position
        lo = -(1.0 + data.up_frac[rows, None]) * data.baseline_mw[rows]
        hi = -(1.0 - data.down_frac[rows, None]) * data.baseline_mw[rows]
    else:
        lo = hi = -data.consumption_mw[rows]
    width = hi.sum(axis=0) - lo.sum(axis=0)
    theta = np.clip((x - lo.sum(axis=0)) / np.where(width > 1e-12, width, 1.0), 0.0, 1.0)
    return lo + theta * (hi - lo)
