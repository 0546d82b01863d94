"""The ``vpp`` command line: one typer app, one module per command in ``vpp/commands/``.

Commands are registered in one flat list below; add a new one the same way. Every command is
decorated with :func:`vpp.console.handles_errors`, so a user error (``vpp.errors.VppError``)
prints ``error: <message>`` to stderr and exits with code 1, without a traceback.

Command modules import their heavy libraries (pandas, Pyomo, matplotlib ...) inside the command
function, so ``vpp --help`` and shell completion stay fast (``tests/vpp/test_cli_startup.py``).
``python -m vpp`` runs the same app (``vpp/__main__.py``); ``--version`` prints the version and
``--install-completion`` / ``--show-completion`` are typer's shell completion.
"""

from __future__ import annotations

from typing import Annotated

import typer

from vpp import __version__
from vpp.commands import (
    apikey,
    backtest,
    bid,
    dispatch,
    forecast,
    market,
    run,
    schema,
    serve,
    status,
    sweep,
    validate,
)

app = typer.Typer(
    name="vpp",
    help=(
        "Virtual power plant engine for spot markets (Shanxi by default): validate portfolios, "
        "see their flexibility, bid day-ahead and backtest."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_show_locals=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"vpp {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Virtual power plant engine for spot markets (Shanxi by default): validate portfolios, see their
    flexibility, bid day-ahead, backtest, and run the dispatch service."""

app.command("validate")(validate.validate_command)
app.command("schema")(schema.schema_command)
app.command("bid")(bid.bid_command)
app.command("backtest")(backtest.backtest_command)
app.command("run")(run.run_command)
app.command("status")(status.status_command)
app.command("dispatch")(dispatch.dispatch_command)
app.command("sweep")(sweep.sweep_command)
app.command("serve")(serve.serve_command)
app.add_typer(apikey.app, name="apikey")
app.add_typer(market.app, name="market")
app.add_typer(forecast.app, name="forecast")


if __name__ == "__main__":  # pragma: no cover
    app()
