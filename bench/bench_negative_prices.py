"""Negative-price day-ahead bids: how fast an exact schedule (no charge and discharge at once) is.

Run from the project root::

    python -m bench.bench_negative_prices [--variant lazy|full|negative_only|all] [--repeat 3]

Fleet: three batteries of different sizes and efficiencies (``FLEET``), import and export limit
4 MW, on the real DE-LU hourly days of ``bench/data/de_lu_negative_days_hourly.csv`` (every one
with negative hours, down to -500 EUR/MWh). Variants (the ``mip_rel_gap`` is 1e-4 in all):

- ``lazy``: the engine (binaries only where a solve charges and discharges at once,
  :mod:`optimizer.exclusive`, plus those built in negative-price periods);
- ``lazy_only``: the same without binaries built in negative-price periods (only lazy ones);
- ``full``: a binary in every battery period (the reference MILP);
- ``negative_only``: binaries in negative-price periods only, nothing else (the engine before
  issue 13 item 5; not exact: ``worst_mw`` shows the burn).

Per day and variant: seconds (median of ``--repeat`` in-process solves, model build included),
objective (EUR), proven gap, binaries, rounds and the largest ``min(charge, discharge)`` (MW).
Results go to ``bench/results/negative_prices.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.problem import prepare_problem
from optimizer.solver import ModelSolver, SolveOptions
from vpp.portfolio import Portfolio

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "de_lu_negative_days_hourly.csv"
RESULTS = HERE / "results" / "negative_prices.json"
VARIANTS = ("lazy", "lazy_only", "full", "negative_only")

FLEET = [
    {"type": "battery", "id": "b1", "power_mw": 1.0, "energy_mwh": 2.0, "soc_initial_mwh": 1.0,
     "charge_efficiency": 0.95, "discharge_efficiency": 0.95, "degradation_cost": 2.0},
    {"type": "battery", "id": "b2", "power_mw": 2.0, "energy_mwh": 4.0, "soc_initial_mwh": 2.0,
     "charge_efficiency": 0.92, "discharge_efficiency": 0.92},
    {"type": "battery", "id": "b3", "power_mw": 2.5, "energy_mwh": 10.0, "soc_initial_mwh": 5.0,
     "charge_efficiency": 0.9, "discharge_efficiency": 0.9, "degradation_cost": 1.0},
]


def portfolio() -> Portfolio:
    """The three-battery fleet behind a 4 MW connection."""
    grid = {"import_limit_mw": 4.0, "export_limit_mw": 4.0}
    return Portfolio.model_validate({"name": "three-batteries", "grid": grid, "assets": FLEET})


def days() -> dict[str, tuple[pd.DatetimeIndex, np.ndarray]]:
    """Each bundled day: its hourly index (Europe/Berlin) and prices."""
    frame = pd.read_csv(DATA)
    out = {}
    for day, rows in frame.groupby(frame["timestamp"].str[:10]):
        index = pd.DatetimeIndex(pd.to_datetime(rows["timestamp"])).tz_localize("Europe/Berlin")
        out[str(day)] = (index.rename("timestamp"), rows["price"].to_numpy(dtype=float))
    return out


def solve_once(variant: str, index: pd.DatetimeIndex, price: np.ndarray) -> dict[str, Any]:
    """Build and solve the day once as ``variant``; figures of the result."""
    start = time.perf_counter()
    problem = prepare_problem(portfolio(), index, price)
    if variant in ("full", "lazy_only"):
        periods = np.arange(len(index)) if variant == "full" else np.zeros(0, dtype=int)
        data = dataclasses.replace(problem.families["battery"], binary_periods=periods)
        problem = dataclasses.replace(problem, families={**problem.families, "battery": data})
    solver = ModelSolver(problem, SolveOptions(time_limit_s=120.0, explain_infeasible=False))
    solver.set_prices(price, allow_relaxed=variant == "negative_only")
    result = solver.solve_arrays()
    seconds = time.perf_counter() - start
    both = np.minimum(result.series["battery.charge_mw"], result.series["battery.discharge_mw"])
    stats = result.stats
    return {
        "seconds": seconds,
        "objective": stats.objective_yuan,
        "bound": stats.bound_yuan,
        "gap": stats.mip_gap,
        "status": stats.status,
        "binaries": stats.n_binaries,
        "rounds": stats.exclusive_rounds,
        "worst_mw": float(both.max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="all", choices=[*VARIANTS, "all"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    variants = VARIANTS if args.variant == "all" else (args.variant,)
    records = []
    for day, (index, price) in days().items():
        for variant in variants:
            runs = [solve_once(variant, index, price) for _ in range(args.repeat)]
            record = runs[0] | {"seconds": statistics.median(r["seconds"] for r in runs)}
            record |= {"day": day, "variant": variant, "negative_hours": int((price < 0).sum())}
            records.append(record)
            print(
                f"{day} {variant:13s} {record['seconds']:7.3f} s  obj {record['objective']:10.2f}  "
                f"gap {record['gap'] if record['gap'] is not None else 0:.1e}  bin {record['binaries']:3d}  "
                f"rounds {record['rounds']}  worst {record['worst_mw']:.3f} MW",
                flush=True,
            )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(records, indent=1) + "\n")


if __name__ == "__main__":
    main()
