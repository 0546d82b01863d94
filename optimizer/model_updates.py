"""A built day model and what changes in it between solves: prices, cost weight, restarts, forecasts, pins.

:class:`ModelUpdates` builds one problem's Pyomo model, chooses its hand-off to HiGHS and holds the
state of its kept HiGHS (:class:`optimizer.kept_highs.KeptHighs`). Its methods write new data into
the model's mutable Params and report what changed (a persistent re-solve then pushes only that),
and pin or free periods of the kept HiGHS; none runs HiGHS. :class:`optimizer.solver.ModelSolver`
adds the solves.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pyomo.environ as pyo

from optimizer.families import FAMILIES
from optimizer.highs_adapter import PersistentHighs
from optimizer.kept_highs import KeptHighs
from optimizer.model import build_model, family_blocks
from optimizer.options import COMPILED_ABOVE_VARIABLES, SolveOptions
from optimizer.past_pins import PastPinning, PastPlan
from optimizer.pinning import restart_families
from optimizer.problem import Problem


class ModelUpdates:
    """One problem's Pyomo model, its hand-off and the changes made to it between solves.

    Parameters
    ----------
    problem : Problem
        The prepared problem.
    options : SolveOptions, optional
        Solver settings (``handoff`` chooses how the model reaches HiGHS).
    """

    def __init__(self, problem: Problem, options: SolveOptions | None = None) -> None:
        self.problem = problem
        self.options = options or SolveOptions()
        start = time.perf_counter()
        self.model = build_model(problem)
        self.build_seconds = time.perf_counter() - start
        self.handoff = self._choose_handoff()
        self._kept = KeptHighs(self.model, problem.n_periods)
        self.relaxed = False
        """Solve without the lazy binaries of :mod:`optimizer.exclusive`: storage may charge and
        discharge at once (the LP relaxation of that rule, an upper bound). Set by :meth:`set_prices`."""

    @property
    def scan_params(self) -> bool:
        """Before each re-solve, find changed Params by comparing values (safe default, True). Callers
        that report every change (``set_prices``, ``restart``, ``mark_params_changed``) may turn
        it off to skip the scan."""
        return self._kept.scan_params

    @scan_params.setter
    def scan_params(self, scan: bool) -> None:
        self._kept.scan_params = scan

    @property
    def highs_adapter(self) -> PersistentHighs | None:
        """The model's persistent HiGHS (live ``highspy.Highs``, column and row maps, cost ranging).

        None before the first solve and with the compiled hand-off (which keeps no HiGHS instance).
        """
        return self._kept.adapter

    def _choose_handoff(self) -> str:
        if self.options.handoff != "auto":
            return self.options.handoff
        n_vars = self.model.nvariables()
        return "compiled" if n_vars > COMPILED_ABOVE_VARIABLES else "persistent"

    # -- updates between solves ---------------------------------------------------------------
    def set_prices(self, price: Sequence[float] | np.ndarray, *, allow_relaxed: bool = False) -> None:
        """Replace the objective's prices (yuan/MWh), one per period.

        Every solve keeps storage from charging and discharging at once (binaries added where a
        solve shows it, :mod:`optimizer.exclusive`) unless ``allow_relaxed``: then the following
        solves are the relaxation of that rule (an upper bound, for perfect foresight only).
        """
        values = np.asarray(price, dtype=float)
        if values.shape != (self.problem.n_periods,):
            raise ValueError(f"{values.size} prices for {self.problem.n_periods} periods")
        self.relaxed = bool(allow_relaxed)
        old = self.problem.price
        changed = []
        for t in np.flatnonzero(values != old).tolist():
            self.model.price[t] = float(values[t])
            changed.append(self.model.price[t])
        self.mark_params_changed(changed)
        self.problem = replace(self.problem, price=values)

    def set_cost_weight(self, weight: float) -> None:
        """Weight of every family cost and tiebreak term in the objective (dimensionless).

        1 (the default) is the physical objective: revenue minus what running the assets costs.
        0 is revenue alone: for a schedule that is a financial position, never carried out (perfect
        foresight's bid on the DA-RT spread), whose MIP gap is then a gap in revenue. Pushed to a
        persistent HiGHS as a changed Param, like prices; the model is not rebuilt.
        """
        weight = float(weight)
        if not weight >= 0.0 or weight == float("inf"):
            raise ValueError(f"cost weight {weight} is not a finite number >= 0")
        if weight != self.model.cost_weight.value:
            self.model.cost_weight.set_value(weight)
            self.mark_params_changed([self.model.cost_weight])

    def restart(self, k: int, state: Mapping[str, Mapping[str, float]] | None = None) -> None:
        """Optimise only periods ``k..T-1`` from the measured ``state``, in place.

        Each family's ``restart(block, data, k, state)`` sets its mutable Params: powers 0 before
        ``k`` (the past is settled), initial state from ``state`` (per asset id, e.g. battery
        ``soc_mwh`` in MWh). The model keeps its structure; the next :meth:`solve` is a
        persistent re-solve. Rows before ``k`` of that result are not meaningful.

        Raises
        ------
        NotImplementedError
            A family's ``RESTART`` is ``never``, or ``day_start`` and ``k > 0``
            (:meth:`restart_pinning_past` pins its past instead).
        """
        if not 0 <= k < self.problem.n_periods:
            raise ValueError(f"restart period {k} outside 0..{self.problem.n_periods - 1}")
        self._kept.pins.forget_past()
        restart_families(self.model, self.problem, k, state, pin_past=False)
        self.mark_params_changed(None)

    def restart_pinning_past(
        self,
        k: int,
        state: Mapping[str, Mapping[str, float]] | None = None,
        plan: PastPlan | None = None,
        day_start: Mapping[str, Mapping[str, float]] | None = None,
    ) -> PastPinning:
        """Optimise periods ``k..T-1``: restart from ``state`` where a family can, pin its past where not.

        A family with ``RESTART = "any_period"`` restarts as in :meth:`restart` (0 before ``k``,
        state from ``state``). A family with ``RESTART = "day_start"`` (``ev_hub``, ``generator``,
        ``heating``) restarts at the day start from
        ``day_start`` (default: its prepared initial state), and its variables of periods before
        ``k`` are pinned at ``plan`` (:meth:`past_plan` of the plan in force when each period was
        dispatched); variables without a planned value stay free (the past is re-planned). Before
        ``k`` the grid and group limits are lifted: that exchange is settled, and the families
        restarted at ``k`` hold 0 there.

        The pins are HiGHS column bounds, set by the next :meth:`solve` and replaced by the next
        restart; :meth:`restart`, :meth:`carry_out` and :meth:`release_periods` drop them.

        Parameters
        ----------
        k : int
            First period still to optimise.
        state : mapping, optional
            Measured state at the start of ``k``, per asset id (as for :meth:`restart`).
        plan : PastPlan, optional
            The plan to pin the past at; None re-plans the past of the pinned families.
        day_start : mapping, optional
            State at the start of the day for the pinned families, per asset id.

        Returns
        -------
        PastPinning
            The pinned families and whether part of their past was re-planned.

        Raises
        ------
        NotImplementedError
            A family's ``RESTART`` is ``never``, or a past must be pinned with the compiled hand-off.
        """
        if not 0 <= k < self.problem.n_periods:
            raise ValueError(f"restart period {k} outside 0..{self.problem.n_periods - 1}")
        self._kept.pins.forget_past()
        pinned = restart_families(self.model, self.problem, k, state, day_start, pin_past=True)
        self.mark_params_changed(None)
        if not pinned:
            return PastPinning(k)
        if self.handoff == "compiled":
            raise NotImplementedError(
                f"pinning the past of {pinned} needs the persistent hand-off (SolveOptions.handoff)"
            )
        return self._kept.pins.request_past(k, pinned, plan)

    def past_plan(self) -> PastPlan | None:
        """The last solution's value of every family variable (the plan now in force).

        Returns
        -------
        PastPlan or None
            None before a persistent solve (the compiled hand-off keeps no solution columns).
        """
        return self._kept.past_plan()

    def set_forecast(self, family: str, name: str, values: np.ndarray) -> None:
        """Replace one forecast Param of a family (e.g. ``pv``, ``available_mw``), shape (A, T).

        The family's ``set_forecast`` writes the Params (keeping any restart period) and the
        problem's data is updated so results report the new forecast.
        """
        module = FAMILIES[family]
        if not hasattr(module, "set_forecast"):
            raise NotImplementedError(f"family '{family}' takes no new forecasts")
        data = self.problem.families[family]
        block = dict(family_blocks(self.model))[family]
        module.set_forecast(block, data, name, values)
        self.mark_params_changed(None)
        if hasattr(data, name):
            families = dict(self.problem.families)
            families[family] = replace(data, **{name: np.asarray(values, dtype=float)})
            self.problem = replace(self.problem, families=families)

    def mark_params_changed(self, params: Sequence[pyo.Param] | None = None) -> None:
        """Tell a persistent re-solve which mutable Params changed (None: unknown, scan them all)."""
        self._kept.params.mark(params)

    def carry_out(self, period: int) -> None:
        """Pin every column of ``period`` at the last solution: the past as it was carried out.

        A later persistent re-solve then optimises only what is still open, without a rebuild.
        :meth:`release_periods` (or an untracked Param change: ``restart``, ``set_forecast``,
        ``mark_params_changed(None)``) frees them again; reported changes (``set_prices``) keep them.
        """
        self._kept.carry_out(period)

    def release_periods(self) -> None:
        """Free every period pinned by :meth:`carry_out` or :meth:`restart_pinning_past`."""
        self._kept.pins.release_all()
