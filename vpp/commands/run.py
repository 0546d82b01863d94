"""``vpp run``: the unattended service (APScheduler + database), or one simulated trading day."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from vpp.console import handles_errors, stdout
from vpp.errors import InputError
from vpp.price_input import PricesTzOption, check_prices_options
from vpp.service.config import ServiceConfig

SET = "VPP_* environment, settings file, or the README default"


@handles_errors
def run_command(
    portfolio: Annotated[Path, typer.Option(help="Portfolio file (YAML or JSON).")],
    db: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy database URL, best without password (VPP_DB_PASSWORD).",
                     show_default=SET),
    ] = None,
    inbox: Annotated[
        Path | None,
        typer.Option(help="Folder where price and telemetry files arrive (created).", show_default=SET),
    ] = None,
    outbox: Annotated[
        Path | None, typer.Option(help="Folder for setpoint and bid files (created).", show_default=SET)
    ] = None,
    dispatch_lead: Annotated[
        float | None, typer.Option(help="Dispatch this long before each period (s).", show_default=SET)
    ] = None,
    bid_lead: Annotated[
        float | None, typer.Option(help="Bid this long before the gate closure (s).", show_default=SET)
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Dispatch solver time limit (s); default a quarter period.")
    ] = None,
    simulate: Annotated[
        str | None, typer.Option(help="Simulate from this trading day YYYY-MM-DD.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Number of consecutive days to simulate.")] = 1,
    prices: Annotated[Path | None, typer.Option(help="Replay prices for --simulate (CSV/Parquet).")] = None,
    prices_tz: PricesTzOption = None,
    prices_label: Annotated[
        str, typer.Option(help="Replay file rows labelled by period 'start' (CONVENTIONS) or 'end'.")
    ] = "start",
    day_seconds: Annotated[float, typer.Option(help="Wall seconds per simulated day.")] = 30.0,
    until: Annotated[str | None, typer.Option(help="Stop the last simulated day at HH:MM.")] = None,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="If another vpp run holds this database, wait and take over when it stops or dies "
            "(default: refuse).",
        ),
    ] = False,
    log_level: Annotated[str | None, typer.Option(help="Logging level.", show_default=SET)] = None,
    log_format: Annotated[
        str | None, typer.Option(help="Logs on stderr: json (an object a line) or text.", show_default=SET)
    ] = None,
) -> None:
    """Start the dispatch service: day-ahead bid before gate closure, dispatch every period,
    ingestion of the inbox and daily settlement, with the schema upgraded to the latest version.

    With --simulate DAY --prices FILE [--days N], drive the real scheduler through N consecutive
    trading days on an accelerated clock against replayed prices and telemetry, then print a JSON
    summary. Run it again on the same database after a crash and it resumes where it stopped.

    One database has one active scheduler: a second vpp run (service or simulation) on a database
    another one holds refuses with the holder's host and pid, or with --standby waits and takes
    over as soon as the holder stops or dies.

    Settings not given as options come from VPP_* environment variables or the settings file
    (README, "Settings"). The inbox and outbox folders are created; the service prints where it
    looks. Logs go to stderr as JSON lines with the job, trading day and period (market zone).
    """
    from vpp import option_checks as check

    if time_limit is not None:
        check.positive_seconds(time_limit)
    check.positive_seconds(day_seconds, "--day-seconds")
    from vpp.logs import configure_logging
    from vpp.portfolio_io import load_portfolio
    from vpp.settings import database_url, load_settings

    db_url = database_url(db)
    settings = load_settings(
        inbox=inbox, outbox=outbox, dispatch_lead_s=dispatch_lead, bid_lead_s=bid_lead,
        dispatch_time_limit_s=time_limit, log_level=log_level, log_format=log_format,
    )
    market = load_portfolio(portfolio).market
    configure_logging(settings.log_level, settings.log_format, market.timezone)
    for folder in (settings.inbox, settings.outbox):
        folder.mkdir(parents=True, exist_ok=True)
    config = ServiceConfig(
        db_url=db_url,
        portfolio=str(portfolio),
        inbox=str(settings.inbox),
        outbox=str(settings.outbox),
        dispatch_lead_s=settings.dispatch_lead_s,
        bid_lead_s=settings.bid_lead_s,
        solver_time_limit_s=settings.dispatch_time_limit_s,
        bid_time_limit_s=settings.bid_time_limit_s,
    )
    lead = settings.dispatch_lead_s
    config = dataclasses.replace(config, ingest_lead_s=max(config.ingest_lead_s, 2 * lead))
    if simulate is None:
        from vpp.service.scheduler import serve

        stdout.print(
            f"vpp service: {portfolio} ({market.name}, {market.timezone}) on {_safe(db_url)}\n"
            f"  inbox  {settings.inbox.resolve()}  (prices, forecasts, telemetry; README: inbox)\n"
            f"  outbox {settings.outbox.resolve()}  (setpoints, bids)\n"
            "Ctrl-C to stop", soft_wrap=True,
        )
        serve(config, standby=standby)
        return
    if prices is None:
        raise InputError("--simulate needs --prices (the replayed price file)", field="--prices")
    try:
        day = dt.date.fromisoformat(simulate)
    except ValueError:
        raise InputError(f"'{simulate}' is not a date YYYY-MM-DD", field="--simulate") from None
    from vpp.service.simulate import simulate_days

    check_prices_options(prices_tz, prices_label)
    summary = simulate_days(
        config, day, days, str(prices), day_seconds=day_seconds, until=until, prices_tz=prices_tz,
        prices_label=prices_label, standby=standby,
    )
    print(json.dumps(summary, indent=1), flush=True)


def _safe(url: str) -> str:
    """The URL with its password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
