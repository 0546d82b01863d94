"""Real-time steps of a large fleet: the basis check against a warm re-solve, per step.

Builds the mixed fleet of :func:`bench.fleet.make_fleet` (default 1,000 assets), solves its day
at the day-ahead price, then walks real-time steps ``k = 1..steps``: period ``k-1`` is carried
out (pinned), the prices of ``k..k+3`` move by the last observed real-time spread of the bundled
Gansu prices (decaying over an hour, as ``da_rt``'s forecast does), and each step is timed twice
on the same model state: the exact check (:meth:`optimizer.solver.ModelSolver.last_solution_still_optimal`)
and, when it fails, the warm re-solve it replaces when it passes.

Usage::

    python -m bench.bench_rt_step [--size 1000] [--steps 8] [--at 24,48,72,90] [--open-lp] \\
        [--no-check] [--no-scan]
    python -m bench.bench_rt_step --raw [--size 1000] [--steps 8] [--at 24,48,72,90]

``--at`` adds steps later in the day (the periods before each carried out at the last plan, no
re-solve in between); ``--open-lp`` re-solves the open part only (``SolveOptions.open_lp``);
``--no-check`` times the re-solve alone; ``--no-scan`` reports every change (``set_prices``) instead
of scanning every Param before each re-solve, as the replay and the dispatch service do.
``--raw`` runs the same steps on the raw-highspy twin:
the engine's first solve hands its LP and basis to a fresh ``highspy.Highs``, which then pins
the same period columns at its own solution, changes the fleet net costs and re-solves warm (no
Pyomo). Times are wall and CPU (``time.process_time``, all threads) seconds of this process;
objectives (yuan) are printed to compare the routes.
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
from optimizer.highs_setup import new_highs
from optimizer.solver import ModelSolver, SolveOptions
from vpp.examples_paths import DEFAULT_PRICES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--at", default="", help="later steps k, comma separated")
    parser.add_argument("--open-lp", action="store_true")
    parser.add_argument("--no-check", action="store_true")
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--raw", action="store_true")
    args = parser.parse_args(argv)
    fleet = make_fleet(args.size, 0)
    realised = prices_for_day(read_prices(DEFAULT_PRICES, "shanxi"), "shanxi",
                              dt.date.fromisoformat(DAY))
    spread = realised["rt_price"].to_numpy(dtype=float) - realised["da_price"].to_numpy(dtype=float)
    extra = {"open_lp": True} if args.open_lp else {}
    solver = ModelSolver(fleet.problem(), SolveOptions(handoff="persistent", warm_start=True, **extra))
    solver.scan_params = not args.no_scan  # the replay and the service report every change (off)
    start = time.perf_counter()
    solver.solve_arrays()
    print(f"{args.size} assets: first solve {time.perf_counter() - start:.1f} s")
    base = np.asarray(fleet.price, dtype=float)
    later = [int(x) for x in args.at.split(",") if x.strip()]
    if args.raw:
        raw_steps(solver, base, spread, [*range(1, args.steps + 1), *later])
        return
    checks, resolves, cpus, kept, done = [], [], [], 0, 0
    for k in [*range(1, args.steps + 1), *later]:
        while done < k:
            solver.carry_out(done)
            done += 1
        price = rt_price(base, spread, k)
        t0 = time.perf_counter()
        solver.set_prices(price)
        keeps = False if args.no_check else solver.last_solution_still_optimal()
        checks.append(time.perf_counter() - t0)
        t0, c0 = time.perf_counter(), time.process_time()
        objective = float("nan")
        if not keeps:
            objective = solver.solve_arrays().stats.objective_yuan
            resolves.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        kept += keeps
        print(f"  k={k}: check {1000 * checks[-1]:.0f} ms, keeps {keeps}"
              + ("" if keeps else f", warm re-solve {resolves[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU, "
                 f"objective {objective:.4f}"), flush=True)
    print(f"median check {1000 * statistics.median(checks):.0f} ms; kept {kept} of {len(checks)}; "
          f"median warm re-solve {statistics.median(resolves) if resolves else float('nan'):.2f} s wall, "
          f"{statistics.median(cpus) if cpus else float('nan'):.2f} s CPU")


def rt_price(base: np.ndarray, spread: np.ndarray, k: int) -> np.ndarray:
    """The day-ahead price with the next hour moved by the last real-time spread, decaying."""
    price = base.copy()
    ahead = price[k:k + 4]
    ahead += spread[k - 1] * np.array([1.0, 0.75, 0.5, 0.25])[: ahead.size]
    return price


def raw_steps(solver: ModelSolver, base: np.ndarray, spread: np.ndarray, steps: list[int]) -> None:
    """The same real-time steps on the raw-highspy twin of the engine's solved LP (module docstring)."""
    adapter = solver.highs_adapter
    highs = new_highs()
    highs.passModel(adapter.highs.getLp())
    highs.setBasis(adapter.highs.getBasis())
    highs.run()  # factorise the optimal basis: 0 iterations
    solver.carry_out(0)  # only to learn each period's columns
    period_columns = solver._kept.pins._carried.period_columns  # a benchmark may read the map
    net = adapter.columns([solver.model.net_mw[t] for t in solver.model.T]).astype(np.int32)
    dt_h = np.asarray(solver.problem.dt_h, dtype=float)
    cpus, done = [], 0
    for k in steps:
        value = np.asarray(highs.getSolution().col_value, dtype=float)
        while done < k:
            cols = period_columns[done]
            highs.changeColsBounds(cols.size, cols, value[cols], value[cols])
            done += 1
        t0, c0 = time.perf_counter(), time.process_time()
        highs.changeColsCost(net.size, net, rt_price(base, spread, k) * dt_h)
        highs.run()
        cpus.append(time.process_time() - c0)
        wall = time.perf_counter() - t0
        info = highs.getInfo()
        print(f"  k={k}: raw warm re-solve {wall:.2f} s wall, {cpus[-1]:.2f} s CPU, "
              f"{info.simplex_iteration_count} iterations, objective {info.objective_function_value:.4f}",
              flush=True)
    print(f"median raw warm re-solve {statistics.median(cpus):.2f} s CPU")


if __name__ == "__main__":
    main()
