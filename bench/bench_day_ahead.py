"""Day-ahead benchmark: Pyomo build + hand-off + HiGHS against the raw-highspy twin, per fleet size.

Run from the project root::

    python -m bench.bench_day_ahead --sizes 10,100,1000 [--handoff auto|persistent|compiled|all]
    python -m bench.bench_day_ahead --sizes 10000          # opt-in: HiGHS alone takes minutes, GBs of RAM

Every (size, route, repeat) runs in a fresh subprocess, so peak memory (``ru_maxrss``, which never
decreases within a process) belongs to that route alone and no cache carries over. One-time imports
(Pyomo, highspy, scipy) happen before the clock starts, for both routes. The fleet is
:func:`bench.fleet.make_fleet` (reproducible from ``--seed``) on the bundled Gansu day. Timings
(s) are the median over ``--repeat`` runs (by total); the objectives of the Pyomo route and the raw
twin must agree (relative difference printed). Results go to ``bench/results/day_ahead.json``.

Wall time counts waiting for a core when other processes run; the CPU time of the same run (process
time, HiGHS included) is what the run costs on an idle machine, and both are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
MARKER = "BENCH-RESULT "
HANDOFFS = ("auto", "persistent", "compiled")


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _warm_imports() -> None:
    """Import everything the routes use lazily, so no route pays an import inside its timing.

    Pyomo resolves its deferred ``scipy`` import (which pulls in ``scipy.stats``, about 1-1.5 s) on
    the first standard-form compile: compiling a one-variable model here pays it up front.
    """
    import pyomo.environ as pyo
    import scipy.sparse  # noqa: F401

    import bench.raw_highs  # noqa: F401
    from optimizer.highs_bridge import compile_to_highs

    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 1))
    m.c = pyo.Constraint(expr=m.x <= 1)
    m.o = pyo.Objective(expr=m.x)
    compile_to_highs(m)


def run_pyomo(size: int, seed: int, handoff: str, time_limit_s: float) -> dict[str, Any]:
    """One Pyomo solve of a fresh fleet in this process: timings (s), size, objective, net (MW)."""
    _warm_imports()
    from bench.fleet import make_fleet
    from optimizer.solver import ModelSolver, SolveOptions

    fleet = make_fleet(size, seed)
    cpu_start = time.process_time()
    start = time.perf_counter()
    problem = fleet.problem()
    prepare_s = time.perf_counter() - start
    cpu_build = time.process_time()
    solver = ModelSolver(problem, SolveOptions(handoff=handoff, time_limit_s=time_limit_s))
    before_solve = time.perf_counter()
    cpu_solve = time.process_time()
    result = solver.solve()
    end = time.perf_counter()
    cpu_end = time.process_time()
    stats = result.stats
    extract_s = (end - before_solve) - stats.handoff_seconds - stats.solve_seconds
    return {
        "route": f"pyomo-{stats.handoff}",
        "handoff_requested": handoff,
        "status": stats.termination,
        "n_variables": stats.n_variables,
        "n_constraints": stats.n_constraints,
        "prepare_s": prepare_s,
        "build_s": stats.build_seconds,
        "handoff_s": stats.handoff_seconds,
        "highs_s": stats.solve_seconds,
        "extract_s": extract_s,
        "total_s": end - start,
        "cpu_s": cpu_end - cpu_start,
        "build_cpu_s": cpu_solve - cpu_build,
        "solve_cpu_s": cpu_end - cpu_solve,
        "peak_rss_mb": _peak_rss_mb(),
        "objective_yuan": result.objective_yuan,
        "net_mw": result.net_mw.to_numpy().tolist(),
        "counts": fleet.counts,
    }


def run_raw(size: int, seed: int, time_limit_s: float) -> dict[str, Any]:
    """One raw-highspy solve of the same fleet in this process."""
    _warm_imports()
    from bench.fleet import make_fleet
    from bench.raw_highs import RawTwin

    fleet = make_fleet(size, seed)
    cpu_start = time.process_time()
    start = time.perf_counter()
    problem = fleet.problem()
    prepare_s = time.perf_counter() - start
    twin = RawTwin(problem, time_limit_s=time_limit_s)
    result = twin.solve()
    end = time.perf_counter()
    return {
        "route": "raw-highspy",
        "status": result.status,
        "n_variables": result.n_columns,
        "n_constraints": result.n_rows,
        "n_nonzeros": result.n_nonzeros,
        "prepare_s": prepare_s,
        "build_s": result.seconds_build,
        "highs_s": result.seconds_solve,
        "total_s": end - start,
        "cpu_s": time.process_time() - cpu_start,
        "peak_rss_mb": _peak_rss_mb(),
        "objective_yuan": result.objective_yuan,
        "net_mw": result.net_mw.tolist(),
    }


def _child(args: list[str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its JSON record."""
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_day_ahead", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise RuntimeError(f"benchmark child {args} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def _median_run(args: list[str], repeat: int) -> dict[str, Any]:
    runs = [_child(args) for _ in range(repeat)]
    runs.sort(key=lambda r: r["total_s"])
    chosen = dict(runs[len(runs) // 2])
    chosen["total_s_runs"] = [r["total_s"] for r in runs]
    return chosen


def compare(pyomo: dict[str, Any], raw: dict[str, Any]) -> dict[str, float]:
    """Objective relative difference, largest fleet-net difference (MW) and time ratio."""
    a, b = pyomo["objective_yuan"], raw["objective_yuan"]
    rel = abs(a - b) / max(1.0, abs(b))
    net_diff = max((abs(x - y) for x, y in zip(pyomo["net_mw"], raw["net_mw"], strict=True)), default=0.0)
    return {
        "objective_rel_diff": rel,
        "net_max_abs_diff_mw": net_diff,
        "ratio_total": pyomo["total_s"] / raw["total_s"],
        "ratio_cpu": pyomo["cpu_s"] / raw["cpu_s"],
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    """Rich table of the records (one row per size and hand-off)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title="Day-ahead solve, 96 x 15 min: wall s (median run), CPU s of that run, peak RSS (MB)",
        caption="CPU = process time from prepare to result; on a busy machine wall > CPU (waits for a core)",
    )
    for col in (
        "N",
        "route",
        "cols",
        "rows",
        "prepare",
        "build",
        "hand-off",
        "HiGHS",
        "extract",
        "total",
        "CPU",
        "MB",
        "raw build",
        "raw HiGHS",
        "raw total",
        "raw CPU",
        "raw MB",
        "obj rel diff",
        "ratio",
        "CPU ratio",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        p, w, c = r["pyomo"], r["raw"], r["compare"]
        table.add_row(
            str(r["size"]),
            p["route"].removeprefix("pyomo-"),
            f"{p['n_variables']:,}",
            f"{p['n_constraints']:,}",
            f"{p['prepare_s']:.3f}",
            f"{p['build_s']:.2f}",
            f"{p['handoff_s']:.2f}",
            f"{p['highs_s']:.2f}",
            f"{p['extract_s']:.2f}",
            f"{p['total_s']:.2f}",
            f"{p['cpu_s']:.2f}",
            f"{p['peak_rss_mb']:.0f}",
            f"{w['build_s']:.3f}",
            f"{w['highs_s']:.2f}",
            f"{w['total_s']:.2f}",
            f"{w['cpu_s']:.2f}",
            f"{w['peak_rss_mb']:.0f}",
            f"{c['objective_rel_diff']:.1e}",
            f"{c['ratio_total']:.2f}",
            f"{c['ratio_cpu']:.2f}",
        )
    Console(width=max(220, Console().width)).print(table)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000", help="comma-separated fleet sizes")
    parser.add_argument("--handoff", default="auto", choices=[*HANDOFFS, "all"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="fresh processes per measurement")
    parser.add_argument("--time-limit", type=float, default=600.0, help="HiGHS limit per solve (s)")
    parser.add_argument("--out", type=Path, default=RESULTS / "day_ahead.json")
    parser.add_argument("--child", choices=["pyomo", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        if args.child == "pyomo":
            record = run_pyomo(args.size, args.seed, args.handoff, args.time_limit)
        else:
            record = run_raw(args.size, args.seed, args.time_limit)
        print(MARKER + json.dumps(record))
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    handoffs = ["persistent", "compiled"] if args.handoff == "all" else [args.handoff]
    common = ["--seed", str(args.seed), "--time-limit", str(args.time_limit)]
    rows = []
    for size in sizes:
        raw = _median_run(["--child", "raw", "--size", str(size), *common], args.repeat)
        for handoff in handoffs:
            pyomo = _median_run(
                ["--child", "pyomo", "--size", str(size), "--handoff", handoff, *common], args.repeat
            )
            cmp = compare(pyomo, raw)
            rows.append({"size": size, "pyomo": pyomo, "raw": raw, "compare": cmp})
            print(
                f"N={size} {pyomo['route']}: total {pyomo['total_s']:.2f} s, raw {raw['total_s']:.2f} s, "
                f"ratio {cmp['ratio_total']:.2f}, objective rel diff {cmp['objective_rel_diff']:.2e}",
                flush=True,
            )
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for r in rows:  # the per-period series are for the comparison, not the record
        r["pyomo"].pop("net_mw", None)
        r["raw"] = {k: v for k, v in r["raw"].items() if k != "net_mw"}
    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_average_at_end": os.getloadavg(),
        "seed": args.seed,
        "repeat": args.repeat,
        "versions": _versions(),
    }
    args.out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    print(f"wrote {args.out}")
    worst = max((r["compare"]["objective_rel_diff"] for r in rows), default=0.0)
    if worst > 1e-6:
        print(f"OBJECTIVES DISAGREE: worst relative difference {worst:.2e}", file=sys.stderr)
        return 1
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("pyomo", "highspy", "numpy", "scipy", "pandas")}


if __name__ == "__main__":
    sys.exit(main())
