"""``vpp schema``: print the JSON Schema of the portfolio file (or, with ``--market``, of a market file)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vpp.console import handles_errors


@handles_errors
def schema_command(
    market: Annotated[
        bool, typer.Option("--market", help="Print the schema of a market file instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of a portfolio file (YAML or JSON) to stdout; with --market, that of a
    market YAML file (the fields of a bundled preset, a market file or an inline ``market:``)."""
    if market:
        from market.presets import MarketSpec

        schema = MarketSpec.model_json_schema()
    else:
        from vpp.portfolio import Portfolio

        schema = Portfolio.model_json_schema()
    typer.echo(json.dumps(schema, indent=2, ensure_ascii=False))
