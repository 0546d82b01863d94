"""The operator's sentence for a schedule that is not proven optimal (vpp/solve_outcome.py)."""

from __future__ import annotations

from optimizer.result import SolveStats
from vpp.solve_outcome import not_optimal_note, schedule_source, solve_outcome


def stats(status: str, termination: str, mip_gap: float | None, objective: float, bound: float) -> SolveStats:
    return SolveStats(status, termination, mip_gap, 0.0, 0.0, 0.0, "persistent", 10, 10, 2,
                      objective_yuan=objective, bound_yuan=bound)


def test_time_limited_mip_names_its_gap_and_bound():
    # HiGHS stopped a MIP at its time limit with an incumbent 1,000 yuan under a bound of 1,010.
    outcome = solve_outcome(stats("feasible", "Time limit reached", 0.0099, 1000.0, 1010.004))
    assert outcome == {"status": "feasible", "termination": "Time limit reached", "proven_optimal": False,
                       "repaired": False, "mip_gap": 0.0099, "objective_yuan": 1000.0, "bound_yuan": 1010.0}
    assert not_optimal_note(outcome) == (
        "schedule is feasible but not proven optimal: HiGHS stopped (Time limit reached, MIP gap 0.99%); "
        "objective 1,000.00, proven bound of the optimum 1,010.00"
    )


def test_repaired_and_optimal():
    repaired = solve_outcome(stats("feasible", "Repaired: one direction ... (Optimal)", None, 111.11, 158.02))
    assert repaired["repaired"] and not repaired["proven_optimal"]
    assert "repaired after the solver's time limit ran out" in not_optimal_note(repaired)
    assert not_optimal_note(solve_outcome(stats("optimal", "Optimal", 0.0, 5.0, 5.0))) is None


def test_setpoint_source_of_each_ending():
    def source(*args) -> str:
        return schedule_source(solve_outcome(stats(*args)))

    assert source("optimal", "Optimal", 1e-5, 5.0, 5.0) == "optimal"
    assert source("feasible", "Time limit reached", 0.02, 5.0, 5.1) == "feasible"
    assert source("feasible", "Repaired: ... (Optimal)", None, 5.0, 6.0) == "repaired"
