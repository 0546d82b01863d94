"""Where ``da_rt``'s money comes from: the physical part and the spread bet, per forecaster.

Run from the project root::

    python -m bench.bench_da_rt [--start 2024-06-01 --end 2024-07-31] [--forecasters blend,ewm,persistence]
                                [--strategies da_only,da_rt] [--variants blend]
                                [--out bench/results/da_rt_split.json]

Revenue per period is ``q_act p_rt + q_da (p_da - p_rt)``: what the assets did at the RT price
(``physical_rt_yuan``, against the physical RT optimum) and the DA position held as a bet on the
DA-RT spread (``spread_bet_yuan``) (:func:`simulator.bounds.physical_bet_split`). The bounds are
replayed once (they do not depend on the forecaster); each strategy is its own replay, as in
``vpp backtest``, so its figures are the backtest's. ``--variants`` also runs, for the named
forecasters, ``da_rt`` with other RT forecasts than its own
(:func:`simulator.rt_forecasts.rt_forecast_spread_profile`: the last spread fading into the
trailing 28-day per-slot mean spread): ``da_rt_decaying``, the last spread fading to zero
(:func:`simulator.rt_forecasts.rt_forecast_decaying_spread`, ``da_rt`` before issue 17's session
6), and ``da_rt_profile_half``, the per-slot mean shrunk by half. CPU s per replay
(``time.process_time``); each forecaster's forecasts are made (and timed) once before its replays.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import replace
from pathlib import Path

from bench.bench_forecasts import holdout_arguments, load_holdout

RESULTS = Path(__file__).resolve().parent / "results" / "da_rt_split.json"


def main(argv: list[str] | None = None) -> dict:
    parser = holdout_arguments(__doc__, "blend,ewm,persistence", RESULTS)
    parser.add_argument("--variants", default="blend", help="forecasters also run with the RT variants")
    args = parser.parse_args(argv)

    from simulator.backtest import BOUND
    from simulator.bounds import PHYSICAL_BOUNDS, at_rt_prices, physical_bet_split
    from simulator.forecasts import DayForecaster
    from simulator.metrics import capture_ratio, settle
    from simulator.passive import passive_revenue
    from simulator.replay import replay
    from simulator.rt_forecasts import rt_forecast_decaying_spread, rt_forecast_spread_profile
    from simulator.strategies import STRATEGIES

    loaded, prices, days = load_holdout(args)
    passive = passive_revenue(loaded, prices, days)

    def revenue(fleet) -> float:
        return float(settle(fleet, loaded)["revenue"].sum())

    def run(strategy, forecaster: DayForecaster):
        cpu = time.process_time()
        rec = replay(loaded, prices, days, [strategy], forecast=forecaster.name, progress=False,
                     day_forecaster=forecaster).records[strategy.name]
        return rec, round(time.process_time() - cpu, 1)

    # the bounds see realised prices only: any forecaster will do for their (unused) forecasts
    cheap = DayForecaster("persistence", prices, loaded.market, "da_price")
    bound_cpu = time.process_time()
    pf_rec, _ = run(STRATEGIES[BOUND], cheap)
    pf = revenue(pf_rec.fleet_frame()) + float(getattr(pf_rec, "bound_gap_yuan", 0.0))  # the proven bound
    da_opt = revenue(run(PHYSICAL_BOUNDS["da_optimum"], cheap)[0].fleet_frame())
    rt_opt = revenue(at_rt_prices(run(PHYSICAL_BOUNDS["rt_optimum"], cheap)[0].fleet_frame()))
    bounds = {"perfect_foresight_bound_yuan": round(pf, 2), "da_optimum_yuan": round(da_opt, 2),
              "rt_optimum_yuan": round(rt_opt, 2), "passive_yuan": round(passive, 2),
              "cpu_s": round(time.process_time() - bound_cpu, 1)}
    print(f"bounds: {bounds}", flush=True)
    print(f"{'forecaster':12s} {'strategy':19s} {'total':>10s} {'physical':>10s} {'bet':>10s} {'/PF':>6s} "
          f"{'phys/RTopt':>10s} {'/DAopt':>6s} {'cpu s':>6s}", flush=True)

    rows: dict[str, dict] = {}
    variants = [n for n in args.variants.split(",") if n]
    for name in [n for n in args.forecasters.split(",") if n]:
        forecaster = DayForecaster(name, prices, loaded.market, "da_price")
        cpu = time.process_time()
        for day in days:
            forecaster.point(day)
        rows[name] = {"forecast_cpu_s": round(time.process_time() - cpu, 1)}
        strategies = [STRATEGIES[s] for s in args.strategies.split(",") if s]
        if name in variants:
            strategies += [
                replace(STRATEGIES["da_rt"], name="da_rt_decaying", rt_price=rt_forecast_decaying_spread),
                replace(STRATEGIES["da_rt"], name="da_rt_profile_half",
                        rt_price=functools.partial(rt_forecast_spread_profile, shrink=0.5)),
            ]
        for strategy in strategies:
            rec, cpu_s = run(strategy, forecaster)
            settlement = settle(rec.fleet_frame(), loaded)
            total = float(settlement["revenue"].sum())
            split = physical_bet_split(settlement, passive)
            row = {
                "total_revenue_yuan": round(total, 2),
                **split,
                "capture_perfect_foresight": capture_ratio(total, pf, passive),
                "capture_da_optimum": capture_ratio(total, da_opt, passive),
                "capture_rt_optimum": capture_ratio(total, rt_opt, passive),
                "physical_capture_rt_optimum": capture_ratio(
                    split["physical_rt_yuan"] + passive, rt_opt, passive
                ),
                "cpu_s": cpu_s,
            }
            rows[name][strategy.name] = row
            print(f"{name:12s} {strategy.name:19s} {total:10.0f} {split['physical_rt_yuan']:10.0f} "
                  f"{split['spread_bet_yuan']:10.0f} {row['capture_perfect_foresight']:6.3f} "
                  f"{row['physical_capture_rt_optimum']:10.3f} {row['capture_da_optimum']:6.3f} {cpu_s:6.1f}",
                  flush=True)
    out = {"start": args.start, "end": args.end, "fleet": args.fleet,
           "prices": args.prices or "bundled Gansu", "bounds": bounds, "forecasters": rows}
    Path(args.out).parent.mkdir(exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
