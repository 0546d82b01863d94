"""Options shared by several commands (kept free of heavy imports: ``vpp --help`` stays fast)."""

from __future__ import annotations

from typing import Annotated

import typer

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy database URL of the service, best without its password (VPP_DB_PASSWORD).",
        show_default="VPP_DB_URL, the settings file, or sqlite:///vpp.db",
    ),
]
"""``--db``: resolved by :func:`vpp.settings.database_url` (option, environment, settings file)."""
