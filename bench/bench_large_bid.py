"""A day-ahead bid for a very large fleet through virtual assets: aggregate, solve, split back.

Run as ``python -m bench.bench_large_bid --sizes 1000,10000``. For each size it prints the time of
problem preparation, aggregation, the aggregated solve (Pyomo build + compiled hand-off + HiGHS)
and the split back to per-asset setpoints, the number of virtual assets, the peak memory of the
process (MB, ``ru_maxrss``), and checks that the split-back fleet net equals the aggregated one.
Each size runs in a fresh subprocess so the peak memory is its own. ``--split lp`` splits the
virtual batteries with an LP per group (cheapest members at the price) instead of the closed-form
pro-rata split; the members' revenue minus wear is printed for both. Results go to
``bench/results/large_bid.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "large_bid.json"


def measure(n_assets: int, split: str = "pro_rata") -> dict:
    """Time one aggregated bid of a mixed fleet of ``n_assets`` (runs in this process)."""
    from bench.fleet import make_fleet
    from optimizer.aggregation import aggregate
    from optimizer.aggregation_split import split_back
    from optimizer.solver import ModelSolver, SolveOptions

    out: dict = {"n_assets": n_assets}
    start = time.perf_counter()
    fleet = make_fleet(n_assets)
    problem = fleet.problem()
    out["prepare_s"] = time.perf_counter() - start
    start = time.perf_counter()
    agg = aggregate(problem)
    out["aggregate_s"] = time.perf_counter() - start
    out["virtual_assets"] = agg.n_virtual
    solver = ModelSolver(agg.problem, SolveOptions(handoff="compiled", time_limit_s=600))
    result = solver.solve()
    out["build_s"] = solver.build_seconds
    out["handoff_s"] = result.stats.handoff_seconds
    out["highs_s"] = result.stats.solve_seconds
    out["objective_yuan"] = result.objective_yuan
    start = time.perf_counter()
    per_asset = split_back(agg, result.asset_net_mw, method=split)
    out["split_s"] = time.perf_counter() - start
    out["split"] = split
    out["members_yuan"] = members_yuan(problem, per_asset)
    out["split_mismatch_mw"] = float((per_asset.sum(axis=1) - result.net_mw).abs().max())
    out["total_s"] = sum(
        out[k] for k in ("prepare_s", "aggregate_s", "build_s", "handoff_s", "highs_s", "split_s")
    )
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def members_yuan(problem, per_asset) -> float:
    """Revenue minus battery wear and PV curtailment cost of the per-asset dispatch (yuan; a
    split battery never charges and discharges at once, so its discharge is its positive net;
    flexible loads are split alike by both methods and their curtailment is left out)."""
    import numpy as np

    dt = problem.dt_h
    total = float((per_asset.sum(axis=1).to_numpy() * problem.price * dt).sum())
    bat = problem.families.get("battery")
    if bat is not None:
        net = per_asset[bat.ids].to_numpy().T
        total -= float((bat.degradation_cost_yuan_per_mwh[:, None] * np.maximum(net, 0.0) * dt).sum())
    pv = problem.families.get("pv")
    if pv is not None:
        spill = pv.available_mw - per_asset[pv.ids].to_numpy().T
        total -= float((pv.curtailment_cost_yuan_per_mwh[:, None] * spill * dt).sum())
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="Comma-separated fleet sizes.")
    parser.add_argument("--split", default="pro_rata", choices=["pro_rata", "lp"], help="Battery split.")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.split)))
        return
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_large_bid", "--one", str(n), "--split", args.split],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"N={n:>6}: {row['virtual_assets']} virtual assets; prepare {row['prepare_s']:.1f} s, "
            f"aggregate {row['aggregate_s']:.1f} s, build {row['build_s']:.1f} s, hand-off "
            f"{row['handoff_s']:.1f} s, HiGHS {row['highs_s']:.1f} s, split {row['split_s']:.1f} s; "
            f"total {row['total_s']:.1f} s, peak {row['peak_mb']:.0f} MB, "
            f"split mismatch {row['split_mismatch_mw']:.1e} MW; members {row['members_yuan']:,.2f} yuan "
            f"(aggregated objective {row['objective_yuan']:,.2f})"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
