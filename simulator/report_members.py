"""The report's "Revenue by asset": what each member earns, the figures of ``members.csv``.

One rule for the report and ``members.csv`` (:mod:`simulator.members`): every asset is paid its
own metered energy at the real-time price and shares the fleet's DA-minus-RT, contract and
penalty legs pro rata to ``|energy|``. The table shows each member's revenue to the fen, as
``members.csv`` does, and the members add up to the fleet's revenue; the chart splits each
revenue into those two parts.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from market.money import to_fen
from simulator.members import member_revenue_parts
from simulator.report_html import fixed, strategy_label


def members_by_asset(settlement: pd.DataFrame, fleet: pd.DataFrame, assets: pd.DataFrame) -> dict[str, Any]:
    """What each asset earns over a strategy's run, JSON-ready (money in whole fen, as ``members.csv``).

    Returns
    -------
    dict
        ``assets``: asset id -> ``revenue`` (its ``members.csv`` revenue), ``own_energy`` (its
        metered energy at the settled RT price) and ``fleet_share`` (``revenue - own_energy``), in
        money, and ``energy_mwh`` (net export, MWh); ``total``: the fleet's revenue (the sum of
        the assets' revenues, to the fen).
    """
    parts = member_revenue_parts(settlement, fleet, assets)
    members = {
        str(row.asset_id): {
            "energy_mwh": float(row.energy_mwh),
            "own_energy": float(row.own_energy),
            "fleet_share": float(row.fleet_share),
            "revenue": float(row.revenue),
        }
        for row in parts.itertuples(index=False)
    }
    return {"assets": members, "total": float(to_fen(settlement["revenue"]).sum()) / 100.0}


def attribution_table(attribution: dict[str, dict[str, Any]], strategies: list[str], lang: str) -> str:
    """The table: one row per asset, one column per strategy, its revenue to the fen; then the total."""
    assets = list(dict.fromkeys(a for n in strategies for a in attribution[n]["assets"]))
    head = "".join(f"<th>{strategy_label(n, lang)}</th>" for n in strategies)
    rows = []
    for asset in assets:
        shown = (attribution[n]["assets"].get(asset, {}).get("revenue") for n in strategies)
        cells = "".join(f"<td>{_to_the_fen(revenue)}</td>" for revenue in shown)
        rows.append(f"<tr><th scope='row'>{html.escape(asset)}</th>{cells}</tr>")
    totals = "".join(f"<td>{_to_the_fen(attribution[n]['total'])}</td>" for n in strategies)
    rows.append(f"<tr class='total'><th scope='row'>{fixed('total', lang)}</th>{totals}</tr>")
    return (
        f"<div class='table-box'><table id='attribution'>"
        f"<thead><tr><th>{fixed('asset', lang)}</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _to_the_fen(money: float | None) -> str:
    """``1,234.50``: money as ``members.csv`` holds it; ``-`` for an asset a strategy did not have."""
    return "-" if money is None else f"{money:,.2f}"
