"""``vpp apikey create | list | revoke``: API keys of the operator interface (stored hashed)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from vpp.commands.options import DbOption
from vpp.console import handles_errors, stderr, stdout

app = typer.Typer(help="API keys of the operator interface (vpp serve).", no_args_is_help=True)

@app.command("create")
@handles_errors
def create_command(
    name: Annotated[str, typer.Option(help="Who or what uses the key (unique).")],
    role: Annotated[str, typer.Option(help="read (look only) or operator (may change things).")] = "read",
    db: DbOption = None,
) -> None:
    """Create a key and print it once (stdout: the key alone; stderr: how to use it).

    Only its hash is stored: a lost key cannot be shown again, revoke it and create another.
    """
    from vpp.api.auth import HEADER, create_key
    from vpp.service.db import make_engine, session_factory, upgrade_schema
    from vpp.settings import database_url

    db = database_url(db)
    engine = make_engine(db)
    upgrade_schema(engine)
    with session_factory(engine).begin() as session:
        key = create_key(session, name, role)
    engine.dispose()
    print(key, flush=True)
    stderr.print(
        f"API key '{name}' ({role}), shown only this once. Send it in the {HEADER} header "
        f"(curl -H '{HEADER}: <key>' http://127.0.0.1:8000/api/me), or paste it into the dashboard's "
        "login at http://127.0.0.1:8000/ (vpp serve). Revoke it with: vpp apikey revoke --name "
        f"'{name}'",
        soft_wrap=True,
    )


@app.command("list")
@handles_errors
def list_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the keys: name, role, first characters, when created and when revoked (never the key)."""
    from rich.table import Table

    from vpp.api.auth import list_keys
    from vpp.service.db import make_engine, session_factory, upgrade_schema
    from vpp.settings import database_url

    db = database_url(db)
    engine = make_engine(db)
    upgrade_schema(engine)
    with session_factory(engine)() as session:
        rows = [
            {
                "name": k.name,
                "role": k.role,
                "prefix": k.key_prefix,
                "created_at": k.created_at.isoformat(),
                "revoked_at": None if k.revoked_at is None else k.revoked_at.isoformat(),
            }
            for k in list_keys(session)
        ]
    engine.dispose()
    if as_json:
        print(json.dumps(rows, indent=1))
        return
    table = Table(title=f"API keys ({sum(r['revoked_at'] is None for r in rows)} active)")
    for column in ("name", "role", "prefix", "created", "revoked"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["name"], r["role"], r["prefix"] + "...", r["created_at"][:19], (r["revoked_at"] or "-")[:19]
        )
    stdout.print(table)


@app.command("revoke")
@handles_errors
def revoke_command(
    name: Annotated[str, typer.Option(help="Name of the key to revoke (see vpp apikey list).")],
    db: DbOption = None,
) -> None:
    """Revoke a key: its requests get 401 from now on (the row stays, marked revoked)."""
    from vpp.api.auth import revoke_key
    from vpp.service.db import make_engine, session_factory, upgrade_schema
    from vpp.settings import database_url

    db = database_url(db)
    engine = make_engine(db)
    upgrade_schema(engine)
    with session_factory(engine).begin() as session:
        row = revoke_key(session, name)
        prefix = row.key_prefix
    engine.dispose()
    stdout.print(f"revoked API key '{name}' ({prefix}...)")
