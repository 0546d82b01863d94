"""A feasible exact schedule, in one LP, when the budget runs out while storage still burns energy.

:mod:`optimizer.exclusive` adds binaries where a solve charges and discharges one storage at once
and solves again (at most four solves). When the solve's wall-clock budget
(``SolveOptions.time_limit_s``) is spent first, under machine load, the last solution is not
physically feasible. :func:`repair` turns it into a feasible one with one LP, deterministically:

- every key (asset, period) of every two-way pair keeps one direction of the last solution: where it
  discharged more than it charged, its charge is bounded to 0; everywhere else (it charged more, as
  much, or neither) its discharge is. A burn is there to absorb energy, so a tie keeps charging. A
  flow whose lower bound is above 0 (a carried-out or pinned past period) keeps its bounds;
- every integer column built with the model (e.g. a battery's negative-price binaries) is fixed at
  its rounded value in the last solution, and the lazy binaries of :mod:`optimizer.exclusive` are made
  continuous: with one flow of each key at 0 their rows hold for 0 or 1, so the LP needs no binary;
- every other constraint stays as it is: state continuity, power and grid limits, the DA position
  of the stochastic model.

The LP is a restriction of the exact model: its optimum is a feasible exact schedule, not proven
optimal. Its objective lies below the exact optimum, which lies below the last solve's bound (that
solve's model is a relaxation of the exact one). It is reported as status ``feasible`` with a
termination starting :data:`REPAIRED`, and logged as a warning. The LP gets its own
``time_limit_s``. The changed bounds and integrality are put back after the run (a persistent model
re-solves exactly afterwards). The same LP without the time-limit warning (:func:`one_direction_lp`)
gives a proven solve a schedule within its MIP gap, or its MIP a start (:mod:`optimizer.relaxation_first`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence

import highspy
import numpy as np
import pandas as pd

from optimizer.exclusive import SIMULTANEOUS_MW, Exclusivity
from optimizer.highs_bridge import RawSolution, apply_options, read_highs
from optimizer.options import SolveOptions
from optimizer.persistent import BoundOverrides
from vpp.errors import SolverError

log = logging.getLogger(__name__)

REPAIRED = "Repaired"
"""Start of the termination of a repaired solution (``SolveStats.termination``)."""

NAMED_ASSETS = 5
"""Burning storage assets named in a warning or an error (the rest are counted)."""

NAMED_PERIODS = 3
"""Burning periods of one asset named in a warning or an error (the rest are counted)."""

Burning = list[tuple[int, int, float]]
"""The burning keys of a solution: (pair, position in the pair's keys, MW both ways)."""


def repair(
    highs: highspy.Highs,
    column_of: Mapping[int, int],
    last: np.ndarray,
    exclusivity: Exclusivity,
    options: SolveOptions,
    *,
    sense: float,
    bound: float | None,
    index: pd.DatetimeIndex | None = None,
) -> RawSolution:
    """Solve the direction-fixed LP of ``last`` in ``highs`` (module docstring) and restore ``highs``.

    Parameters
    ----------
    highs : highspy.Highs
        The model (with every lazy binary added so far) in HiGHS.
    column_of : dict
        ``id(VarData) -> column`` of ``highs``.
    last : np.ndarray
        The last solution's value of every column of ``highs``.
    exclusivity : Exclusivity
        The model's two-way flows and lazy binaries.
    options : SolveOptions
        HiGHS settings; ``time_limit_s`` is the LP's own limit (s).
    sense : float
        1 when ``highs`` holds the model's objective, -1 when its negation (compiled hand-off).
    bound : float or None
        Proven bound of the exact optimum (yuan; the last solve's), reported with the repair.
    index : pd.DatetimeIndex, optional
        Period starts in the market's time zone, to name a key's period by its time of day.

    Returns
    -------
    RawSolution
        The repaired solution: status ``feasible``, termination ``Repaired: ...``, no MIP gap.

    Raises
    ------
    SolverError
        The LP is infeasible or stopped without a solution; names the burning keys.
    """
    raw, burning = one_direction_lp(highs, column_of, last, exclusivity, options, sense=sense)
    spent = (
        f"time limit {options.time_limit_s:g} s reached before storage stopped charging and discharging "
        f"at once ({describe_burning(exclusivity, burning, index)})"
    )
    if raw.status not in ("optimal", "feasible"):
        raise SolverError(
            f"{spent}, and the schedule with one direction per storage period cannot be repaired: "
            f"HiGHS {raw.termination}"
        )
    log.warning(
        "%s: returning a repaired feasible schedule, not proven optimal (objective %s, bound %s)",
        spent, _yuan(raw.objective), _yuan(bound),
    )
    termination = f"{REPAIRED}: one direction per storage period after the time limit ({raw.termination})"
    return dataclasses.replace(raw, status="feasible", termination=termination, mip_gap=None, bound=bound)


def one_direction_lp(
    highs: highspy.Highs,
    column_of: Mapping[int, int],
    last: np.ndarray,
    exclusivity: Exclusivity,
    options: SolveOptions,
    *,
    sense: float,
) -> tuple[RawSolution, Burning]:
    """Run the LP of :func:`repair` (each key's direction fixed from ``last``) and restore ``highs``.

    The parameters are :func:`repair`'s. Returns the LP's solution as HiGHS reported it (any
    status; its objective is a feasible exact schedule's when ``optimal``) and the burning keys of
    ``last`` (:data:`Burning`). Logs nothing and raises nothing on a failed LP.
    """
    burning: Burning = []
    zero = []
    for i, (charge, discharge) in enumerate(exclusivity.flows):
        c_cols, d_cols = _columns(charge, column_of), _columns(discharge, column_of)
        c, d = _at(last, c_cols), _at(last, d_cols)
        zero.append(np.where(d > c, c_cols, d_cols))
        both = np.minimum(c, d)
        burning.extend((i, int(n), float(both[n])) for n in np.flatnonzero(both > SIMULTANEOUS_MW))
    flows = np.unique(np.concatenate([*zero, np.zeros(0, dtype=np.int64)]))
    flows = flows[flows >= 0]
    integer = _integer_columns(highs)
    lazy = _columns(exclusivity.binaries, column_of)
    built = np.setdiff1d(integer, lazy)
    overrides = BoundOverrides(highs)
    lower, _ = overrides.column_bounds(flows)
    movable = lower <= 0.0  # a flow pinned above 0 (a carried-out or pinned past) keeps its bounds
    flows, lower = flows[movable], lower[movable]
    fixed = np.round(last[built])
    start = time.perf_counter()
    cols = np.concatenate([flows, built])
    overrides.apply(cols, np.concatenate([lower, fixed]), np.concatenate([np.zeros(flows.size), fixed]))
    _set_integer(highs, integer, False)
    try:
        apply_options(highs, options, mip=False)
        highs.clearSolver()  # cold: the same repair from any solve history
        highs.run()
        raw = read_highs(highs, column_of, time.perf_counter() - start, sense=sense)
    finally:
        overrides.release()
        _set_integer(highs, integer, True)
    return _with_binaries_set(raw, exclusivity, column_of), burning


def _with_binaries_set(
    raw: RawSolution, exclusivity: Exclusivity, column_of: Mapping[int, int]
) -> RawSolution:
    """``raw`` with each lazy binary at 1 where its key charges more than it discharges, else 0.

    The LP holds them continuous, so it may leave one between 0 and 1; with one flow of each key at
    0 its rows hold at the rounded value too. An integer value is what a MIP's solution has: a
    carried-out period pins integer columns at their rounded value (:class:`PeriodPins`), and a MIP
    started from this schedule needs it integer.
    """
    if raw.col_value.size == 0 or not exclusivity.n_binaries:
        return raw
    charge, discharge = exclusivity.binary_flows
    cols = _columns(exclusivity.binaries, column_of)
    on = _at(raw.col_value, _columns(charge, column_of)) > _at(raw.col_value, _columns(discharge, column_of))
    values = raw.col_value.copy()
    values[cols[cols >= 0]] = on[cols >= 0].astype(float)
    return dataclasses.replace(raw, col_value=values)


def aligned(raw: RawSolution, column_of: Mapping[int, int]) -> np.ndarray:
    """The values of ``raw`` at the columns of ``column_of`` (another HiGHS of the same model, or the
    same one grown since: 0 in the columns ``raw`` does not have, e.g. binaries added after it)."""
    if raw.column_of is column_of:
        out = np.zeros(max(len(column_of), raw.col_value.size))
        out[: raw.col_value.size] = raw.col_value
        return out
    out = np.zeros(len(column_of))
    for var_id, col in column_of.items():
        j = raw.column_of.get(var_id)
        if j is not None:
            out[col] = raw.col_value[j]
    return out


def _columns(variables: Sequence, column_of: Mapping[int, int]) -> np.ndarray:
    """HiGHS column of each VarData (-1: not in HiGHS)."""
    return np.fromiter((column_of.get(id(v), -1) for v in variables), np.int64, len(variables))


def _at(values: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``values`` at ``cols`` (0 where a column is -1)."""
    return np.where(cols >= 0, values[np.maximum(cols, 0)], 0.0) if values.size else np.zeros(cols.size)


def _integer_columns(highs: highspy.Highs) -> np.ndarray:
    """Columns HiGHS holds as integer (a copy of the model is read: once per repair)."""
    kinds = highs.getLp().integrality_
    return np.flatnonzero([k != highspy.HighsVarType.kContinuous for k in kinds]).astype(np.int64)


def _set_integer(highs: highspy.Highs, cols: np.ndarray, integer: bool) -> None:
    if cols.size:
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        highs.changeColsIntegrality(cols.size, cols.astype(np.int32), np.full(cols.size, kind))


def describe_burning(
    exclusivity: Exclusivity, burning: Burning, index: pd.DatetimeIndex | None
) -> str:
    """The burning keys as an operator reads them, per asset in the order found.

    ``"battery 'bess' 1.000 MW both ways at 2024-06-01 00:00, 01:00, 03:00 and 1 more; ..."``: the
    block and asset, the largest flow both ways (MW), the first :data:`NAMED_PERIODS` periods by
    their start in ``index``'s time zone (the market's; the date written once, again where it
    changes; ``period t`` without an index) and how many more; at most :data:`NAMED_ASSETS` assets,
    then how many more.
    """
    assets: dict[tuple[str, object], list[tuple[object, float]]] = {}
    for i, n, mw in burning:
        block, pair = exclusivity.pairs[i]
        key = pair.keys[n]
        asset, period = (key[0], key[-1]) if isinstance(key, tuple) else (key, None)
        assets.setdefault((block.name, asset), []).append((period, mw))
    parts = []
    for (block, asset), keys in list(assets.items())[:NAMED_ASSETS]:
        where = _periods([period for period, _ in keys], index)
        parts.append(f"{block} {asset!r} {max(mw for _, mw in keys):.3f} MW both ways" + where)
    if len(assets) > NAMED_ASSETS:
        parts.append(f"and {len(assets) - NAMED_ASSETS} more assets")
    return "; ".join(parts) if parts else "no burning storage period found"


def _periods(periods: list[object], index: pd.DatetimeIndex | None) -> str:
    """``" at 2024-06-01 00:00, 01:00 and 2 more"`` (``" at period 0, 1"`` without ``index``)."""
    named, last_date = [], None
    for period in periods[:NAMED_PERIODS]:
        if not isinstance(period, int | np.integer):
            continue
        if index is None or not 0 <= period < len(index):
            named.append(f"period {period}")
            continue
        start = index[period]
        named.append(start.strftime("%H:%M" if start.date() == last_date else "%Y-%m-%d %H:%M"))
        last_date = start.date()
    if not named:
        return ""
    more = len(periods) - NAMED_PERIODS
    return " at " + ", ".join(named) + (f" and {more} more" if more > 0 else "")


def _yuan(amount: float | None) -> str:
    """``"111.11 yuan"`` (to the fen), ``"unknown"`` for None or not a number."""
    return f"{amount:.2f} yuan" if amount is not None and np.isfinite(amount) else "unknown"
