"""``vpp apikey create``: make an API key for the operator interface (stored hashed)."""

from __future__ import annotations

from typing import Annotated

import typer

from vpp.console import handles_errors
from vpp.service.config import DEFAULT_DB_URL

app = typer.Typer(help="API keys of the operator interface (vpp serve).", no_args_is_help=True)


@app.command("create")
@handles_errors
def create_command(
    name: Annotated[str, typer.Option(help="Who or what uses the key (unique).")],
    role: Annotated[str, typer.Option(help="read (look only) or operator (may change things).")] = "read",
    db: Annotated[str, typer.Option(help="SQLAlchemy database URL of the service.")] = DEFAULT_DB_URL,
) -> None:
    """Create a key and print it once: only its hash is stored."""
    from vpp.api.auth import create_key
    from vpp.service.db import make_engine, session_factory, upgrade_schema

    engine = make_engine(db)
    upgrade_schema(engine)
    with session_factory(engine).begin() as session:
        key = create_key(session, name, role)
    engine.dispose()
    print(key)
