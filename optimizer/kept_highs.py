"""The persistent hand-off of one day model: its kept HiGHS, brought up to date before every run.

The model is handed to HiGHS once (:class:`optimizer.highs_adapter.PersistentHighs`); before each
later run only what changed since is pushed: the mutable Params reported or found changed
(:class:`optimizer.param_sync.ParamChanges`), then the pins asked for (carried-out periods, a
restart's pinned past: :class:`optimizer.pinning.PinPolicy`). :class:`KeptHighs` owns the three and
the last solution, and runs the kept HiGHS for :class:`optimizer.solver.ModelSolver`: a solve, a
solve with the lazy binaries relaxed, the one-direction LP and the repair of :mod:`optimizer.repair`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyomo.environ as pyo
from pandas import DatetimeIndex

from optimizer.basis_check import basis_still_optimal
from optimizer.exclusive import Exclusivity
from optimizer.highs_adapter import PersistentHighs
from optimizer.highs_bridge import RawSolution
from optimizer.options import SolveOptions
from optimizer.param_sync import ParamChanges
from optimizer.past_pins import PastPlan
from optimizer.pinning import PinPolicy
from optimizer.repair import aligned, one_direction_lp, repair


class KeptHighs:
    """One model's persistent HiGHS (made at the first run), its pending Param changes and pins.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The day model.
    n_periods : int
        Periods of the day.

    Attributes
    ----------
    adapter : PersistentHighs or None
        The kept HiGHS; None before the first run.
    pins : PinPolicy
        Carried-out periods and a restart's pinned past, set before each run.
    params : ParamChanges
        The Params changed since HiGHS last saw them.
    last : RawSolution or None
        The last run's solution (or the repair's, or a relaxation-first answer): the plan in force.
    mip_start : np.ndarray or None
        A feasible schedule (every column) the next MIP run starts from, then dropped.
    scan_params : bool
        Before each run, find changed Params by comparing values (safe default); off when every
        change is reported (:meth:`ParamChanges.mark`).
    """

    def __init__(self, model: pyo.ConcreteModel, n_periods: int) -> None:
        self.model = model
        self.adapter: PersistentHighs | None = None
        self.pins = PinPolicy(model, n_periods)
        self.params = ParamChanges(model)
        self.last: RawSolution | None = None
        self.mip_start: np.ndarray | None = None
        self.scan_params = True

    def run(
        self, options: SolveOptions, *, time_limit_s: float, mip: bool, relax: Sequence[pyo.Var] = ()
    ) -> tuple[RawSolution, float]:
        """Hand the model to HiGHS at the first run, else push what changed; run; the solution and
        its hand-off time (s).

        ``relax``: integer variables solved as continuous in this run only (restored after it), an
        LP whatever ``mip`` says; a pending :attr:`mip_start` is left for the next run then, else
        given to this one and dropped.
        """
        handoff_s = 0.0
        if self.adapter is None:
            self.adapter = PersistentHighs(self.model)
            handoff_s = self.adapter.handoff_seconds
            self.params.clear()
            self.pins.apply_past(self.adapter)
        else:
            self.sync()
        if not relax:
            start, self.mip_start = self.mip_start, None
            raw = self.adapter.run(options, time_limit_s=time_limit_s, mip=mip, mip_start=start)
        else:
            self.adapter.set_integer(relax, False)
            try:
                raw = self.adapter.run(options, time_limit_s=time_limit_s, mip=False)
            finally:
                self.adapter.set_integer(relax, True)
        self.last = raw
        return raw, handoff_s

    def sync(self) -> None:
        """Bring the kept HiGHS up to date: changed Params pushed, then the requested past pinned."""
        self.pins.release_overrides()  # before any bound update: the saved bounds stay true
        self.params.push(self.adapter, self.pins, scan=self.scan_params)
        self.pins.apply_past(self.adapter)

    def one_direction(
        self, relaxed: RawSolution, exclusivity: Exclusivity, options: SolveOptions
    ) -> RawSolution:
        """The one-direction LP of ``relaxed`` in the kept HiGHS (any status; :mod:`optimizer.repair`)."""
        adapter = self.adapter
        last = aligned(relaxed, adapter.column_of)
        raw, _ = one_direction_lp(adapter.highs, adapter.column_of, last, exclusivity, options, sense=1.0)
        return raw

    def repair(
        self, last: RawSolution, exclusivity: Exclusivity, options: SolveOptions, *, mip: bool,
        index: DatetimeIndex,
    ) -> tuple[RawSolution, float]:
        """The repaired schedule of ``last`` (:func:`optimizer.repair.repair`) in the kept HiGHS (bounds
        and integrality put back after), now the plan in force; no hand-off (0 s). ``mip`` is unused."""
        adapter = self.adapter
        raw = repair(
            adapter.highs, adapter.column_of, aligned(last, adapter.column_of), exclusivity, options,
            sense=1.0, bound=last.bound, index=index,
        )
        self.last = raw
        return raw, 0.0

    def still_optimal(self) -> bool:
        """True when the last (optimal) solution stays optimal after what changed since; LP only.

        Pushes the pending changes and checks the kept basis without pivoting
        (:func:`optimizer.basis_check.basis_still_optimal`). False before a run or after one that
        was not optimal.
        """
        raw = self.last
        if self.adapter is None or raw is None or raw.status != "optimal":
            return False
        self.sync()
        return basis_still_optimal(self.adapter.highs)

    def past_plan(self) -> PastPlan | None:
        """The last solution's value of every family variable; None before a run."""
        if self.last is None or self.adapter is None:
            return None
        return self.pins.past_plan(self.last)

    def carry_out(self, period: int) -> None:
        """Pin every column of ``period`` at the last solution (:meth:`PinPolicy.carry_out`)."""
        if self.adapter is None or self.last is None:
            raise RuntimeError("carry_out needs a persistent solve first")
        self.pins.carry_out(self.adapter, period, self.last.col_value)
