"""Benchmark: the repair of a solve whose time budget runs out while storage still burns energy.

The two-stage stochastic model of the bundled urban-renewal portfolio (``vpp/examples``) on
2024-04-16, with seeded synthetic price scenarios whose real-time prices go negative at midday (so
a first solve charges and discharges storage at once). Each mode is solved twice:

1. as usual: binaries added where a solve burns, solved again until none does (exact, to the MIP gap);
2. with the solve loop's clock stalled after the first solve (:mod:`optimizer.escalation`), as on
   a machine so loaded that the time limit passes during it: the first solution is repaired by one
   LP with each storage period's direction fixed (:mod:`optimizer.repair`).

Printed per mode: objective (yuan) and CPU seconds of both, and the repaired objective's shortfall
against the exact one (the exact one stops at the MIP gap, 1e-4: a shortfall within it can be < 0).

``--day-model N`` also runs the deterministic day model (:class:`optimizer.solver.ModelSolver`,
persistent hand-off) of the ``N``-asset benchmark fleet (:func:`bench.fleet.make_fleet`) with its
prices 600 lower from 10:00 to 14:00 (built without binaries, so every negative period is left to
the lazy ones), the same two ways, with the proven bound the repair reports.

Usage::

    python bench/bench_repair.py [--scenarios 10] [--seed 0] [--day-model 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optimizer.escalation as escalation
from bench.fleet import make_fleet
from market.calendar import trading_day_index
from market.scenarios import PriceScenarios
from optimizer.solver import ModelSolver, SolveOptions
from optimizer.stochastic import StochasticOptions, StochasticResult, solve_stochastic
from simulator.day_ahead import day_problem
from vpp.portfolio_io import load_portfolio

PORTFOLIO = Path(__file__).resolve().parent.parent / "vpp" / "examples" / "shanxi_urban_renewal.yaml"
DAY = dt.date(2024, 4, 16)
LIMIT_S = 600.0
"""Time limit of every solve (s): the exact runs must not stop at it on a loaded machine."""


def scenarios(index, n: int, seed: int) -> PriceScenarios:
    """``n`` equally weighted DA/RT scenarios (yuan/MWh); RT 400 lower from 10:00 to 14:00."""
    rng = np.random.default_rng(seed)
    t = len(index)
    base = 300 + 250 * np.sin(np.arange(t) / t * 2 * np.pi)
    da = base + rng.normal(0, 60, (n, t))
    rt = da + rng.normal(0, 150, (n, t))
    rt[:, 40:56] -= 400.0
    return PriceScenarios(index, da, rt, np.full(n, 1.0 / n))


def timed(solve) -> tuple[StochasticResult, float]:
    start = time.process_time()
    result = solve()
    return result, time.process_time() - start


def stalled(solve) -> StochasticResult:
    """``solve()`` with the solve loop's clock past any budget after its first two readings."""
    readings = iter([0.0, 0.0])
    real = escalation.time
    escalation.time = types.SimpleNamespace(monotonic=lambda: next(readings, 1e9))
    try:
        return solve()
    finally:
        escalation.time = real


def day_model(n_assets: int, seed: int) -> None:
    """The deterministic day model of the benchmark fleet at negative midday prices, exact and repaired."""
    problem = make_fleet(n_assets, seed).problem()
    price = problem.price.copy()
    price[40:56] -= 600.0

    def solve():
        solver = ModelSolver(problem, SolveOptions(handoff="persistent", time_limit_s=LIMIT_S))
        solver.set_prices(price)
        return solver.solve_arrays()

    exact, exact_cpu = timed(solve)
    repaired, repaired_cpu = timed(lambda: stalled(solve))
    assert repaired.stats.termination.startswith("Repaired"), repaired.stats.termination
    assert not exact.stats.termination.startswith("Repaired"), exact.stats.termination
    e, r = exact.stats.objective_yuan, repaired.stats.objective_yuan
    print(f"day model, {n_assets} assets: exact {e:,.2f} yuan ({exact.stats.exclusive_rounds} solves, "
          f"{exact_cpu:.2f} CPU s); repaired {r:,.2f} yuan ({repaired_cpu:.2f} CPU s), "
          f"shortfall {e - r:,.2f} ({(e - r) / abs(e):.2%}); bound {repaired.stats.bound_yuan:,.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--day-model", type=int, default=0, help="assets of the day-model run (0: none)")
    args = parser.parse_args()
    logging.getLogger("optimizer.repair").setLevel(logging.ERROR)  # the repair's warning, once per run
    loaded = load_portfolio(PORTFOLIO)
    index = trading_day_index(loaded.market, DAY)
    scen = scenarios(index, args.scenarios, args.seed)
    problem = day_problem(loaded, DAY, np.maximum(scen.expected_rt, 0.0))
    print(f"{PORTFOLIO.name}, {DAY}, {args.scenarios} scenarios (seed {args.seed})")
    print(f"{'mode':<15} {'exact yuan':>12} {'CPU s':>7} {'repaired yuan':>14} {'CPU s':>7} "
          f"{'shortfall yuan':>15}")
    for mode in ("quantity", "price_quantity"):
        def solve(mode=mode):
            opts = StochasticOptions(mode=mode, solve=SolveOptions(time_limit_s=LIMIT_S))
            return solve_stochastic(problem, scen, opts, asset_positions=False)

        exact, exact_cpu = timed(solve)
        repaired, repaired_cpu = timed(lambda solve=solve: stalled(solve))
        assert repaired.repaired and not exact.repaired
        short = exact.objective_yuan - repaired.objective_yuan
        print(f"{mode:<15} {exact.objective_yuan:>12,.2f} {exact_cpu:>7.2f} "
              f"{repaired.objective_yuan:>14,.2f} {repaired_cpu:>7.2f} {short:>15,.2f}")
    if args.day_model:
        day_model(args.day_model, args.seed)


if __name__ == "__main__":
    main()
