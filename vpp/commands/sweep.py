"""``vpp sweep``: backtest portfolio variants (a parameter grid) in parallel and compare them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from market.forecasting import DEFAULT_FORECASTER
from vpp.console import fit_table, handles_errors, money_cell, ratio_cell, stdout
from vpp.errors import InputError
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.price_input import PricesLabelOption, PricesTzOption

if TYPE_CHECKING:
    from simulator.sweep import SweepResult


@handles_errors
def sweep_command(
    param: Annotated[
        list[str], typer.Option("--param", help="PATH=V1,V2,... e.g. assets\\[bess-1].energy_mwh=1,2,4; "
                                                "repeat for a grid (every combination).")
    ],
    portfolio: Annotated[
        Path, typer.Option(help="Base portfolio file (YAML or JSON).", show_default="bundled example")
    ] = DEFAULT_PORTFOLIO,
    prices: Annotated[
        Path, typer.Option(help="Realised prices (CSV or Parquet).", show_default="bundled real prices")
    ] = DEFAULT_PRICES,
    strategy: Annotated[str, typer.Option(help="Comma-separated strategies.")] = "da_rt",
    start: Annotated[str, typer.Option(help="First trading day YYYY-MM-DD.")] = "2024-04-15",
    end: Annotated[str, typer.Option(help="Last trading day YYYY-MM-DD (included).")] = "2024-04-16",
    forecast: Annotated[
        str, typer.Option(help="DA price forecaster (`vpp forecast list`).")
    ] = DEFAULT_FORECASTER,
    workers: Annotated[int, typer.Option(help="Local processes, this one included (0 or 1: serial).")] = 0,
    scheduler: Annotated[
        str | None, typer.Option(help="Use an existing Dask scheduler, tcp://HOST:PORT.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/sweep"),
    time_limit: Annotated[float, typer.Option(help="HiGHS time limit per solve (s).")] = 60.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No summary table or progress bar.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the sweep table as JSON records.")] = False,
    prices_tz: PricesTzOption = None,
    prices_label: PricesLabelOption = None,
) -> None:
    """Backtest every combination of the --param values (one task per variant and strategy,
    on local processes with --workers or on Dask with --scheduler).

    Writes OUT/sweep.csv (one row per variant and strategy: total revenue, capture ratio, value
    over passive, currency/MWh), OUT/sweep.png and OUT/sweep.html.
    """
    from market.price_days import check_days_complete
    from optimizer.solver import SolveOptions
    from simulator.sweep import parse_param, run_sweep, write_sweep
    from vpp import option_checks as check
    from vpp.portfolio_io import load_portfolio
    from vpp.price_input import read_price_input

    check.positive_seconds(time_limit)
    check.workers(workers)
    check.scheduler(scheduler)
    check.output_folder(out)
    params = [parse_param(p) for p in param]
    loaded = load_portfolio(portfolio)
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        raise InputError(f"'{start}' or '{end}' is not a date YYYY-MM-DD", field="--start/--end") from None
    if last < first:
        raise InputError(f"end day {last} is before start day {first}", field="--end")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    frame = read_price_input(prices, loaded.market, tz=prices_tz, label=prices_label)
    check_days_complete(frame, loaded.market, days)
    options = SolveOptions(time_limit_s=time_limit)  # infeasible: name asset, constraint, period
    result = run_sweep(portfolio, params, frame, days, strategy.split(","), forecast=forecast,
                       options=options, workers=workers or None, scheduler=scheduler,
                       progress=False if quiet or as_json else None)
    money = loaded.market.money_unit
    written = write_sweep(
        result, out, title=f"Sweep of {loaded.portfolio.name}, {first} to {last}", money=money,
    )
    if as_json:
        rows = json.loads(result.table.to_json(orient="records"))
        print(json.dumps({"variants": len(result.results), "seconds": round(result.seconds, 2), "rows": rows,
                          "files": [str(p) for p in written]}, indent=1))
    elif not quiet:
        title, header, rows = sweep_table(result, money)
        for table in fit_table(title, header, rows):
            stdout.print(table)
        stdout.print(f"wrote {len(written)} files to {out}")


def sweep_table(result: SweepResult, money: str) -> tuple[str, list[str], list[list[str]]]:
    """Title, header and rows of the console table of a sweep (one row per variant and strategy).

    Every money column names the market's unit of money ``money``, as ``vpp backtest``'s table does;
    ``capture`` is a ratio; a figure that does not exist (NaN) is ``-``.
    """
    header = ["variant / strategy", f"revenue ({money})", f"over passive ({money})", "capture",
              f"{money}/MWh"]
    rows = [
        [f"{row.variant} / {row.strategy}", money_cell(row.total_revenue_yuan),
         money_cell(row.value_over_passive_yuan),
         ratio_cell(row.capture_ratio),
         money_cell(row.yuan_per_mwh)]
        for row in result.table.itertuples()
    ]
    return f"sweep: {len(result.results)} variants, {result.seconds:.1f} s", header, rows
