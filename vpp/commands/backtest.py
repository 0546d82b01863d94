"""``vpp backtest``: replay historical prices day by day for one or more strategies and settle them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from market.forecasting import DEFAULT_FORECASTER
from vpp.console import fit_table, handles_errors, money_cell, print_warning, ratio_cell, stdout
from vpp.errors import InputError
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.price_input import PricesLabelOption, PricesTzOption

DEFAULT_START = "2024-04-08"
"""First default day: a Monday with two weeks of bundled price history before it."""

DEFAULT_END = "2024-04-21"
"""Last default day (14 days)."""

@handles_errors
def backtest_command(
    portfolio: Annotated[
        Path, typer.Option(help="Portfolio file (YAML or JSON).", show_default="bundled example")
    ] = DEFAULT_PORTFOLIO,
    prices: Annotated[
        Path, typer.Option(help="Realised prices (CSV or Parquet, CONVENTIONS format).",
                           show_default="bundled real prices")
    ] = DEFAULT_PRICES,
    start: Annotated[str, typer.Option(help="First trading day YYYY-MM-DD.")] = DEFAULT_START,
    end: Annotated[str, typer.Option(help="Last trading day YYYY-MM-DD (included).")] = DEFAULT_END,
    strategy: Annotated[
        str, typer.Option(help="Comma-separated strategies; the headline is da_rt when listed, else "
                               "the first that does not see realised prices.")
    ] = "perfect_foresight,da_rt,da_only,rule_based",
    forecast: Annotated[
        str, typer.Option(help="DA price forecaster (`vpp forecast list`: blend, ewm, persistence, "
                               "weekday, rolling_mean, ridge, lear, lgbm, lgbm_rank) or file:PATH.")
    ] = DEFAULT_FORECASTER,
    features: Annotated[
        Path | None, typer.Option(help="Separate feature file for the forecaster (timestamp + numeric "
                                       "columns, each known before its day's gate closure).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/backtest"),
    time_limit: Annotated[float, typer.Option(help="HiGHS time limit per solve (s).")] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar or summary table.")] = False,
    lang: Annotated[
        str, typer.Option("--lang", help="Language report.html opens in: en or zh (it has a switch).")
    ] = "en",
    workers: Annotated[
        int, typer.Option(help="Run the strategies on N local processes, this one included (0 or 1: "
                               "serial; helpers that are not ready in time are not waited for).")
    ] = 0,
    scheduler: Annotated[
        str | None, typer.Option(help="Use an existing Dask scheduler, tcp://HOST:PORT.")
    ] = None,
    skip_resolves: Annotated[
        bool, typer.Option("--skip-resolves", help="Follow the last real-time plan while it is still "
                                                   "optimal at the new prices (an exact LP basis check) "
                                                   "instead of re-solving.")
    ] = False,
    prices_tz: PricesTzOption = None,
    prices_label: PricesLabelOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary (summary.json) as JSON, no table or progress.")
    ] = False,
) -> None:
    """Backtest strategies on historical prices: DA bid at the gate closure, real-time re-dispatch,
    two-settlement revenue.

    Writes OUT/settlement.csv, OUT/assets.csv and OUT/members.csv (what each asset earns; headline
    strategy), OUT/<strategy>/ with the same three files, OUT/summary.json and OUT/report.html. With
    --workers (local processes) or --scheduler (Dask) each strategy is one task
    (simulator.distributed); the results are those of a serial run.
    """
    from market.forecasting.feature_file import join_features, read_features
    from market.price_days import check_days_complete
    from optimizer.solver import SolveOptions
    from simulator.backtest import run_backtest, write_backtest
    from simulator.report_labels import LANGUAGES
    from vpp import option_checks as check
    from vpp.portfolio_io import load_portfolio
    from vpp.price_input import read_price_input

    if lang not in LANGUAGES:
        raise InputError(f"'{lang}' is not a report language ({', '.join(LANGUAGES)})", field="--lang")
    check.positive_seconds(time_limit)
    check.workers(workers)
    check.scheduler(scheduler)
    check.output_folder(out)
    loaded = load_portfolio(portfolio)
    first, last = _parse_day(start, "--start"), _parse_day(end, "--end")
    if last < first:
        raise InputError(f"end day {last} is before start day {first}", field="--end")
    frame = read_price_input(prices, loaded.market, tz=prices_tz, label=prices_label)
    if features is not None:  # extra columns of the price frame are the forecasters' features
        frame = join_features(frame, read_features(features, loaded.market))
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    check_days_complete(frame, loaded.market, days)
    options = SolveOptions(time_limit_s=time_limit)  # infeasible: name asset, constraint, period
    if workers or scheduler:  # one task per strategy: the same figures as a serial run
        from simulator.distributed import run_backtest_distributed

        result = run_backtest_distributed(
            loaded, frame, days, strategy.split(","), forecast=forecast, options=options,
            workers=workers or None, scheduler=scheduler, progress=False if quiet or as_json else None,
            skip_resolves=skip_resolves,
        )
    else:
        result = run_backtest(
            loaded, frame, days, strategy.split(","), forecast=forecast, options=options,
            progress=False if quiet or as_json else None, skip_resolves=skip_resolves,
        )
    written = write_backtest(result, out, loaded, lang=lang)
    _warn_not_optimal(result.summary)
    if as_json:
        print(json.dumps({**result.summary, "files": [str(p) for p in written]}, indent=1, default=str))
    elif not quiet:
        _print_summary(result.summary)
        stdout.print(f"wrote {len(written)} files to {out}")


def _parse_day(day: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        raise InputError(f"'{day}' is not a date YYYY-MM-DD", field=field) from None


def summary_table(summary: dict) -> tuple[str, list[str], list[list[str]]]:
    """Title, header and rows of the console table of a backtest's ``summary.json``.

    Every money column names the market's unit of money (``money_unit``); ``capture`` is a ratio.
    """
    money = summary.get("money_unit", "yuan")
    header = ["strategy", f"revenue ({money})", f"DA leg ({money})", f"RT leg ({money})",
              f"over passive ({money})", "capture", f"{money}/MWh", f"daily sd ({money})",
              f"worst day ({money})", "RT solves"]
    rows = []
    for name, block in summary["strategies"].items():
        rows.append([
            name,
            f"{block['total_revenue_yuan']:,.2f}",
            f"{block['da_revenue_yuan']:,.2f}",
            f"{block['rt_revenue_yuan']:,.2f}",
            money_cell(block.get("value_over_passive_yuan")),
            ratio_cell(block["capture_ratio"]),
            "-" if block["yuan_per_mwh"] is None else f"{block['yuan_per_mwh']:,.2f}",
            money_cell(block.get("daily_revenue_std_yuan")),
            money_cell(block.get("daily_revenue_min_yuan")),
            str(block["realtime_solves"]),
        ])
    title = f"{summary['portfolio']}: backtest {summary['first_day']} to {summary['last_day']}"
    return title, header, rows


def _warn_not_optimal(summary: dict) -> None:
    """Warn (stderr, also with --json and --quiet) about each strategy that followed solves not proven
    optimal: its revenue is a feasible schedule's, not an optimum's (a loaded machine, or too short a
    --time-limit)."""
    for name, block in summary["strategies"].items():
        count, repaired = block.get("solves_not_proven_optimal", 0), block.get("solves_repaired", 0)
        if count:
            print_warning(
                f"{name}: {count} solve(s) not proven optimal ({repaired} repaired after the time limit ran "
                "out while storage still charged and discharged at once): its schedules are feasible, "
                "its revenue may be below the optimum's"
            )


def _print_summary(summary: dict) -> None:
    money = summary.get("money_unit", "yuan")
    title, header, rows = summary_table(summary)
    for table in fit_table(title, header, rows):
        stdout.print(table)
    stdout.print(f"passive position (no flexibility used): {summary['passive_revenue_yuan']:,.2f} {money}; "
                 "capture = (revenue - passive) / (perfect foresight - passive)")
    for note in summary.get("passive_notes", []):
        stdout.print(f"passive baseline: {note}", style="yellow")
    vss = summary["strategies"].get("stochastic", {}).get("value_of_stochastic_solution_yuan")
    if vss is not None:
        stdout.print(f"value of the stochastic solution (stochastic - da_rt): {vss:,.2f} {money}")
    stdout.print(f"model builds {summary['run']['model_builds']}, solves {summary['run']['solves']}, "
                 f"{summary['run']['seconds']:.1f} s")
