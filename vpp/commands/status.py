"""``vpp status``: last and next runs, last setpoints, fallbacks and dispatch gaps of the service."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

import typer

from vpp.commands.options import DbOption
from vpp.console import fit_table, handles_errors, stdout


@handles_errors
def status_command(
    db: DbOption = None,
    market: Annotated[
        str, typer.Option(help="Market preset name or market YAML file (zone and period).")
    ] = "shanxi",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the service's state from its database."""
    from market.presets import load_market
    from vpp.service.db import make_engine, upgrade_schema
    from vpp.service.status import service_status
    from vpp.settings import database_url

    db = database_url(db)
    engine = make_engine(db)
    upgrade_schema(engine)
    spec = load_market(market)
    status = in_market_zone(service_status(engine, spec), spec.timezone)
    engine.dispose()
    if as_json:
        print(json.dumps(status, indent=1, default=str))
        return
    rows = []
    for job, info in status["jobs"].items():
        last = info.get("last_run") or {}
        rows.append([job, _short(last.get("period")), _run_status(last), _short(last.get("finished_at")),
                     _short(info.get("next_run"))])
    header = ["job", "last period", "status", "finished", "next run"]
    for table in fit_table(f"vpp service (times {spec.timezone})", header, rows):
        stdout.print(table)
    lease = status.get("lease")
    if lease is None:
        stdout.print("lease: no scheduler has ever run on this database")
    else:
        state = "held" if lease["held"] else "NOT HELD (last holder)"
        stdout.print(
            f"lease: {state} by vpp run ({lease['mode']}) on {lease['host']}, pid {lease['pid']}, "
            f"since {lease['acquired_at']}, heartbeat {lease['heartbeat_at']}",
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
        stdout.print(f"ALERT {alert['kind']}: {alert['message']}")


_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")


def in_market_zone(value: Any, timezone: str) -> Any:
    """``value`` with every instant in ``timezone`` (ISO 8601, offset marked, whole seconds) and every
    float rounded to 6 decimals (no ``-1.0000000000000002``), through dicts and lists."""
    import datetime as dt

    import pandas as pd

    if isinstance(value, dict):
        return {k: in_market_zone(v, timezone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [in_market_zone(v, timezone) for v in value]
    if isinstance(value, float):
        return round(value, 6) + 0.0  # + 0.0: no -0.0
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp  # the database stores UTC
        return stamp.tz_convert(timezone).floor("s").isoformat()
    return value


def _run_status(last: dict[str, Any]) -> str:
    """A run's status with what its solve said when that was not a proven optimum: ``ok (repaired)``,
    ``ok (feasible)`` (a MIP stopped at its time limit), ``fallback (timeout)``."""
    status, solver = last.get("status"), last.get("solver_status")
    if status is None:
        return "-"
    if (last.get("termination") or "").startswith("Repaired"):
        return f"{status} (repaired)"
    return f"{status} ({solver})" if solver not in (None, "optimal") else str(status)


def _short(value: Any) -> str:
    """An instant as ``YYYY-MM-DD HH:MM`` (its zone is in the title), anything else as text."""
    if isinstance(value, str) and _ISO_INSTANT.match(value):
        return value[:16].replace("T", " ")
    return "-" if value is None else str(value)
