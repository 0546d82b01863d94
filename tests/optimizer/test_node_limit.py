"""SolveOptions.mip_max_nodes reaches HiGHS on every run, and None gives the limit back."""

from __future__ import annotations

import highspy

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions
from tests.optimizer.test_battery import battery, index, portfolio


def node_limit(solver: ModelSolver) -> int:
    status, value = solver.highs_adapter.highs.getOptionValue("mip_max_nodes")
    assert status == highspy.HighsStatus.kOk
    return int(value)


def test_node_limit_is_set_per_run_on_the_persistent_highs():
    # Prices -50 then 100: the battery would burn energy at -50, so the solve is a MIP (binaries).
    full = {"energy_mwh": 1.0, "soc_initial_mwh": 1.0, "soc_final_mwh": 0.0}
    problem = prepare_problem(portfolio(battery(**full)), index(2), [-50.0, 100.0])
    solver = ModelSolver(problem, SolveOptions(handoff="persistent", mip_max_nodes=7))
    first = solver.solve()
    assert first.stats.n_binaries == 1
    assert node_limit(solver) == 7
    assert first.stats.status == "optimal"  # solved at the root, well inside the limit
    solver.options = SolveOptions(handoff="persistent")
    solver.solve()
    assert node_limit(solver) == highspy.kHighsIInf  # the same HiGHS, the limit given back
