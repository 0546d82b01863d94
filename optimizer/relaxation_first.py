"""A proven solve that tries the LP relaxation of the lazy exclusivity binaries before their MIP.

Perfect foresight's solves must be optimal to a relative MIP gap (``SolveOptions.mip_rel_gap``).
Once a model has lazy binaries (:mod:`optimizer.exclusive`), such a solve
(:meth:`optimizer.solver.ModelSolver.solve_arrays` with ``relaxation_first``) first solves them
relaxed to continuous, their rows kept: an LP whose optimum ``B`` bounds the exact optimum from
above (the model is maximised). Then:

1. no storage charges and discharges at once: the LP's schedule is feasible for the exact model,
   hence its optimum, proven by the LP (gap 0);
2. else the LP's schedule is repaired (:func:`optimizer.repair.one_direction_lp`: each storage
   period keeps one direction, one more LP): a feasible exact schedule of objective ``R``, so
   ``R <= optimum <= B``. When ``B - R <= mip_rel_gap * |R|`` (HiGHS's own stop rule for a MIP:
   the gap over the incumbent's absolute value) it is the answer, proven within the asked gap
   exactly as a MIP stopped there would be: status ``optimal``, bound ``B``, ``mip_gap``
   ``(B - R) / |R|``. Only when ``mip_rel_gap > 0``: a solve asking for the exact optimum gets it
   from the MIP;
3. else the MIP runs as it would have (:func:`optimizer.escalation.solve_exclusive`), the runs above
   counted against the same deadline.

Two LPs cost about what one MIP node does: on perfect foresight's day-ahead legs over the issue 17
holdout most burning relaxations repair to within 1e-3 (``bench/RESULTS.md``, issue 17 item 6).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizer.escalation import Deadline, Rounds
from optimizer.exclusive import SIMULTANEOUS_MW, ColumnsOf, Exclusivity
from optimizer.highs_bridge import RawSolution

WITHIN_GAP = "Optimal within the MIP gap: the LP relaxation, repaired to one direction per storage period"
"""Termination of an answer of step 2 (module docstring)."""


@dataclass(frozen=True)
class FirstRuns:
    """What the LPs run before the MIP gave.

    Attributes
    ----------
    rounds : Rounds
        The runs so far; ``raw`` is the answer, or else the relaxation's solution (the MIP's
        ``done`` in :func:`optimizer.escalation.solve_exclusive`).
    answered : bool
        ``rounds.raw`` is the answer (steps 1 and 2): no MIP is needed.
    mip_start : np.ndarray or None
        Not answered: the repaired schedule (every column), a feasible start for the MIP.
    """

    rounds: Rounds
    answered: bool
    mip_start: np.ndarray | None = None


def within_gap(bound: float, objective: float, rel_gap: float) -> bool:
    """True when a feasible ``objective`` is within ``rel_gap`` of an upper ``bound`` (HiGHS's rule).

    ``bound - objective <= rel_gap * |objective|`` (both in the objective's units, maximised);
    False for a ``rel_gap`` of 0 unless the two are equal.
    """
    return bound - objective <= rel_gap * abs(objective)


def try_relaxation(
    solve_relaxed: Callable[[Deadline], tuple[RawSolution, float]],
    repair_lp: Callable[[RawSolution, float], RawSolution],
    exclusivity: Exclusivity,
    values_of: Callable[[RawSolution], ColumnsOf],
    deadline: Deadline,
    rel_gap: float,
) -> FirstRuns:
    """Steps 1 and 2 of the module docstring.

    Parameters
    ----------
    solve_relaxed : callable
        ``solve_relaxed(deadline) -> (solution, hand-off s)``: the model with its lazy binaries
        continuous, limited to ``deadline.left()``.
    repair_lp : callable
        ``repair_lp(relaxed, time_limit_s) -> solution``: the one-direction LP of ``relaxed``
        (:func:`optimizer.repair.one_direction_lp`, any status).
    exclusivity : Exclusivity
        The model's two-way flows and lazy binaries.
    values_of : callable
        ``values_of(raw)``: the reader of the flows' values in a solution.
    deadline : Deadline
        The solve's budget; no repair is tried once it is spent.
    rel_gap : float
        The relative MIP gap the solve asked for.

    Returns
    -------
    FirstRuns
    """
    relaxed, handoff_s = solve_relaxed(deadline)
    runs = Rounds(relaxed, 1, handoff_s, relaxed.seconds)
    if relaxed.status != "optimal":
        return FirstRuns(runs, False)
    if exclusivity.worst_mw(values_of(relaxed)) <= SIMULTANEOUS_MW:
        return FirstRuns(runs, True)
    if not rel_gap > 0.0 or deadline.spent():
        return FirstRuns(runs, False)
    repaired = repair_lp(relaxed, deadline.left())
    highs_s = runs.highs_seconds + repaired.seconds
    if repaired.status != "optimal":
        return FirstRuns(dataclasses.replace(runs, rounds=2, highs_seconds=highs_s), False)
    if not within_gap(relaxed.objective, repaired.objective, rel_gap):
        tried = dataclasses.replace(runs, rounds=2, highs_seconds=highs_s)
        return FirstRuns(tried, False, repaired.col_value)
    gap = (relaxed.objective - repaired.objective) / abs(repaired.objective) if repaired.objective else 0.0
    answer = dataclasses.replace(
        repaired, status="optimal", termination=WITHIN_GAP, mip_gap=max(gap, 0.0), bound=relaxed.objective
    )
    return FirstRuns(Rounds(answer, 2, handoff_s, highs_s), True)
