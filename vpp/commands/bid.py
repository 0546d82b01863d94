"""``vpp bid``: the optimal day-ahead schedule of the fleet and the quantity-only bid to submit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from market.bids import QuantityBid, validate_quantity_bid, write_bid_csv
from market.calendar import gate_closure
from market.prices import read_prices
from optimizer.solver import SolveOptions
from vpp.console import handles_errors, print_warning, stdout
from vpp.day_ahead import DayAheadPlan, plan_day_ahead
from vpp.examples_paths import DEFAULT_BID_DAY, DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.io_utils import write_csv_atomic
from vpp.plots import plot_schedule
from vpp.portfolio_io import load_portfolio


@handles_errors
def bid_command(
    portfolio: Annotated[
        Path, typer.Option(help="Portfolio file (YAML or JSON).", show_default="bundled example")
    ] = DEFAULT_PORTFOLIO,
    prices: Annotated[
        Path,
        typer.Option(
            help="Price forecast file (CSV or Parquet, CONVENTIONS format).",
            show_default="bundled real prices",
        ),
    ] = DEFAULT_PRICES,
    day: Annotated[str, typer.Option(help="Trading day YYYY-MM-DD (market zone).")] = DEFAULT_BID_DAY,
    out: Annotated[Path, typer.Option(help="Bid CSV to write (timestamp,net_mw).")] = Path("out/bid.csv"),
    price_column: Annotated[str, typer.Option(help="Price column to optimise against.")] = "da_price",
    time_limit: Annotated[float, typer.Option(help="HiGHS time limit (s).")] = 60.0,
    mip_gap: Annotated[float, typer.Option(help="Relative MIP gap.")] = 1e-4,
    handoff: Annotated[str, typer.Option(help="auto, persistent or compiled.")] = "auto",
    plot: Annotated[bool, typer.Option(help="Write a PNG plot beside the bid.")] = True,
) -> None:
    """Solve the day-ahead schedule of the whole fleet and write the quantity-only bid.

    Writes OUT (``timestamp,net_mw``, MW, positive = delivered to the grid), OUT_assets.csv (the
    per-asset schedule and states) and OUT.png (prices, fleet schedule, battery state of charge).
    """
    trading_day = _parse_day(day)
    loaded = load_portfolio(portfolio)
    price_frame = read_prices(prices, loaded.market)
    options = SolveOptions(time_limit_s=time_limit, mip_rel_gap=mip_gap, handoff=handoff)  # type: ignore[arg-type]
    plan = plan_day_ahead(loaded, price_frame, trading_day, price_column=price_column, options=options)
    bid = QuantityBid(market=loaded.market.name, day=trading_day, net_mw=plan.bid_mw)
    now = pd.Timestamp.now(tz=loaded.market.timezone)
    warning = validate_quantity_bid(bid, loaded.market, now=now, allow_late=True)
    if warning:
        print_warning(warning)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bid_csv(bid, out)
    assets_path = out.with_name(out.stem + "_assets.csv")
    write_csv_atomic(plan.result.asset_schedule_long(), assets_path)
    written = [out, assets_path]
    if plot:
        written.append(
            plot_schedule(
                plan.result,
                out.with_suffix(".png"),
                title=f"{loaded.portfolio.name}: day-ahead schedule for {trading_day}",
            )
        )
    _print_summary(plan, loaded.portfolio.name, gate_closure(loaded.market, trading_day), written)


def _parse_day(day: str) -> dt.date:
    from vpp.errors import InputError

    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        raise InputError(f"'{day}' is not a date YYYY-MM-DD", field="--day") from None


def _print_summary(plan: DayAheadPlan, name: str, closure: pd.Timestamp, written: list[Path]) -> None:
    result = plan.result
    energy = result.net_mwh
    table = Table(title=f"{name}: day-ahead bid for {plan.day} (gate closure {closure:%Y-%m-%d %H:%M %Z})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("expected revenue at forecast prices", f"{result.terms_yuan['revenue']:,.2f} yuan")
    for term, value in result.terms_yuan.items():
        if term != "revenue" and value:
            table.add_row(f"  cost: {term}", f"{value:,.2f} yuan")
    table.add_row("objective (revenue - costs)", f"{result.objective_yuan:,.2f} yuan")
    table.add_row("energy exported", f"{result.energy_export_mwh:,.3f} MWh")
    table.add_row("energy imported", f"{result.energy_import_mwh:,.3f} MWh")
    table.add_row("net energy", f"{energy.sum():,.3f} MWh")
    table.add_row("peak export", f"{max(result.net_mw.max(), 0.0):,.3f} MW")
    table.add_row("peak import", f"{max(-result.net_mw.min(), 0.0):,.3f} MW")
    stats = result.stats
    table.add_row("periods", str(len(result.index)))
    table.add_row("solver", f"HiGHS {stats.status} ({stats.termination}), hand-off {stats.handoff}")
    table.add_row(
        "time: build / hand-off / solve",
        f"{stats.build_seconds:.2f} / {stats.handoff_seconds:.2f} / {stats.solve_seconds:.2f} s",
    )
    if stats.mip_gap is not None:
        table.add_row("MIP gap", f"{stats.mip_gap:.2e}")
    stdout.print(table)
    for path in written:
        stdout.print(f"wrote {path}")
