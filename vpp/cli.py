"""The ``vpp`` command line: one typer app, one module per command in ``vpp/commands/``.

Commands are registered in one flat list below; add a new one the same way. Every command is
decorated with :func:`vpp.console.handles_errors`, so a user error (``vpp.errors.VppError``)
prints ``error: <message>`` to stderr and exits with code 1, without a traceback.
"""

from __future__ import annotations

import typer

from vpp.commands import apikey, backtest, bid, dispatch, market, run, schema, serve, status, sweep, validate

app = typer.Typer(
    name="vpp",
    help=(
        "Virtual power plant engine for spot markets (Shanxi by default): validate portfolios, "
        "see their flexibility, bid day-ahead and backtest."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

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


if __name__ == "__main__":  # pragma: no cover
    app()
