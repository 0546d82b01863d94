"""How the past of a kept day model is pinned in HiGHS between re-solves (the pinning policy).

Two ways a re-solve keeps what already happened, both as HiGHS column bounds (the Pyomo model is
never changed):

- **carried out** (backtests, :meth:`PinPolicy.carry_out`): every column of a dispatched period is
  fixed at the last solution (:class:`optimizer.persistent.PeriodPins`);
- **pinned past** (the service's hybrid restart, :meth:`PinPolicy.request_past` then
  :meth:`PinPolicy.apply_past`): the variables before ``k`` of the families that cannot restart
  mid-day are fixed at a :class:`optimizer.past_pins.PastPlan`, and the grid and group limits of those
  periods are lifted (:class:`optimizer.persistent.BoundOverrides`).

A fleet position pinned for a whole day (a bid's cleared net) is a bound on the Pyomo model instead:
:func:`optimizer.pinned.pinned_schedule`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyomo.environ as pyo

from optimizer.families import FAMILIES
from optimizer.highs_adapter import PersistentHighs
from optimizer.highs_bridge import RawSolution
from optimizer.model import family_blocks
from optimizer.past_pins import FamilyVars, PastPinning, PastPlan, PastRequest
from optimizer.persistent import BoundOverrides, PeriodPins
from optimizer.problem import Problem


class PinPolicy:
    """The pins of one day model: carried-out periods and a hybrid restart's pinned past.

    Parameters
    ----------
    model : pyo.ConcreteModel
        The day model (``T``, ``net_mw[t]``, optional ``group_limit[g, t]``, family blocks).
    n_periods : int
        Periods of the day.
    """

    def __init__(self, model: pyo.ConcreteModel, n_periods: int) -> None:
        self.model = model
        self.n_periods = n_periods
        self._family_vars: FamilyVars | None = None
        self._past: PastRequest | None = None
        self._overrides: BoundOverrides | None = None
        self._carried: PeriodPins | None = None

    @property
    def family_vars(self) -> FamilyVars:
        """Every family variable of the model in build order (made on first use)."""
        if self._family_vars is None:
            self._family_vars = FamilyVars(self.model, self.n_periods)
        return self._family_vars

    # -- a hybrid restart's pinned past -------------------------------------------------------------
    def request_past(self, k: int, families: Sequence[str], plan: PastPlan | None) -> PastPinning:
        """Ask the next :meth:`apply_past` to pin the past of ``families`` before ``k`` at ``plan``.

        Variables without a planned value (``plan`` None, or a key the plan lacks) stay free.
        """
        self._past = PastRequest.make(self.family_vars, k, families, plan)
        return PastPinning(k, tuple(families), bool(np.isnan(self._past.values).any()))

    def forget_past(self) -> None:
        """Drop a requested pinned past (bounds already set stay until :meth:`release_overrides`)."""
        self._past = None

    def apply_past(self, adapter: PersistentHighs) -> None:
        """Set the HiGHS bounds the last :meth:`request_past` asked for (nothing if none)."""
        request = self._past
        if request is None:
            return
        if self._overrides is None:
            self._overrides = BoundOverrides(adapter.highs)
        column_of = adapter.column_of
        layout = self.family_vars
        cols = layout.columns(column_of)[request.positions]
        keep = (cols >= 0) & np.isfinite(request.values)
        cols, values = cols[keep], request.values[keep]
        values = np.where(layout.integer[request.positions][keep], np.round(values), values)
        values = np.clip(values, *self._overrides.column_bounds(cols))
        past = range(request.k)
        grid = np.array([column_of[id(self.model.net_mw[t])] for t in past], dtype=np.int64)
        rows = np.zeros(0, dtype=np.int64)
        if hasattr(self.model, "group_limit"):
            rows = adapter.rows(self.model.group_limit[g, t] for g in self.model.G for t in past)
            rows = rows[rows >= 0]  # a limit HiGHS does not hold needs no lifting
        inf = np.full(grid.size, np.inf)
        self._overrides.apply(
            np.concatenate([cols, grid]),
            np.concatenate([values, -inf]),
            np.concatenate([values, inf]),
            rows,
        )

    def release_overrides(self) -> None:
        """Give HiGHS back the bounds :meth:`apply_past` changed (before any bound update)."""
        if self._overrides is not None:
            self._overrides.release()

    def drop_past(self) -> None:
        """Forget the pinned past and give HiGHS its bounds back."""
        self._past = None
        self.release_overrides()

    def past_plan(self, raw: RawSolution) -> PastPlan:
        """The value of every family variable in ``raw`` (NaN where neither HiGHS nor Pyomo has one)."""
        layout = self.family_vars
        cols = layout.columns(raw.column_of)
        values = raw.col_value[np.maximum(cols, 0)] if raw.col_value.size else np.zeros(cols.size)
        missing = np.flatnonzero(cols < 0)
        values[missing] = [np.nan if layout.vars[i].value is None else layout.vars[i].value for i in missing]
        return PastPlan(layout.keys, values)

    # -- carried-out periods ------------------------------------------------------------------------
    def carry_out(self, adapter: PersistentHighs, period: int, col_value: np.ndarray) -> None:
        """Fix every column of ``period`` at ``col_value`` (the solution carried out); drops a pinned past."""
        self.drop_past()
        if self._carried is None:
            self._carried = PeriodPins(adapter.highs, self.model, adapter.column_of)
        self._carried.pin(period, col_value)

    def release_carried(self) -> None:
        """Free every carried-out period (their bounds as they were when first pinned)."""
        if self._carried is not None:
            self._carried.release()

    def suspend_carried(self) -> None:
        """Free carried-out periods for a Param refresh; :meth:`refresh_carried_bounds` re-pins them."""
        if self._carried is not None:
            self._carried.suspend()

    def refresh_carried_bounds(self) -> None:
        """Re-read the free bounds of carried-out columns (after Params changed bounds in HiGHS) and
        pin again the suspended periods whose bounds no Param moved."""
        if self._carried is not None:
            self._carried.refresh_bounds()

    def release_all(self) -> None:
        """Free carried-out periods and the pinned past."""
        self.release_carried()
        self.drop_past()


def restart_families(
    model: pyo.ConcreteModel,
    problem: Problem,
    k: int,
    state: Mapping[str, Mapping[str, float]] | None,
    day_start: Mapping[str, Mapping[str, float]] | None = None,
    *,
    pin_past: bool,
) -> list[str]:
    """Restart every family of ``model`` at period ``k`` from ``state``, where it can.

    A family whose ``RESTART`` is ``"day_start"`` restarts at period 0 from ``day_start`` instead
    when ``k > 0`` and ``pin_past`` (the caller then pins its past, :meth:`PinPolicy.request_past`).

    Returns
    -------
    list of str
        The families restarted at the day start (their past to pin).

    Raises
    ------
    NotImplementedError
        A family's ``RESTART`` is ``"never"``, or ``"day_start"`` with ``k > 0`` and not ``pin_past``;
        nothing was restarted.
    """
    blocks = family_blocks(model)
    for name, _ in blocks:
        capability = FAMILIES[name].RESTART
        if capability == "never":
            raise NotImplementedError(f"family '{name}' cannot restart without a rebuild")
        if k > 0 and capability == "day_start" and not pin_past:
            raise NotImplementedError(
                f"family '{name}' restarts at the day start only; pin its past (restart_pinning_past)"
            )
    pinned: list[str] = []
    for name, block in blocks:
        module, data = FAMILIES[name], problem.families[name]
        if k > 0 and module.RESTART == "day_start":
            module.restart(block, data, 0, dict(day_start or {}))
            pinned.append(name)
        else:
            module.restart(block, data, k, dict(state or {}))
    return pinned
