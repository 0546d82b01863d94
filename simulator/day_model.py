"""One optimisation model per portfolio, reused across days, strategies and real-time re-solves.

:class:`DayModels` keeps one :class:`optimizer.solver.ModelSolver` (one Pyomo model and one
persistent HiGHS). For a new trading day it prepares the day's problem (numpy only), and when the
structure is unchanged it swaps in the day's forecasts (``set_forecast``), prices (``set_prices``)
and initial state (``restart``) instead of rebuilding. It rebuilds only when the structure
changes: another number or length of periods (a daylight-saving day), other assets, a family
parameter outside the family's ``DAY_VARYING`` (:class:`optimizer.families.protocol.FamilyModel`),
or other battery binary periods.

Storage never charges and discharges at once: the solver adds binaries where a solve does
(:mod:`optimizer.exclusive`) and keeps them for later re-solves, so the structure never depends on
the price. Perfect foresight (``proven=True``) first solves with those binaries relaxed; where that
relaxation charges and discharges at once its one-direction repair answers when within
:data:`BOUND_MIP_GAP` of it, and only otherwise the MIP runs (:mod:`optimizer.relaxation_first`);
its day-ahead leg is solved on revenue alone (``revenue_only``: the objective's cost weight 0,
pushed like a price).

Within a day a real-time step re-solves periods ``k..T-1`` with every earlier period pinned at
what the assets carried out (:meth:`optimizer.solver.ModelSolver.carry_out`): the model is never
rebuilt inside the period loop, and only the prices (objective costs) change between steps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from market.calendar import trading_day_index
from optimizer.families import FAMILIES
from optimizer.problem import Problem
from optimizer.result import ScheduleArrays, ScheduleResult
from optimizer.solver import ModelSolver, SolveOptions
from simulator.day_ahead import day_problem
from vpp.portfolio_io import LoadedPortfolio

BOUND_MIP_GAP = 1e-3
"""Relative MIP gap at which perfect foresight's MIP solves stop. The capture ratio is measured
against its revenue plus the summed gap of HiGHS's dual bound over its objective
(``perfect_foresight_bound_yuan``). Its day-ahead leg is solved on revenue alone
(``revenue_only``: a financial position, never carried out), so its gap is a gap in revenue and
revenue + gap is a proven bound of that leg at any gap. Its real-time leg (the dispatch, with the
costs of running the assets) is an LP wherever the relaxation is exact. A relaxation that burns whose
repair lies within this gap of it is the answer without a MIP, its optimum the bound
(:mod:`optimizer.relaxation_first`: 5 of the 32 MIPs on the three-battery holdout, the other 27 start
from the repair). On the issue 17 holdout
(Gansu 2024-06-01..07-31) every MIP of both benchmark fleets closes 1e-3 at the root node, 0.3-1
CPU s each; at 1e-4 the hardest days (three batteries cycling energy through each other at negative
DA-RT spreads) took hundreds of nodes, 2024-07-08 1,918 and the 60 s wall-clock limit: perfect
foresight 122 -> 36 CPU s of the two months (bench/RESULTS.md, issue 17 item 6).
Before the day-ahead leg was revenue-only, 1e-3 was rejected: its gap was in objective terms
(revenue minus wear) and revenue + gap fell below a 1e-6 solve's revenue."""

BOUND_MIP_NODES = 100
"""Branch-and-bound nodes after which a perfect-foresight MIP stops (HiGHS ``mip_max_nodes``) with
its best schedule and proven bound (``perfect_foresight_gap_yuan``). A node limit stops at the
same point on every machine, so the schedule and the bound do not depend on the load as with the
wall-clock limit; at 40-55 ms a node on the three-battery holdout days, about 5 CPU s at most."""

BOUND_TIME_LIMIT_S = 60.0
"""Least HiGHS time limit of a perfect-foresight solve (s), the last safety net behind
:data:`BOUND_MIP_NODES` (a root node that alone takes longer). A day stopped by it keeps the
best schedule found and reports HiGHS's proven bound (``perfect_foresight_gap_yuan``)."""


class DayModels:
    """The portfolio's model, kept across days.

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio.
    options : SolveOptions, optional
        HiGHS settings.

    Attributes
    ----------
    builds : int
        Models built (first day, structure changes, and fallback rebuilds).
    solves : int
        HiGHS solves.
    skips : int
        Real-time re-solves not needed: the last plan was still optimal (:meth:`keeps_plan`).
    highs_seconds : float
        Time inside HiGHS ``run`` over all solves (s); the rest of a solve is Pyomo/Python overhead.
    """

    def __init__(self, loaded: LoadedPortfolio, options: SolveOptions | None = None) -> None:
        self.loaded = loaded
        self.options = options or SolveOptions()
        self.solver: ModelSolver | None = None
        self._day: dt.date | None = None
        self._carried = 0
        self.builds = 0
        self.solves = 0
        self.skips = 0
        self.highs_seconds = 0.0

    # -- preparing a day ------------------------------------------------------------------------
    def use_day(self, day: dt.date) -> ModelSolver:
        """Make the model represent trading day ``day`` (rebuilt only on a structure change)."""
        if self.solver is not None and self._day == day:
            return self.solver
        index = trading_day_index(self.loaded.market, day)
        problem = day_problem(self.loaded, day, np.zeros(len(index)))
        if self.solver is not None and compatible(self.solver.problem, problem):
            solver = self.solver
            solver.release_periods()  # the other day's pinned past (carry_out or a hybrid restart)
            solver.problem = dataclasses.replace(problem, price=solver.problem.price)
            for family, data in problem.families.items():
                for name in FAMILIES[family].FORECAST_FIELDS:
                    solver.set_forecast(family, name, getattr(data, name))
        else:
            solver = ModelSolver(problem, self.options)
            solver.scan_params = False  # every change below is reported to the solver
            self.builds += 1
        self.solver, self._day = solver, day
        return solver

    # -- solving --------------------------------------------------------------------------------
    def solve(
        self,
        day: dt.date,
        price: np.ndarray,
        state: Mapping[str, Mapping[str, float]],
        k: int = 0,
        *,
        relaxed: bool = False,
        proven: bool = False,
        revenue_only: bool = False,
    ) -> ScheduleResult:
        """Optimise periods ``k..T-1`` of ``day`` against ``price`` (pandas result).

        ``solve_arrays(...).to_result()``; see :meth:`solve_arrays`.
        """
        arrays = self.solve_arrays(
            day, price, state, k, relaxed=relaxed, proven=proven, revenue_only=revenue_only
        )
        return arrays.to_result()

    def solve_arrays(
        self,
        day: dt.date,
        price: np.ndarray,
        state: Mapping[str, Mapping[str, float]],
        k: int = 0,
        *,
        relaxed: bool = False,
        proven: bool = False,
        revenue_only: bool = False,
    ) -> ScheduleArrays:
        """Optimise periods ``k..T-1`` of ``day`` against ``price`` (numpy result, the light path).

        With ``k = 0`` the model is set to ``day`` and starts from ``state`` (every pinned period
        released). With ``k > 0`` the periods before ``k`` must have been carried out with
        :meth:`carry_out` since the day started; they stay as they were, so ``state`` is implied.

        Parameters
        ----------
        day : datetime.date
            Trading day.
        price : np.ndarray
            One price per period of the whole day (yuan/MWh); periods before ``k`` are unused.
        state : mapping
            State at the start of the day (see :mod:`simulator.state`); used when ``k = 0``.
        k : int
            First period to optimise.
        relaxed : bool
            Let storage charge and discharge at once (the relaxation: an upper bound); no
            strategy does (perfect foresight is solved exact, to a proven gap).
        proven : bool
            Solve to :data:`BOUND_MIP_GAP` or :data:`BOUND_MIP_NODES`, with at least
            :data:`BOUND_TIME_LIMIT_S` (perfect foresight, the capture-ratio bound), the
            exclusivity binaries relaxed first: when that
            LP charges and discharges nowhere at once it is the exact optimum (gap 0) and no MIP
            runs, nor when its one-direction repair is within :data:`BOUND_MIP_GAP` of it
            (``relaxation_first`` of :meth:`optimizer.solver.ModelSolver.solve_arrays`).
        revenue_only : bool
            Maximise revenue at ``price`` alone, without the families' cost terms (a schedule
            that is a financial position, never carried out: perfect foresight's DA leg;
            :meth:`optimizer.solver.ModelSolver.set_cost_weight`). The result's HiGHS objective
            and bound (``stats``) are then revenue; its ``terms_yuan`` still report the costs.

        Returns
        -------
        ScheduleArrays
            Over the whole day; rows before ``k`` are the carried-out past.
        """
        self.solves += 1
        if k == 0:
            solver = self.use_day(day)
            solver.release_periods()
            solver.set_prices(np.asarray(price, dtype=float), allow_relaxed=relaxed)
            solver.restart(0, state)
        else:
            if self.solver is None or self._day != day or self._carried != k:
                raise RuntimeError(f"periods before {k} of {day} were not carried out in order")
            solver = self.solver
            solver.set_prices(np.asarray(price, dtype=float), allow_relaxed=relaxed)
        self._carried = k
        solver.set_cost_weight(0.0 if revenue_only else 1.0)
        options = solver.options
        if proven:
            limit = max(options.time_limit_s, BOUND_TIME_LIMIT_S)
            solver.options = dataclasses.replace(
                options, mip_rel_gap=BOUND_MIP_GAP, mip_max_nodes=BOUND_MIP_NODES, time_limit_s=limit
            )
        try:
            result = solver.solve_arrays(relaxation_first=proven)
        finally:
            solver.options = options
        self.highs_seconds += result.stats.solve_seconds
        return result

    def keeps_plan(self, day: dt.date, price: np.ndarray, k: int) -> bool:
        """True when the last plan is still optimal for periods ``k..T-1`` at ``price``: no re-solve.

        Sets ``price`` and asks the solver whether the kept basis is still optimal
        (:meth:`optimizer.solver.ModelSolver.last_solution_still_optimal`; a MIP always answers
        False). After True the caller follows the last plan; :meth:`carry_out` then pins period
        ``k`` of it, as after a re-solve that returned it.
        """
        if self.solver is None or self._day != day or self._carried != k or k == 0:
            return False
        self.solver.set_prices(np.asarray(price, dtype=float))
        if not self.solver.last_solution_still_optimal():
            return False
        self.skips += 1
        return True

    def carry_out(self, k: int) -> None:
        """Pin period ``k`` of the last solve: the assets did exactly that (see ModelSolver.carry_out)."""
        if self.solver is None or self._carried != k:
            raise RuntimeError(f"period {k} is not the next period to carry out")
        self.solver.carry_out(k)
        self._carried = k + 1


def compatible(old: Problem, new: Problem) -> bool:
    """True when a model built for ``old`` can represent ``new`` by updating mutable Params."""
    if old.n_periods != new.n_periods or not np.array_equal(old.dt_h, new.dt_h):
        return False
    if old.asset_family != new.asset_family or set(old.families) != set(new.families):
        return False
    if (old.import_limit_mw, old.export_limit_mw, old.group_limits) != (
        new.import_limit_mw,
        new.export_limit_mw,
        new.group_limits,
    ):
        return False
    for family, data in new.families.items():
        varying = FAMILIES[family].DAY_VARYING
        if varying is None:  # a family without reuse support: rebuild every day
            return False
        before = old.families[family]
        for field in dataclasses.fields(data):
            if field.name in varying:
                continue
            a, b = getattr(before, field.name), getattr(data, field.name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if not np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True):
                    return False
            elif a != b:
                return False
    return True


def row_of(result: ScheduleResult | ScheduleArrays, timestamp: pd.Timestamp) -> int:
    """Position of ``timestamp`` in ``result`` (whole-day or rebuilt remaining-day results)."""
    return int(result.index.get_loc(timestamp))
