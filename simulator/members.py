"""What each member (asset) of the fleet earns over a backtest: ``members.csv`` and the report's table.

One rule for both (:func:`market.attribution.attribute_to_assets`): every asset is paid its own
metered energy at the real-time price and shares the fleet's DA-minus-RT, contract and penalty
legs pro rata to ``|energy|``. The fleet's day-ahead position is the fleet's, not any asset's, so
no asset has a day-ahead leg of its own; the members add up to the fleet's revenue to the fen.
"""

from __future__ import annotations

import pandas as pd

from market.attribution import attribute_to_assets
from market.money import from_fen, round_fen, to_fen


def member_earnings(settlement: pd.DataFrame, fleet: pd.DataFrame, assets: pd.DataFrame) -> pd.DataFrame:
    """What each member of the fleet earns over a strategy's run (``members.csv``).

    Each period's settlement is attributed to the assets by
    :func:`market.attribution.attribute_to_assets`, then summed per asset.

    Parameters
    ----------
    settlement : pd.DataFrame
        The strategy's per-period settlement (:func:`market.settlement.settle_periods`).
    fleet : pd.DataFrame
        The strategy's fleet record, with ``dt_h`` (h) per period.
    assets : pd.DataFrame
        The strategy's asset record, long format: ``timestamp``, ``asset_id``, ``net_mw`` (MW).

    Returns
    -------
    pd.DataFrame
        ``asset_id``, ``energy_mwh`` (net export, MWh), ``revenue`` (money, whole fen), one row per
        asset in the portfolio's order; the revenues add up to the settlement's to the fen.
    """
    if assets.empty:
        return pd.DataFrame(columns=["asset_id", "energy_mwh", "revenue"])
    per_period = attribute_to_assets(settlement, asset_energy(settlement, fleet, assets))
    per_period["fen"] = to_fen(per_period["revenue"])
    sums = per_period.groupby("asset_id", sort=False)[["energy_mwh", "fen"]].sum()
    energy_mwh = sums["energy_mwh"].round(6).to_numpy()
    return pd.DataFrame({"asset_id": sums.index, "energy_mwh": energy_mwh, "revenue": from_fen(sums["fen"])})


def member_revenue_parts(settlement: pd.DataFrame, fleet: pd.DataFrame, assets: pd.DataFrame) -> pd.DataFrame:
    """:func:`member_earnings` with each member's revenue in its two parts (money, whole fen).

    Returns
    -------
    pd.DataFrame
        The columns of :func:`member_earnings` and ``own_energy`` (the asset's metered energy at
        the settled RT price, summed over the run) and ``fleet_share`` (``revenue - own_energy``:
        its share of the fleet's DA-minus-RT, contract and penalty legs).
    """
    members = member_earnings(settlement, fleet, assets)
    if members.empty:
        return members.assign(own_energy=pd.Series(dtype=float), fleet_share=pd.Series(dtype=float))
    energy = asset_energy(settlement, fleet, assets)
    p_rt = settlement.get("p_rt_settled", settlement["p_rt"])
    own_fen = round_fen(energy.mul(p_rt, axis=0).sum(axis=0).to_numpy() * 100.0)
    own_fen = pd.Series(own_fen, index=energy.columns).reindex(members["asset_id"]).to_numpy()
    share_fen = to_fen(members["revenue"]) - own_fen
    return members.assign(own_energy=from_fen(own_fen), fleet_share=from_fen(share_fen))


def asset_energy(settlement: pd.DataFrame, fleet: pd.DataFrame, assets: pd.DataFrame) -> pd.DataFrame:
    """Each asset's metered net export per period (MWh): one column per asset, on the settlement's index."""
    order = pd.unique(assets["asset_id"])
    net_mw = assets.pivot(index="timestamp", columns="asset_id", values="net_mw")
    return net_mw.reindex(index=settlement.index, columns=order).mul(fleet["dt_h"], axis=0)
