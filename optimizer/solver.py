"""Solving a problem with HiGHS, and keeping the model alive for re-solves.

Two hand-offs of the same Pyomo model to HiGHS (``shared/PERFORMANCE.md`` measured both):

- ``persistent``: Pyomo's highspy-backed persistent interface (``pyomo.contrib.solver`` Highs).
  The first hand-off adds rows one constraint at a time (slow for large fleets), but a re-solve
  after only mutable Params changed (prices, states, forecasts) updates HiGHS in place.
- ``compiled``: Pyomo's ``LinearStandardFormCompiler`` turns the model into sparse arrays passed
  to highspy in one ``passModel`` call: 5-9x faster for a one-shot solve of a large model.

``auto`` picks ``compiled`` above :data:`COMPILED_ABOVE_VARIABLES` variables, else ``persistent``.

:class:`ModelSolver` is the model's public face: the updates between solves (its base
:class:`optimizer.model_updates.ModelUpdates`), the solve loop and its result. What each hand-off
runs is in :mod:`optimizer.kept_highs` (the kept HiGHS, synced with the Params and pins changed
since) and :mod:`optimizer.compiled_runs`; the model's built and lazy binaries in
:mod:`optimizer.model_integers`; the result's arrays in :mod:`optimizer.extract`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

from pyomo.common.gc_manager import PauseGC

from optimizer.compiled_runs import CompiledRuns
from optimizer.escalation import Deadline, solve_exclusive
from optimizer.exclusive import Exclusivity
from optimizer.extract import ResultLayout, extract_arrays, solve_stats
from optimizer.highs_adapter import CostRanging
from optimizer.highs_bridge import ColumnReader, RawSolution, compile_to_highs
from optimizer.kept_highs import KeptHighs
from optimizer.model_integers import ModelIntegers
from optimizer.model_updates import ModelUpdates
from optimizer.options import COMPILED_ABOVE_VARIABLES, Handoff, SolveOptions
from optimizer.past_pins import PastPinning, PastPlan
from optimizer.problem import Problem
from optimizer.relaxation_first import try_relaxation
from optimizer.result import ScheduleArrays, ScheduleResult
from vpp.errors import SolverError

__all__ = [
    "COMPILED_ABOVE_VARIABLES",
    "Handoff",
    "ModelSolver",
    "PastPinning",
    "PastPlan",
    "SolveOptions",
    "compile_to_highs",
    "solve",
]


class ModelSolver(ModelUpdates):
    """One problem's Pyomo model and its HiGHS instance, kept for re-solves.

    The updates between solves (prices, cost weight, restarts, forecasts, carried-out periods) are
    :class:`optimizer.model_updates.ModelUpdates`'s; the solves are here.

    Parameters
    ----------
    problem : Problem
        The prepared problem.
    options : SolveOptions, optional
        Solver settings.

    Examples
    --------
    >>> solver = ModelSolver(problem)            # doctest: +SKIP
    >>> first = solver.solve()                   # doctest: +SKIP
    >>> solver.set_prices(new_prices)            # doctest: +SKIP
    >>> second = solver.solve()                  # in place, persistent re-solve   # doctest: +SKIP
    """

    def __init__(self, problem: Problem, options: SolveOptions | None = None) -> None:
        super().__init__(problem, options)
        self._runs: KeptHighs | CompiledRuns = (
            CompiledRuns(self.model) if self.handoff == "compiled" else self._kept
        )
        self._solves = 0
        self._layout: ResultLayout | None = None
        self._integers = ModelIntegers(self.model)
        self._reader = ColumnReader()

    def price_ranging(self) -> CostRanging | None:
        """Per period, the prices (yuan/MWh) within which the last persistent solution stays optimal.

        HiGHS's cost ranging of ``net_mw[t]`` (cost ``price[t] * dt_h[t]``) on the basis of the last
        run: ``cost`` is the price that run used, ``lower``/``upper`` the range of one period's price
        with the others fixed, ``value`` the fleet net (MW). ``keeps_basis(new_prices)`` (the 100 %
        rule) True means a re-solve after only ``set_prices(new_prices)`` returns the same schedule.
        None before a persistent solve, for a MIP (binaries built or added for storage exclusivity)
        or when the last run was not optimal.
        """
        adapter = self._kept.adapter
        if adapter is None:
            return None
        ranging = adapter.cost_ranging([self.model.net_mw[t] for t in self.model.T])
        return None if ranging is None else ranging.per_unit(self.problem.dt_h)

    # -- solving ----------------------------------------------------------------------------------
    def solve(self) -> ScheduleResult:
        """Solve (or re-solve) the model and return the typed result (pandas).

        The same as ``solve_arrays().to_result()``, and raises as :meth:`solve_arrays` does.
        """
        with PauseGC():  # see solve_arrays
            return self.solve_arrays().to_result()

    def solve_arrays(self, *, relaxation_first: bool = False) -> ScheduleArrays:
        """Solve (or re-solve) the model and return per-family numpy arrays (no DataFrames).

        The light path for repeated re-solves (a real-time step needs one period and the state).

        Parameters
        ----------
        relaxation_first : bool
            When the model has lazy exclusivity binaries (:mod:`optimizer.exclusive`), first solve
            with them relaxed to continuous (their rows kept: ``charge/charge_max +
            discharge/discharge_max <= 1`` where they were added, a relaxation of the exact model).
            If that optimum charges and discharges nowhere at once it is feasible for the exact
            model, hence its optimum, proven by an LP (gap 0). Else its one-direction repair (one
            more LP) is the answer when within ``mip_rel_gap`` of the relaxation's optimum (its
            bound), and otherwise the MIP runs from it (:mod:`optimizer.relaxation_first`).
            Persistent hand-off only; meant for solves that must be proven (a MIP with every key
            binary costs 10-40x the LP even when the LP answer is already exact).

        Raises
        ------
        InfeasibleError
            The constraints cannot all hold; the message names asset, constraint and period.
        SolverError
            HiGHS stopped without a usable solution, or the time limit was reached while storage
            still charged and discharged at once and the repair (:mod:`optimizer.repair`) failed.
            A repaired schedule is returned with status ``feasible`` and a termination starting
            ``Repaired``: feasible, not proven optimal.

        Notes
        -----
        Python's cyclic garbage collector is paused for the solve, as for the build: the solve
        allocates many short lists (exclusivity keys, column lookups, result arrays), each of
        which could set off a full pass over the model's hundreds of thousands of Pyomo objects
        (about 1 CPU s of a 1,000-asset solve in ``bench/bench_day_ahead.py``).
        """
        with PauseGC():
            return self._solve_arrays(relaxation_first)

    def _solve_arrays(self, relaxation_first: bool) -> ScheduleArrays:
        deadline = Deadline(self.options.time_limit_s)
        exclusivity = None if self.relaxed else self._integers.exclusivity(self.problem)
        done = None
        if (
            relaxation_first
            and exclusivity is not None
            and exclusivity.n_binaries
            and self.handoff != "compiled"
            and not self._integers.built
        ):
            first = try_relaxation(
                lambda budget: self._solve_relaxed(budget, exclusivity),
                lambda relaxed, limit: self._one_direction(relaxed, exclusivity, limit),
                exclusivity, self._reader.values_of, deadline, self.options.mip_rel_gap,
            )
            done = first.rounds
            if first.answered:
                self._kept.last = done.raw
                raw = dataclasses.replace(done.raw, seconds=done.highs_seconds)
                return self._arrays(raw, done.handoff_seconds, done.rounds)
            self._kept.mip_start = first.mip_start
        persistent = self.handoff != "compiled"
        try:
            ended = solve_exclusive(
                self._solve_once, exclusivity, self._reader.values_of,
                lambda last: self._runs.repair(
                    last, exclusivity, self.options, mip=self._integers.is_mip(), index=self.problem.index
                ),
                deadline,
                push_rows=(lambda rows: self._kept.adapter.add_constraints(rows)) if persistent else None,
                done=done,
            )
        finally:
            self._kept.mip_start = None
        raw = dataclasses.replace(ended.raw, seconds=ended.highs_seconds)
        return self._arrays(raw, ended.handoff_seconds, ended.rounds)

    def _solve_relaxed(self, deadline: Deadline, exclusivity: Exclusivity) -> tuple[RawSolution, float]:
        """One persistent run with the lazy binaries continuous (their rows kept): a relaxation."""
        raw, handoff_s = self._kept.run(
            self.options, time_limit_s=deadline.left(), mip=False, relax=exclusivity.binaries
        )
        self._solves += 1
        return raw, handoff_s

    def _one_direction(self, relaxed: RawSolution, exclusivity: Exclusivity, limit_s: float) -> RawSolution:
        """The one-direction LP of ``relaxed`` in the kept HiGHS (:mod:`optimizer.repair`)."""
        raw = self._kept.one_direction(relaxed, exclusivity, replace(self.options, time_limit_s=limit_s))
        self._solves += 1
        return raw

    def _solve_once(self, deadline: Deadline) -> tuple[RawSolution, float]:
        """One solve by the model's hand-off within ``deadline``: the solution and its hand-off time (s).

        Raises InfeasibleError (naming asset, constraint and period) or SolverError (no solution).
        """
        left = deadline.left()
        raw, handoff_s = self._runs.run(self.options, time_limit_s=left, mip=self._integers.is_mip())
        self._solves += 1
        if raw.status == "infeasible":
            from optimizer.diagnose import infeasible_error  # only when needed: it imports pandas

            raise infeasible_error(self.model, self.problem.index, self.options)
        if raw.status == "no_solution":
            raise SolverError(
                f"HiGHS stopped without a solution: {raw.termination} "
                f"(time limit {self.options.time_limit_s} s)"
            )
        return raw, handoff_s

    def last_solution_still_optimal(self) -> bool:
        """True when the last solution is still optimal after what changed since (prices, pins).

        Pushes the pending changes to HiGHS and checks the kept basis without pivoting
        (:func:`optimizer.basis_check.basis_still_optimal`). False ("re-solve to know") for a MIP
        (binaries built or added by :mod:`optimizer.exclusive`: no basis to check), the compiled
        hand-off, and when the last solve was not optimal. After True the last solution (and
        :meth:`carry_out` of it) stands for the changed model exactly as a re-solve's would.
        """
        if self.handoff == "compiled" or self._integers.is_mip():
            return False
        return self._kept.still_optimal()

    def _arrays(self, raw: RawSolution, handoff_s: float, rounds: int = 1) -> ScheduleArrays:
        """The result of ``raw`` with this solve's figures (:func:`optimizer.extract.extract_arrays`)."""
        if self._layout is None:
            self._layout = ResultLayout(self.model, self.problem)
        stats = solve_stats(
            raw, self._layout, handoff=self.handoff, handoff_seconds=handoff_s, rounds=rounds,
            build_seconds=self.build_seconds if self._solves <= 1 else 0.0,
            n_binaries=self._integers.n_binaries,
        )
        return extract_arrays(self.model, self.problem, raw, stats, self._layout)


def solve(problem: Problem, options: SolveOptions | None = None) -> ScheduleResult:
    """Build, solve and return the schedule of ``problem`` (a one-shot :class:`ModelSolver`)."""
    return ModelSolver(problem, options).solve()

