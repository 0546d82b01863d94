"""``vpp dispatch``: one real-time dispatch step by hand, through the service pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vpp.commands.options import DbOption
from vpp.console import handles_errors
from vpp.errors import InputError
from vpp.service.config import ServiceConfig


@handles_errors
def dispatch_command(
    at: Annotated[str, typer.Option(help="Instant to dispatch at (ISO 8601; without offset: market zone).")],
    portfolio: Annotated[Path, typer.Option(help="Portfolio file (YAML or JSON).")],
    db: DbOption = None,
    inbox: Annotated[Path, typer.Option(help="Inbox folder (ingested first).")] = Path("inbox"),
    outbox: Annotated[Path, typer.Option(help="Outbox folder for the setpoint files.")] = Path("outbox"),
    lead: Annotated[float, typer.Option(help="Dispatch lead (s): the period containing AT + lead.")] = 0.0,
) -> None:
    """Ingest the inbox and dispatch the period containing AT (+ lead), as the scheduled job would.

    Idempotent: a period already dispatched is reported as skipped and not written again.
    """
    import pandas as pd

    from vpp.service.db import make_engine, upgrade_schema
    from vpp.service.pipeline import Pipeline
    from vpp.settings import database_url

    db = database_url(db)
    config = ServiceConfig(
        db_url=db, portfolio=str(portfolio), inbox=str(inbox), outbox=str(outbox), dispatch_lead_s=lead
    ).with_paths_resolved()
    engine = make_engine(db)
    upgrade_schema(engine)
    pipeline = Pipeline(config, engine)
    try:
        stamp = pd.Timestamp(at)
    except ValueError:
        raise InputError(f"cannot parse '{at}' as a timestamp", field="--at") from None
    if stamp.tz is None:
        stamp = stamp.tz_localize(pipeline.market.timezone)
    pipeline.ingest(stamp)
    print(json.dumps(pipeline.dispatch_period(stamp), indent=1, default=str))
    engine.dispose()
