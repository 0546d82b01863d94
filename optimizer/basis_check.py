"""Is the last optimum still optimal after the costs changed? HiGHS answers without pivoting.

A real-time re-solve changes the objective's prices and pins the period just carried out at the
value the last solution gave it. Neither moves the last solution: it stays feasible, and it stays
OPTIMAL exactly when its basis is still dual feasible at the new costs, every nonbasic column's
reduced cost ``c_j - a_j' B^-T c_B`` keeping its sign. That is the test of the first step of a
warm-started simplex, so HiGHS runs it for us: :func:`basis_still_optimal` runs HiGHS from the
kept basis with ``simplex_iteration_limit`` 0 (no presolve, simplex). "Optimal" means the old
solution is an optimum of the new problem (within HiGHS' own feasibility tolerances, the ones any
solve is accepted at); anything else (iteration limit, no valid basis) means "re-solve to know".

This is cost ranging for every cost at once: HiGHS' ``getRanging`` gives, per column, the cost
interval that keeps the basis optimal when that cost alone moves; a price curve moves many costs
together, where only the 100 % rule (sufficient, much weaker) combines the ranges. The check here
is exact for simultaneous changes and costs one factorisation and one pricing pass.

It is only valid for an LP: a MIP's solution is not a basis (callers re-solve a MIP).
"""

from __future__ import annotations

import highspy

_CHECK_OPTIONS: tuple[tuple[str, object], ...] = (
    ("simplex_iteration_limit", 0),
    ("presolve", "off"),
    ("solver", "simplex"),
)
"""HiGHS options of the check run: no pivot, no presolve (it would drop the basis), simplex."""


def basis_still_optimal(highs: highspy.Highs) -> bool:
    """True when the basis HiGHS holds is optimal for the model HiGHS now holds.

    Runs HiGHS once without pivoting and restores every option it changed. The solution HiGHS
    then reports is that of the same basis: unchanged values where only costs changed and only
    columns at their current value were pinned.

    Parameters
    ----------
    highs : highspy.Highs
        An LP instance after an optimal run, its costs or bounds changed since.
    """
    if not highs.getBasis().valid:  # a slack basis could be "optimal" at another point
        return False
    saved = [(name, highs.getOptionValue(name)[1]) for name, _ in _CHECK_OPTIONS]  # (status, value)
    try:
        for name, value in _CHECK_OPTIONS:
            highs.setOptionValue(name, value)
        highs.run()
        return highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    finally:
        for name, value in saved:
            highs.setOptionValue(name, value)
