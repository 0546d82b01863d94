"""A proven solve whose relaxation burns: its one-direction repair is the answer when it lies within
the asked MIP gap of the relaxation's bound, else the MIP runs (optimizer/relaxation_first.py).

The day: one hour at -100 yuan/MWh, a 1 MW / 2 MWh battery (0.9 / 0.9) holding 1.55 MWh, export
limit 0. Exactly: charge the 0.45 MWh of room, 0.5 MW, importing 0.5 MWh: 50 yuan. Its relaxation
(the lazy binary continuous, its rows ``c <= on``, ``d <= 1 - on`` kept: ``c + d <= 1``) also
discharges into its own charging to import more: ``c + d = 1`` and ``0.9 c - d / 0.9 = 0.45`` give
``c = 1.405 / 1.81``, ``d = 0.405 / 1.81``, net import ``c - d = 1 / 1.81``: 100 / 1.81 = 55.2486
yuan. The repair keeps the larger flow (charge) and re-solves: the exact 50 yuan. Relative gap
(55.2486 - 50) / 50 = 0.10497.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optimizer.exclusive import SIMULTANEOUS_MW
from optimizer.problem import prepare_problem
from optimizer.relaxation_first import WITHIN_GAP, within_gap
from optimizer.solver import ModelSolver, SolveOptions
from tests.optimizer.test_exclusive import battery, index, portfolio

BOUND = 100.0 / 1.81
"""The relaxation's optimum (yuan), module docstring."""
EXACT = 50.0
"""The exact optimum (yuan): 0.45 MWh of room filled at 0.9 from 0.5 MWh imported at -100."""


def burning_hour() -> tuple[ModelSolver, list[tuple[bool, bool]]]:
    """The module's day, its lazy binary added by a first exact solve; and, for every HiGHS run
    after that one, whether it was a MIP and had a start (the adapter's ``run`` wrapped)."""
    spec = battery(soc_initial_mwh=1.55)
    problem = prepare_problem(portfolio([spec], export_limit_mw=0.0), index(1), np.zeros(1))
    solver = ModelSolver(problem, SolveOptions(handoff="persistent"))
    solver.set_prices(np.array([-100.0]))
    first = solver.solve_arrays()
    assert first.stats.n_binaries == 1 and first.stats.objective_yuan == pytest.approx(EXACT, abs=1e-6)
    adapter, runs = solver.highs_adapter, []
    real = adapter.run

    def run(options, *, time_limit_s, mip, mip_start=None):
        runs.append((mip, mip_start is not None))
        return real(options, time_limit_s=time_limit_s, mip=mip, mip_start=mip_start)

    adapter.run = run
    return solver, runs


def flows(result) -> tuple[float, float]:
    return float(result.series["battery.charge_mw"][0, 0]), float(result.series["battery.discharge_mw"][0, 0])


def test_a_repair_within_the_asked_gap_is_the_answer_and_no_mip_runs():
    solver, runs = burning_hour()
    solver.options = dataclasses.replace(solver.options, mip_rel_gap=0.2)
    result = solver.solve_arrays(relaxation_first=True)
    assert runs == [(False, False)]  # the relaxation; the repair LP runs in the same HiGHS; no MIP
    stats = result.stats
    assert stats.status == "optimal" and stats.termination == WITHIN_GAP
    assert stats.exclusive_rounds == 2
    assert stats.objective_yuan == pytest.approx(EXACT, abs=1e-6)
    assert stats.bound_yuan == pytest.approx(BOUND, abs=1e-6)
    assert stats.mip_gap == pytest.approx((BOUND - EXACT) / EXACT, abs=1e-9)
    assert flows(result) == pytest.approx((0.5, 0.0), abs=1e-9)
    # the lazy binary is set (1: charging) as a MIP's would be, so a carried-out period pins it
    binary = solver._integers.lazy.binaries[0]
    assert solver._kept.last.col_value[solver.highs_adapter.column_of[id(binary)]] == 1.0


def test_a_repair_outside_the_asked_gap_runs_the_mip_from_it():
    solver, runs = burning_hour()
    solver.options = dataclasses.replace(solver.options, mip_rel_gap=1e-4)
    result = solver.solve_arrays(relaxation_first=True)
    assert runs == [(False, False), (True, True)]  # relaxation (then the repair LP), the MIP from it
    stats = result.stats
    assert stats.status == "optimal" and stats.termination == "Optimal"
    assert stats.exclusive_rounds == 3
    assert stats.objective_yuan == pytest.approx(EXACT, abs=1e-6)
    assert stats.bound_yuan - stats.objective_yuan <= 1e-4 * EXACT
    assert min(flows(result)) <= SIMULTANEOUS_MW


def test_an_exact_solve_never_takes_the_repair():
    # A gap of 0 asks for the proven optimum: the MIP, even though the repair found it.
    solver, runs = burning_hour()
    solver.options = dataclasses.replace(solver.options, mip_rel_gap=0.0)
    result = solver.solve_arrays(relaxation_first=True)
    assert [mip for mip, _ in runs] == [False, True]
    assert result.stats.objective_yuan == pytest.approx(EXACT, abs=1e-6)


def test_within_gap_is_highs_rule_over_the_incumbent():
    assert within_gap(BOUND, EXACT, 0.105) and not within_gap(BOUND, EXACT, 0.1049)
    assert within_gap(-50.0, -50.05, 1e-3) and not within_gap(-50.0, -50.1, 1e-3)
    assert within_gap(0.0, 0.0, 0.0) and not within_gap(1e-9, 0.0, 0.5)
