"""``vpp validate``: check a portfolio file and show its assets and its flexibility for one day."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from vpp.console import handles_errors, print_warning, stdout

if TYPE_CHECKING:  # heavy modules are imported where used: `vpp --help` stays fast
    import numpy as np

    from vpp.envelope import Envelope
    from vpp.portfolio_io import LoadedPortfolio


@handles_errors
def validate_command(
    portfolio: Annotated[Path, typer.Argument(help="Portfolio file (YAML or JSON).")],
    day: Annotated[
        dt.datetime | None,
        typer.Option(
            "--day",
            formats=["%Y-%m-%d"],
            help="Trading day of the envelope, YYYY-MM-DD. Default: the first full day of the "
            "profiles, or today in the market zone.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print assets, grid and the per-period envelope as JSON.")
    ] = False,
) -> None:
    """Validate PORTFOLIO; print its assets, grid limits and the day's flexibility envelope."""
    from market.calendar import period_hours, trading_day_index
    from vpp.envelope import flexibility_envelope
    from vpp.portfolio_io import load_portfolio
    from vpp.profile_refs import default_day

    loaded = load_portfolio(portfolio)
    trading_day = day.date() if day is not None else default_day(loaded)
    index = trading_day_index(loaded.market, trading_day)
    envelope = flexibility_envelope(loaded, index)
    if as_json:
        dt_h = period_hours(index, loaded.market)
        print(json.dumps(_as_json(loaded, envelope, trading_day, dt_h), indent=1))
        return
    stdout.print(_asset_table(loaded))
    stdout.print(_connection_table(loaded))
    stdout.print(_envelope_table(envelope, loaded.market.period_minutes, trading_day))
    _print_totals(envelope, period_hours(index, loaded.market))
    for conflict in envelope.conflicts:
        print_warning(conflict)
    stdout.print(Text.assemble(("ok", "green"), f": {loaded.path} is a valid portfolio"), soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# Asset summary


def _asset_rows(loaded: LoadedPortfolio) -> list[tuple[str, int, float, float | None, str]]:
    """One row per asset type present: type, count, total power (MW), total energy (MWh), notes
    (each family's ``AssetFamily.summary``)."""
    from vpp.assets.registry import FAMILIES

    p = loaded.portfolio
    rows = []
    for asset_type, family in FAMILIES.items():
        specs = p.assets_of(asset_type)
        if specs:
            summary = family.summary(specs, lambda ref: _peak(loaded, ref))
            rows.append((asset_type, len(specs), summary.power_mw, summary.energy_mwh, summary.notes))
    return rows


def _asset_table(loaded: LoadedPortfolio) -> Table:
    """One row per asset type: count, total power (MW), total energy (MWh), notes."""
    p = loaded.portfolio
    table = Table(title=f"Portfolio {p.name!r}: {len(p.assets)} assets")
    for header in ("type", "count", "power MW", "energy MWh", "notes"):
        table.add_column(header, justify="left" if header in ("type", "notes") else "right",
                         no_wrap=header != "notes")
    for asset_type, count, power, energy, notes in _asset_rows(loaded):
        energy_text = "" if energy is None else f"{energy:.2f}"
        table.add_row(asset_type, str(count), f"{power:.2f}", energy_text, notes)
    return table


def _as_json(loaded: LoadedPortfolio, envelope: Envelope, day: dt.date, dt_h: np.ndarray) -> dict:
    """What the tables show, as plain data: assets by type, grid, the per-period envelope (MW)."""
    from market.calendar import format_timestamps

    p, market = loaded.portfolio, loaded.market
    frame = envelope.per_period
    periods = frame.round(6).assign(timestamp=format_timestamps(frame.index))
    return {
        "valid": True,
        "portfolio": p.name,
        "file": str(loaded.path),
        "market": {"name": market.name, "timezone": market.timezone, "period_minutes": market.period_minutes},
        "grid": {"import_limit_mw": p.grid.import_limit_mw, "export_limit_mw": p.grid.export_limit_mw},
        "group_limits": {name: {"import_limit_mw": g.import_limit_mw, "export_limit_mw": g.export_limit_mw}
                         for name, g in p.group_limits.items()},
        "assets": [{"type": t, "count": n, "power_mw": round(pw, 6),
                    "energy_mwh": None if e is None else round(e, 6), "notes": notes}
                   for t, n, pw, e, notes in _asset_rows(loaded)],
        "day": day.isoformat(),
        "baseline_net_energy_mwh": round(float(frame["baseline_mw"].to_numpy() @ dt_h), 6),
        "adjustable_mw": round(envelope.adjustable_mw, 6),
        "shiftable_energy_mwh": round(envelope.shiftable_energy_mwh, 6),
        "conflicts": list(envelope.conflicts),
        "envelope": periods[["timestamp", *frame.columns]].to_dict(orient="records"),
    }


def _peak(loaded: LoadedPortfolio, ref: float | list[float] | str) -> float:
    """Largest value of a profile reference (over the whole profile file for a column)."""
    import numpy as np

    if isinstance(ref, str):
        return float(loaded.profiles[ref].max()) if loaded.profiles is not None else float("nan")
    return float(np.max(ref))


def _connection_table(loaded: LoadedPortfolio) -> Table:
    """Market, grid and group limits, and the profile files."""
    p, market = loaded.portfolio, loaded.market
    table = Table(title="Market and grid connection", show_header=False)
    table.add_column("item")
    table.add_column("value")
    table.add_row("market", f"{market.name} ({market.timezone}, {market.period_minutes}-minute periods)")
    table.add_row("grid", f"import <= {p.grid.import_limit_mw:g} MW, "
                          f"export <= {p.grid.export_limit_mw:g} MW")
    for name, limit in p.group_limits.items():
        members = ", ".join(a.id for a in p.assets if a.group == name)
        table.add_row(f"group {name}", f"import <= {limit.import_limit_mw:g} MW, export <= "
                                       f"{limit.export_limit_mw:g} MW ({members})")
    if loaded.profiles is not None:
        profiles = loaded.profiles
        span = f"{profiles.index[0]:%Y-%m-%d %H:%M} to {profiles.index[-1]:%Y-%m-%d %H:%M}"
        table.add_row("profiles", f"{span}: {', '.join(profiles.columns)}")
    return table


# ---------------------------------------------------------------------------------------------
# Envelope


def _envelope_table(envelope: Envelope, period_minutes: int, day: dt.date) -> Table:
    """Hourly means of the envelope (one row per period when periods are an hour or longer)."""
    import numpy as np

    frame = envelope.per_period
    per_row = max(1, 60 // period_minutes)
    block = np.arange(len(frame)) // per_row
    hourly = frame.groupby(block).mean()
    hourly.index = [frame.index[i].strftime("%H:%M") for i in range(0, len(frame), per_row)]
    table = Table(title=f"Flexibility envelope {day} (MW, hourly mean; export +)")
    table.add_column("from", justify="left")
    for header in ("max export", "max import", "baseline", "up", "down"):
        table.add_column(header, justify="right")
    for label, row in hourly.iterrows():
        table.add_row(str(label), *(f"{v:.2f}" for v in row.to_numpy()))
    return table


def _print_totals(envelope: Envelope, dt_h: np.ndarray) -> None:
    frame = envelope.per_period
    baseline_mwh = float(frame["baseline_mw"].to_numpy() @ dt_h)
    stdout.print(
        f"baseline net energy {baseline_mwh:.2f} MWh (export +); "
        f"max export {frame['max_export_mw'].max():.2f} MW, "
        f"max import {frame['max_import_mw'].max():.2f} MW; "
        f"up {frame['up_mw'].min():.2f}..{frame['up_mw'].max():.2f} MW, "
        f"down {frame['down_mw'].min():.2f}..{frame['down_mw'].max():.2f} MW",
        soft_wrap=True,
    )
    stdout.print(
        f"adjustable capacity {envelope.adjustable_mw:.2f} MW (largest one-way move from the "
        f"baseline); shiftable energy {envelope.shiftable_energy_mwh:.2f} MWh",
        soft_wrap=True,
    )
