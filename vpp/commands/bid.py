"""``vpp bid``: the optimal day-ahead schedule of the fleet and the bid to submit.

``--mode quantity-only`` (default): the deterministic schedule as a 96-point quantity bid.
``--mode price-quantity``: price scenarios, the two-stage stochastic model and a step curve per
period (:mod:`simulator.bid_curves`), validated against the market and written as CSV and JSON.

Safe by default (issue 14 item 1): ``--portfolio`` and ``--prices`` are required, ``--day`` is the
next trading day whose gate closure is still ahead, a bid after gate closure is refused unless
``--allow-late``, and the prices the bid used are labelled ``forecast`` or ``realised`` in the
table, the plot title, the JSON output and OUT_summary.json.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from vpp.commands.one_shot import without_cyclic_gc
from vpp.console import handles_errors, print_warning, stdout
from vpp.errors import InputError
from vpp.price_input import PricesLabelOption, PricesTzOption
from vpp.solve_outcome import not_optimal_note, solve_outcome

if TYPE_CHECKING:  # heavy modules are imported inside the command: `vpp --help` stays fast
    import pandas as pd

    from optimizer.solver import SolveOptions
    from simulator.day_ahead import DayAheadPlan


@handles_errors
@without_cyclic_gc
def bid_command(
    portfolio: Annotated[Path, typer.Option(help="Portfolio file (YAML or JSON).")],
    prices: Annotated[
        Path, typer.Option(help="Price file holding the trading day (CSV or Parquet, CONVENTIONS format).")
    ],
    day: Annotated[
        str | None,
        typer.Option(
            help="Trading day YYYY-MM-DD (market zone).",
            show_default="the next trading day whose gate closure is ahead",
        ),
    ] = None,
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
    allow_late: Annotated[
        bool, typer.Option(help="Bid although the gate closure has passed (a study of a past day).")
    ] = False,
    price_kind: Annotated[
        str,
        typer.Option(
            help="What the prices of the day are: forecast, realised, or auto (realised once the "
            "day's gate closure has passed, forecast before)."
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON, no table.")] = False,
    prices_tz: PricesTzOption = None,
    prices_label: PricesLabelOption = None,
) -> None:
    """Solve the day-ahead schedule of the whole fleet and write the quantity-only bid.

    Writes OUT (``timestamp,net_mw``, MW, positive = delivered to the grid), OUT_assets.csv (the
    per-asset schedule and states), OUT.png (prices, fleet schedule, battery state of charge: the
    fleet's total and the 10 largest batteries in panels of their own) and
    OUT_summary.json (the figures, and whether the prices were a forecast or the realised ones).
    A bid after the day's gate closure is refused unless --allow-late.
    """
    import pandas as pd

    from market.bids import QuantityBid, validate_quantity_bid, write_bid_csv
    from market.calendar import gate_closure, next_trading_day
    from optimizer.solver import SolveOptions
    from simulator.day_ahead import plan_day_ahead
    from vpp import option_checks as check
    from vpp.io_utils import write_csv_atomic
    from vpp.plots import plot_schedule
    from vpp.portfolio_io import load_portfolio
    from vpp.price_input import read_price_input

    if price_kind not in ("auto", "forecast", "realised"):
        raise InputError(f"unknown price kind '{price_kind}'; known: auto, forecast, realised",
                         field="--price-kind")
    check.positive_seconds(time_limit)
    check.mip_gap(mip_gap)
    check.handoff(handoff)
    check.seed(seed)
    check.scenarios(scenarios)
    check.output_file(out)
    loaded = load_portfolio(portfolio)
    now = pd.Timestamp.now(tz=loaded.market.timezone)
    trading_day = next_trading_day(loaded.market, now) if day is None else _parse_day(day)
    closure = gate_closure(loaded.market, trading_day)
    late = bool(now > closure)
    if late and not allow_late:
        raise InputError(
            f"the gate closure of {loaded.market.name} trading day {trading_day} was "
            f"{closure:%Y-%m-%d %H:%M %Z} (now {now:%Y-%m-%d %H:%M %Z}): a late bid is refused; "
            "pass --allow-late to bid anyway (e.g. to study a past day), or omit --day for the next "
            "trading day",
            field="--day",
        )
    kind = ("realised" if late else "forecast") if price_kind == "auto" else price_kind
    price_frame = read_price_input(prices, loaded.market, tz=prices_tz, label=prices_label)
    options = SolveOptions(time_limit_s=time_limit, mip_rel_gap=mip_gap, handoff=handoff)  # type: ignore[arg-type]
    if mode == "price-quantity":
        _price_quantity(
            loaded, price_frame, trading_day, out, price_column, options,
            scenarios, seed, cvar_weight, cvar_alpha, scenario_method, allow_late,
            {"file": str(prices), "column": price_column, "kind": kind}, as_json,
        )
        return
    if mode != "quantity-only":
        raise InputError(f"unknown bid mode '{mode}'; known: quantity-only, price-quantity", field="--mode")
    plan = plan_day_ahead(loaded, price_frame, trading_day, price_column=price_column, options=options)
    bid = QuantityBid(market=loaded.market, day=trading_day, net_mw=plan.bid_mw)
    warning = validate_quantity_bid(bid, loaded.market, now=now, allow_late=allow_late)
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
                title=f"{loaded.portfolio.name}: day-ahead schedule for {trading_day} at {kind} prices",
                price_unit=loaded.market.price_unit,
            )
        )
    price_info = {"file": str(prices), "column": price_column, "kind": kind}
    summary = _summary(plan, loaded, closure, late, price_info)
    written.append(_write_summary(summary, out, written))
    _warn_not_optimal(summary["solver"])
    if as_json:
        print(json.dumps(summary, indent=1))
        return
    _print_summary(plan, summary, closure, written)


def _parse_day(day: str) -> dt.date:
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        raise InputError(f"'{day}' is not a date YYYY-MM-DD", field="--day") from None


def _summary(plan: DayAheadPlan, loaded, closure: pd.Timestamp, late: bool, prices: dict) -> dict[str, Any]:
    """The bid's figures as plain data: the --json output and OUT_summary.json."""
    result = plan.result
    stats = result.stats
    return {
        "portfolio": loaded.portfolio.name,
        "market": loaded.market.name,
        "currency": loaded.market.currency,
        "money_unit": loaded.market.money_unit,
        "trading_day": plan.day.isoformat(),
        "mode": "quantity-only",
        "gate_closure": closure.isoformat(),
        "late": late,
        "prices": prices,
        "expected_revenue_yuan": round(float(result.terms_yuan["revenue"]), 2),
        "costs_yuan": {k: round(float(v), 2) for k, v in result.terms_yuan.items() if k != "revenue" and v},
        "objective_yuan": round(float(result.objective_yuan), 2),
        "energy_export_mwh": round(float(result.energy_export_mwh), 3),
        "energy_import_mwh": round(float(result.energy_import_mwh), 3),
        "net_energy_mwh": round(float(result.net_mwh.sum()), 3),
        "peak_export_mw": round(max(float(result.net_mw.max()), 0.0), 3),
        "peak_import_mw": round(max(float(-result.net_mw.min()), 0.0), 3),
        "periods": len(result.index),
        "solver": {**solve_outcome(stats), "handoff": str(stats.handoff),
                   "build_s": round(stats.build_seconds, 3), "handoff_s": round(stats.handoff_seconds, 3),
                   "solve_s": round(stats.solve_seconds, 3)},
    }


def _write_summary(summary: dict[str, Any], out: Path, written: list[Path]) -> Path:
    """Write OUT_summary.json (atomically), listing the files written beside it."""
    from vpp.io_utils import write_text_atomic

    path = out.with_name(out.stem + "_summary.json")
    summary["files"] = [str(p) for p in [*written, path]]
    return write_text_atomic(json.dumps(summary, indent=1) + "\n", path)


def _warn_not_optimal(solver: dict[str, Any]) -> None:
    """Warn (stderr, also with --json) when the bid's schedule is feasible but not proven optimal."""
    note = not_optimal_note(solver)
    if note:
        print_warning(f"the bid's {note}")


def _solver_rows(table: Table, solver: dict[str, Any], money: str) -> None:
    """The solver's rows: how the solve ended, the MIP gap and the proven bound when not optimal."""
    repaired = ", repaired" if solver["repaired"] else ""
    table.add_row("solver", f"HiGHS {solver['status']}{repaired} ({solver['termination']})")
    if solver["mip_gap"] is not None:
        table.add_row("MIP gap", f"{solver['mip_gap']:.2e}")
    if not solver["proven_optimal"] and solver["bound_yuan"] is not None:
        table.add_row("proven bound of the optimum", f"{solver['bound_yuan']:,.2f} {money}")


def _prices_row(prices: dict) -> tuple[str, str]:
    return "prices", f"{prices['kind']} ({prices['column']} of {Path(prices['file']).name})"


def _print_summary(
    plan: DayAheadPlan, summary: dict[str, Any], closure: pd.Timestamp, written: list[Path]
) -> None:
    result = plan.result
    energy = result.net_mwh
    kind = summary["prices"]["kind"]
    money = summary["money_unit"]  # the market's currency (yuan for CNY)
    table = Table(title=f"{summary['portfolio']}: day-ahead bid for {plan.day} "
                        f"(gate closure {closure:%Y-%m-%d %H:%M %Z})")
    table.add_column("figure")
    table.add_column("value", justify="right", overflow="fold")
    table.add_row(*_prices_row(summary["prices"]))
    table.add_row(f"expected revenue at {kind} prices", f"{result.terms_yuan['revenue']:,.2f} {money}")
    for term, value in result.terms_yuan.items():
        if term != "revenue" and value:
            table.add_row(f"  cost: {term}", f"{value:,.2f} {money}")
    table.add_row("objective (revenue - costs)", f"{result.objective_yuan:,.2f} {money}")
    table.add_row("energy exported", f"{result.energy_export_mwh:,.3f} MWh")
    table.add_row("energy imported", f"{result.energy_import_mwh:,.3f} MWh")
    table.add_row("net energy", f"{energy.sum():,.3f} MWh")
    table.add_row("peak export", f"{max(result.net_mw.max(), 0.0):,.3f} MW")
    table.add_row("peak import", f"{max(-result.net_mw.min(), 0.0):,.3f} MW")
    stats = result.stats
    table.add_row("periods", str(len(result.index)))
    _solver_rows(table, summary["solver"], money)
    table.add_row(
        f"time: build / hand-off ({stats.handoff}) / solve",
        f"{stats.build_seconds:.2f} / {stats.handoff_seconds:.2f} / {stats.solve_seconds:.2f} s",
    )
    stdout.print(table)
    for path in written:
        stdout.print(f"wrote {path}")


def _price_quantity(
    loaded, prices: pd.DataFrame, day: dt.date, out: Path, price_column: str, options: SolveOptions,
    n: int, seed: int, cvar_weight: float, cvar_alpha: float, method: str, allow_late: bool,
    price_info: dict, as_json: bool,
) -> None:
    """Derive, validate and write the price-quantity bid (OUT as CSV, OUT.json)."""
    import pandas as pd

    from market.bids import validate_price_quantity_bid, write_price_quantity_csv, write_price_quantity_json
    from market.calendar import gate_closure
    from simulator.bid_curves import plan_price_quantity

    result, bid, _ = plan_price_quantity(
        loaded, prices, day, n_scenarios=n, seed=seed, cvar_weight=cvar_weight, cvar_alpha=cvar_alpha,
        method=method, price_column=price_column, options=options,
    )
    now = pd.Timestamp.now(tz=loaded.market.timezone)
    warning = validate_price_quantity_bid(bid, loaded.market, now=now, allow_late=allow_late)
    if warning:
        print_warning(warning)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = [write_price_quantity_csv(bid, out), write_price_quantity_json(bid, out.with_suffix(".json"))]
    segments = bid.segments.groupby("timestamp").size()
    closure = gate_closure(loaded.market, day)
    summary = {
        "portfolio": loaded.portfolio.name, "market": loaded.market.name, "trading_day": day.isoformat(),
        "currency": loaded.market.currency, "money_unit": loaded.market.money_unit,
        "mode": "price-quantity", "gate_closure": closure.isoformat(), "late": bool(now > closure),
        "prices": {**price_info, "note": "scenarios are centred on these prices"},
        "scenarios": {"n": n, "method": method, "seed": seed},
        "cvar": {"weight": cvar_weight, "alpha": cvar_alpha, "value_yuan": round(float(result.cvar_yuan), 2)},
        "expected_profit_yuan": round(float(result.expected_profit_yuan), 2),
        "worst_scenario_yuan": round(float(result.profit_yuan.min()), 2),
        "best_scenario_yuan": round(float(result.profit_yuan.max()), 2),
        "segments_per_period": {"min": int(segments.min()), "max": int(segments.max())},
        "solver": {**solve_outcome(result), "handoff": "compiled",
                   **{f"{k}_s": round(v, 3) for k, v in result.seconds.items()}},
    }
    written.append(_write_summary(summary, out, written))
    _warn_not_optimal(summary["solver"])
    if as_json:
        print(json.dumps(summary, indent=1))
        return
    money = loaded.market.money_unit
    table = Table(title=f"{loaded.portfolio.name}: price-quantity bid for {day} "
                        f"(gate closure {closure:%Y-%m-%d %H:%M %Z})")
    table.add_column("figure")
    table.add_column("value", justify="right", overflow="fold")
    table.add_row(*_prices_row(summary["prices"]))
    table.add_row("scenarios (method, seed)", f"{n} ({method}, {seed})")
    table.add_row("CVaR weight / alpha", f"{cvar_weight:g} / {cvar_alpha:g}")
    table.add_row(f"expected profit (scenarios around {price_info['kind']} prices)",
                  f"{result.expected_profit_yuan:,.2f} {money}")
    table.add_row(f"CVaR {cvar_alpha:g} of profit", f"{result.cvar_yuan:,.2f} {money}")
    profit = result.profit_yuan
    table.add_row("worst / best scenario", f"{profit.min():,.2f} / {profit.max():,.2f} {money}")
    table.add_row("segments per period (min / max)", f"{segments.min()} / {segments.max()}")
    table.add_row("deliverable box width (mean)", f"{float((result.hi_mw - result.lo_mw).mean()):,.3f} MW")
    table.add_row("LP size", f"{result.n_variables:,} columns, {result.n_constraints:,} rows")
    _solver_rows(table, summary["solver"], money)
    secs = result.seconds
    table.add_row("time: build / hand-off / solve",
                  f"{secs['build']:.2f} / {secs['handoff']:.2f} / {secs['solve']:.2f} s")
    stdout.print(table)
    for path in written:
        stdout.print(f"wrote {path}")
