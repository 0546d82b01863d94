"""``vpp forecast``: the price forecasters (``list``) and their rolling-origin evaluation (``evaluate``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vpp.console import fit_table, handles_errors, ratio_cell, stdout
from vpp.errors import InputError
from vpp.examples_paths import DEFAULT_PORTFOLIO, DEFAULT_PRICES

if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(help="Price forecasters: list them, evaluate them on history.", no_args_is_help=True)


@app.command("list")
@handles_errors
def list_command() -> None:
    """The forecasters by name, with what each does."""
    from rich.table import Table

    from market.forecasting.run import DEFAULT_FORECASTER, FORECASTERS

    table = Table(title="Forecasters (--forecast NAME, or file:PATH)")
    table.add_column("name")
    table.add_column("description")
    for name, cls in FORECASTERS.items():
        table.add_row(name + (" (default)" if name == DEFAULT_FORECASTER else ""), cls.description)
    stdout.print(table)


@app.command("evaluate")
@handles_errors
def evaluate_command(
    portfolio: Annotated[
        Path,
        typer.Option(help="Portfolio whose schedule values each forecast.", show_default="bundled example"),
    ] = DEFAULT_PORTFOLIO,
    prices: Annotated[
        Path, typer.Option(help="Realised prices (CSV or Parquet); extra columns are exogenous features.",
                           show_default="bundled real prices")
    ] = DEFAULT_PRICES,
    start: Annotated[str, typer.Option(help="First trading day YYYY-MM-DD.")] = "2024-06-01",
    end: Annotated[str, typer.Option(help="Last trading day YYYY-MM-DD (included).")] = "2024-07-31",
    forecast: Annotated[
        str, typer.Option(help="Comma-separated forecasters (default: all registered).")
    ] = "",
    features: Annotated[
        Path | None, typer.Option(help="Separate feature file (timestamp + numeric columns).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write the table as CSV here.")] = None,
) -> None:
    """Rolling-origin evaluation: each day forecast from what was known at its gate closure.

    Prints MAE, RMSE and bias against the realised DA price and the money each forecast earns when
    the portfolio's schedule is optimised at it and settled at realised prices, as a share of the
    physical day-ahead optimum (capture_da_optimum).
    """
    from market.forecasting.feature_file import join_features, read_features
    from market.prices import read_prices
    from simulator.forecast_eval import evaluate_forecasters
    from vpp.io_utils import write_csv_atomic
    from vpp.portfolio_io import load_portfolio

    loaded = load_portfolio(portfolio)
    first, last = _parse_day(start, "--start"), _parse_day(end, "--end")
    if last < first:
        raise InputError(f"end day {last} is before start day {first}", field="--end")
    frame = read_prices(prices, loaded.market)
    if features is not None:
        frame = join_features(frame, read_features(features, loaded.market))
    from market.forecasting.run import FORECASTERS

    names = [n.strip() for n in forecast.split(",") if n.strip()] or list(FORECASTERS)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    table, bounds = evaluate_forecasters(loaded, frame, days, names)
    money = loaded.market.money_unit  # the market's currency ('yuan' for CNY)
    title = f"Forecasters on {first} to {last} ({len(days)} days, {loaded.portfolio.name})"
    header, rows = evaluation_table(table, loaded.market.price_unit, money)
    for view in fit_table(title, header, rows):
        stdout.print(view)
    stdout.print(f"physical DA optimum {bounds['da_optimum_yuan']:,.2f} {money}, passive "
                 f"{bounds['passive_yuan']:,.2f} {money}; "
                 "capture = (value - passive) / (DA optimum - passive); "
                 f"errors in {loaded.market.price_unit}")
    if out is not None:
        write_csv_atomic(table, out, index=True)


def evaluation_table(table: pd.DataFrame, price_unit: str, money: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the console table of :func:`simulator.forecast_eval.evaluate_forecasters`.

    The errors (MAE, RMSE, bias) are prices, headed with the market's ``price_unit`` (``EUR/MWh``);
    the value is money, headed with ``money`` (``EUR``); capture is a ratio, ``s`` wall seconds.
    """
    header = ["forecaster", f"MAE ({price_unit})", f"RMSE ({price_unit})", f"bias ({price_unit})",
              f"value ({money})", "capture of DA optimum", "s"]
    rows = [
        [str(name), f"{row['mae']:.1f}", f"{row['rmse']:.1f}", f"{row['bias']:+.1f}",
         f"{row['value_yuan']:,.0f}", ratio_cell(row["capture_da_optimum"]), f"{row['seconds']:.1f}"]
        for name, row in table.iterrows()
    ]
    return header, rows


def _parse_day(day: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        raise InputError(f"'{day}' is not a date YYYY-MM-DD", field=field) from None
