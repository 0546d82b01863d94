"""Issue 17 item 6: a two-month backtest, timed (CPU and wall seconds), with what it earned.

Run from the project root::

    python -m bench.bench_two_month [--fleet FILE] [--strategies da_only] [--forecast ewm]
                                    [--start 2024-06-01 --end 2024-07-31]
                                    [--out bench/results/two_month.json]

Default: the issue 17 holdout (bundled Gansu prices 2024-06-01..07-31, the three-battery fleet
``bench/data/fleet_three_batteries.yaml``), ``da_only`` plus the bounds every backtest runs
(perfect foresight, physical DA and RT optima). ``--fleet bundled`` uses the bundled portfolio
(``make demo``'s). Replays each strategy as ``vpp backtest`` does (one model each), then
settles them together. Prints CPU seconds of this process (``time.process_time``: HiGHS's threads
included; on a shared machine read these, wall time is load) per strategy, the model builds,
solves and HiGHS time, and the settlement totals, so a faster run can be checked for the same
results. A benchmark, not a timed test: the figures go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

FLEET = Path(__file__).resolve().parent / "data" / "fleet_three_batteries.yaml"
RESULTS = Path(__file__).resolve().parent / "results" / "two_month.json"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default=str(FLEET), help="portfolio file, or 'bundled'")
    parser.add_argument("--strategies", default="da_only")
    parser.add_argument("--forecast", default="", help="forecaster (default: the backtest's default)")
    parser.add_argument("--start", default="2024-06-01")
    parser.add_argument("--end", default="2024-07-31")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    from market.prices import read_prices
    from simulator.backtest import strategies_to_run, summarise
    from simulator.forecasts import DEFAULT_FORECASTER, DayForecaster
    from simulator.replay import merge_runs, replay
    from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
    from vpp.portfolio_io import load_portfolio

    loaded = load_portfolio(DEFAULT_PORTFOLIO if args.fleet == "bundled" else Path(args.fleet))
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    forecast = args.forecast or DEFAULT_FORECASTER
    setup_cpu = time.process_time() - cpu0

    per_strategy, runs = {}, []
    names, to_run = strategies_to_run(args.strategies)
    forecaster = DayForecaster(forecast, prices, loaded.market, "da_price")
    for strategy in to_run:  # one replay per strategy, as run_backtest does, each timed
        cpu, wall = time.process_time(), time.perf_counter()
        run = replay(loaded, prices, days, [strategy], forecast=forecast, progress=False,
                     day_forecaster=forecaster)
        runs.append(run)
        per_strategy[strategy.name] = {
            "cpu_s": round(time.process_time() - cpu, 2),
            "wall_s": round(time.perf_counter() - wall, 2),
            "solves": run.solves,
            "builds": run.builds,
            "highs_wall_s": round(run.highs_seconds, 2),
        }
        print(f"{strategy.name:18s} cpu {per_strategy[strategy.name]['cpu_s']:7.2f} s  "
              f"wall {per_strategy[strategy.name]['wall_s']:7.2f} s  solves {run.solves}", flush=True)

    summary = summarise(loaded, prices, days, names, merge_runs(runs)).summary
    whole = {"cpu_s": round(time.process_time() - cpu0, 2), "wall_s": round(time.perf_counter() - wall0, 2)}
    out = {
        "fleet": args.fleet,
        "start": args.start,
        "end": args.end,
        "days": len(days),
        "strategies": args.strategies,
        "forecast": forecast,
        "setup_cpu_s": round(setup_cpu, 2),
        "whole": whole,
        "per_strategy": per_strategy,
        "revenue_yuan": {n: b["total_revenue_yuan"] for n, b in summary["strategies"].items()},
        "capture_ratio": {n: b["capture_ratio"] for n, b in summary["strategies"].items()},
        "perfect_foresight_revenue_yuan": summary["perfect_foresight_revenue_yuan"],
        "perfect_foresight_gap_yuan": summary["perfect_foresight_gap_yuan"],
        "perfect_foresight_bound_yuan": summary.get("perfect_foresight_bound_yuan"),
        "bounds": {k: v for k, v in summary["bounds"].items() if k != "definitions"},
    }
    print(f"whole (imports, replays, settlement): cpu {whole['cpu_s']} s, wall {whole['wall_s']} s")
    print(json.dumps({k: out[k] for k in ("revenue_yuan", "capture_ratio", "perfect_foresight_revenue_yuan",
                                          "perfect_foresight_gap_yuan", "perfect_foresight_bound_yuan")}))
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
