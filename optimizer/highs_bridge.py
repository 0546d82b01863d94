"""The HiGHS side of a solve: a Pyomo model compiled into one ``passModel`` call, the per-solve
options, and the status and solution read back."""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.environ as pyo
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


def compile_to_highs(model: pyo.ConcreteModel) -> tuple[highspy.Highs, dict[int, int]]:
    """Compile a linear Pyomo model to standard form and pass it to a new HiGHS in one call.

    Returns the HiGHS instance (minimising the negated objective when the model maximises) and
    the map ``id(var) -> column``.
    """
    with PauseGC():  # the compiler pauses it too; this covers the bounds and the map below
        return _compile_to_highs(model)


def _compile_to_highs(model: pyo.ConcreteModel) -> tuple[highspy.Highs, dict[int, int]]:
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
    integer = np.fromiter((v.is_integer() or v.is_binary() for v in columns), bool, n_col)
    if integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integer
        ]
    highs = new_highs()
    highs.passModel(lp)
    highs._vpp_rows = info.rows  # kept for diagnosis
    return highs, {id(v): i for i, v in enumerate(columns)}


def apply_options(highs: highspy.Highs, options: SolveOptions) -> None:
    """Set the time limit (per solve), MIP gap, threads and extra options of ``highs``."""
    # HiGHS checks ``time_limit`` against the run clock of the instance, which accumulates over
    # every run (highspy 1.16): a persistent model would stop re-solving once its HiGHS time
    # summed to the limit (about 60 s into a long backtest). The limit is per solve here.
    highs.setOptionValue("time_limit", float(highs.getRunTime()) + float(options.time_limit_s))
    highs.setOptionValue("mip_rel_gap", float(options.mip_rel_gap))
    if options.threads is not None:
        highs.setOptionValue("threads", int(options.threads))
    for name, value in options.highs_options:
        highs.setOptionValue(name, value)


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
    gap = float(info.mip_gap) if info.mip_node_count >= 0 and np.isfinite(info.mip_gap) else None
    return RawSolution(
        col_value=col_value,
        column_of=column_of,
        status=status,
        termination=termination,
        objective=sense * float(info.objective_function_value),
        mip_gap=gap,
        seconds=seconds,
    )
