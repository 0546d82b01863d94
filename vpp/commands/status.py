"""``vpp status``: last and next runs, last setpoints, fallbacks and dispatch gaps of the service."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from vpp.console import handles_errors, stdout
from vpp.service.config import DEFAULT_DB_URL


@handles_errors
def status_command(
    db: Annotated[str, typer.Option(help="SQLAlchemy database URL of the service.")] = DEFAULT_DB_URL,
    market: Annotated[
        str, typer.Option(help="Market preset name or market YAML file (zone and period).")
    ] = "shanxi",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the service's state from its database."""
    from market.presets import load_market
    from vpp.service.db import make_engine, upgrade_schema
    from vpp.service.status import service_status

    engine = make_engine(db)
    upgrade_schema(engine)
    status = service_status(engine, load_market(market))
    engine.dispose()
    if as_json:
        print(json.dumps(status, indent=1, default=str))
        return
    table = Table(title="vpp service")
    for column in ("job", "last period", "status", "finished", "next run"):
        table.add_column(column)
    for job, info in status["jobs"].items():
        last = info.get("last_run") or {}
        table.add_row(
            job,
            str(last.get("period", "-")),
            str(last.get("status", "-")),
            str(last.get("finished_at", "-")),
            str(info.get("next_run", "-")),
        )
    stdout.print(table)
    lease = status.get("lease")
    if lease is None:
        stdout.print("lease: no scheduler has ever run on this database", markup=False)
    else:
        state = "held" if lease["held"] else "NOT HELD (last holder)"
        stdout.print(
            f"lease: {state} by vpp run ({lease['mode']}) on {lease['host']}, pid {lease['pid']}, "
            f"since {lease['acquired_at']}, heartbeat {lease['heartbeat_at']}",
            markup=False,
        )
    gap = status["dispatch_gap"]
    if gap["overdue_periods"]:
        stdout.print(
            f"[bold red]dispatch gap:[/] {gap['overdue_periods']} period(s) passed undispatched since "
            f"{gap['since']} (last dispatched {gap['last_dispatched']})"
        )
    for row in status["last_setpoints"]:
        stdout.print(
            f"setpoint {row['period_start']} {row['asset_id']}: {row['setpoint_mw']:.3f} MW ({row['source']})"
        )
    stdout.print(f"fallbacks: {status['fallback_count']}")
    for row in status["fallbacks"][:5]:
        stdout.print(f"  {row['period']}: {row['reason']}")
    stdout.print(f"gaps: {len(status['gaps'])}" + (f" (first {status['gaps'][0]})" if status["gaps"] else ""))
    for alert in status.get("alerts", []):
        stdout.print(f"ALERT {alert['kind']}: {alert['message']}", markup=False)
