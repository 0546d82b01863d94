"""``vpp market list`` and ``vpp market show NAME|PATH``: the bundled market presets and any
market YAML file, validated by the same model (``market.presets.MarketSpec``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vpp.console import handles_errors, stdout

app = typer.Typer(
    help="Markets: the bundled presets and your own market YAML files (`vpp schema --market`).",
    no_args_is_help=True,
)


@app.command("list")
@handles_errors
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the bundled market presets (name, zone, period, currency, clearing bounds)."""
    from rich.table import Table

    from market.presets import available_markets, get_market, market_summary

    specs = [get_market(name) for name in available_markets()]
    if as_json:
        print(json.dumps([market_summary(s) for s in specs], indent=1, ensure_ascii=False))
        return
    table = Table(title="bundled markets (a portfolio may also name a market YAML file)")
    for column in ("name", "zone", "period", "clearing bounds"):
        table.add_column(column, overflow="fold")
    for spec in specs:
        floor = "-inf" if spec.clear_price_floor is None else f"{spec.clear_price_floor:g}"
        table.add_row(
            spec.name, spec.timezone, f"{spec.period_minutes} min",
            f"{floor}..{spec.clear_price_cap:g} {spec.price_unit}",
        )
    stdout.print(table)
    stdout.print("details: vpp market show NAME")


@app.command("show")
@handles_errors
def show_command(
    market: Annotated[str, typer.Argument(help="A preset name (`vpp market list`) or a market YAML file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")] = False,
) -> None:
    """Validate and print one market: every field, then the figures derived from them.

    The YAML printed is itself a valid market file (the derived figures are comments): save it,
    change the name and the rules, and point a portfolio's ``market:`` at it.
    """
    import yaml

    from market.presets import load_market, market_summary

    data = market_summary(load_market(market))
    if as_json:
        print(json.dumps(data, indent=1, ensure_ascii=False))
        return
    derived = data.pop("derived")
    print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    print("# derived:", ", ".join(f"{key} = {value}" for key, value in derived.items()))
