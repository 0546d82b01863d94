"""Re-solve benchmark: new prices on a kept model, Pyomo persistent against a raw-highspy warm start.

Run from the project root::

    python -m bench.bench_resolve --sizes 100,1000

Per size, in a fresh subprocess: build the fleet of :func:`bench.fleet.make_fleet` on 2024-04-16,
solve it once through ``ModelSolver`` (persistent hand-off) and once through the raw twin
(:class:`bench.raw_highs.RawTwin`), then re-solve both at the prices of each following bundled
day (2024-04-17 to 2024-04-19):

- Pyomo: ``ModelSolver.set_prices`` + ``solve()`` (Params pushed to the kept HiGHS instance, then
  the typed result extracted), with the solver's defaults (cold HiGHS start, for reproducible
  results) and with ``warm_start=True``;
- raw: ``changeColsCost`` on the fleet net columns + ``run()`` from the previous basis.

Times (s) are medians over the new days; objectives of the two routes must agree per day.
Results go to ``bench/results/resolve.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.bench_day_ahead import MARKER, ROOT, _versions, _warm_imports

RESULTS = Path(__file__).resolve().parent / "results"
NEW_DAYS = ("2024-04-17", "2024-04-18", "2024-04-19")


def run(size: int, seed: int, time_limit_s: float) -> dict[str, Any]:
    """Measure first solves and re-solves of one fleet size in this process."""
    _warm_imports()
    from bench.fleet import day_prices, make_fleet
    from bench.raw_highs import RawTwin
    from optimizer.solver import ModelSolver, SolveOptions

    fleet = make_fleet(size, seed)
    problem = fleet.problem()
    record: dict[str, Any] = {"size": size, "counts": fleet.counts, "days": list(NEW_DAYS)}

    for label, warm in (("pyomo_persistent", False), ("pyomo_persistent_warm", True)):
        start = time.perf_counter()
        solver = ModelSolver(
            problem, SolveOptions(handoff="persistent", time_limit_s=time_limit_s, warm_start=warm)
        )
        first = solver.solve()
        first_s = time.perf_counter() - start
        resolves, highs, objectives = [], [], []
        for day in NEW_DAYS:
            price = day_prices(day)
            t0 = time.perf_counter()
            solver.set_prices(price)
            result = solver.solve()
            resolves.append(time.perf_counter() - t0)
            highs.append(result.stats.solve_seconds)
            objectives.append(result.objective_yuan)
        record[label] = {
            "first_total_s": first_s,
            "first_build_s": first.stats.build_seconds,
            "first_handoff_s": first.stats.handoff_seconds,
            "first_highs_s": first.stats.solve_seconds,
            "first_objective_yuan": first.objective_yuan,
            "resolve_s": resolves,
            "resolve_highs_s": highs,
            "resolve_median_s": statistics.median(resolves),
            "objectives_yuan": objectives,
        }
        del solver

    start = time.perf_counter()
    twin = RawTwin(problem, time_limit_s=time_limit_s)
    first_raw = twin.solve()
    first_s = time.perf_counter() - start
    resolves, objectives = [], []
    for day in NEW_DAYS:
        price = day_prices(day)
        t0 = time.perf_counter()
        twin.set_prices(price)
        result = twin.solve()
        resolves.append(time.perf_counter() - t0)
        objectives.append(result.objective_yuan)
    record["raw_warm"] = {
        "first_total_s": first_s,
        "first_build_s": first_raw.seconds_build,
        "first_highs_s": first_raw.seconds_solve,
        "first_objective_yuan": first_raw.objective_yuan,
        "resolve_s": resolves,
        "resolve_median_s": statistics.median(resolves),
        "objectives_yuan": objectives,
    }
    rel = [
        abs(a - b) / max(1.0, abs(b))
        for key in ("pyomo_persistent", "pyomo_persistent_warm")
        for a, b in zip(record[key]["objectives_yuan"], objectives, strict=True)
    ]
    record["objective_rel_diff_max"] = max(rel)
    return record


def print_table(records: list[dict[str, Any]]) -> None:
    """Rich table: first solve and median re-solve per route and size."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="Re-solve after a price change (96 x 15 min), seconds; re-solves: median of 3 new days"
    )
    for col in (
        "N",
        "route",
        "first solve",
        "of which hand-off",
        "re-solve (median)",
        "re-solve HiGHS",
        "obj rel diff",
    ):
        table.add_column(col, justify="right")
    for r in records:
        for key, name in (
            ("pyomo_persistent", "Pyomo persistent (cold HiGHS)"),
            ("pyomo_persistent_warm", "Pyomo persistent, warm_start"),
            ("raw_warm", "raw highspy, warm"),
        ):
            v = r[key]
            table.add_row(
                str(r["size"]),
                name,
                f"{v['first_total_s']:.2f}",
                f"{v.get('first_handoff_s', 0.0):.2f}",
                f"{v['resolve_median_s']:.3f}",
                f"{statistics.median(v['resolve_highs_s']):.3f}" if "resolve_highs_s" in v else "",
                f"{r['objective_rel_diff_max']:.1e}",
            )
    Console(width=max(160, Console().width)).print(table)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "resolve.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(MARKER + json.dumps(run(args.child, args.seed, args.time_limit)))
        return 0
    records = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        cmd = [sys.executable, "-m", "bench.bench_resolve", "--child", str(size), "--seed", str(args.seed)]
        proc = subprocess.run(
            [*cmd, "--time-limit", str(args.time_limit)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [x for x in proc.stdout.splitlines() if x.startswith(MARKER)]
        if not lines:
            raise RuntimeError(f"re-solve child for N={size} failed:\n{proc.stderr[-4000:]}")
        record = json.loads(lines[-1][len(MARKER) :])
        records.append(record)
        p, w = record["pyomo_persistent"], record["raw_warm"]
        print(
            f"N={size}: re-solve Pyomo persistent {p['resolve_median_s']:.3f} s, raw warm "
            f"{w['resolve_median_s']:.3f} s, objective rel diff {record['objective_rel_diff_max']:.1e}",
            flush=True,
        )
    print_table(records)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_average_at_end": os.getloadavg(),
        "seed": args.seed,
        "versions": _versions(),
    }
    args.out.write_text(json.dumps({"meta": meta, "results": records}, indent=2))
    print(f"wrote {args.out}")
    worst = max(r["objective_rel_diff_max"] for r in records)
    if worst > 1e-6:
        print(f"OBJECTIVES DISAGREE: worst relative difference {worst:.2e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
