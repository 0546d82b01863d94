"""Benchmark: a one-year ``da_rt`` backtest (365 days x 96 periods) of a 100-asset portfolio.

The bundled prices cover 213 days, so they are tiled to a year. Every real-time step re-solves the
persistent model (periods before ``k`` pinned by ``ModelSolver.carry_out``: no rebuild per
period). Prints per-day and total time, solves per second, the time split (inside HiGHS ``run``
against Pyomo/Python overhead), the da_rt revenue (so that options that change the dispatch show
what they cost), and the raw-highspy floor: the same re-solve sequence of one day (same prices,
same pinned past) on a compiled HiGHS model with no Pyomo at all.

Usage::

    python bench/bench_backtest.py [--days 365] [--time-cap 600] [--tolerance 0] [--warm-start]
        [--presolve off] [--simplex-strategy 4] [--threads 1] [--aggregate]

``--time-cap`` (s) stops the replay after the chunk that crosses it and extrapolates to all days.
``--tolerance`` (yuan/MWh) re-solves only when the remaining RT forecast moved more than that.
``--aggregate`` also times price-only re-solves of the day model with similar assets aggregated
(:func:`optimizer.aggregation.aggregate`) against the full model (an estimate: the replay itself cannot
use aggregated models yet, see ``bench/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import period_hours, trading_day_index
from market.prices import read_prices
from optimizer.highs_bridge import compile_to_highs
from optimizer.persistent import PeriodPins
from optimizer.solver import ModelSolver, SolveOptions
from simulator.day_ahead import day_problem
from simulator.day_model import DayModels
from simulator.metrics import settle
from simulator.replay import replay
from simulator.rt_forecasts import rt_forecast_decaying_spread
from simulator.strategies import RtView, get_strategies
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import LoadedPortfolio, load_portfolio

START = dt.date(2024, 1, 1)


def portfolio_yaml(n_batteries: int = 60, n_pv: int = 20, n_loads: int = 20) -> str:
    """A 100-asset portfolio: batteries of varied sizes, PV units and fixed loads (constant profiles)."""
    rng = np.random.default_rng(1)
    grid = "grid: {import_limit_mw: 80, export_limit_mw: 80}"
    lines = ["name: bench100", "market: shanxi", grid, "assets:"]
    for i in range(n_batteries):
        power = round(float(rng.uniform(0.2, 1.5)), 2)
        energy = round(power * float(rng.choice([1.0, 2.0, 4.0])), 2)
        lines.append(
            f"  - {{id: b{i}, type: battery, power_mw: {power}, energy_mwh: {energy}, "
            f"soc_initial_mwh: {energy / 2}, degradation_cost: {round(float(rng.uniform(0, 20)), 1)}}}"
        )
    pv_shape = np.clip(np.sin((np.arange(96) / 4 - 6) / 12 * np.pi), 0, None)
    for i in range(n_pv):
        shape = np.round(pv_shape, 3).tolist()
        lines.append(f"  - {{id: pv{i}, type: pv, capacity_mw: 1.0, profile: {shape}}}")
    for i in range(n_loads):
        scale = round(float(rng.uniform(0.5, 2)), 2)
        lines.append(f"  - {{id: l{i}, type: load, profile: 0.3, scale_mw: {scale}}}")
    return "\n".join(lines) + "\n"


def bench_portfolio() -> LoadedPortfolio:
    """The 100-asset benchmark portfolio, loaded."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench100.yaml"
        path.write_text(portfolio_yaml(), encoding="utf-8")
        return load_portfolio(path)


def tiled_prices(days: int, market) -> pd.DataFrame:
    """The bundled prices repeated to cover ``days`` days from 2024-01-01 (plus 14 days of history)."""
    base = read_prices(DEFAULT_PRICES, market)[["da_price", "rt_price"]]
    first = START - dt.timedelta(days=14)
    index = pd.date_range(trading_day_index(market, first)[0], periods=(days + 14) * 96, freq="15min")
    values = np.resize(base.to_numpy(), (len(index), 2))
    frame = pd.DataFrame(values, index=index.rename("timestamp"), columns=["da_price", "rt_price"])
    frame.index.freq = "15min"
    return frame


def raw_floor_day(
    loaded: LoadedPortfolio, prices: pd.DataFrame, day: dt.date, options: SolveOptions
) -> float:
    """Seconds for one day's 96 da_rt re-solves in raw highspy (same prices, same pinned past).

    The day model is compiled once to a highspy model (``compile_to_highs``); each step changes
    the price columns' costs, pins the period just carried out and runs HiGHS: the floor for
    what the persistent Pyomo route does per step.
    """
    models = DayModels(loaded, options)
    solver = models.use_day(day)
    index = trading_day_index(loaded.market, day)
    dt_h = period_hours(index, loaded.market)
    realised = prices.loc[index]
    p_da, p_rt = realised["da_price"].to_numpy(), realised["rt_price"].to_numpy()
    solver.set_prices(p_da, allow_relaxed=True)
    solver.restart(0, {})
    highs, column_of = compile_to_highs(solver.model)
    highs.setOptionValue("output_flag", False)
    for name, value in options.highs_options:
        highs.setOptionValue(name, value)
    cols = np.array([column_of[id(solver.model.net_mw[t])] for t in range(len(index))], dtype=np.int32)
    pins = PeriodPins(highs, solver.model, column_of)
    start = time.perf_counter()
    for k in range(len(index)):
        price = rt_forecast_decaying_spread(RtView(index, dt_h, k, p_da, p_rt[:k]))
        highs.changeColsCost(cols.size, cols, -price * dt_h)  # the compiled model minimises -revenue
        if not options.warm_start:
            highs.clearSolver()
        highs.run()
        pins.pin(k, np.asarray(highs.getSolution().col_value))
    return time.perf_counter() - start


def aggregate_estimate(loaded: LoadedPortfolio, prices: pd.DataFrame, day: dt.date, n: int = 20) -> dict:
    """Mean seconds per price-only persistent re-solve: full day model against the aggregated one."""
    from optimizer.aggregation import aggregate

    index = trading_day_index(loaded.market, day)
    p_da = prices.loc[index, "da_price"].to_numpy()
    problem = day_problem(loaded, day, p_da)
    out = {"assets_full": len(problem.asset_ids)}
    rng = np.random.default_rng(0)
    for name, prob in (("full", problem), ("aggregated", aggregate(problem).problem)):
        solver = ModelSolver(prob, SolveOptions(explain_infeasible=False))
        solver.solve()
        start = time.perf_counter()
        for _ in range(n):
            solver.set_prices(p_da + rng.normal(0, 20, size=len(p_da)).clip(-p_da))
            solver.solve_arrays()
        out[f"s_per_solve_{name}"] = (time.perf_counter() - start) / n
        out[f"assets_{name}"] = len(prob.asset_ids)
    return out


def aggregated_replay(
    loaded: LoadedPortfolio, prices: pd.DataFrame, days: list[dt.date], options: SolveOptions,
    tolerance: float,
) -> dict:
    """The da_rt loop on the AGGREGATED day model (:func:`optimizer.aggregation.aggregate`), measured.

    Per day: aggregate the day problem (similar batteries -> virtual batteries, PV and loads
    summed), build it (small), solve the DA bid on the persistence forecast, then re-solve periods
    ``k..T-1`` on the da_rt RT forecast at every period (pinning the past, as the replay does).
    The batteries' state is carried pro rata to energy (``s_i = E_i / E``, the split
    :mod:`optimizer.families.virtual_battery` proves feasible). Returns timings, solves and the
    settled revenue.
    """
    from optimizer.aggregation import aggregate
    from simulator.forecasts import make_forecast

    state: dict = {}
    fleets, solves, highs_s, build_s = [], 0, 0.0, 0.0
    start = time.perf_counter()
    for day in days:
        index = trading_day_index(loaded.market, day)
        dt_h = period_hours(index, loaded.market)
        p_da, p_rt = prices.loc[index, "da_price"].to_numpy(), prices.loc[index, "rt_price"].to_numpy()
        forecast = make_forecast("persistence", prices, loaded.market, day)
        t0 = time.perf_counter()
        agg = aggregate(day_problem(loaded, day, forecast, initial_state=state))
        solver = ModelSolver(agg.problem, options)
        solver.scan_params = False  # every change is reported (set_prices); keeps the pins
        build_s += time.perf_counter() - t0
        bid = solver.solve_arrays()
        solves, highs_s = solves + 1, highs_s + bid.stats.solve_seconds
        actual, current, solved = np.zeros(len(index)), None, None
        for k in range(len(index)):
            price = rt_forecast_decaying_spread(RtView(index, dt_h, k, p_da, p_rt[:k]))
            if current is None or np.max(np.abs(price[k:] - solved[k:])) > tolerance:
                solver.set_prices(price, allow_relaxed=True)
                current, solved = solver.solve_arrays(), price
                solves, highs_s = solves + 1, highs_s + current.stats.solve_seconds
            actual[k] = current.net_mw[k]
            solver.carry_out(k)
        state = _member_state(agg, current)
        fleets.append(pd.DataFrame({"bid_mw": bid.net_mw.round(6), "actual_mw": actual, "dt_h": dt_h,
                                    "p_da": p_da, "p_rt": p_rt}, index=index))
    total = time.perf_counter() - start
    revenue = float(settle(pd.concat(fleets), loaded)["revenue"].sum())
    return {"seconds": total, "solves": solves, "highs_seconds": highs_s, "build_seconds": build_s,
            "revenue": revenue, "assets": len(agg.problem.asset_ids)}


def _member_state(agg, result) -> dict:
    """End-of-day battery state of the members, pro rata to energy within each virtual battery."""
    full = agg.original.families["battery"]
    energy = dict(zip(full.ids, full.energy_mwh.tolist(), strict=True))
    bounds = {a: (lo, hi) for a, lo, hi in zip(full.ids, full.soc_min_mwh, full.soc_max_mwh, strict=True)}
    state = {}
    for vid, members in agg.members.items():
        soc = result.value("virtual_battery.soc_mwh", vid, len(result.index) - 1)
        if soc is None:
            continue
        total = sum(energy[m] for m in members)
        for m in members:
            state[m] = {"soc_mwh": float(np.clip(soc * energy[m] / total, *bounds[m]))}
    return state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--time-cap", type=float, default=600.0, help="stop after this many seconds")
    parser.add_argument("--tolerance", type=float, default=0.0, help="re-solve tolerance (yuan/MWh)")
    parser.add_argument("--chunk", type=int, default=15, help="days per replay (one model build each)")
    parser.add_argument("--warm-start", action="store_true", help="re-solve from the previous basis")
    parser.add_argument("--presolve", choices=["on", "off", "choose"], default=None)
    parser.add_argument("--simplex-strategy", type=int, default=None, help="HiGHS simplex_strategy")
    parser.add_argument("--threads", type=int, default=None, help="HiGHS threads (fresh process only)")
    parser.add_argument("--aggregate", action="store_true", help="time aggregated re-solves as well")
    parser.add_argument("--floor-days", type=int, default=2, help="days of the raw-highspy floor")
    parser.add_argument("--skip-resolves", action="store_true",
                        help="follow the last plan while its basis stays optimal (optimizer/basis_check.py)")
    parser.add_argument("--aggregated-replay", action="store_true",
                        help="run the da_rt loop on the aggregated model instead (bench-only loop)")
    args = parser.parse_args(argv)
    extra: list[tuple[str, object]] = []
    if args.presolve:
        extra.append(("presolve", args.presolve))
    if args.simplex_strategy is not None:
        extra += [("solver", "simplex"), ("simplex_strategy", args.simplex_strategy)]
    options = SolveOptions(explain_infeasible=False, warm_start=args.warm_start, threads=args.threads,
                           highs_options=tuple(extra))
    loaded = bench_portfolio()
    prices = tiled_prices(args.days, loaded.market)
    days = [START + dt.timedelta(days=i) for i in range(args.days)]
    strategy = get_strategies("da_rt")
    print(f"portfolio: {len(loaded.portfolio.assets)} assets; {args.days} days; tolerance {args.tolerance}; "
          f"warm_start {args.warm_start}; threads {args.threads}; highs options {dict(extra)}")
    if args.aggregated_replay:
        res = aggregated_replay(loaded, prices, days, options, args.tolerance)
        print(f"AGGREGATED ({res['assets']} virtual assets): {len(days)} days in {res['seconds']:.1f} s, "
              f"{res['seconds'] / len(days):.3f} s/day, {res['solves']} solves, "
              f"{res['solves'] / res['seconds']:.1f} solves/s; HiGHS {res['highs_seconds']:.1f} s, "
              f"model builds {res['build_seconds']:.1f} s, other overhead "
              f"{res['seconds'] - res['highs_seconds'] - res['build_seconds']:.1f} s; "
              f"da_rt revenue {res['revenue']:,.2f} yuan")
        return
    done, solves, skips, builds, highs_s, fleets = 0, 0, 0, 0, 0.0, []
    state: dict = {}
    start, cpu = time.perf_counter(), time.process_time()
    while done < len(days) and time.perf_counter() - start < args.time_cap:
        part = days[done : done + args.chunk]
        t0 = time.perf_counter()
        run = replay(loaded, prices, part, strategy, options=options, progress=False, initial_state=state,
                     resolve_tolerance_yuan_per_mwh=args.tolerance, skip_resolves=args.skip_resolves)
        state = run.states["da_rt"].actual
        skips += run.skips
        solves, builds, highs_s = solves + run.solves, builds + run.builds, highs_s + run.highs_seconds
        fleets.append(run.records["da_rt"].fleet_frame())
        done += len(part)
        elapsed = time.perf_counter() - t0
        print(f"  days {done:3d}/{len(days)}: {elapsed / len(part):.2f} s/day, "
              f"{run.solves / len(part):.0f} solves/day, HiGHS {run.highs_seconds / elapsed:.0%}", flush=True)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    per = total / done
    revenue = float(settle(pd.concat(fleets), loaded)["revenue"].sum())
    print(f"simulated {done} days in {total:.1f} s: {per:.2f} s/day, {solves} solves, "
          f"{solves / total:.1f} solves/s, {builds} model builds, {skips} re-solves skipped")
    print(f"CPU {cpu:.1f} s: {cpu / done:.2f} s/day, "
          f"{cpu / done * len(days):.0f} s extrapolated to {len(days)} days")
    print(f"time split: HiGHS run {highs_s:.1f} s ({highs_s / total:.0%}), "
          f"Pyomo/Python overhead {total - highs_s:.1f} s ({1 - highs_s / total:.0%}); "
          f"{1000 * highs_s / solves:.1f} ms HiGHS + {1000 * (total - highs_s) / solves:.1f} ms overhead "
          "per solve")
    print(f"da_rt revenue over {done} days: {revenue:,.2f} yuan")
    print(f"extrapolated to {len(days)} days: {per * len(days):.0f} s")
    if args.floor_days > 0:
        floor = [raw_floor_day(loaded, prices, d, options) for d in days[: args.floor_days]]
        floor_day = float(np.mean(floor))
        print(f"raw highspy floor, same 96 re-solves/day (pinned past, no Pyomo): {floor_day:.2f} s/day, "
              f"{1000 * floor_day / 96:.1f} ms/solve; {len(days)} days = {floor_day * len(days):.0f} s")
    if args.aggregate:
        est = aggregate_estimate(loaded, prices, days[0])
        ratio = est["s_per_solve_aggregated"] / est["s_per_solve_full"]
        print(f"aggregation: {est['assets_full']} -> {est['assets_aggregated']} assets; price-only re-solve "
              f"{1000 * est['s_per_solve_full']:.1f} -> {1000 * est['s_per_solve_aggregated']:.1f} ms "
              f"({ratio:.2f}x); applied to this run: about {per * len(days) * ratio:.0f} s "
              f"for {len(days)} days")


if __name__ == "__main__":
    main()
