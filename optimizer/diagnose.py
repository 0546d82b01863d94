"""Explain an infeasible model: which constraints a least-violation relaxation has to break.

::

    explain_infeasibility(model, index):
        compile the Pyomo model to standard form (optimizer.highs_bridge.compile_to_highs)
        HiGHS feasibilityRelaxation: minimise  sum_i w_i * violation_i  over every row and column bound
        report each row / column bound that the relaxed solution violates, mapped back to its Pyomo
        component, asset, period and timestamp, largest violation first

Penalty weights ``w`` decide which explanation the relaxation prefers when several would do. A user
can change targets and limits, not physics, so relaxing a limit is cheap and relaxing a balance is
dear:

=====================================================================  =====================
what                                                                   weight (per unit)
=====================================================================  =====================
inequality rows (targets and limits: ``soc_final``, ``cycles``,         :data:`LIMIT_PENALTY`
energy windows)
``group_limit`` rows and the fleet ``net_mw`` bounds (the grid           :data:`CONNECTION_PENALTY`
connection's import/export limits), per MWh: MW x the period's hours    x period hours
other variable bounds (ratings, state-of-charge window, sign)           :data:`BOUND_PENALTY`
equality rows (balances and definitions: ``soc_balance``,               :data:`BALANCE_PENALTY`
``fleet_balance``)
=====================================================================  =====================

Violations are in the row's or bound's own unit (MW for power rows and bounds, MWh for energy rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import highspy
import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.core.expr.numvalue import is_fixed

from market.calendar import period_hours
from optimizer.families import FAMILIES
from optimizer.model import block_name
from optimizer.options import SolveOptions
from vpp.errors import InfeasibleError

LIMIT_PENALTY = 1.0
"""Penalty per unit of violation of an inequality row or a grid-connection bound."""

CONNECTION_PENALTY = 0.5
"""Penalty per MWh let through a grid or group import/export limit (its MW violation times the
period's hours). Below :data:`LIMIT_PENALTY` per MWh: when a connection limit and an energy target
conflict (a feeder limited to 0 MW import behind a battery that must end fuller), the limit that
stops the energy is named, not the target that needs it (with per-MW weights a quarter-hour
limit cost four times a MWh of target, so the battery's state of charge was blamed)."""

BOUND_PENALTY = 10.0
"""Penalty per unit of violation of a variable bound other than the grid connection's."""

BALANCE_PENALTY = 100.0
"""Penalty per unit of violation of an equality row (physics and definitions)."""

VIOLATION_TOL = 1e-6
"""Violations at or below this (in the row's or bound's unit) are solver noise and not reported."""

GRID_BOUND_NAMES = {"lower": "grid_import_limit", "upper": "grid_export_limit"}
"""How the bounds of the fleet's ``net_mw[t]`` are reported."""


def infeasible_error(
    model: pyo.ConcreteModel, index: pd.DatetimeIndex, options: SolveOptions
) -> InfeasibleError:
    """The error of an infeasible ``model`` (periods ``index``); with ``options.explain_infeasible``,
    the least relaxation (:func:`explain_infeasibility`) names its first ten broken rows."""
    if not options.explain_infeasible:
        return InfeasibleError("the portfolio's constraints cannot all be met")
    violations = explain_infeasibility(model, index, time_limit_s=options.time_limit_s)
    lines = [f"  {describe_violation(v)}" for v in violations[:10]]
    more = f"\n  ... and {len(violations) - 10} more" if len(violations) > 10 else ""
    return InfeasibleError(
        "the portfolio's constraints cannot all be met; the least relaxation breaks:\n"
        + "\n".join(lines)
        + more,
        violations,
    )


def explain_infeasibility(
    model: pyo.ConcreteModel,
    index: pd.DatetimeIndex,
    *,
    time_limit_s: float = 60.0,
) -> list[dict[str, Any]]:
    """Name the constraints and bounds a least-violation relaxation of ``model`` has to break.

    Parameters
    ----------
    model : pyo.ConcreteModel
        A linear (or mixed-integer linear) model built by :func:`optimizer.model.build_model`.
    index : pd.DatetimeIndex
        Period starts of the model's horizon, to turn period numbers into timestamps.
    time_limit_s : float
        Wall-clock limit for the relaxation solve (s).

    Returns
    -------
    list of dict
        One dict per violated row or bound, largest violation first, with

        - ``family``: family name (``battery``, ``pv``, ``load``, ...) or None for fleet-level rows;
        - ``asset``: asset id when the component's index contains one, else None;
        - ``group``: group name for group limits, else None;
        - ``constraint``: component local name (``soc_final``, ``fleet_balance``,
          ``group_limit``); for a variable bound ``<var>.lb`` / ``<var>.ub``, and for the fleet
          ``net_mw`` bounds ``grid_import_limit`` / ``grid_export_limit``;
        - ``name``: full Pyomo name of the row or variable, e.g. ``battery.soc_final[bess-1]``;
        - ``kind``: ``constraint``, ``lower bound`` or ``upper bound``;
        - ``period``: period number (int) or None; ``timestamp``: ``index[period]`` or None;
        - ``violation``: how far the relaxed solution breaks it (row or bound unit, > 0);
        - ``bound``: the broken bound's value; ``value``: the relaxed solution's row or variable value.

        Empty when HiGHS finds the model feasible (or the relaxation fails).
    """
    from optimizer.highs_bridge import compile_to_highs

    trivial: list[dict[str, Any]] = []
    try:
        highs, column_of = compile_to_highs(model)
    except InfeasibleConstraintException:
        # The compiler refuses constraints without variables that cannot hold (e.g. a group of
        # fixed loads over its limit): report them and relax the rest without them.
        skipped, trivial = _trivially_infeasible(model, _Locator(model, index))
        for con in skipped:
            con.deactivate()
        try:
            highs, column_of = compile_to_highs(model)
        finally:
            for con in skipped:
                con.activate()
    rows = highs._vpp_rows
    vars_by_id = {id(v): v for v in model.component_data_objects(pyo.Var, descend_into=True)}
    columns: list[Any] = [None] * len(column_of)
    for vid, col in column_of.items():
        columns[col] = vars_by_id.get(vid)

    lp = highs.getLp()
    row_lower = np.asarray(lp.row_lower_, dtype=float)
    row_upper = np.asarray(lp.row_upper_, dtype=float)
    col_lower = np.asarray(lp.col_lower_, dtype=float)
    col_upper = np.asarray(lp.col_upper_, dtype=float)

    hours = np.asarray(period_hours(index), dtype=float) if len(index) else np.ones(0)
    group_limit = getattr(model, "group_limit", None)
    rhs_penalty = np.array(
        [
            _connection_penalty(con.index()[-1], hours) if con.parent_component() is group_limit
            else (BALANCE_PENALTY if kind == 0 else LIMIT_PENALTY)
            for con, kind in rows
        ],
        dtype=float,
    )
    net_mw = getattr(model, "net_mw", None)
    bound_penalty = np.array(
        [
            _connection_penalty(v.index(), hours) if v is not None and v.parent_component() is net_mw
            else BOUND_PENALTY
            for v in columns
        ],
        dtype=float,
    )

    highs.setOptionValue("time_limit", float(time_limit_s))
    status = highs.feasibilityRelaxation(
        LIMIT_PENALTY, LIMIT_PENALTY, LIMIT_PENALTY, bound_penalty, bound_penalty, rhs_penalty
    )
    solution = highs.getSolution()
    if status == highspy.HighsStatus.kError or not solution.value_valid:
        return trivial
    x = np.asarray(solution.col_value, dtype=float)
    activity = np.asarray(solution.row_value, dtype=float)

    locator = _Locator(model, index)
    found = list(trivial)
    for i, below, above in _violations(activity, row_lower, row_upper):
        con = rows[i][0]
        entry = locator.describe(con, kind="constraint")
        # The compiler moved the body's constants into the row bounds: shift back to the model's terms.
        lower, _, upper = con.to_bounded_expression()
        bound = pyo.value(lower if below else upper)
        shift = bound - (row_lower[i] if below else row_upper[i])
        entry.update(violation=float(below or above), bound=float(bound), value=float(activity[i] + shift))
        found.append(entry)
    for j, below, above in _violations(x, col_lower, col_upper):
        var = columns[j]
        if var is None:
            continue
        side = "lower" if below else "upper"
        entry = locator.describe(var, kind=f"{side} bound")
        entry.update(
            violation=float(below or above),
            bound=float(col_lower[j] if below else col_upper[j]),
            value=float(x[j]),
        )
        found.append(entry)
    found.sort(key=lambda v: -v["violation"])
    return found


def describe_violation(v: dict[str, Any]) -> str:
    """One line for a user, e.g. (one line)::

    battery.soc_final[bess-1] (asset bess-1): violated by 0.62
    (bound 1; 0.38 in the least-violation solution)
    """
    where = []
    if v.get("asset"):
        where.append(f"asset {v['asset']}")
    elif v.get("group"):
        where.append(f"group {v['group']}")
    else:
        where.append("fleet")
    if v.get("timestamp") is not None:
        where.append(f"at {v['timestamp']}")
    what = v.get("name") or v["constraint"]
    if v.get("constraint") in GRID_BOUND_NAMES.values():
        what = v["constraint"]
    detail = ""
    if v.get("bound") is not None and v.get("value") is not None:
        detail = f" (bound {v['bound']:.4g}; {v['value']:.4g} in the least-violation solution)"
    return f"{what} ({', '.join(where)}): violated by {v['violation']:.4g}{detail}"


# -- internals ---------------------------------------------------------------------------------------
def _connection_penalty(period: Any, hours: np.ndarray) -> float:
    """Penalty per MW of a grid or group connection limit broken in ``period``:
    :data:`CONNECTION_PENALTY` per MWh it lets through (MW x the period's hours)."""
    if isinstance(period, int | np.integer) and 0 <= period < len(hours):
        return CONNECTION_PENALTY * float(hours[period])
    return CONNECTION_PENALTY


def _violations(
    values: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> Iterable[tuple[int, float, float]]:
    """(position, amount below lower, amount above upper) of every value outside its bounds.

    The tolerance is :data:`VIOLATION_TOL` relative to ``1 + |bound|``.
    """
    below = np.where(np.isfinite(lower), lower - values, 0.0)
    above = np.where(np.isfinite(upper), values - upper, 0.0)
    bound = np.where(below > above, lower, upper)
    scale = 1.0 + np.abs(np.where(np.isfinite(bound), bound, 0.0))
    for i in np.flatnonzero(np.maximum(below, above) > VIOLATION_TOL * scale):
        b, a = float(below[i]), float(above[i])
        yield int(i), (b if b > a else 0.0), (a if a >= b else 0.0)


def _trivially_infeasible(
    model: pyo.ConcreteModel, locator: _Locator
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Active constraints without free variables whose constant body breaks a bound.

    Returns the constraints and their violation dicts.
    """
    skipped, found = [], []
    for con in model.component_data_objects(pyo.Constraint, active=True, descend_into=True):
        if not is_fixed(con.body):
            continue
        value = float(pyo.value(con.body))
        lower, upper = pyo.value(con.lower), pyo.value(con.upper)
        below = lower - value if lower is not None else 0.0
        above = value - upper if upper is not None else 0.0
        if max(below, above) > VIOLATION_TOL:
            entry = locator.describe(con, kind="constraint")
            entry.update(
                violation=float(max(below, above)),
                bound=float(lower if below > above else upper),
                value=value,
            )
            skipped.append(con)
            found.append(entry)
    return skipped, found


class _Locator:
    """Maps a ConstraintData or VarData to family, asset, group, period and timestamp.

    The roles of index positions come from the component's index sets: the model's ``T`` is the
    period, a family block's ``A`` (or any set of that block's asset ids) the asset, the model's
    ``G`` the group. Index tuples come from Pyomo (``.index()``), never from parsed names.
    """

    def __init__(self, model: pyo.ConcreteModel, index: pd.DatetimeIndex | None) -> None:
        self.model = model
        self.index = index
        self.T = getattr(model, "T", None)
        self.G = getattr(model, "G", None)
        self.n_periods = len(self.T) if self.T is not None else (len(index) if index is not None else 0)
        self.family_of_block = {block_name(name): name for name in FAMILIES}
        self._roles: dict[int, list[str | None] | None] = {}
        self._asset_ids: dict[int, set] = {}

    def _family_block(self, data: Any) -> pyo.Block | None:
        blk = data.parent_block()
        while blk is not None and blk.parent_block() is not None and blk.parent_block() is not self.model:
            blk = blk.parent_block()
        if blk is None or blk is self.model:
            return None
        return blk

    def _assets(self, blk: pyo.Block | None) -> set:
        if blk is None:
            return set()
        key = id(blk)
        if key not in self._asset_ids:
            a_set = getattr(blk, "A", None)
            self._asset_ids[key] = set(a_set) if a_set is not None else set()
        return self._asset_ids[key]

    def _is_periods(self, s: Any) -> bool:
        if s is self.T:
            return True
        values = list(s)
        return bool(values) and all(
            isinstance(v, int | np.integer) and 0 <= int(v) < self.n_periods for v in values
        )

    def _position_roles(self, comp: Any, blk: pyo.Block | None) -> list[str | None] | None:
        key = id(comp)
        if key in self._roles:
            return self._roles[key]
        roles: list[str | None] | None = None
        if comp.is_indexed():
            subsets = list(comp.index_set().subsets())
            if all(getattr(s, "dimen", None) == 1 for s in subsets):
                assets = self._assets(blk)
                roles = []
                for s in subsets:
                    if self.G is not None and s is self.G:
                        roles.append("group")
                    elif blk is not None and s is getattr(blk, "A", None):
                        roles.append("asset")
                    elif self._is_periods(s):
                        roles.append("period")
                    elif assets and set(s) <= assets:
                        roles.append("asset")
                    else:
                        roles.append(None)
        self._roles[key] = roles
        return roles

    def describe(self, data: Any, *, kind: str) -> dict[str, Any]:
        """The location fields of one row or bound (without ``violation``)."""
        comp = data.parent_component()
        blk = self._family_block(data)
        family = self.family_of_block.get(blk.local_name, blk.local_name) if blk is not None else None
        idx = data.index()
        parts = idx if isinstance(idx, tuple) else (() if idx is None else (idx,))
        asset = group = period = None
        roles = self._position_roles(comp, blk)
        if roles is not None and len(roles) == len(parts):
            for role, value in zip(roles, parts, strict=True):
                if role == "asset" and asset is None:
                    asset = value
                elif role == "group" and group is None:
                    group = value
                elif role == "period" and period is None:
                    period = int(value)
        else:  # an index set of another shape: recognise the values themselves
            assets = self._assets(blk)
            for value in parts:
                if isinstance(value, str) and value in assets and asset is None:
                    asset = value
                elif (
                    isinstance(value, int | np.integer)
                    and 0 <= int(value) < self.n_periods
                    and period is None
                ):
                    period = int(value)
        if kind == "constraint":
            constraint = comp.local_name
        elif blk is None and comp is getattr(self.model, "net_mw", None):
            constraint = GRID_BOUND_NAMES["lower" if kind.startswith("lower") else "upper"]
        else:
            constraint = f"{comp.local_name}.{'lb' if kind.startswith('lower') else 'ub'}"
        timestamp = None
        if period is not None and self.index is not None and period < len(self.index):
            timestamp = self.index[period]
        return {
            "family": family,
            "asset": asset,
            "group": group,
            "constraint": constraint,
            "name": data.name,
            "kind": kind,
            "period": period,
            "timestamp": timestamp,
        }
