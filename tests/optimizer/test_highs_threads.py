"""A solve asking for a HiGHS thread count other than the one HiGHS's process-wide scheduler was
started with must still solve (HiGHS itself refuses to run and leaves the model status 'not set')."""

from __future__ import annotations

import datetime as dt

import numpy as np

from optimizer.solver import ModelSolver, SolveOptions
from simulator.day_ahead import day_problem
from vpp.examples_paths import DEFAULT_PORTFOLIO
from vpp.portfolio_io import load_portfolio


def _objective(threads: int | None) -> float:
    loaded = load_portfolio(DEFAULT_PORTFOLIO)
    price = 300 + 100 * np.sin(np.arange(96) / 96 * 2 * np.pi)
    solver = ModelSolver(day_problem(loaded, dt.date(2024, 3, 4), price), SolveOptions(threads=threads))
    result = solver.solve()
    assert result.stats.status == "optimal", threads
    return result.stats.objective_yuan


def test_solves_with_each_thread_count_in_one_process() -> None:
    default = _objective(None)  # starts HiGHS's scheduler with its own thread count
    for threads in (1, 2, 1, None):
        assert abs(_objective(threads) - default) <= 1e-6 * max(1.0, abs(default)), threads
