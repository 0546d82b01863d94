"""Aggregate similar assets into virtual assets for a large bid.

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

The data of each virtual asset is made by :mod:`optimizer.virtual_assets`; a schedule of the
virtual assets is split back to their members by :func:`optimizer.aggregation_split.split_back`.
Aggregation is conservative for batteries (two-sided efficiencies) and averages cost
coefficients, so the aggregated optimum only approximates the full one; tests and the benchmark
measure how far.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.families.virtual_battery import VirtualBatteryData
from optimizer.problem import Problem
from optimizer.virtual_assets import (
    concat,
    one_row,
    virtual_battery,
    virtual_flexible_load,
    virtual_load,
    virtual_pv,
)


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
            make = virtual_battery
        elif name == "pv":
            groups = defaultdict(list)
            for i in range(len(data.ids)):
                key = (bool(data.curtailable[i]), int(data.curtailment_cost_yuan_per_mwh[i] // cost_bin))
                groups[key].append(i)
            make = virtual_pv
        elif name == "load":
            groups = {(): list(range(len(data.ids)))}
            make = virtual_load
        elif name == "flexible_load":  # one virtual load; members keep their own windows
            vid = f"{name}:g1"
            everyone = [list(range(len(data.ids)))]
            families["virtual_flexible_load"] = virtual_flexible_load(data, everyone, [vid])
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
            parts.append(one_row(make(data, rows, vid)))
            members[vid], family_of[vid] = [data.ids[i] for i in rows], name
        if name == "battery":
            families["virtual_battery"] = VirtualBatteryData(
                base=concat([p.base for p in parts]),
                eta_charge_max=np.concatenate([p.eta_charge_max for p in parts]),
                eta_discharge_max=np.concatenate([p.eta_discharge_max for p in parts]),
                retention_max=np.concatenate([p.retention_max for p in parts]),
                soc0_max_mwh=np.concatenate([p.soc0_max_mwh for p in parts]),
            )
        else:
            families[name] = concat(parts)
    aggregated = dataclasses.replace(
        problem,
        families=families,
        asset_family={v: _aggregated_family(family_of[v]) for v in members},
        group_members={},
    )
    return Aggregation(original=problem, problem=aggregated, members=members, family_of=family_of)


def _aggregated_family(family: str) -> str:
    return {"battery": "virtual_battery", "flexible_load": "virtual_flexible_load"}.get(family, family)
