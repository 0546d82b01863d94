"""Run a backtest end to end and write its files: settlement, per-asset results, summary, report.

Files in the output folder (written atomically, ``vpp.io_utils``):

- ``settlement.csv``: per period ``timestamp, q_da_mwh, q_actual_mwh, p_da, p_rt, da_revenue,
  rt_revenue, contract_revenue, penalty, revenue`` of the FIRST strategy listed;
- ``assets.csv``: per period and asset (first strategy): bid and actual net export (MW) and states;
- ``<strategy>/settlement.csv`` and ``<strategy>/assets.csv`` for each strategy;
- ``summary.json``: the first strategy's totals at top level, ``perfect_foresight_revenue_yuan``,
  ``passive_revenue_yuan`` (no flexibility used, :mod:`simulator.passive`) and ``passive_notes``
  (where that baseline is not physical; empty normally), ``strategies`` (one block each, with
  ``capture_ratio = (revenue - passive) / (perfect_foresight - passive)`` and
  ``value_over_passive_yuan``), ``forecast_errors`` and run statistics;
- ``report.html``: plots and tables (:mod:`simulator.report`);
- ``manifest.json``: this run's id and files; what an earlier run left there is removed
  (:mod:`simulator.run_folder`).

Perfect foresight is always run (it is the capture-ratio bound) even when not listed. The passive
position needs no solve.
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
from optimizer.solver import SolveOptions
from simulator.forecasts import FORECASTS, make_forecast
from simulator.metrics import forecast_errors, settle, strategy_summary
from simulator.passive import baseline_notes, passive_revenue
from simulator.replay import BacktestRun, replay
from simulator.risk import add_risk_figures
from simulator.strategies import STRATEGIES, Strategy, get_strategies
from vpp.io_utils import write_csv_atomic, write_text_atomic
from vpp.portfolio_io import LoadedPortfolio

BOUND = "perfect_foresight"


@dataclass(frozen=True)
class BacktestResult:
    """Everything a backtest produced.

    Attributes
    ----------
    strategies : list of str
        Strategies as listed (the first one is the headline).
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


def run_backtest(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    strategies: list[str],
    *,
    forecast: str = "persistence",
    options: SolveOptions | None = None,
    progress: bool | None = None,
    on_day: Callable[[dt.date], None] | None = None,
) -> BacktestResult:
    """Replay ``days`` for ``strategies`` (plus the perfect-foresight bound), settle and summarise.

    ``on_day`` is called with each day once replayed (:func:`simulator.replay.replay`).
    """
    names, to_run = strategies_to_run(strategies)
    run = replay(loaded, prices, days, to_run, forecast=forecast, options=options, progress=progress,
                 on_day=on_day)
    return summarise(loaded, prices, days, names, run)


def strategies_to_run(strategies: list[str] | str) -> tuple[list[str], list[Strategy]]:
    """The strategy names as listed, and the strategies to replay (the bound first if not listed)."""
    chosen = get_strategies(strategies)
    names = [s.name for s in chosen]
    return names, chosen if BOUND in names else [STRATEGIES[BOUND], *chosen]


def summarise(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: list[dt.date],
    names: list[str],
    run: BacktestRun,
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
        Strategies to report, the headline first; ``run`` must also hold the bound.
    run : BacktestRun
        Replay records (one replay, or merged ones: :func:`simulator.distributed.merge_runs`).
    """
    settlements = {name: settle(rec.fleet_frame(), loaded) for name, rec in run.records.items()}
    bound = float(settlements[BOUND]["revenue"].sum())
    passive = passive_revenue(loaded, prices, days)
    blocks = {name: strategy_summary(settlements[name], bound, passive) for name in names}
    for name in names:
        blocks[name]["realtime_solves"] = run.records[name].solves
    add_risk_figures(blocks, settlements, loaded.market.timezone)  # daily spread, VSS (simulator.risk)
    head = blocks[names[0]]
    fleet = run.records[names[0]].fleet_frame()
    errors = {run.forecast: forecast_errors(fleet["forecast_da"], fleet["p_da"])}
    for other in FORECASTS:  # the other built-in forecasts on the same days, for comparison
        if other != run.forecast:
            values = [
                make_forecast(other, prices, trading_day_index(loaded.market, d), _closure(loaded, d))
                for d in days
            ]
            errors[other] = forecast_errors(np.concatenate(values), fleet["p_da"])
    notes = sorted({n for d in days for n in baseline_notes(loaded, trading_day_index(loaded.market, d))})
    summary = {
        **head,
        "strategy": names[0],
        "perfect_foresight_revenue_yuan": round(bound, 2),
        "passive_revenue_yuan": round(passive, 2),
        "passive_notes": notes,
        "capture_ratio_definition": "(revenue - passive) / (perfect_foresight - passive)",
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
        "forecast_errors_unit": "yuan/MWh; bias = mean(forecast - realised DA)",
        "run": {"seconds": round(run.seconds, 3), "model_builds": run.builds, "solves": run.solves},
    }
    return BacktestResult(strategies=names, run=run, settlements=settlements, summary=summary)


def _closure(loaded: LoadedPortfolio, day: dt.date) -> pd.Timestamp:
    from market.calendar import gate_closure

    return gate_closure(loaded.market, day)


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
    for i, name in enumerate(result.strategies):
        settlement = result.settlements[name]
        assets = result.run.records[name].asset_frame()
        folders = [out / name] + ([out] if i == 0 else [])
        for folder in folders:
            written.append(write_csv_atomic(settlement, folder / "settlement.csv", index=True))
            written.append(write_csv_atomic(assets, folder / "assets.csv"))
    text = json.dumps(result.summary, indent=2, default=_json_default)
    written.append(write_text_atomic(text + "\n", out / "summary.json"))
    written.append(write_report(result, out / "report.html", loaded, lang=lang))
    written.append(finish_run(out, written, before, run_id))
    return written


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    return str(value)
