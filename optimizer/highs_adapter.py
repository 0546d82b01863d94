"""The one place that reaches into Pyomo's persistent HiGHS interface.

Pyomo's highspy-backed persistent solver (``pyomo.contrib.solver.solvers.highs.Highs``) keeps the
live ``highspy.Highs`` instance, the map from Pyomo variables and constraints to HiGHS columns and
rows, and the helpers that refresh HiGHS entries from mutable Params in private attributes
(``_solver_model``, ``_pyomo_var_to_solver_var_map``, ``_pyomo_con_to_solver_con_map``,
``_mutable_helpers``, ``_mutable_bounds``, ``_mutable_objective`` and the helpers' ``expr``,
``lower_expr``, ``upper_expr``, ``linear_coefs``, ``constant``), and a mutable ParamData's ``_value``
(:func:`param_values`, a fast read for the re-solve's Param scan). :class:`PersistentHighs` is the only
code that reads them; everything else works on its public methods, HiGHS column and row numbers and
highspy's own API. The names are those of the Pyomo versions pinned in ``pyproject.toml``
(:data:`TESTED_PYOMO`); ``tests/optimizer/test_highs_adapter.py`` checks every method on a small
real model, and a missing attribute raises :class:`AdapterError` naming it instead of an
``AttributeError`` deep inside a solve.

HiGHS works on the model's own sense (Pyomo sets ``kMaximize`` for a maximised objective): costs,
duals and cost ranges read here are in the objective's units and sense.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import highspy
import numpy as np
import pyomo.environ as pyo
import pyomo.version
from pyomo.common.gc_manager import PauseGC
from pyomo.contrib.solver.solvers.highs import Highs
from pyomo.core.expr.visitor import identify_mutable_parameters

from optimizer.highs_bridge import RawSolution, apply_options, read_highs
from optimizer.options import SolveOptions
from vpp.errors import SolverError

if TYPE_CHECKING:  # imported when an open-LP run is asked for (scipy)
    from optimizer.open_lp import OpenLpRuns

TESTED_PYOMO = "6.10"
"""The Pyomo minor release whose private attribute names this module relies on."""

_FEASIBLE = 2
"""HiGHS's ``kSolutionStatusFeasible`` (``getInfo().dual_solution_status``)."""

OPEN_LP_MIN_DROPPED = 0.5
"""Share of the columns a warm re-solve must be able to drop before it solves the open LP
(:mod:`optimizer.open_lp`); below it the cut costs more than the smaller LP saves."""


class AdapterError(RuntimeError):
    """Pyomo's persistent HiGHS interface lacks an attribute this adapter relies on (another version)."""


class Refresher(Protocol):
    """One Pyomo helper that rewrites one HiGHS entry (a cost, a bound, a coefficient) from its Params."""

    def update(self) -> None:
        """Re-evaluate the helper's expression and write the value into HiGHS."""


@dataclass(frozen=True)
class CostRanging:
    """Cost ranging of some columns on the current optimal basis (HiGHS ``getRanging``).

    Within ``[lower, upper]`` a single column's cost can move, every other cost fixed, and the
    current basis (so the current solution) stays optimal; the objective then changes by the
    column's value times the cost change. Costs are in the objective's units per unit of the
    column (yuan per MW of a column in MW) and in the objective's sense.

    Attributes
    ----------
    cost : np.ndarray
        Current cost of each column.
    lower, upper : np.ndarray
        Cost range of each column (``-inf``/``inf`` where unbounded).
    value : np.ndarray
        Solution value of each column.
    """

    cost: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    value: np.ndarray

    def per_unit(self, scale: Sequence[float] | np.ndarray) -> CostRanging:
        """The same ranging with every cost divided by ``scale`` (> 0 per column).

        E.g. the period length in hours turns the cost of a fleet-net column (``price * dt_h``,
        yuan per MW) into its price (yuan/MWh); the 100 % rule is unchanged by such a scaling.
        """
        scale = np.asarray(scale, dtype=float)
        if scale.shape != self.cost.shape or not np.all(scale > 0):
            raise ValueError(f"scale must be {self.cost.size} positive numbers")
        return CostRanging(self.cost / scale, self.lower / scale, self.upper / scale, self.value)

    def keeps_basis(self, new_cost: Sequence[float] | np.ndarray) -> bool:
        """True when changing every cost at once to ``new_cost`` surely keeps the basis optimal.

        The 100 % rule: the sum over columns of each change as a fraction of its allowed move in
        that direction is at most 1. Sufficient, not necessary: False says only "re-solve to know".

        Parameters
        ----------
        new_cost : array_like
            New cost of each column, same order and units as :attr:`cost`.
        """
        new = np.asarray(new_cost, dtype=float)
        if new.shape != self.cost.shape:
            raise ValueError(f"{new.size} costs for {self.cost.size} ranged columns")
        change = new - self.cost
        room = np.where(change > 0, self.upper - self.cost, self.cost - self.lower)
        moved = change != 0
        if np.any(moved & ~(room > 0)):  # a move in a direction with no room at all
            return False
        fraction = np.abs(change[moved]) / room[moved]  # room inf -> 0
        return bool(fraction.sum() <= 1.0)


class PersistentHighs:
    """A Pyomo model handed to HiGHS once through Pyomo's persistent interface, kept for re-solves.

    Parameters
    ----------
    model : pyo.ConcreteModel
        A linear (or mixed-integer linear) model; its rows are added one constraint at a time.

    Attributes
    ----------
    handoff_seconds : float
        Time the first hand-off took (s).

    Examples
    --------
    >>> adapter = PersistentHighs(model)                       # doctest: +SKIP
    >>> adapter.highs.run()                                    # doctest: +SKIP
    >>> adapter.values([model.x[0]])                           # doctest: +SKIP
    """

    def __init__(self, model: pyo.ConcreteModel) -> None:
        self.model = model
        opt = Highs()
        opt.config.load_solutions = False
        opt.config.raise_exception_on_nonoptimal_result = False
        start = time.perf_counter()
        with PauseGC():  # adds rows one by one: the collector's passes cost up to half of it
            opt.set_instance(model)
        self.handoff_seconds = time.perf_counter() - start
        self._opt = opt
        self._highs: highspy.Highs = _private(opt, "_solver_model")
        self._column_of: dict[int, int] = _private(opt, "_pyomo_var_to_solver_var_map")
        self._row_of: dict[object, int] = _private(opt, "_pyomo_con_to_solver_con_map")
        self._highs.setOptionValue("output_flag", False)
        self._open: OpenLpRuns | None = None
        """The open-LP runs (:class:`optimizer.open_lp.OpenLpRuns`), made at the first one."""
        self.row_refreshers: set[int] = set()
        """``id`` of the :meth:`refreshers_by_param` helpers that rewrite constraint rows (their
        coefficients or bounds); a refresh of one of them calls :meth:`forget_matrix`."""

    # -- what HiGHS holds -------------------------------------------------------------------------
    @property
    def highs(self) -> highspy.Highs:
        """The live ``highspy.Highs`` instance (changes made on it bypass Pyomo).

        After an open-LP run (:meth:`run`) it is first brought back to that run's optimum (its
        basis, solution, duals), so whatever reads it sees the last solve.
        """
        self._sync_full()
        return self._highs

    @property
    def column_of(self) -> Mapping[int, int]:
        """``id(VarData) -> HiGHS column`` of every variable handed over (kept current, read only)."""
        return self._column_of

    def columns(self, variables: Iterable[pyo.Var]) -> np.ndarray:
        """HiGHS column of each VarData (-1: not in HiGHS, e.g. a variable of no constraint)."""
        column_of = self._column_of
        return np.fromiter((column_of.get(id(v), -1) for v in variables), dtype=np.int64)

    def rows(self, constraints: Iterable[pyo.Constraint]) -> np.ndarray:
        """HiGHS row of each ConstraintData (-1: not in HiGHS, e.g. deactivated or trivial)."""
        row_of = self._row_of
        return np.fromiter((row_of.get(c, -1) for c in constraints), dtype=np.int64)

    # -- changing HiGHS ---------------------------------------------------------------------------
    def set_costs(self, variables: Sequence[pyo.Var], costs: Sequence[float] | np.ndarray) -> None:
        """Set the objective coefficients of ``variables`` in HiGHS only (not in the Pyomo model).

        A later refresh of the objective from its Params (:meth:`update_parameters`, or a
        :class:`Refresher` of a cost) overwrites them.
        """
        cols = self._known(variables)
        self._highs.changeColsCost(cols.size, cols.astype(np.int32), np.asarray(costs, dtype=float))

    def set_bounds(
        self,
        variables: Sequence[pyo.Var],
        lower: Sequence[float] | np.ndarray,
        upper: Sequence[float] | np.ndarray,
    ) -> None:
        """Set the bounds of ``variables`` in HiGHS only (``-inf``/``inf``: none)."""
        cols = self._known(variables)
        order = np.argsort(cols)  # HiGHS takes a set of indices in increasing order
        lo = np.asarray(lower, dtype=float)[order]
        up = np.asarray(upper, dtype=float)[order]
        self._highs.changeColsBounds(cols.size, cols[order].astype(np.int32), lo, up)

    def set_integer(self, variables: Sequence[pyo.Var], integer: bool) -> None:
        """Make ``variables`` integer or continuous in HiGHS only (the Pyomo domains are unchanged).

        Continuous relaxes them (keeping their bounds and rows); integer restores them. Pyomo
        never rewrites a column's integrality after the hand-off, so the change lasts until undone.
        """
        cols = np.sort(self._known(variables)).astype(np.int32)
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        self._highs.changeColsIntegrality(cols.size, cols, np.full(cols.size, kind))

    def add_constraints(self, constraints: Sequence[pyo.Constraint]) -> None:
        """Hand new ConstraintData of the model to HiGHS (new variables in them, binaries too, follow)."""
        self._sync_full(run=False)
        self.forget_matrix()
        self._opt.add_constraints(list(constraints))

    def update_parameters(self) -> None:
        """Rewrite every HiGHS entry that depends on a mutable Param (slow: every helper runs)."""
        self.forget_matrix()
        self._opt.update_parameters()

    def forget_matrix(self) -> None:
        """The constraint matrix may have changed (a Param in a coefficient, new rows): read it again."""
        if self._open is not None:
            self._open.matrix = None

    @property
    def open_solves(self) -> int:
        """Runs solved as the open LP (:mod:`optimizer.open_lp`)."""
        return 0 if self._open is None else self._open.solves

    def refreshers_by_param(self) -> dict[int, list[Refresher]]:
        """``id(ParamData) -> helpers`` rewriting the HiGHS entries that read that Param.

        Covers constraint coefficients and bounds, variable bounds, objective costs and the
        objective's constant: pushing a changed Param means calling ``update()`` on its helpers.
        """
        opt = self._opt
        helpers: list[Refresher] = [h for hs in _private(opt, "_mutable_helpers").values() for h in hs]
        self.row_refreshers = {id(h) for h in helpers}
        helpers.extend(helper for _, helper in _private(opt, "_mutable_bounds").values())
        objective = _private(opt, "_mutable_objective")
        helpers.extend(_private(objective, "linear_coefs"))
        helpers.append(_private(objective, "constant"))
        by_param: dict[int, list[Refresher]] = {}
        for helper in helpers:
            for expr in _expressions(helper):
                for param in identify_mutable_parameters(expr):
                    by_param.setdefault(id(param), []).append(helper)
        return by_param

    # -- running ----------------------------------------------------------------------------------
    def run(
        self, options: SolveOptions, *, time_limit_s: float, mip: bool, mip_start: np.ndarray | None = None
    ) -> RawSolution:
        """Run HiGHS under ``options`` (a time limit for this run) and read the result.

        With ``options.warm_start`` HiGHS starts from its last basis, and retries cold when that run
        ends other than optimal (from a stale basis after pinned bounds it sometimes ends with status
        Unknown); without, every run is cold (reproducible results). A warm LP run whose fixed
        columns are at least :data:`OPEN_LP_MIN_DROPPED` of the columns (a real-time re-solve's
        carried-out periods) solves only the open part (:mod:`optimizer.open_lp`) when
        ``options.open_lp``: the same LP, the same starting vertex, fewer rows and columns.
        ``mip_start``: a value for every column, given to a MIP run as its first incumbent
        (HiGHS ``setSolution``; HiGHS checks it and ignores it when infeasible).
        """
        highs = self._highs
        start = time.perf_counter()
        if options.warm_start and options.open_lp and not mip:
            raw = self._run_open(options, time_limit_s, start)
            if raw is not None:
                return raw
        self._sync_full(run=False)
        apply_options(highs, options, time_limit_s=time_limit_s, mip=mip)
        if not options.warm_start:
            highs.clearSolver()
        self._give_start(mip_start if mip else None)
        highs.run()
        if options.warm_start and highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            highs.clearSolver()
            apply_options(highs, options, time_limit_s=time_limit_s, mip=mip)
            self._give_start(mip_start if mip else None)
            highs.run()
        return self.solution(time.perf_counter() - start)

    def _give_start(self, values: np.ndarray | None) -> None:
        """Hand ``values`` (one per column) to HiGHS as the next run's starting solution."""
        if values is None or values.size != self._highs.getNumCol():
            return
        solution = highspy.HighsSolution()
        solution.col_value = values.tolist()
        solution.value_valid = True
        self._highs.setSolution(solution)

    def _run_open(self, options: SolveOptions, time_limit_s: float, start: float) -> RawSolution | None:
        """Solve the open LP warm (:meth:`optimizer.open_lp.OpenLpRuns.run`); None when nothing ran.

        Raises
        ------
        SolverError
            scipy (the ``forecast`` extra) is not installed: the opt-in cut needs its matching.
        """
        if self._open is None:
            try:  # opt-in, so the core imports no scipy (tests/test_packaging.py)
                from optimizer.open_lp import OpenLpRuns
            except ImportError as exc:
                raise SolverError(
                    f"SolveOptions.open_lp needs scipy ({exc}): pip install 'vpp[forecast]', or leave it off"
                ) from exc
            self._open = OpenLpRuns(min_dropped=OPEN_LP_MIN_DROPPED)
        return self._open.run(self._highs, self._column_of, options, time_limit_s, start)

    def _sync_full(self, *, run: bool = True) -> None:
        """Give the full HiGHS the basis of the last open-LP run (and, with ``run``, its optimum)."""
        if self._open is not None:
            self._open.give_back(self._highs, run=run)

    # -- reading the last run ---------------------------------------------------------------------
    def solution(self, seconds: float) -> RawSolution:
        """Status, objective and column values of the last HiGHS run (``seconds``: its duration)."""
        return read_highs(self.highs, self._column_of, seconds, sense=1.0)

    def values(self, variables: Iterable[pyo.Var]) -> np.ndarray:
        """Solution value of each VarData in the last run (0 for variables not in HiGHS)."""
        cols = self.columns(variables)
        col_value = np.asarray(self.highs.getSolution().col_value, dtype=float)
        if col_value.size == 0:
            return np.zeros(cols.size)
        return np.where(cols >= 0, col_value[np.maximum(cols, 0)], 0.0)

    def duals(self, constraints: Iterable[pyo.Constraint]) -> np.ndarray:
        """Row dual of each ConstraintData in the last LP run: objective units per constraint unit.

        The change of the optimal objective per unit the constraint's bound is relaxed (sign as
        HiGHS reports it for the objective's sense); NaN for constraints not in HiGHS.
        """
        rows = self.rows(constraints)
        if self.highs.getInfo().dual_solution_status != _FEASIBLE:
            raise AdapterError("no duals: HiGHS has no dual solution (run an LP to optimality first)")
        row_dual = np.asarray(self._highs.getSolution().row_dual, dtype=float)
        return np.where(rows >= 0, row_dual[np.maximum(rows, 0)], np.nan)

    def cost_ranging(self, variables: Sequence[pyo.Var]) -> CostRanging | None:
        """Cost ranges of ``variables`` on the current optimal basis (HiGHS ``getRanging``).

        Returns
        -------
        CostRanging or None
            None when HiGHS has no optimal basis to range: the model has integer columns (a
            MIP has no basis), or the last run did not end optimal.

        Raises
        ------
        AdapterError
            A variable is not in HiGHS.
        """
        cols = self._known(variables)
        highs = self.highs
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal or highs.getInfo().mip_node_count >= 0:
            return None  # not optimal, or the last run was a MIP
        status, ranging = highs.getRanging()
        if status != highspy.HighsStatus.kOk or not ranging.valid:
            return None
        n_col = highs.getNumCol()
        lower = np.asarray(ranging.col_cost_dn.value_, dtype=float)[:n_col][cols]
        upper = np.asarray(ranging.col_cost_up.value_, dtype=float)[:n_col][cols]
        cost = self._costs(cols)
        value = np.asarray(highs.getSolution().col_value, dtype=float)[cols]
        inf = highspy.kHighsInf
        return CostRanging(
            cost=cost,
            lower=np.where(lower <= -inf, -np.inf, lower),
            upper=np.where(upper >= inf, np.inf, upper),
            value=value,
        )

    def _costs(self, cols: np.ndarray) -> np.ndarray:
        """Current HiGHS costs of ``cols`` (any order, no repeats)."""
        order = np.argsort(cols)  # HiGHS reads a set of indices only in increasing order
        status, _, costs, _, _, _ = self._highs.getCols(cols.size, cols[order].astype(np.int32))
        if status != highspy.HighsStatus.kOk:
            raise AdapterError(f"HiGHS getCols failed: {status}")
        out = np.empty(cols.size)
        out[order] = costs
        return out

    def _known(self, variables: Iterable[pyo.Var]) -> np.ndarray:
        """Columns of ``variables``; every one must be in HiGHS."""
        variables = list(variables)
        cols = self.columns(variables)
        missing = np.flatnonzero(cols < 0)
        if missing.size:
            raise AdapterError(f"variable '{variables[missing[0]].name}' is not in HiGHS")
        return cols


def param_values(params: Sequence[pyo.Param]) -> np.ndarray:
    """Values of mutable ParamData, read from Pyomo's ``_value`` slot (5x faster than ``.value``).

    A re-solve's Param scan compares every mutable Param of the model (about 200,000 at 1,000 assets
    x 96 periods) with what HiGHS last saw.
    """
    if params:
        _private(params[0], "_value")
    return np.fromiter(map(_PARAM_VALUE, params), dtype=float, count=len(params))


_PARAM_VALUE = operator.attrgetter("_value")


def _expressions(helper: object) -> list[object]:
    """The Param-dependent expressions a Pyomo helper evaluates (constants dropped)."""
    exprs = [getattr(helper, name) for name in ("expr", "lower_expr", "upper_expr") if hasattr(helper, name)]
    return [e for e in exprs if e is not None and not isinstance(e, int | float)]


def _private(obj: object, name: str) -> object:
    """``obj.name``, or :class:`AdapterError` naming the attribute and the tested Pyomo release."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise AdapterError(
            f"pyomo {pyomo.version.version}: {type(obj).__name__} has no '{name}'; "
            f"optimizer/highs_adapter.py is tested with pyomo {TESTED_PYOMO}.x (pyproject.toml pins it)"
        ) from None
