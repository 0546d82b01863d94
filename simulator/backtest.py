"""Run a backtest end to end and write its files: settlement, per-asset results, summary, report.

Files in the output folder (written atomically, ``vpp.io_utils``):

- ``settlement.csv``: per period ``timestamp, q_da_mwh, q_actual_mwh, p_da, p_rt, da_revenue,
  rt_revenue, contract_revenue, penalty, revenue`` of the HEADLINE strategy (:func:`headline`:
  ``da_rt`` when run, else the first strategy listed that does not see realised prices);
- ``assets.csv``: per period and asset (headline strategy): bid and actual net export (MW) and states;
- ``members.csv``: what each member (asset) earns over the run (headline strategy): ``asset_id``,
  ``energy_mwh`` (net export), ``revenue`` (yuan, whole fen; :mod:`simulator.members`, the rule the
  report's "Revenue by asset" table shows too); the members add up to the fleet's revenue to the fen;
- ``<strategy>/settlement.csv``, ``<strategy>/assets.csv`` and ``<strategy>/members.csv`` for each
  strategy;
- ``summary.json``: the headline strategy's totals at top level (``strategy`` names it),
  ``perfect_foresight_revenue_yuan``, ``bounds`` (physical DA optimum, physical RT optimum, full
  perfect foresight: :mod:`simulator.bounds`) with ``definitions``, ``passive_revenue_yuan`` (no
  flexibility used, :mod:`simulator.passive`) and ``passive_notes`` (where that baseline is not
  physical; empty normally), ``strategies`` (one block each: ``capture_ratio`` against full perfect
  foresight, ``capture_da_optimum``, ``capture_rt_optimum``, ``value_over_passive_yuan`` split into
  ``energy_shifting_yuan`` and ``spread_yuan``, ``yuan_per_mwh``), ``forecast_errors`` and run
  statistics. Perfect foresight is solved exact to a proven gap (its DA bid on the spread revenue
  alone, so that leg's gap is a gap in revenue);
  ``perfect_foresight_gap_yuan`` is how far its true optimum may lie above it (the sum of its
  solves' proven gaps), ``perfect_foresight_bound_yuan`` its revenue plus that gap (a proven upper
  bound), and every ``capture_ratio`` (and ``capture_ratio_at_proven_bound``, the same figure) is
  measured against that proven bound; ``revenue_share`` when the portfolio declares one: the headline
  strategy's result split between the operator and its users (:func:`revenue_share_split`);
- ``report.html``: plots and tables (:mod:`simulator.report`);
- ``manifest.json``: this run's id and files; what an earlier run left there is removed
  (:mod:`simulator.run_folder`).

The bounds are always run, even when not listed. The passive position needs no solve.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import trading_day_index
from market.revenue_share import split_revenue
from optimizer.solver import SolveOptions
from simulator.bounds import BOUND_DEFINITIONS, PHYSICAL_BOUNDS, at_rt_prices, physical_bet_split, value_split
from simulator.day_model import BOUND_MIP_GAP, BOUND_MIP_NODES
from simulator.forecasts import DEFAULT_FORECASTER, DayForecaster
from simulator.members import member_earnings
from simulator.metrics import capture_ratio, forecast_errors, settle, strategy_summary
from simulator.passive import baseline_notes, passive_revenue
from simulator.replay import BacktestRun, merge_runs, replay
from simulator.risk import add_risk_figures
from simulator.strategies import STRATEGIES, Strategy, get_strategies
from vpp.io_utils import write_csv_atomic, write_text_atomic
from vpp.portfolio_io import LoadedPortfolio

BOUND = "perfect_foresight"

CAPTURE_DEFINITION = (
    "(revenue - passive) / (perfect_foresight_bound - passive); perfect_foresight_bound = perfect "
    "foresight's revenue + perfect_foresight_gap_yuan (its MIPs' proven HiGHS dual bounds, or the LP "
    "relaxation's optimum: a proven upper bound; its DA bid is optimised on the spread revenue alone, "
    "so that leg's gap is a gap in revenue; its schedule comes from MIPs stopped at a relative gap of "
    f"{BOUND_MIP_GAP:g} or after {BOUND_MIP_NODES} branch-and-bound nodes, from the LP relaxation "
    "where that is exact, or from the relaxation repaired to one direction per storage period where "
    f"that is within {BOUND_MIP_GAP:g} of the relaxation)"
)
"""``summary.json``'s ``capture_ratio_definition``: what every capture ratio is measured against."""

HEADLINE = "da_rt"
"""The headline strategy of ``summary.json`` and the top-level files when it is run."""

COMPARED_FORECASTS = ("persistence", "weekday", "rolling_mean")
"""Baselines whose DA errors every backtest reports beside the forecaster used (cheap, no fit)."""


@dataclass(frozen=True)
class BacktestResult:
    """Everything a backtest produced.

    Attributes
    ----------
    strategies : list of str
        Strategies as listed.
    run : BacktestRun
        Raw replay records.
    settlements : dict[str, pd.DataFrame]
        Per strategy, the settlement per period.
    summary : dict
        The content of ``summary.json``.
    """

    strategies: list[str]
    run: BacktestRun
    settlements: dict[str, pd.DataFrame]
    summary: dict

    @property
    def headline(self) -> str:
        """The headline strategy (:func:`headline`)."""
        return str(self.summary["strategy"])


def run_backtest(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    strategies: list[str],
    *,
    forecast: str = DEFAULT_FORECASTER,
    options: SolveOptions | None = None,
    progress: bool | None = None,
    on_day: Callable[[dt.date], None] | None = None,
    features: pd.DataFrame | None = None,
    skip_resolves: bool = False,
) -> BacktestResult:
    """Replay ``days`` for ``strategies`` (plus the bounds), settle and summarise.

    ``on_day`` is called with each day once replayed for every strategy; ``skip_resolves`` follows
    the last real-time plan while it is still optimal (both: :func:`simulator.replay.replay`).
    """
    names, to_run = strategies_to_run(strategies)
    # One replay (one model) per strategy, as the distributed run does: a strategy's solves, and so
    # its schedule among equal optima, never depend on which other strategies ran beside it. A day
    # is replayed for every strategy when the last replay has done it: that one calls ``on_day``.
    forecaster = DayForecaster(forecast, prices, loaded.market, "da_price", features)  # shared, memoised
    runs = [
        replay(loaded, prices, days, [strategy], forecast=forecast, options=options, progress=progress,
               features=features, day_forecaster=forecaster, skip_resolves=skip_resolves,
               on_day=on_day if i == len(to_run) - 1 else None)
        for i, strategy in enumerate(to_run)
    ]
    return summarise(loaded, prices, days, names, merge_runs(runs), features=features)


def strategies_to_run(strategies: list[str] | str) -> tuple[list[str], list[Strategy]]:
    """The strategy names as listed, and the strategies to replay (the bounds first if not listed)."""
    chosen = get_strategies(strategies)
    names = [s.name for s in chosen]
    bounds = [STRATEGIES[BOUND]] if BOUND not in names else []
    return names, [*bounds, *PHYSICAL_BOUNDS.values(), *chosen]


def headline(names: list[str]) -> str:
    """``da_rt`` when listed, else the first strategy that does not see realised prices, else the first."""
    if HEADLINE in names:
        return HEADLINE
    tradable = [n for n in names if not STRATEGIES[n].look_ahead]
    return (tradable or names)[0]


def summarise(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    names: list[str],
    run: BacktestRun,
    *,
    features: pd.DataFrame | None = None,
) -> BacktestResult:
    """Settle the replayed records of ``run`` and build the summary (``summary.json``).

    Parameters
    ----------
    loaded : LoadedPortfolio
        The portfolio.
    prices : pd.DataFrame
        Realised prices (yuan/MWh).
    days : list of datetime.date
        The replayed days.
    names : list of str
        Strategies to report; ``run`` must also hold the bounds.
    run : BacktestRun
        Replay records (one replay, or merged ones: :func:`simulator.distributed.merge_runs`).
    features : pd.DataFrame, optional
        The feature file the forecaster used (for the compared forecasts).
    """
    settlements = {
        name: settle(rec.fleet_frame(), loaded)
        for name, rec in run.records.items()
        if name not in PHYSICAL_BOUNDS
    }
    bound = float(settlements[BOUND]["revenue"].sum())
    da_opt = float(settle(run.records["da_optimum"].fleet_frame(), loaded)["revenue"].sum())
    rt_opt = float(settle(at_rt_prices(run.records["rt_optimum"].fleet_frame()), loaded)["revenue"].sum())
    passive = passive_revenue(loaded, prices, days)
    bound_gap = run.records[BOUND].bound_gap_yuan
    # every capture ratio against the PROVEN bound: perfect foresight's MIPs stop at a relative gap
    proven_bound = bound + bound_gap
    blocks = {name: strategy_summary(settlements[name], proven_bound, passive) for name in names}
    for name in names:
        block = blocks[name]
        total = block["total_revenue_yuan"]
        block["capture_da_optimum"] = capture_ratio(total, da_opt, passive)
        block["capture_rt_optimum"] = capture_ratio(total, rt_opt, passive)
        block.update(value_split(settlements[name], passive))
        block.update(physical_bet_split(settlements[name], passive))
        block["realtime_solves"] = run.records[name].solves
        # solves not proven optimal (repaired after the time limit, or a MIP stopped at it): its
        # revenue is a feasible schedule's, perfect foresight's bound still a proven one
        block["solves_not_proven_optimal"] = run.records[name].not_proven_optimal
        block["solves_repaired"] = run.records[name].repaired
        # beside every capture ratio: its value at the proven bound (perfect foresight + its gap)
        block["capture_ratio_at_proven_bound"] = capture_ratio(total, proven_bound, passive)
        block["perfect_foresight_gap_yuan"] = round(bound_gap, 4)
    add_risk_figures(blocks, settlements, loaded.market.timezone)  # daily spread, VSS (simulator.risk)
    first = headline(names)
    head = blocks[first]
    fleet = run.records[first].fleet_frame()
    errors = {run.forecast: forecast_errors(fleet["forecast_da"], fleet["p_da"])}
    for other in COMPARED_FORECASTS:  # baselines on the same days, for comparison
        if other != run.forecast:
            forecaster = DayForecaster(other, prices, loaded.market, features=features)
            values = [forecaster.point(d) for d in days]
            errors[other] = forecast_errors(np.concatenate(values), fleet["p_da"])
    notes = sorted({n for d in days for n in baseline_notes(loaded, trading_day_index(loaded.market, d))})
    summary = {
        **head,
        "strategy": first,
        "perfect_foresight_revenue_yuan": round(bound, 2),
        "bounds": {
            "da_optimum_revenue_yuan": round(da_opt, 2),
            "rt_optimum_revenue_yuan": round(rt_opt, 2),
            "perfect_foresight_revenue_yuan": round(bound, 2),
            "passive_revenue_yuan": round(passive, 2),
            "definitions": BOUND_DEFINITIONS,
        },
        "perfect_foresight_gap_yuan": round(bound_gap, 4),
        "perfect_foresight_bound_yuan": round(proven_bound, 2),
        "passive_revenue_yuan": round(passive, 2),
        "passive_notes": notes,
        "capture_ratio_definition": CAPTURE_DEFINITION,
        "days": len(days),
        "periods": len(fleet),
        "first_day": str(days[0]),
        "last_day": str(days[-1]),
        "portfolio": loaded.portfolio.name,
        "market": loaded.market.name,
        "currency": loaded.market.currency,
        "money_unit": loaded.market.money_unit,
        "forecast": run.forecast,
        "strategies": blocks,
        "forecast_errors": errors,
        "forecast_errors_unit": f"{loaded.market.price_unit}; bias = mean(forecast - realised DA)",
        "run": {"seconds": round(run.seconds, 3), "model_builds": run.builds, "solves": run.solves},
    }
    split = revenue_share_split(settlements[first], loaded)
    if split is not None:
        summary["revenue_share"] = split
    return BacktestResult(strategies=names, run=run, settlements=settlements, summary=summary)


def revenue_share_split(settlement: pd.DataFrame, loaded: LoadedPortfolio) -> dict[str, float | int] | None:
    """The operator/user split of a strategy's settlement (MARKET_RULES 4.3), or None when the
    portfolio declares no ``revenue_share``.

    The users' consumption is the fleet's metered import, ``max(-q_actual_mwh[t], 0)`` (MWh): what
    the operator buys for them on the wholesale market and bills at the retail price
    (:func:`market.revenue_share.split_revenue`; money in yuan, whole fen).
    """
    if "revenue_share" not in loaded.portfolio.model_fields_set:
        return None
    consumption = (-settlement["q_actual_mwh"]).clip(lower=0.0)
    split = split_revenue(settlement, loaded.portfolio.revenue_share, consumption, tz=loaded.market.timezone)
    return split.as_dict()


def write_backtest(
    result: BacktestResult, out: Path, loaded: LoadedPortfolio, *, lang: str = "en"
) -> list[Path]:
    """Write the backtest's files into ``out`` (atomically each) and return their paths.

    The folder then holds this run only: files an earlier run wrote and this one did not (another
    strategy's folder) are deleted, and ``manifest.json`` lists this run's files
    (:mod:`simulator.run_folder`). ``lang`` ("en" or "zh") is the language the report opens in.
    """
    from simulator.report import write_report
    from simulator.run_folder import finish_run, new_run_id, previous_outputs

    out = Path(out)
    before = previous_outputs(out)
    run_id = new_run_id()
    written: list[Path] = []
    for name in result.strategies:
        settlement = result.settlements[name]
        assets = result.run.records[name].asset_frame()
        members = member_earnings(settlement, result.run.records[name].fleet_frame(), assets)
        folders = [out / name] + ([out] if name == result.headline else [])
        for folder in folders:
            written.append(write_csv_atomic(settlement, folder / "settlement.csv", index=True))
            written.append(write_csv_atomic(assets, folder / "assets.csv"))
            written.append(write_csv_atomic(members, folder / "members.csv"))
    text = json.dumps(result.summary, indent=2, default=_json_default)
    written.append(write_text_atomic(text + "\n", out / "summary.json"))
    written.append(write_report(result, out / "report.html", loaded, lang=lang))
    written.append(finish_run(out, written, before, run_id))
    return written


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
