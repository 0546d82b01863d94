"""Fast in-place updates of a persistent HiGHS model built by Pyomo's highspy interface.

Pyomo's ``update_parameters`` re-evaluates EVERY expression that holds a mutable Param (about
660,000 at 100 assets x 96 periods: 85 % of a re-solve's time in the backtest profile). This
module takes Pyomo's own update helpers indexed by the Params they read, once per model
(:meth:`optimizer.highs_adapter.PersistentHighs.refreshers_by_param`), and then refreshes only the
helpers of Params that changed. It also pins the columns of carried-out
periods to their solved values (a real-time re-solve keeps the past exactly as it happened),
overrides chosen column and row bounds for a hybrid restart (:class:`BoundOverrides`) and changes
prices as column costs, without touching Pyomo at all.
"""

from __future__ import annotations

from collections.abc import Iterable

import highspy
import numpy as np
import pyomo.environ as pyo

from optimizer.highs_adapter import PersistentHighs, param_values


class ParamUpdater:
    """Refresh only the HiGHS entries that depend on changed mutable Params.

    Parameters
    ----------
    adapter : PersistentHighs
        The model handed to HiGHS (its helpers indexed by the Params they read).
    params : iterable of ParamData
        Every mutable Param datum of the model; their values are snapshotted.
    """

    def __init__(self, adapter: PersistentHighs, params: Iterable[pyo.Param]) -> None:
        self._by_param = adapter.refreshers_by_param()
        self._adapter = adapter
        self.params = list(params)
        self._positions = {id(p): i for i, p in enumerate(self.params)}
        self._snapshot = self._values()

    def _values(self) -> np.ndarray:
        return param_values(self.params)

    def update(self, changed: Iterable[pyo.Param] | None = None) -> int:
        """Push changed Params into HiGHS; with ``changed=None`` find them by comparing values.

        Returns the number of helpers refreshed.
        """
        if changed is None:
            now = self._values()
            moved = np.flatnonzero(now != self._snapshot)
            self._snapshot = now
            changed_ids = {id(self.params[i]) for i in moved}
        else:
            changed_ids = {id(p) for p in changed}
            for pid in changed_ids:
                i = self._positions.get(pid)
                if i is not None:
                    self._snapshot[i] = self.params[i].value
        seen: set[int] = set()
        for pid in changed_ids:
            for helper in self._by_param.get(pid, ()):
                if id(helper) not in seen:
                    seen.add(id(helper))
                    helper.update()
        if not seen.isdisjoint(self._adapter.row_refreshers):
            self._adapter.forget_matrix()
        return len(seen)


class PeriodPins:
    """Pin the columns of carried-out periods to their solved values, and release them.

    Every Var whose index ends with a period number (``x[a, t]``, ``net_mw[t]``) belongs to that
    period. Pinning period ``t`` sets its columns' bounds to their last solved values (integer
    columns rounded), so a re-solve from ``t + 1`` keeps the past exactly as carried out.

    Parameters
    ----------
    highs : highspy.Highs
        The live HiGHS model.
    model : pyo.ConcreteModel
        The Pyomo model (its ``T`` set gives the periods).
    column_of : dict[int, int]
        ``id(var) -> column``.
    """

    def __init__(self, highs: highspy.Highs, model: pyo.ConcreteModel, column_of: dict[int, int]) -> None:
        self.highs = highs
        n_periods = len(model.T)
        periods: list[list[int]] = [[] for _ in range(n_periods)]
        integer: set[int] = set()
        for var in model.component_data_objects(pyo.Var, active=True):
            col = column_of.get(id(var))
            if col is None:
                continue
            index = var.index()
            last = index[-1] if isinstance(index, tuple) else index
            if isinstance(last, int) and 0 <= last < n_periods:
                periods[last].append(col)
                if var.is_integer() or var.is_binary():
                    integer.add(col)
        self.period_columns = [np.asarray(cols, dtype=np.int32) for cols in periods]
        self._integer = np.zeros(highs.getNumCol(), dtype=bool)
        self._integer[list(integer)] = True
        self._lower, self._upper = _column_bounds(highs)
        self.pinned: list[int] = []
        self._values: dict[int, np.ndarray] = {}
        self._suspended: tuple[list[int], dict[int, np.ndarray]] = ([], {})

    def pin(self, period: int, col_value: np.ndarray) -> None:
        """Fix the columns of ``period`` at ``col_value`` (the solution carried out)."""
        cols = self.period_columns[period]
        if cols.size == 0:
            return
        values = col_value[cols].copy()
        rounded = self._integer[cols]
        values[rounded] = np.round(values[rounded])
        values = np.clip(values, self._lower[cols], self._upper[cols])
        self._fix(period, values)

    def _fix(self, period: int, values: np.ndarray) -> None:
        cols = self.period_columns[period]
        self.highs.changeColsBounds(cols.size, cols, values, values)
        self.pinned.append(period)
        self._values[period] = values

    def release(self) -> None:
        """Give every pinned column back its bounds as they were when this object was made."""
        if not self.pinned:
            return
        cols = np.concatenate([self.period_columns[t] for t in self.pinned])
        self.highs.changeColsBounds(cols.size, cols, self._lower[cols], self._upper[cols])
        self.pinned = []
        self._values = {}

    def suspend(self) -> None:
        """Free every pinned column for a Param refresh; :meth:`refresh_bounds` pins them again."""
        kept = (list(self.pinned), dict(self._values))
        self.release()
        self._suspended = kept

    def refresh_bounds(self) -> None:
        """Re-read the unpinned bounds from HiGHS (after Param-driven bound changes).

        After :meth:`suspend`, every period whose free bounds the refresh left as they were is
        pinned again at its carried-out values; a period whose bounds a Param moved stays free
        (a restart or a new forecast replaced that past).
        """
        before = (self._lower, self._upper)
        self._lower, self._upper = _column_bounds(self.highs)
        periods, values = self._suspended
        self._suspended = ([], {})
        for period in periods:
            cols = self.period_columns[period]
            unmoved = np.array_equal(before[0][cols], self._lower[cols]) and np.array_equal(
                before[1][cols], self._upper[cols]
            )
            if unmoved and cols.size:
                self._fix(period, values[period])


class BoundOverrides:
    """Override column and row bounds of a live HiGHS model until :meth:`release` restores them.

    A hybrid restart (:meth:`optimizer.solver.ModelSolver.restart_pinning_past`) pins the past
    columns of the families that cannot restart mid-day and lifts the past grid and group limits;
    the bounds in force just before :meth:`apply` are saved and put back by :meth:`release`.

    Parameters
    ----------
    highs : highspy.Highs
        The live HiGHS model.
    """

    def __init__(self, highs: highspy.Highs) -> None:
        self.highs = highs
        self._cols: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._rows: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def column_bounds(self, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Current (lower, upper) bounds of ``cols`` in HiGHS (any order, no repeats)."""
        cols = np.asarray(cols, dtype=np.int32)
        if cols.size == 0:
            return np.zeros(0), np.zeros(0)
        order = np.argsort(cols)  # HiGHS reads a set of indices only in increasing order
        status, _, _, lower, upper, _ = self.highs.getCols(cols.size, cols[order])
        if status != highspy.HighsStatus.kOk:
            raise RuntimeError(f"HiGHS getCols failed: {status}")
        out_lower, out_upper = np.empty(cols.size), np.empty(cols.size)
        out_lower[order], out_upper[order] = lower, upper
        return out_lower, out_upper

    def _row_bounds(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Current (lower, upper) bounds of ``rows`` (increasing) in HiGHS."""
        status, _, lower, upper, _ = self.highs.getRows(rows.size, rows)
        if status != highspy.HighsStatus.kOk:
            raise RuntimeError(f"HiGHS getRows failed: {status}")
        return np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)

    def apply(
        self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray, free_rows: np.ndarray | None = None
    ) -> None:
        """Set the bounds of ``cols`` to ``lower``/``upper`` and make ``free_rows`` unbounded.

        Any earlier override is released first. ``cols`` must not repeat a column.
        """
        self.release()
        order = np.argsort(np.asarray(cols))  # HiGHS takes a set of indices in increasing order
        cols = np.asarray(cols, dtype=np.int32)[order]
        if cols.size:
            self._cols = (cols, *self.column_bounds(cols))
            lower, upper = np.asarray(lower, float)[order], np.asarray(upper, float)[order]
            self.highs.changeColsBounds(cols.size, cols, lower, upper)
        rows = np.unique(np.asarray(free_rows if free_rows is not None else [], dtype=np.int32))
        if rows.size:
            self._rows = (rows, *self._row_bounds(rows))
            inf = np.full(rows.size, highspy.kHighsInf)
            self.highs.changeRowsBounds(rows.size, rows, -inf, inf)

    def release(self) -> None:
        """Put back the bounds saved by :meth:`apply`."""
        if self._cols is not None:
            cols, lower, upper = self._cols
            self.highs.changeColsBounds(cols.size, cols, lower, upper)
            self._cols = None
        if self._rows is not None:
            rows, lower, upper = self._rows
            self.highs.changeRowsBounds(rows.size, rows, lower, upper)
            self._rows = None


def _column_bounds(highs: highspy.Highs) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bound of every column HiGHS holds (numpy straight from ``getCols``)."""
    n_col = highs.getNumCol()
    status, _, _, lower, upper, _ = highs.getCols(n_col, np.arange(n_col, dtype=np.int32))
    if status != highspy.HighsStatus.kOk:
        raise RuntimeError(f"HiGHS getCols failed: {status}")
    return np.array(lower, dtype=float), np.array(upper, dtype=float)
