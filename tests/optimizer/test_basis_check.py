"""basis_still_optimal: the kept basis checked at new costs without pivoting, options restored."""

from __future__ import annotations

import highspy
import numpy as np

from optimizer.basis_check import basis_still_optimal


def _lp() -> highspy.Highs:
    """max 3x + 2y  s.t.  x + y <= 4,  0 <= x, y <= 3: optimum x = 3, y = 1 (row dual 2)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addVars(2, np.zeros(2), np.array([3.0, 3.0]))
    h.changeColsCost(2, np.array([0, 1], dtype=np.int32), np.array([3.0, 2.0]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    h.addRow(-inf, 4.0, 2, np.array([0, 1], dtype=np.int32), np.array([1.0, 1.0]))
    h.run()
    assert list(h.getSolution().col_value) == [3.0, 1.0]
    return h


def test_costs_within_the_basis_keep_it_optimal_and_the_solution() -> None:
    h = _lp()
    h.changeColCost(1, 2.9)  # y still cheaper than x: x = 3, y = 1 stays optimal
    assert basis_still_optimal(h)
    assert list(h.getSolution().col_value) == [3.0, 1.0]
    assert h.getInfo().objective_function_value == 3 * 3.0 + 2.9 * 1.0
    assert h.getOptionValue("simplex_iteration_limit")[1] == highspy.Highs().getOptionValue(
        "simplex_iteration_limit")[1]
    assert h.getOptionValue("presolve")[1] == "choose" and h.getOptionValue("solver")[1] == "choose"


def test_costs_that_move_the_optimum_are_reported_and_a_re_solve_finds_it() -> None:
    h = _lp()
    h.changeColCost(1, 3.5)  # now y first: x = 1, y = 3
    assert not basis_still_optimal(h)
    h.run()
    assert list(h.getSolution().col_value) == [1.0, 3.0]


def test_no_basis_is_never_optimal() -> None:
    h = _lp()
    h.clearSolver()
    assert not basis_still_optimal(h)
