"""``vpp schema``: print the JSON Schema of the portfolio file."""

from __future__ import annotations

import json

import typer

from vpp.console import handles_errors
from vpp.portfolio import Portfolio


@handles_errors
def schema_command() -> None:
    """Print the JSON Schema of a portfolio file (YAML or JSON) to stdout."""
    typer.echo(json.dumps(Portfolio.model_json_schema(), indent=2, ensure_ascii=False))
