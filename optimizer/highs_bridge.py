"""The HiGHS side of a solve: a Pyomo model compiled into one ``passModel`` call, the per-solve
options, and the status and solution read back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.errors import InfeasibleConstraintException
from pyomo.common.gc_manager import PauseGC
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer.highs_setup import new_highs
from optimizer.options import SolveOptions


@dataclass(frozen=True)
class RawSolution:
    """What a HiGHS run returned: column values (by ``column_of``), status and objective."""

    col_value: np.ndarray
    column_of: dict[int, int]
    status: str
    termination: str
    objective: float
    mip_gap: float | None
    seconds: float
    bound: float | None = None
    """Proven bound of the objective (times ``sense``): the MIP dual bound, or the LP optimum."""



class ColumnReader:
    """Solution values of lists of VarData, their HiGHS columns looked up once per list.

    A list's columns are kept while the list, the column map and its size are the same (a
    persistent model's columns are only ever appended): the exclusivity check reads the same
    charge/discharge lists after every solve, about 10,000 dict lookups a solve at 100 assets
    (``bench/bench_value_reader.py``).
    """

    def __init__(self) -> None:
        self._kept: dict[int, tuple[list, dict[int, int], int, np.ndarray]] = {}

    def clear(self) -> None:
        """Forget every kept lookup."""
        self._kept.clear()

    def values_of(self, raw: RawSolution) -> Callable[[list], np.ndarray]:
        """``values(vars) -> solution values`` in ``raw`` (0 for a variable HiGHS does not hold)."""
        column_of = raw.column_of
        kept_lookups = self._kept

        def values(variables: list) -> np.ndarray:
            kept = kept_lookups.get(id(variables))
            same = kept is not None and kept[0] is variables and kept[1] is column_of
            if same and kept[2] == len(column_of):
                cols = kept[3]
            else:
                cols = np.fromiter((column_of.get(id(v), -1) for v in variables), np.int64, len(variables))
                kept_lookups[id(variables)] = (variables, column_of, len(column_of), cols)
            out = raw.col_value[np.maximum(cols, 0)] if raw.col_value.size else np.zeros(cols.size)
            return np.where(cols >= 0, out, 0.0)

        return values


def compile_to_highs(
    model: pyo.ConcreteModel, *, integers: bool | None = None
) -> tuple[highspy.Highs, dict[int, int]]:
    """Compile a linear Pyomo model to standard form and pass it to a new HiGHS in one call.

    Parameters
    ----------
    model : pyo.ConcreteModel
        A linear (or mixed-integer linear) model.
    integers : bool, optional
        Whether the model has integer or binary variables, when the caller already knows
        (``ModelSolver`` counts them once): False skips reading every column's domain (about
        0.4 CPU s of a 288,000-column model). None reads them.

    Returns the HiGHS instance (minimising the negated objective when the model maximises) and
    the map ``id(var) -> column``.
    """
    with PauseGC():  # the compiler pauses it too; this covers the bounds and the map below
        return _compile_to_highs(model, integers)


def _compile_to_highs(
    model: pyo.ConcreteModel, integers: bool | None
) -> tuple[highspy.Highs, dict[int, int]]:
    info = LinearStandardFormCompiler().write(model, mixed_form=True)
    columns = info.columns
    n_col = len(columns)
    a = info.A.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = np.asarray(info.c.toarray()).reshape(-1) if n_col else np.zeros(0)
    lp.offset_ = float(info.c_offset[0]) if len(info.c_offset) else 0.0
    # One ``bounds`` call per column evaluates both (mutable-Param) bounds: twice as fast as lb, ub.
    bounds = np.array([v.bounds for v in columns], dtype=float).reshape(n_col, 2)  # None -> nan
    lp.col_lower_ = np.where(np.isnan(bounds[:, 0]), -np.inf, bounds[:, 0])
    lp.col_upper_ = np.where(np.isnan(bounds[:, 1]), np.inf, bounds[:, 1])
    sign = np.fromiter((r[1] for r in info.rows), np.int8, len(info.rows))
    rhs = np.asarray(info.rhs, dtype=float)
    lp.row_lower_ = np.where(sign <= 0, rhs, -np.inf)
    lp.row_upper_ = np.where(sign >= 0, rhs, np.inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(float)
    if integers is False:
        integer = np.zeros(n_col, dtype=bool)
    else:
        integer = np.fromiter((v.is_integer() or v.is_binary() for v in columns), bool, n_col)
    if integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integer
        ]
    highs = new_highs()
    highs.passModel(lp)
    highs._vpp_rows = info.rows  # kept for diagnosis
    return highs, {id(v): i for i, v in enumerate(columns)}


def solve_compiled(
    model: pyo.ConcreteModel, options: SolveOptions, *, time_limit_s: float, mip: bool
) -> tuple[RawSolution, float]:
    """Compile ``model`` into a new HiGHS, run it once and read the result (the compiled hand-off).

    Returns the solution (objective in the model's sense) and the hand-off time (s: compiling and
    passing the model, setting options). A constraint without variables that cannot hold gives an
    ``infeasible`` solution.
    """
    start = time.perf_counter()
    try:
        highs, column_of = compile_to_highs(model, integers=mip)
    except InfeasibleConstraintException:
        return RawSolution(np.zeros(0), {}, "infeasible", "Infeasible", float("nan"), None, 0.0), 0.0
    apply_options(highs, options, time_limit_s=time_limit_s, mip=mip)
    handoff_s = time.perf_counter() - start
    start = time.perf_counter()
    highs.run()
    elapsed = time.perf_counter() - start
    # The compiler minimises -objective.
    return read_highs(highs, column_of, elapsed, sense=-1.0), handoff_s


def apply_options(
    highs: highspy.Highs, options: SolveOptions, *, time_limit_s: float | None = None, mip: bool | None = None
) -> None:
    """Set the time limit (per run), MIP gap and node limit, threads and extra options of ``highs``.

    HiGHS (1.16) checks ``time_limit`` of an LP against the run clock of the instance, which
    accumulates over every run, but a MIP's against the time of the current run. So a persistent
    model's LP gets ``run clock + limit`` (else it would stop re-solving once its HiGHS time summed
    to the limit) and a MIP gets ``limit`` itself (``run clock + limit`` would double the limit
    with every re-solve). ``mip`` says whether the model has integer columns (None: ask HiGHS);
    ``time_limit_s`` overrides ``options.time_limit_s`` (e.g. what is left of a solve's budget).
    """
    limit = float(options.time_limit_s if time_limit_s is None else time_limit_s)
    if mip is None:
        mip = has_integers(highs)
    highs.setOptionValue("time_limit", limit if mip else float(highs.getRunTime()) + limit)
    highs.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    nodes = options.mip_max_nodes
    highs.setOptionValue("mip_max_nodes", highspy.kHighsIInf if nodes is None else int(nodes))
    if options.threads is not None:
        use_scheduler_threads(int(options.threads))
        highs.setOptionValue("threads", int(options.threads))
    for name, value in options.highs_options:
        highs.setOptionValue(name, value)


_scheduler_lock = threading.Lock()
_scheduler_threads: int | None = None
"""The thread count HiGHS's process-wide scheduler was last (re)started with here; None: not yet."""


def use_scheduler_threads(threads: int) -> None:
    """Restart HiGHS's process-wide task scheduler with ``threads`` threads if it may run another count.

    HiGHS starts one scheduler per process, at its first run, and afterwards refuses (model status
    'not set', no solution) any run whose ``threads`` option differs from it: so a solve asking for
    1 thread after a solve with HiGHS's default failed. The reset waits for running HiGHS tasks.
    """
    global _scheduler_threads
    with _scheduler_lock:
        if _scheduler_threads != threads:
            highspy.Highs.resetGlobalScheduler(True)
            _scheduler_threads = threads


def has_integers(highs: highspy.Highs) -> bool:
    """True when the model in ``highs`` has an integer column (copies the model: not for hot loops)."""
    integrality = highs.getLp().integrality_
    return any(kind != highspy.HighsVarType.kContinuous for kind in integrality)


def read_highs(
    highs: highspy.Highs, column_of: dict[int, int], seconds: float, *, sense: float
) -> RawSolution:
    """The status, objective (times ``sense``) and solution of the last HiGHS run."""
    model_status = highs.getModelStatus()
    termination = highs.modelStatusToString(model_status)
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2
    if model_status == highspy.HighsModelStatus.kOptimal:
        status = "optimal"
    elif model_status in (
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        status = "infeasible"
    elif has_solution:
        status = "feasible"
    else:
        status = "no_solution"
    col_value = np.asarray(highs.getSolution().col_value, dtype=float) if has_solution else np.zeros(0)
    is_mip = info.mip_node_count >= 0
    gap = float(info.mip_gap) if is_mip and np.isfinite(info.mip_gap) else None
    if is_mip:
        bound = sense * float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
    else:
        bound = sense * float(info.objective_function_value) if status == "optimal" else None
    return RawSolution(
        col_value=col_value,
        column_of=column_of,
        status=status,
        termination=termination,
        objective=sense * float(info.objective_function_value),
        mip_gap=gap,
        seconds=seconds,
        bound=bound,
    )
