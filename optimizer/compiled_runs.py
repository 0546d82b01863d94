"""The compiled hand-off of one day model: every run compiles the model into a new HiGHS.

Pyomo's ``LinearStandardFormCompiler`` turns the model into sparse arrays handed to highspy in one
``passModel`` call (:func:`optimizer.highs_bridge.compile_to_highs`): 5-9x faster than the
persistent hand-off for a one-shot solve of a large model, but no HiGHS is kept between runs, so
lazy binaries reach HiGHS by compiling again, and a repair (:func:`optimizer.repair.repair`)
compiles the model once more. :class:`CompiledRuns` runs the same calls as
:class:`optimizer.kept_highs.KeptHighs` for :class:`optimizer.solver.ModelSolver`.
"""

from __future__ import annotations

import time

import pyomo.environ as pyo
from pandas import DatetimeIndex

from optimizer.exclusive import Exclusivity
from optimizer.highs_bridge import RawSolution, compile_to_highs, solve_compiled
from optimizer.options import SolveOptions
from optimizer.repair import aligned, repair


class CompiledRuns:
    """Runs of one model, each compiled into a new HiGHS.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The day model (with every lazy binary added so far).
    """

    def __init__(self, model: pyo.ConcreteModel) -> None:
        self.model = model

    def run(self, options: SolveOptions, *, time_limit_s: float, mip: bool) -> tuple[RawSolution, float]:
        """Compile, run within ``time_limit_s`` (s), read: the solution and its hand-off time (s)."""
        return solve_compiled(self.model, options, time_limit_s=time_limit_s, mip=mip)

    def repair(
        self, last: RawSolution, exclusivity: Exclusivity, options: SolveOptions, *, mip: bool,
        index: DatetimeIndex,
    ) -> tuple[RawSolution, float]:
        """The repaired schedule of ``last`` (:func:`optimizer.repair.repair`) in the model compiled once
        more (``mip``: it has binaries), and the time compiling took (s)."""
        start = time.perf_counter()
        highs, column_of = compile_to_highs(self.model, integers=mip)
        handoff_s = time.perf_counter() - start
        raw = repair(
            highs, column_of, aligned(last, column_of), exclusivity, options,
            sense=-1.0, bound=last.bound, index=index,  # the compiler minimises -objective
        )
        return raw, handoff_s
