"""``vpp bid``: the optimal day-ahead schedule of the fleet and the bid to submit.

``--mode quantity-only`` (default): the deterministic schedule as a 96-point quantity bid.
``--mode price-quantity``: price scenarios, the two-stage stochastic model and a step curve per
period (:mod:`vpp.bid_curves`), validated against the market and written as CSV and JSON.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from vpp.console import handles_errors, print_warning, stdout
from vpp.examples_paths import DEFAULT_BID_DAY, DEFAULT_PORTFOLIO, DEFAULT_PRICES
from vpp.price_input import PricesLabelOption, PricesTzOption

if TYPE_CHECKING:  # heavy modules are imported inside the command: `vpp --help` stays fast
    import pandas as pd

    from optimizer.solver import SolveOptions
    from vpp.day_ahead import DayAheadPlan


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
    mode: Annotated[str, typer.Option(help="quantity-only or price-quantity.")] = "quantity-only",
    scenarios: Annotated[int, typer.Option(help="price-quantity: number of price scenarios.")] = 20,
    seed: Annotated[int, typer.Option(help="price-quantity: scenario seed.")] = 0,
    cvar_weight: Annotated[float, typer.Option(help="price-quantity: CVaR weight in [0, 1].")] = 0.0,
    cvar_alpha: Annotated[float, typer.Option(help="price-quantity: CVaR confidence level.")] = 0.95,
    scenario_method: Annotated[
        str, typer.Option(help="price-quantity: bootstrap or quantile.")
    ] = "bootstrap",
    refuse_late: Annotated[bool, typer.Option(help="Refuse (not warn) a bid after gate closure.")] = False,
    prices_tz: PricesTzOption = None,
    prices_label: PricesLabelOption = None,
) -> None:
    """Solve the day-ahead schedule of the whole fleet and write the quantity-only bid.

    Writes OUT (``timestamp,net_mw``, MW, positive = delivered to the grid), OUT_assets.csv (the
    per-asset schedule and states) and OUT.png (prices, fleet schedule, battery state of charge).
    """
    import pandas as pd

    from market.bids import QuantityBid, validate_quantity_bid, write_bid_csv
    from market.calendar import gate_closure
    from optimizer.solver import SolveOptions
    from vpp.day_ahead import plan_day_ahead
    from vpp.io_utils import write_csv_atomic
    from vpp.plots import plot_schedule
    from vpp.portfolio_io import load_portfolio
    from vpp.price_input import read_price_input

    trading_day = _parse_day(day)
    loaded = load_portfolio(portfolio)
    price_frame = read_price_input(prices, loaded.market, tz=prices_tz, label=prices_label)
    options = SolveOptions(time_limit_s=time_limit, mip_rel_gap=mip_gap, handoff=handoff)  # type: ignore[arg-type]
    if mode == "price-quantity":
        _price_quantity(
            loaded, price_frame, trading_day, out, price_column, options,
            scenarios, seed, cvar_weight, cvar_alpha, scenario_method, refuse_late,
        )
        return
    if mode != "quantity-only":
        from vpp.errors import InputError

        raise InputError(f"unknown bid mode '{mode}'; known: quantity-only, price-quantity", field="--mode")
    plan = plan_day_ahead(loaded, price_frame, trading_day, price_column=price_column, options=options)
    bid = QuantityBid(market=loaded.market, day=trading_day, net_mw=plan.bid_mw)
    now = pd.Timestamp.now(tz=loaded.market.timezone)
    warning = validate_quantity_bid(bid, loaded.market, now=now, allow_late=not refuse_late)
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


def _price_quantity(
    loaded, prices: pd.DataFrame, day: dt.date, out: Path, price_column: str, options: SolveOptions,
    n: int, seed: int, cvar_weight: float, cvar_alpha: float, method: str, refuse_late: bool,
) -> None:
    """Derive, validate and write the price-quantity bid (OUT as CSV, OUT.json)."""
    import pandas as pd

    from market.bids import validate_price_quantity_bid, write_price_quantity_csv, write_price_quantity_json
    from market.calendar import gate_closure
    from vpp.bid_curves import plan_price_quantity

    result, bid, _ = plan_price_quantity(
        loaded, prices, day, n_scenarios=n, seed=seed, cvar_weight=cvar_weight, cvar_alpha=cvar_alpha,
        method=method, price_column=price_column, options=options,
    )
    now = pd.Timestamp.now(tz=loaded.market.timezone)
    warning = validate_price_quantity_bid(bid, loaded.market, now=now, allow_late=not refuse_late)
    if warning:
        print_warning(warning)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [write_price_quantity_csv(bid, out), write_price_quantity_json(bid, out.with_suffix(".json"))]
    segments = bid.segments.groupby("timestamp").size()
    table = Table(title=f"{loaded.portfolio.name}: price-quantity bid for {day} "
                        f"(gate closure {gate_closure(loaded.market, day):%Y-%m-%d %H:%M %Z})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("scenarios (method, seed)", f"{n} ({method}, {seed})")
    table.add_row("CVaR weight / alpha", f"{cvar_weight:g} / {cvar_alpha:g}")
    table.add_row("expected profit", f"{result.expected_profit_yuan:,.2f} yuan")
    table.add_row(f"CVaR {cvar_alpha:g} of profit", f"{result.cvar_yuan:,.2f} yuan")
    profit = result.profit_yuan
    table.add_row("worst / best scenario", f"{profit.min():,.2f} / {profit.max():,.2f} yuan")
    table.add_row("segments per period (min / max)", f"{segments.min()} / {segments.max()}")
    table.add_row("deliverable box width (mean)", f"{float((result.hi_mw - result.lo_mw).mean()):,.3f} MW")
    table.add_row("LP size", f"{result.n_variables:,} columns, {result.n_constraints:,} rows")
    secs = result.seconds
    table.add_row("time: build / hand-off / solve",
                  f"{secs['build']:.2f} / {secs['handoff']:.2f} / {secs['solve']:.2f} s")
    stdout.print(table)
    for path in written:
        stdout.print(f"wrote {path}")
