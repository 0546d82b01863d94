"""The solve loop that keeps storage exclusive within a wall-clock budget, shared by every model.

Solve; where storage charges and discharges at once add binaries (:meth:`Exclusivity.escalate`:
the keys found, then their assets' periods, then every key) and solve again, until no key burns.
When the budget (``SolveOptions.time_limit_s``, wall clock) is spent before that, the last
solution that burns is repaired instead (:mod:`optimizer.repair`: one LP), also when the solve
after it stopped without a solution at the spent budget, and without starting a MIP with nothing
left after a relaxation tried first that burns. The day model
(:class:`optimizer.solver.ModelSolver`) and the two-stage model (:mod:`optimizer.stochastic`) run
the same loop; each says how to solve once, push new rows and repair.

Every clock reading of the loop is here (:class:`Deadline`), so a test can stall it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyomo.environ as pyo

from optimizer.exclusive import ColumnsOf, Exclusivity
from optimizer.highs_bridge import RawSolution
from vpp.errors import SolverError

SolveOnce = Callable[["Deadline"], tuple[RawSolution, float]]
"""``solve_once(deadline) -> (solution, hand-off s)``: one HiGHS run limited to ``deadline.left()``
(read when the run starts, after any compiling); raises on an infeasible model or no solution
(each model names its own error)."""


class Deadline:
    """A wall-clock budget (s) started at creation (``time.monotonic``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._start = time.monotonic()

    def left(self) -> float:
        """Seconds left (0 once spent)."""
        return max(self.seconds - (time.monotonic() - self._start), 0.0)

    def spent(self) -> bool:
        """True once the budget is used up."""
        return time.monotonic() - self._start >= self.seconds


@dataclass(frozen=True)
class Rounds:
    """How the loop ended.

    Attributes
    ----------
    raw : RawSolution
        The last solution: without simultaneous flows, or repaired (termination ``Repaired...``).
    rounds : int
        Solves run, the repair LP included.
    handoff_seconds, highs_seconds : float
        Summed hand-off and HiGHS time of every solve (s).
    repaired : bool
        The budget was spent while storage still burned: ``raw`` is the repair's.
    """

    raw: RawSolution
    rounds: int
    handoff_seconds: float
    highs_seconds: float
    repaired: bool = False


def solve_exclusive(
    solve_once: SolveOnce,
    exclusivity: Exclusivity | None,
    values_of: Callable[[RawSolution], ColumnsOf],
    repair: Callable[[RawSolution], tuple[RawSolution, float]],
    deadline: Deadline,
    *,
    push_rows: Callable[[Sequence[pyo.Constraint]], None] | None = None,
    done: Rounds | None = None,
) -> Rounds:
    """Solve until no key burns (module docstring); repair the last burning solution when the deadline
    is spent first.

    The deadline is checked after each solve that burns (no binaries are added once it is spent),
    and a solve that stops without a solution (SolverError) once it is spent, e.g. a MIP given
    what little was left, repairs the burning solution before it instead of failing. An
    infeasible solve (InfeasibleError) always raises: the exact model is infeasible then.

    Parameters
    ----------
    solve_once : callable
        One solve within the deadline; returns the solution and its hand-off time (s).
    exclusivity : Exclusivity or None
        The model's two-way flows; None solves once (a relaxed or one-way model).
    values_of : callable
        ``values_of(raw)``: the reader of the flows' values in a solution.
    repair : callable
        ``repair(raw) -> (repaired solution, hand-off s)`` (:func:`optimizer.repair.repair`).
    deadline : Deadline
        The solve's budget.
    push_rows : callable, optional
        Hands the rows of new binaries to a kept HiGHS (a model compiled every solve needs none).
    done : Rounds, optional
        Solves already run against this budget: a relaxation tried first, whose solution burns
        (or is not optimal), counted in and repaired if the deadline is already spent.
    """
    rounds = done.rounds if done else 0
    handoff = done.handoff_seconds if done else 0.0
    highs = done.highs_seconds if done else 0.0
    burning = done.raw if done is not None and done.raw.status in ("optimal", "feasible") else None
    while burning is None or not deadline.spent():
        try:
            raw, handoff_s = solve_once(deadline)
        except SolverError:
            if burning is None or not deadline.spent():
                raise
            break  # stopped without a solution at the spent deadline: repair the burning one before
        rounds, handoff, highs = rounds + 1, handoff + handoff_s, highs + raw.seconds
        if exclusivity is None:
            return Rounds(raw, rounds, handoff, highs)
        found = exclusivity.simultaneous(values_of(raw))
        if not any(f.size for f in found):
            return Rounds(raw, rounds, handoff, highs)
        burning = raw
        if deadline.spent():  # no time to escalate: one repair LP instead
            break
        rows = exclusivity.add(exclusivity.escalate(found, rounds))
        if push_rows is not None:
            push_rows(rows)
    raw, handoff_s = repair(burning)
    return Rounds(raw, rounds + 1, handoff + handoff_s, highs + raw.seconds, repaired=True)
