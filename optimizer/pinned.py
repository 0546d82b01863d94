"""The cheapest dispatch of a problem with the fleet net pinned to a given position.

A feasibility check of a position (a bid's cleared net, a virtual asset's net to split back to its
members): used by the bid curves (:mod:`simulator.bid_curves`) and the aggregation
(:mod:`optimizer.aggregation`).
"""

from __future__ import annotations

import numpy as np

from optimizer.problem import Problem
from optimizer.result import ScheduleResult
from optimizer.solver import ModelSolver, SolveOptions


def pinned_schedule(
    problem: Problem, net_mw: np.ndarray, options: SolveOptions | None = None, *, tolerance_mw: float = 0.0
) -> ScheduleResult:
    """Solve ``problem`` with the fleet net pinned to ``net_mw`` (MW, (T,)) within ``tolerance_mw``.

    A feasibility check of a position: raises :class:`vpp.errors.InfeasibleError` when the fleet
    cannot deliver it. The result is the cheapest such dispatch at ``problem.price``.

    The default pins exactly (``net_mw`` fixed): a window as narrow as HiGHS's MIP feasibility
    tolerance (1e-6) makes its MIP (storage exclusivity binaries, :mod:`optimizer.exclusive`)
    wrongly prove a deliverable position infeasible, e.g. the stochastic model's own exact
    schedule on 2024-04-16 (tests/vpp/test_bid_curves.py). Pass a window of 1e-5 MW or more, or none.
    """
    solver = ModelSolver(problem, options or SolveOptions(explain_infeasible=False))
    for t, v in enumerate(np.asarray(net_mw, dtype=float).tolist()):
        var = solver.model.net_mw[t]
        var.setlb(max(v - tolerance_mw, var.lb))
        var.setub(min(v + tolerance_mw, var.ub))
    return solver.solve()
