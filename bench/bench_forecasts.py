"""Issue 17 targets: what each forecaster earns on the holdout, bid by ``da_only`` and ``da_rt``.

Run from the project root::

    python -m bench.bench_forecasts [--start 2024-06-01 --end 2024-07-31] [--forecasters a,b]
                                    [--strategies da_only,da_rt] [--out bench/results/forecasts.json]
                                    [--prices FILE --fleet FILE]

Holdout: the bundled Gansu prices 2024-06-01..07-31 (``vpp/examples/data``), the fleet
``bench/data/fleet_three_batteries.yaml`` (three batteries of 1, 4 and 14 MWh, 6.5 MW behind a
5 MW connection). Every day is forecast from what was known at its own gate closure (the
forecasters fit only on what precedes each day). Per forecaster: MAE/RMSE of the DA forecast,
``da_only`` capture of the physical DA optimum, ``da_rt`` capture of full perfect foresight and of
the physical RT optimum, the backtest wall time (CPU time beside it: the machine may be shared).
Results go to ``bench/results/forecasts.json``. ``--prices``/``--fleet`` measure the same table on
another market or window (e.g. ``bench/data/de_lu_2023-01_06_hourly.csv`` with
``bench/data/fleet_three_batteries_de.yaml``: DA prices only, so DA = RT and only ``da_only`` means
anything).

Default-forecaster rule (issue 17 item 6): the forecaster with the highest ``da_only`` capture of
the physical DA optimum on this holdout; within 0.005 of the best, the faster one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

FLEET = Path(__file__).resolve().parent / "data" / "fleet_three_batteries.yaml"
RESULTS = Path(__file__).resolve().parent / "results" / "forecasts.json"


def main(argv: list[str] | None = None) -> dict:
    args = holdout_arguments(__doc__, "", RESULTS).parse_args(argv)

    from market.forecasting.run import FORECASTERS
    from simulator.backtest import run_backtest

    loaded, prices, days = load_holdout(args)
    names = [n for n in args.forecasters.split(",") if n] or list(FORECASTERS)
    strategies = args.strategies.split(",")
    rows, bounds = {}, {}
    header = (f"{'forecaster':13s} {'MAE':>6s} {'RMSE':>6s} {'da_only/DAopt':>13s} {'da_rt/PF':>9s} "
              f"{'da_rt/RTopt':>11s} {'wall s':>7s} {'cpu s':>6s}")
    print(header, flush=True)
    for name in names:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_backtest(loaded, prices, days, strategies, forecast=name, progress=False)
        summary = result.summary
        blocks = summary["strategies"]
        row = {
            **{k: round(v, 2) for k, v in summary["forecast_errors"][name].items()},
            "da_only_capture_da_optimum": blocks.get("da_only", {}).get("capture_da_optimum"),
            "da_rt_capture_perfect_foresight": blocks.get("da_rt", {}).get("capture_ratio"),
            "da_rt_capture_rt_optimum": blocks.get("da_rt", {}).get("capture_rt_optimum"),
            # revenue = what the assets did at RT prices + the DA position's bet on the spread
            "da_rt_physical_rt_yuan": blocks.get("da_rt", {}).get("physical_rt_yuan"),
            "da_rt_spread_bet_yuan": blocks.get("da_rt", {}).get("spread_bet_yuan"),
            "wall_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(time.process_time() - cpu, 1),
        }
        rows[name] = row
        bounds = {k: v for k, v in summary["bounds"].items() if k != "definitions"}
        print(f"{name:13s} {row['mae']:6.1f} {row['rmse']:6.1f} {_r(row['da_only_capture_da_optimum']):>13s} "
              f"{_r(row['da_rt_capture_perfect_foresight']):>9s} {_r(row['da_rt_capture_rt_optimum']):>11s} "
              f"{row['wall_s']:7.1f} {row['cpu_s']:6.1f}", flush=True)
    default = choose_default(rows)
    print(f"bounds (yuan): {bounds}\ndefault by the rule: {default}")
    out = {"start": args.start, "end": args.end, "fleet": args.fleet,
           "prices": args.prices or "bundled Gansu",
           "bounds": bounds, "forecasters": rows, "default_by_rule": default}
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    return out


def holdout_arguments(doc: str, forecasters: str, out: Path) -> argparse.ArgumentParser:
    """The options of the holdout benchmarks: window, forecasters, strategies, output, prices, fleet."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--start", default="2024-06-01")
    parser.add_argument("--end", default="2024-07-31")
    parser.add_argument("--forecasters", default=forecasters)
    parser.add_argument("--strategies", default="da_only,da_rt")
    parser.add_argument("--out", default=str(out))
    parser.add_argument("--prices", default="", help="price file (default: the bundled Gansu prices)")
    parser.add_argument("--fleet", default=str(FLEET))
    return parser


def load_holdout(args: argparse.Namespace) -> tuple:
    """``(loaded portfolio, prices, days)`` of the options of :func:`holdout_arguments`."""
    from market.prices import read_prices
    from vpp.examples_paths import DEFAULT_PRICES
    from vpp.portfolio_io import load_portfolio

    loaded = load_portfolio(Path(args.fleet))
    prices = read_prices(Path(args.prices) if args.prices else DEFAULT_PRICES, loaded.market)
    first, last = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return loaded, prices, days


def choose_default(rows: dict[str, dict]) -> str | None:
    """Highest ``da_only`` capture of the DA optimum; within 0.005 of the best, the fastest."""
    scored = {n: r["da_only_capture_da_optimum"] for n, r in rows.items()}
    scored = {n: v for n, v in scored.items() if v is not None}
    if not scored:
        return None
    best = max(scored.values())
    close = [n for n, v in scored.items() if v >= best - 0.005]
    return min(close, key=lambda n: rows[n]["cpu_s"])


def _r(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    main()
