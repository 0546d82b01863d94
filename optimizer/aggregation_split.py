"""Split an aggregated schedule back to the assets of each virtual asset (:mod:`optimizer.aggregation`).

PV, fixed and flexible loads period by period, each member at the same position within its own
range (exact; for flexible loads that is the virtual load's ``theta``). Batteries: pro rata to
energy in closed form (:mod:`optimizer.battery_split`: feasible for every member, proof in
:mod:`optimizer.families.virtual_battery`, the members' states checked anyway; the same cost as the
virtual battery). Where the check fails (a schedule the virtual battery could not run, e.g.
charging and discharging at once in a relaxed LP), or with ``method="lp"``, a small LP of the
members alone (their own limits, states and cycle budgets; cheapest at the problem's price) finds
the members' dispatch whose summed net equals the virtual net ``x_g[t]``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import numpy as np
import pandas as pd

from optimizer.aggregation import Aggregation
from optimizer.battery_split import pro_rata_split
from optimizer.pinned import pinned_schedule
from optimizer.problem import Problem
from optimizer.solver import SolveOptions
from optimizer.virtual_assets import take
from vpp.errors import InfeasibleError


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
