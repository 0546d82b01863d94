"""Result arrays from a solved model: a free function of the model, the problem and HiGHS's solution.

:func:`extract_arrays` reads every family's schedule (``FAMILIES[name].extract``) from the column
values of one HiGHS run and stacks them into :class:`optimizer.result.ScheduleArrays` (numpy only;
``to_result()`` makes the pandas result). It does not solve and keeps no state of its own: what all
results of one model share (asset order, family rows, each component's HiGHS columns) is a
:class:`ResultLayout`, made once per model and passed back in for every re-solve.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyomo.environ as pyo

from optimizer.families import FAMILIES
from optimizer.highs_bridge import RawSolution
from optimizer.model import family_blocks
from optimizer.problem import Problem
from optimizer.result import ScheduleArrays, SolveStats


class ResultLayout:
    """What every result of one model shares: asset order, family rows, model size, column lookups.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The built model (its family blocks give the families, in build order).
    problem : Problem
        The problem it was built from (asset ids and families).

    Attributes
    ----------
    asset_ids : list of str
        Every asset, in the problem's order (rows of ``asset_net_mw``).
    rows : dict[str, np.ndarray]
        Per family, the row of each of its assets in :attr:`asset_ids`.
    n_constraints : int
        Constraints of the model as built.
    """

    def __init__(self, model: pyo.ConcreteModel, problem: Problem) -> None:
        self.asset_ids = list(problem.asset_ids)
        self.asset_family = dict(problem.asset_family)
        at = {a: i for i, a in enumerate(self.asset_ids)}
        self.family_ids = {name: list(problem.families[name].ids) for name, _ in family_blocks(model)}
        self.rows = {
            name: np.array([at[a] for a in ids], dtype=np.int64) for name, ids in self.family_ids.items()
        }
        self.positions = {name: {a: i for i, a in enumerate(ids)} for name, ids in self.family_ids.items()}
        self.n_constraints = model.nconstraints()
        self._column_of: Mapping[int, int] | None = None
        self._columns: dict[int, np.ndarray] = {}

    def columns(self, component: pyo.Component, column_of: Mapping[int, int]) -> np.ndarray:
        """HiGHS column of every datum of ``component`` (-1: not in HiGHS), cached per column map."""
        if self._column_of is not column_of:
            self._column_of, self._columns = column_of, {}
        key = id(component)
        cols = self._columns.get(key)
        if cols is None:
            cols = np.fromiter((column_of.get(id(v), -1) for v in component.values()), dtype=np.int64)
            self._columns[key] = cols
        return cols


def extract_arrays(
    model: pyo.ConcreteModel,
    problem: Problem,
    raw: RawSolution,
    stats: SolveStats,
    layout: ResultLayout | None = None,
) -> ScheduleArrays:
    """Every family's schedule of the HiGHS solution ``raw`` of ``model``, as numpy arrays.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The model that was solved.
    problem : Problem
        Its problem (prices, periods, family data as the model holds them now).
    raw : RawSolution
        Column values of the run and the map ``id(var) -> column``; a variable HiGHS does not hold
        (one of no constraint) reads its Pyomo value.
    stats : SolveStats
        The solve's figures, returned in the result as they are.
    layout : ResultLayout, optional
        The model's layout; pass the same one for every result of a model (made here if None).

    Returns
    -------
    ScheduleArrays
        Fleet net (MW), per-asset net (MW, assets x periods), per-family series keyed
        ``"<family>.<name>"``, summed cost terms (yuan) and ``stats``.
    """
    if layout is None:
        layout = ResultLayout(model, problem)

    def values(component: pyo.Component) -> np.ndarray:
        cols = layout.columns(component, raw.column_of)
        out = raw.col_value[np.maximum(cols, 0)]
        missing = cols < 0
        if missing.any():
            fixed = [v.value for v in component.values()]
            out = np.where(missing, np.asarray(fixed, dtype=float), out)
        return out

    asset_net = np.zeros((len(layout.asset_ids), problem.n_periods))
    series: dict[str, np.ndarray] = {}
    costs: dict[str, float] = {}
    for name, block in family_blocks(model):
        sched = FAMILIES[name].extract(block, problem.families[name], values)
        asset_net[layout.rows[name]] = sched.net_mw
        for key, arr in sched.series.items():
            series[f"{name}.{key}"] = arr
        for key, cost in sched.costs_yuan.items():
            costs[key] = costs.get(key, 0.0) + cost
    return ScheduleArrays(
        index=problem.index,
        dt_h=problem.dt_h,
        price=problem.price,
        asset_ids=layout.asset_ids,
        asset_family=layout.asset_family,
        net_mw=asset_net.sum(axis=0),
        asset_net_mw=asset_net,
        series=series,
        family_ids=layout.family_ids,
        positions=layout.positions,
        costs_yuan=costs,
        stats=stats,
    )


def solve_stats(
    raw: RawSolution,
    layout: ResultLayout,
    *,
    handoff: str,
    build_seconds: float,
    handoff_seconds: float,
    n_binaries: int,
    rounds: int = 1,
) -> SolveStats:
    """The figures of a solve that ended in ``raw`` (times in s; ``rounds``: solves of exclusivity)."""
    return SolveStats(
        status=raw.status,
        termination=raw.termination,
        mip_gap=raw.mip_gap if n_binaries else None,
        build_seconds=build_seconds,
        handoff_seconds=handoff_seconds,
        solve_seconds=raw.seconds,
        handoff=handoff,
        n_variables=len(raw.col_value),
        n_constraints=layout.n_constraints,
        n_binaries=n_binaries,
        objective_yuan=raw.objective if np.isfinite(raw.objective) else None,
        bound_yuan=raw.bound,
        exclusive_rounds=rounds,
    )
