"""The HiGHS time limit applies to each re-solve, not to the sum of a persistent model's runs."""

from __future__ import annotations

import datetime as dt

import numpy as np

from optimizer.solver import ModelSolver, SolveOptions
from vpp.day_ahead import day_problem
from vpp.examples_paths import DEFAULT_PORTFOLIO
from vpp.portfolio_io import load_portfolio


def test_time_limit_is_per_solve():
    loaded = load_portfolio(DEFAULT_PORTFOLIO)
    day = dt.date(2024, 3, 4)
    price = 300 + 100 * np.sin(np.arange(96) / 96 * 2 * np.pi)
    options = SolveOptions(time_limit_s=0.5, handoff="persistent")
    solver = ModelSolver(day_problem(loaded, day, price), options)
    first = solver.solve()
    spent = 0.0
    rng = np.random.default_rng(0)
    while spent < 1.5:  # three times the limit in total, each solve far below it
        solver.set_prices(price + rng.normal(0, 30, size=96))
        result = solver.solve_arrays()
        assert result.stats.status == "optimal"
        spent += result.stats.solve_seconds
    assert first.stats.status == "optimal"
