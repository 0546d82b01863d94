"""Peer side by side: the same battery-arbitrage day through this engine and through EMHASS.

Run from the project root (EMHASS in its own venv, see ``bench/RESULTS.md``)::

    python -m bench.bench_peer_emhass --sizes 1,10,100 [--max-seconds 180] [--mip-rel-gap 0]
    python -m bench.bench_peer_emhass --sizes 1 --peer-python none      # the engine's half only

The day: 96 x 15 min of real Gansu day-ahead prices (``bench/data``, 2024-04-16 by default, all
prices >= 0). The fleet: ``N`` batteries reproducible from ``--seed`` (:func:`battery_fleet`),
no PV and no load, behind a grid connection of the fleet's total power (never binding). The
same batteries (power, energy, efficiencies, initial, least and greatest state of charge, final
state = initial) go to

- this engine, in process: :func:`optimizer.problem.prepare_problem` and
  :class:`optimizer.solver.ModelSolver` (Pyomo, HiGHS), an LP here;
- EMHASS (``emhass.optimization.Optimization``, ``perform_dayahead_forecast_optim``, cost function
  ``profit``, price as both import cost and export price), a MILP (a binary per battery and period
  for the charge/discharge direction, one per period for the grid direction), in a fresh
  interpreter of ``--peer-python`` (:mod:`bench.peer_emhass` says how each parameter maps).

Both schedules are valued by the same settlement formula (``CONVENTIONS.md``, day-ahead leg:
``revenue = sum_t q_da[t] * p_da[t]``, :func:`market.settlement.settle_periods`, to the fen), and
both are checked against this engine's battery model (power limits, state-of-charge window and
final state, ``soc[t] = soc[t-1] + eta_c * charge * dt - discharge * dt / eta_d``).

Times (wall s, imports done before the clock on both sides): ``build+solve`` is model build,
hand-off and solver (EMHASS: its problem build and ``prob.solve``, which includes CVXPY's
compilation to HiGHS); ``whole call`` adds everything from the arrays to the schedule (this
engine: problem preparation and result extraction; EMHASS: its config parsing, the
``Optimization`` object and result extraction). CPU s is the process time of the whole call
(HiGHS threads included). Results go to ``bench/results/peer_emhass.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_emhass.py"
DEFAULT_PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
MARKER = "BENCH-RESULT "
REVENUE_TOLERANCE_YUAN = 1.0
"""Largest revenue difference (yuan, the whole day) counted as the same optimum on the 1-battery day:
per-period settlement rounds to the fen (at most 0.005 yuan x 96) and both solvers stop within
their feasibility tolerances."""


@dataclass(frozen=True)
class Day:
    """One trading day of prices.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts (tz-aware), named ``timestamp``.
    price : np.ndarray
        Day-ahead price (yuan/MWh), shape (T,).
    dt_h : float
        Period length (h).
    """

    index: pd.DatetimeIndex
    price: np.ndarray
    dt_h: float


def bundled_day(day: str) -> Day:
    """A day of the bundled Gansu prices (``bench/fleet.py``'s file); its period length from the index."""
    from bench.fleet import read_days

    frame = read_days()
    rows = frame.loc[frame.index.strftime("%Y-%m-%d") == day]
    if rows.empty:
        raise SystemExit(
            f"no bundled prices for {day}: the file has {sorted(set(frame.index.strftime('%Y-%m-%d')))}"
        )
    index = pd.DatetimeIndex(rows.index, name="timestamp")
    dt_h = float((index[1:] - index[:-1]).median() / pd.Timedelta(hours=1))  # the bundled days are regular
    return Day(index=index, price=rows["da_price"].to_numpy(dtype=float), dt_h=dt_h)


def battery_fleet(n_batteries: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n_batteries`` batteries, reproducible from ``seed``, as portfolio asset mappings.

    Power 0.5-5 MW, 1, 2 or 4 hours of energy, efficiencies 0.90-0.97 each way, state of charge
    between 10 % and 100 % of the energy, starting and ending at 50 %. No self-discharge, wear
    cost or cycle limit (EMHASS has none of them).
    """
    rng = np.random.default_rng(seed)
    fleet = []
    for i in range(n_batteries):
        power = round(float(rng.uniform(0.5, 5.0)), 3)
        energy = round(power * float(rng.choice([1.0, 2.0, 4.0])), 3)
        fleet.append(
            {
                "type": "battery",
                "id": f"bess-{i + 1}",
                "power_mw": power,
                "energy_mwh": energy,
                "charge_efficiency": round(float(rng.uniform(0.9, 0.97)), 3),
                "discharge_efficiency": round(float(rng.uniform(0.9, 0.97)), 3),
                "soc_initial_mwh": round(0.5 * energy, 4),
                "soc_min_mwh": round(0.1 * energy, 4),
                "soc_max_mwh": energy,
            }
        )
    return fleet


def grid_limit_mw(batteries: list[dict[str, Any]]) -> float:
    """The grid connection of the case (MW each way): the fleet's total power, so it never binds."""
    return round(sum(b["power_mw"] for b in batteries), 3)


def settled_revenue(day: Day, net_mw: np.ndarray) -> float:
    """Revenue (yuan) of a fleet net export schedule (MW, shape (T,)) settled day-ahead only.

    :func:`market.settlement.settle_periods` with ``q_actual = q_da = net_mw * dt`` and the
    real-time price equal to the day-ahead price, so the real-time leg is zero.
    """
    from market.settlement import settle_periods

    q = pd.Series(np.asarray(net_mw, dtype=float) * day.dt_h, index=day.index)
    p = pd.Series(day.price, index=day.index)
    return float(settle_periods(q, q, p, p)["revenue"].sum())


def model_violation(
    batteries: list[dict[str, Any]], charge_mw: np.ndarray, discharge_mw: np.ndarray, dt_h: float
) -> float:
    """Largest violation (MW or MWh) of this engine's battery model by a schedule.

    ``charge_mw`` and ``discharge_mw`` are grid-side powers, shape (A, T). Checks the power
    limits, the state-of-charge window at the end of every period and the final state
    (``>= soc_initial``), with the state recomputed by the engine's balance.
    """
    charge = np.asarray(charge_mw, dtype=float)
    discharge = np.asarray(discharge_mw, dtype=float)
    power = np.array([b["power_mw"] for b in batteries])[:, None]
    eta_c = np.array([b["charge_efficiency"] for b in batteries])[:, None]
    eta_d = np.array([b["discharge_efficiency"] for b in batteries])[:, None]
    soc0 = np.array([b["soc_initial_mwh"] for b in batteries])
    soc = soc0[:, None] + np.cumsum(eta_c * charge * dt_h - discharge * dt_h / eta_d, axis=1)
    soc_min = np.array([b["soc_min_mwh"] for b in batteries])[:, None]
    soc_max = np.array([b["soc_max_mwh"] for b in batteries])[:, None]
    worst = [
        (-charge).max(initial=0.0),
        (-discharge).max(initial=0.0),
        (charge - power).max(initial=0.0),
        (discharge - power).max(initial=0.0),
        (soc_min - soc).max(initial=0.0),
        (soc - soc_max).max(initial=0.0),
        (soc0 - soc[:, -1]).max(initial=0.0),
    ]
    return float(max(worst))


def run_engine(
    day: Day, batteries: list[dict[str, Any]], time_limit_s: float, threads: int
) -> dict[str, Any]:
    """One day-ahead solve of the fleet by this engine, in this process; timings (s) and schedule."""
    from optimizer.problem import prepare_problem
    from optimizer.solver import ModelSolver, SolveOptions
    from vpp.portfolio import Portfolio

    limit = grid_limit_mw(batteries)
    portfolio = Portfolio(
        name=f"peer-{len(batteries)}",
        market="gansu",
        grid={"import_limit_mw": limit, "export_limit_mw": limit},
        assets=batteries,
    )
    options = SolveOptions(time_limit_s=time_limit_s, threads=threads or None)
    cpu_start = time.process_time()
    start = time.perf_counter()
    problem = prepare_problem(portfolio, day.index, day.price)
    result = ModelSolver(problem, options).solve()
    total_s = time.perf_counter() - start
    cpu_s = time.process_time() - cpu_start
    stats = result.stats
    ids = [b["id"] for b in batteries]
    return {
        "route": "engine",
        "status": stats.termination,
        "build_s": stats.build_seconds + stats.handoff_seconds,
        "solve_s": stats.solve_seconds,
        "highs_s": stats.solve_seconds,
        "build_solve_s": stats.build_seconds + stats.handoff_seconds + stats.solve_seconds,
        "total_s": total_s,
        "cpu_s": cpu_s,
        "n_variables": stats.n_variables,
        "n_binaries": stats.n_binaries,
        "objective_yuan": result.objective_yuan,
        "charge_mw": result.series["battery.charge_mw"][ids].to_numpy(dtype=float).T,
        "discharge_mw": result.series["battery.discharge_mw"][ids].to_numpy(dtype=float).T,
    }


def run_emhass(
    peer_python: Path,
    day: Day,
    batteries: list[dict[str, Any]],
    max_seconds: float,
    mip_rel_gap: float,
    threads: int,
) -> dict[str, Any] | None:
    """One EMHASS solve in a fresh ``peer_python`` process; None when EMHASS is not importable there.

    A failed or hung run ends the benchmark (``SystemExit`` with EMHASS's output), nothing written.
    """
    case = {
        "price": day.price.tolist(),
        "dt_h": day.dt_h,
        "start": day.index[0].isoformat(),
        "timezone": str(day.index.tz),
        "grid_limit_mw": grid_limit_mw(batteries),
        "max_seconds": max_seconds,
        "mip_rel_gap": mip_rel_gap,
        "threads": threads,
        "batteries": [{**b, "soc_final_mwh": b["soc_initial_mwh"]} for b in batteries],
    }
    hang_s = max_seconds + 600  # HiGHS stops at max_seconds; CVXPY's compilation comes before it
    try:
        proc = subprocess.run(
            [str(peer_python), str(PEER_SCRIPT)],
            input=json.dumps(case),
            capture_output=True,
            text=True,
            check=False,
            timeout=hang_s,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"EMHASS ({peer_python}) gave no result within {hang_s:.0f} s on {len(batteries)} batteries"
        ) from None
    if proc.returncode == 3:
        print(proc.stderr.strip(), file=sys.stderr)
        return None
    for line in proc.stdout.splitlines():
        if line.startswith(MARKER):
            record = json.loads(line[len(MARKER) :])
            record["charge_mw"] = np.array(record["charge_mw"])
            record["discharge_mw"] = np.array(record["discharge_mw"])
            record["build_solve_s"] = (record["build_s"] or 0.0) + (record["solve_s"] or 0.0)
            return record
    raise SystemExit(
        f"EMHASS run failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    )


def value(day: Day, batteries: list[dict[str, Any]], record: dict[str, Any]) -> None:
    """Add the settled revenue (yuan) and the model violation to a route's record, in place."""
    net = (record["discharge_mw"] - record["charge_mw"]).sum(axis=0)
    record["revenue_yuan"] = settled_revenue(day, net)
    record["violation"] = model_violation(batteries, record["charge_mw"], record["discharge_mw"], day.dt_h)


def run_case(day: Day, size: int, args: argparse.Namespace, peer_python: Path | None) -> dict[str, Any]:
    """Both routes on an ``size``-battery fleet; the record without the schedules."""
    batteries = battery_fleet(size, args.seed)
    engine = run_engine(day, batteries, args.max_seconds, args.threads)
    value(day, batteries, engine)
    peer = None
    if peer_python is not None:
        peer = run_emhass(peer_python, day, batteries, args.max_seconds, args.mip_rel_gap, args.threads)
        if peer is not None:
            value(day, batteries, peer)
    row: dict[str, Any] = {"size": size, "engine": _public(engine), "emhass": _public(peer) if peer else None}
    if peer is not None:
        row["revenue_diff_yuan"] = engine["revenue_yuan"] - peer["revenue_yuan"]
        row["ratio_whole_call"] = peer["total_s"] / engine["total_s"]
        row["ratio_cpu"] = peer["cpu_s"] / engine["cpu_s"]
    return row


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("charge_mw", "discharge_mw", "net_mw_fleet")}


def print_table(rows: list[dict[str, Any]], day: str) -> None:
    """Rich table: per size, both routes' times, revenues and the difference."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Battery arbitrage, Gansu {day}, 96 x 15 min: this engine (LP) and EMHASS (MILP)",
        caption="wall s; revenue settled by the same formula (yuan); violation of the engine's battery model",
    )
    for col in (
        "N",
        "route",
        "status",
        "HiGHS s",
        "build+solve s",
        "whole call s",
        "CPU s",
        "revenue yuan",
        "violation",
    ):
        table.add_column(col, justify="right")
    for r in rows:
        for name in ("engine", "emhass"):
            rec = r[name]
            if rec is None:
                table.add_row(str(r["size"]), name, "not run", "", "", "", "", "", "")
                continue
            table.add_row(
                str(r["size"]),
                name,
                str(rec["status"]),
                _seconds(rec.get("highs_s")),
                f"{rec['build_solve_s']:.2f}",
                f"{rec['total_s']:.2f}",
                f"{rec['cpu_s']:.2f}",
                f"{rec['revenue_yuan']:,.2f}",
                f"{rec['violation']:.1e}",
            )
        if r.get("emhass"):
            table.add_row(
                "",
                "EMHASS / engine",
                "",
                "",
                "",
                f"x{r['ratio_whole_call']:.1f}",
                f"x{r['ratio_cpu']:.1f}",
                f"{r['revenue_diff_yuan']:+,.2f}",
                "",
            )
    Console(width=max(140, Console().width)).print(table)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _peer_python(arg: str | None) -> Path | None:
    if arg == "none":
        return None
    if arg:
        return Path(arg)
    return DEFAULT_PEER_PYTHON if DEFAULT_PEER_PYTHON.exists() else Path(sys.executable)


def _check_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[int]:
    """The fleet sizes; ``parser.error`` (exit 2, no traceback) on an option out of its range."""
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be whole numbers separated by commas, got {args.sizes!r}")
    if not sizes or min(sizes) < 1:
        parser.error(f"--sizes must be numbers of batteries >= 1, got {args.sizes!r}")
    if not args.max_seconds > 0:
        parser.error(f"--max-seconds must be > 0, got {args.max_seconds}")
    if not 0 <= args.mip_rel_gap <= 1:
        parser.error(f"--mip-rel-gap must be within [0, 1], got {args.mip_rel_gap}")
    if args.threads < 0:
        parser.error(f"--threads must be >= 0, got {args.threads}")
    if args.peer_python not in (None, "none") and not Path(args.peer_python).is_file():
        parser.error(f"--peer-python {args.peer_python} is not a file")
    return sizes


def _warm_imports() -> None:
    """Import and exercise the engine once before any clock starts (Pyomo's lazy imports)."""
    from bench.bench_day_ahead import _warm_imports as warm

    warm()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10", help="comma-separated numbers of batteries")
    parser.add_argument("--day", default="2024-04-16", help="bundled Gansu day (2024-04-16 .. 2024-04-19)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="solver time limit per solve (s)")
    parser.add_argument(
        "--mip-rel-gap",
        type=float,
        default=0.0,
        help="EMHASS's lp_solver_mip_rel_gap (its shipped default: 0.01)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="HiGHS threads on both sides (0: solver default)"
    )
    parser.add_argument(
        "--peer-python",
        default=None,
        help="interpreter with emhass installed (default .venv-peer/bin/python, else this one; 'none': skip)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "peer_emhass.json")
    args = parser.parse_args(argv)
    sizes = _check_options(parser, args)
    day = bundled_day(args.day)
    peer_python = _peer_python(args.peer_python)
    _warm_imports()
    rows = []
    for size in sizes:
        row = run_case(day, size, args, peer_python)
        rows.append(row)
        e, p = row["engine"], row["emhass"]
        line = f"N={size} engine: {e['total_s']:.2f} s, revenue {e['revenue_yuan']:,.2f} yuan"
        if p is not None:
            line += (
                f" | emhass: {p['total_s']:.2f} s ({p['status']}), revenue {p['revenue_yuan']:,.2f} yuan"
                f" | difference {row['revenue_diff_yuan']:+,.2f} yuan"
            )
        print(line, flush=True)
    print_table(rows, args.day)
    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "load_average_at_end": os.getloadavg(),
        "day": args.day,
        "seed": args.seed,
        "max_seconds": args.max_seconds,
        "mip_rel_gap": args.mip_rel_gap,
        "threads": args.threads,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"meta": meta, "results": rows}, indent=2))
    tmp.replace(args.out)
    print(f"wrote {args.out}")
    bad = [
        r
        for r in rows
        if r["size"] == 1 and r.get("emhass") and abs(r["revenue_diff_yuan"]) > REVENUE_TOLERANCE_YUAN
    ]
    if bad:
        print(
            f"REVENUES DISAGREE on the 1-battery day: {bad[0]['revenue_diff_yuan']:+.2f} yuan",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
