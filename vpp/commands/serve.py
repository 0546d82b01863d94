"""``vpp serve``: the operator API and dashboard (FastAPI + uvicorn) over the service database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vpp.commands.options import DbOption
from vpp.console import handles_errors, stdout


@handles_errors
def serve_command(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    portfolio: Annotated[
        Path | None, typer.Option(help="Portfolio file made current when the database holds none.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for portfolio bodies and API bid files.",
                     show_default="VPP_DATA_DIR, the settings file, or vpp-api"),
    ] = None,
    prices: Annotated[
        Path | None, typer.Option(help="Price history for backtests (default: bundled).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "info",
    max_request_bytes: Annotated[
        int, typer.Option(min=1, help="Largest request body accepted (bytes); larger ones get 413.")
    ] = 1_000_000,
) -> None:
    """Serve the REST API (OpenAPI docs at /docs) and the dashboard (/) on HOST:PORT.

    Requests need an API key (`vpp apikey create`) in the X-API-Key header; /api/health needs none.
    """
    from vpp.extras import require

    for module in ("fastapi", "uvicorn", "prometheus_client"):
        require(module, "api", "vpp serve")
    import uvicorn

    from vpp.api.app import create_app
    from vpp.settings import database_url, load_settings

    data_dir = load_settings(data_dir=data_dir).data_dir
    app = create_app(database_url(db), data_dir=data_dir, portfolio=portfolio, prices=prices,
                     max_request_bytes=max_request_bytes)
    stdout.print(f"vpp serve: http://{host}:{port}/ (API docs /docs); Ctrl-C to stop")
    uvicorn.run(app, host=host, port=port, log_level=log_level.lower())
