"""Benchmark and proof: real-time re-dispatch with and without skipping re-solves that cannot matter.

Replays ``da_rt`` over a month of the bundled real prices twice on the same portfolio: once
re-solving every period whose forecast moved (the default), once with ``skip_resolves`` (the last
plan is followed while its LP basis is still optimal at the new prices,
:func:`optimizer.basis_check.basis_still_optimal`). Prints solves, skips, CPU and HiGHS seconds
of each, and the settlement of both: total, the largest difference in one period, and the number
of periods that differ (a skip keeps an optimum; among tied optima a fresh solve may return
another one).

Usage::

    python -m bench.bench_skip_resolves [--portfolio FILE | --bench100] [--start 2024-05-01] [--days 30]
    python -m bench.bench_skip_resolves --verify-only   # every skip checked against a cold re-solve

Writes ``bench/results/skip_resolves.json``. ``--verify-only`` replays only the skipping run and,
at every skip, also solves the step cold and compares the optimum with the kept plan's objective
at the new prices (the basis check's claim); the replay then goes on from the kept plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import numpy as np

import simulator.replay
from market.prices import read_prices
from simulator.day_model import DayModels
from simulator.forecasts import DayForecaster
from simulator.metrics import settle
from simulator.replay import BacktestRun, replay
from simulator.strategies import get_strategies
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.portfolio_io import LoadedPortfolio, load_portfolio

RESULTS = Path(__file__).resolve().parent / "results"


def run_mode(
    loaded: LoadedPortfolio, prices, days: list[dt.date], skip: bool, forecaster: DayForecaster
) -> dict:
    """One ``da_rt`` replay; its counts, CPU and HiGHS seconds, and its settlement per period."""
    cpu, wall = time.process_time(), time.perf_counter()
    run: BacktestRun = replay(loaded, prices, days, get_strategies("da_rt"), forecast=forecaster.name,
                              progress=False, day_forecaster=forecaster, skip_resolves=skip)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    settlement = settle(run.records["da_rt"].fleet_frame(), loaded)
    return {"run": run, "settlement": settlement, "cpu_s": cpu, "wall_s": wall}


GAPS: list[float] = []
"""Relative objective gap |cold optimum - kept plan| / max(1, |optimum|) of every checked skip."""


class VerifiedDayModels(DayModels):
    """DayModels that re-solve every kept step cold as well and record the objective gap in GAPS."""

    def keeps_plan(self, day: dt.date, price: np.ndarray, k: int) -> bool:
        kept = super().keeps_plan(day, price, k)
        if kept:
            solver = self.solver
            checked = float(solver.highs_adapter.highs.getInfo().objective_function_value)
            last = solver._kept.last
            fresh = solver.solve_arrays()  # cold: the optimum a re-solve finds
            solver._kept.last = last  # the replay carries out the kept plan
            optimum = float(fresh.stats.objective_yuan)
            GAPS.append(abs(optimum - checked) / max(1.0, abs(optimum)))
        return kept


def verify(loaded: LoadedPortfolio, prices, days: list[dt.date], forecaster: DayForecaster) -> dict:
    """Replay with skips, each skip checked against a cold re-solve (largest relative objective gap)."""
    simulator.replay.DayModels = VerifiedDayModels
    try:
        run = replay(loaded, prices, days, get_strategies("da_rt"), forecast=forecaster.name, progress=False,
                     day_forecaster=forecaster, skip_resolves=True)
    finally:
        simulator.replay.DayModels = DayModels
    gaps = GAPS
    return {"skips_checked": len(gaps), "largest_relative_objective_gap": max(gaps, default=0.0),
            "skips": run.skips}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--portfolio", type=Path, default=DEFAULT_PORTFOLIO)
    parser.add_argument("--bench100", action="store_true", help="the 100-asset portfolio of bench_backtest")
    parser.add_argument("--start", default="2024-05-01")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--forecast", default="ewm")
    parser.add_argument("--verify-only", action="store_true", help="check every skip against a cold solve")
    args = parser.parse_args(argv)
    if args.bench100:
        from bench.bench_backtest import bench_portfolio

        loaded, label = bench_portfolio(), "bench100 (60 batteries, 20 PV, 20 loads)"
    else:
        loaded, label = load_portfolio(args.portfolio), str(args.portfolio.name)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    first = dt.date.fromisoformat(args.start)
    days = [first + dt.timedelta(days=i) for i in range(args.days)]
    forecaster = DayForecaster(args.forecast, prices, loaded.market, "da_price")
    if args.verify_only:
        print(json.dumps({"portfolio": label, "days": [str(days[0]), str(days[-1])],
                          **verify(loaded, prices, days, forecaster)}, indent=1))
        return
    every = run_mode(loaded, prices, days, False, forecaster)
    skipping = run_mode(loaded, prices, days, True, forecaster)
    total = "revenue"
    a, b = every["settlement"][total].to_numpy(), skipping["settlement"][total].to_numpy()
    out = {
        "portfolio": label,
        "days": [str(days[0]), str(days[-1])],
        "forecast": args.forecast,
        "settlement_column": total,
        "load_average": os.getloadavg(),
    }
    for name, mode in (("every_period", every), ("skip_resolves", skipping)):
        run = mode["run"]
        out[name] = {
            "solves": run.solves, "skips": run.skips, "cpu_s": round(mode["cpu_s"], 2),
            "wall_s": round(mode["wall_s"], 2), "highs_s": round(run.highs_seconds, 2),
            "settlement_yuan": round(float(mode["settlement"][total].sum()), 2),
        }
    diff = b - a
    out["difference_yuan"] = round(float(diff.sum()), 2)
    out["largest_period_difference_yuan"] = round(float(np.max(np.abs(diff))), 4)
    out["periods_that_differ"] = int(np.sum(np.abs(diff) > 0.005))
    out["periods"] = int(diff.size)
    print(json.dumps(out, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "skip_resolves.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
