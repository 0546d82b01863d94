"""Benchmark: stochastic day-ahead bidding of a 1,000-asset fleet, 96 periods, 20 price scenarios.

The fleet is :func:`bench.fleet.make_fleet` (40 % batteries, 30 % PV, 20 % flexible loads, 10 %
loads) on the Gansu day 2024-04-16; the scenarios are bootstrapped from the persistence
forecaster's errors on the bundled Gansu prices before that day's gate closure. Steps timed:

1. aggregate into virtual assets (:mod:`optimizer.aggregation`), for each number of battery efficiency
   bins given (more bins: closer to the full model, more virtual assets);
2. the two-stage model of the aggregate, ``quantity`` and ``price_quantity`` modes (build, compiled
   hand-off, HiGHS);
3. split the bid (the DA copy's virtual schedules) back to the 1,000 assets (one small LP per group);
4. the full (not aggregated) model where it fits: by default at ``--full-n`` assets, with the gap
   between the aggregated and the full expected profit and bid at that size.

Usage::

    python bench/bench_stochastic.py [--n 1000] [--scenarios 20] [--eff-bins 1,2] [--full-n 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet import make_fleet
from market.presets import get_market
from market.prices import read_prices
from market.scenarios import generate_scenarios
from optimizer.aggregation import aggregate
from optimizer.aggregation_split import split_back
from optimizer.solver import SolveOptions
from optimizer.stochastic import StochasticOptions, solve_stochastic
from vpp.examples_paths import DEFAULT_PRICES


def scenarios_for(fleet, n: int, seed: int):
    """``n`` bootstrapped scenarios of the fleet's day, centred on its DA price."""
    market = get_market("gansu")
    prices = read_prices(DEFAULT_PRICES, market)
    cutoff = fleet.index[0] - pd.Timedelta(hours=14, minutes=30)  # D-1 09:30
    history = prices.loc[prices.index < cutoff]
    return generate_scenarios(
        history,
        fleet.index,
        n,
        seed=seed,
        center=fleet.price,
        price_bounds=(market.clear_price_floor, market.clear_price_cap),
    )


def run(n_assets: int, n_scen: int, eff_bins: list[int], full: bool, seed: int = 0) -> list[dict]:
    """Time the aggregated (and optionally the full) stochastic bid of one fleet size, per binning."""
    fleet = make_fleet(n_assets, seed)
    problem = fleet.problem()
    sc = scenarios_for(fleet, n_scen, seed)
    options = StochasticOptions(solve=SolveOptions(time_limit_s=600.0))
    whole = None
    if full:
        whole = solve_stochastic(problem, sc, options, asset_positions=False)
    rows = []
    for bins in eff_bins:
        out: dict = {"n": n_assets, "scenarios": n_scen, "eff_bins": bins}
        start = time.perf_counter()
        agg = aggregate(problem, eff_bins=bins)
        out["aggregate_s"] = time.perf_counter() - start
        out["virtual_assets"] = agg.n_virtual
        for mode in ("quantity", "price_quantity"):
            start = time.perf_counter()
            res = solve_stochastic(agg.problem, sc, replace(options, mode=mode))
            out[f"agg_{mode}_s"] = time.perf_counter() - start
            out[f"agg_{mode}_parts"] = res.seconds
            out[f"agg_{mode}_size"] = (res.n_variables, res.n_constraints)
            out[f"agg_{mode}_profit"] = res.expected_profit_yuan
            if mode == "quantity":
                quantity = res
        start = time.perf_counter()
        per_asset = split_back(agg, pd.DataFrame(quantity.asset_lo_mw, index=fleet.index))
        out["split_s"] = time.perf_counter() - start
        out["split_max_mismatch_mw"] = float(np.abs(per_asset.sum(axis=1).to_numpy() - quantity.bid_mw).max())
        if whole is not None:
            out["full_quantity_s"] = sum(whole.seconds.values())
            out["full_quantity_parts"] = whole.seconds
            out["full_quantity_size"] = (whole.n_variables, whole.n_constraints)
            out["full_quantity_profit"] = whole.expected_profit_yuan
            out["profit_gap_frac"] = (whole.expected_profit_yuan - quantity.expected_profit_yuan) / abs(
                whole.expected_profit_yuan
            )
            out["bid_gap_frac"] = float(
                np.abs(whole.bid_mw - quantity.bid_mw).sum() / max(np.abs(whole.bid_mw).sum(), 1e-9)
            )
        rows.append(out)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--eff-bins", default="1,2", help="comma-separated battery efficiency bin counts")
    parser.add_argument("--full-n", type=int, default=100,
                        help="fleet size of the full-model comparison (0: none)")
    parser.add_argument("--full-at-n", action="store_true", help="also try the full model at --n")
    args = parser.parse_args()
    bins = [int(b) for b in args.eff_bins.split(",")]
    rows = run(args.n, args.scenarios, bins, full=args.full_at_n)
    if args.full_n:
        rows += run(args.full_n, args.scenarios, bins, full=True)
    for row in rows:
        print(f"\n== {row['n']} assets x 96 periods x {row['scenarios']} scenarios, "
              f"{row['eff_bins']} efficiency bin(s) ==")
        print(f"aggregate: {row['virtual_assets']} virtual assets in {row['aggregate_s']:.2f} s")
        for mode in ("quantity", "price_quantity"):
            parts = row[f"agg_{mode}_parts"]
            cols, rows_ = row[f"agg_{mode}_size"]
            print(f"aggregated {mode:15s}: {row[f'agg_{mode}_s']:6.1f} s (build {parts['build']:.1f} / "
                  f"hand-off {parts['handoff']:.1f} / HiGHS {parts['solve']:.1f}), "
                  f"{cols:,} cols x {rows_:,} rows, E[profit] {row[f'agg_{mode}_profit']:,.0f} yuan")
        print(f"split back to {row['n']} assets: {row['split_s']:.1f} s, max |sum - bid| "
              f"{row['split_max_mismatch_mw']:.2e} MW")
        if "full_quantity_s" in row:
            parts = row["full_quantity_parts"]
            cols, rows_ = row["full_quantity_size"]
            print(f"full quantity model : {row['full_quantity_s']:6.1f} s (build {parts['build']:.1f} / "
                  f"hand-off {parts['handoff']:.1f} / HiGHS {parts['solve']:.1f}), "
                  f"{cols:,} cols x {rows_:,} rows, E[profit] {row['full_quantity_profit']:,.0f} yuan")
            print(f"aggregated vs full: expected profit {100 * row['profit_gap_frac']:.3f} % lower, "
                  f"bid differs by {100 * row['bid_gap_frac']:.2f} % (sum |diff| / sum |full|)")


if __name__ == "__main__":
    main()
