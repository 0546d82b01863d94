"""Real-time steps of a large fleet: the basis check against a warm re-solve, per step.

Builds the mixed fleet of :func:`bench.fleet.make_fleet` (default 1,000 assets), solves its day
at the day-ahead price, then walks real-time steps ``k = 1..steps``: period ``k-1`` is carried
out (pinned), the prices of ``k..k+3`` move by the last observed real-time spread of the bundled
Gansu prices (decaying over an hour, as ``da_rt``'s forecast does), and each step is timed twice
on the same model state: the exact check (:meth:`optimizer.solver.ModelSolver.last_solution_still_optimal`)
and, when it fails, the warm re-solve it replaces when it passes.

Usage::

    python -m bench.bench_rt_step [--size 1000] [--steps 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import numpy as np

from bench.fleet import DAY, make_fleet
from market.price_days import prices_for_day
from market.prices import read_prices
from optimizer.solver import ModelSolver, SolveOptions
from vpp.examples_paths import DEFAULT_PRICES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=8)
    args = parser.parse_args(argv)
    fleet = make_fleet(args.size, 0)
    realised = prices_for_day(read_prices(DEFAULT_PRICES, "shanxi"), "shanxi",
                              dt.date.fromisoformat(DAY))
    spread = realised["rt_price"].to_numpy(dtype=float) - realised["da_price"].to_numpy(dtype=float)
    solver = ModelSolver(fleet.problem(), SolveOptions(handoff="persistent", warm_start=True))
    start = time.perf_counter()
    solver.solve_arrays()
    print(f"{args.size} assets: first solve {time.perf_counter() - start:.1f} s")
    base = np.asarray(fleet.price, dtype=float)
    checks, resolves, kept = [], [], 0
    for k in range(1, args.steps + 1):
        solver.carry_out(k - 1)
        price = base.copy()
        ahead = price[k:k + 4]
        ahead += spread[k - 1] * np.array([1.0, 0.75, 0.5, 0.25])[: ahead.size]
        t0 = time.perf_counter()
        solver.set_prices(price)
        keeps = solver.last_solution_still_optimal()
        checks.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        if not keeps:
            solver.solve_arrays()
            resolves.append(time.perf_counter() - t0)
        kept += keeps
        print(f"  k={k}: check {1000 * checks[-1]:.0f} ms, keeps {keeps}"
              + ("" if keeps else f", warm re-solve {resolves[-1]:.2f} s"), flush=True)
    print(f"median check {1000 * statistics.median(checks):.0f} ms; kept {kept} of {args.steps}; "
          f"median warm re-solve {statistics.median(resolves) if resolves else float('nan'):.2f} s")


if __name__ == "__main__":
    main()
