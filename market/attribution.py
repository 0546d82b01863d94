"""Attribution of the fleet's settlement to the assets that produced it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from market.money import from_fen, round_fen, to_fen
from market.settlement_checks import check_aligned, finite_values, settlement_frame
from vpp.errors import InputError

# --------------------------------------------------------------------------------------------


def attribute_to_assets(
    settlement: pd.DataFrame, asset_actual_mwh: pd.DataFrame, *, tol_mwh: float = 1e-6
) -> pd.DataFrame:
    """Split each period's fleet revenue among the assets that produced it.

    The day-ahead position belongs to the fleet, not to any asset, so an asset's own deviation
    cannot be settled. Instead, per period ``t`` and asset ``a``::

        w[a, t]       = |x[a, t]| / sum_b |x[b, t]|        (1 / n_assets when all x[., t] are 0)
        fleet_rest[t] = q_da[t] * (p_da[t] - p_rt_settled[t]) + contract_revenue[t] - penalty[t]
        revenue[a, t] = x[a, t] * p_rt_settled[t] + w[a, t] * fleet_rest[t]

    where ``x`` is the asset's metered net export. Every asset is paid its own energy at the
    real-time price, and the fleet's DA-minus-RT, contract and penalty legs are shared pro rata
    to the magnitude of each asset's energy. Summed over assets this is exactly the fleet
    revenue of :func:`settle_periods` (since ``sum_a x[a, t] = q_actual[t]``).

    Each asset's revenue is rounded to the fen; the rounding residue of the period (a few fen at
    most) goes to the asset with the largest ``|x[a, t]|`` (the first such column on ties), so
    the per-asset revenues add up to the fleet ``revenue`` exactly to the fen.

    Parameters
    ----------
    settlement : DataFrame
        The result of :func:`settle_periods`. ``p_rt_settled`` is used where present, else
        ``p_rt``.
    asset_actual_mwh : DataFrame, MWh per period
        One column per asset id, metered net export (positive = to the grid), on the index of
        ``settlement``. Per period the columns must add up to ``settlement["q_actual_mwh"]``.
    tol_mwh : float, MWh
        Allowed gap between the sum of the assets and the fleet's metered energy, per period
        (``max(tol_mwh, 1e-9 * |q_actual|)``).

    Returns
    -------
    DataFrame
        Long format, one row per (period, asset) in time then column order, columns
        ``timestamp``, ``asset_id``, ``energy_mwh`` (MWh) and ``revenue`` (yuan, whole fen).

    Raises
    ------
    vpp.errors.InputError
        ``asset_actual_mwh`` is not a DataFrame, has no or repeated columns, is not on the
        settlement's index, holds NaN or non-numeric values, or does not add up to the fleet's
        metered energy. The message names the field (``asset_actual_mwh[<asset>]`` for a value)
        and the first offending timestamp.
    """
    settlement = settlement_frame(settlement)
    index = settlement.index
    field = "asset_actual_mwh"
    if not isinstance(asset_actual_mwh, pd.DataFrame):
        raise InputError(
            f"must be a DataFrame with one column per asset, got {type(asset_actual_mwh).__name__}",
            field=field,
        )
    if asset_actual_mwh.shape[1] == 0:
        raise InputError("has no asset columns", field=field)
    repeated = asset_actual_mwh.columns[asset_actual_mwh.columns.duplicated()]
    if len(repeated):
        raise InputError(f"asset column {repeated[0]!r} is repeated", field=field)
    check_aligned(asset_actual_mwh.index, index, field, "settlement")
    x = np.column_stack(
        [
            finite_values(asset_actual_mwh.iloc[:, j].set_axis(index), f"{field}[{col}]")
            for j, col in enumerate(asset_actual_mwh.columns)
        ]
    )  # (periods, assets)

    q_act = settlement["q_actual_mwh"].to_numpy(dtype=float)
    gap = np.abs(x.sum(axis=1) - q_act)
    bad = gap > np.maximum(tol_mwh, 1e-9 * np.abs(q_act))
    if bad.any():
        position = int(np.argmax(bad))
        raise InputError(
            f"assets add up to {x[position].sum():.6f} MWh but the fleet's q_actual_mwh is "
            f"{q_act[position]:.6f} MWh",
            field=field,
            timestamp=index[position],
        )

    p_rt = settlement.get("p_rt_settled", settlement["p_rt"]).to_numpy(dtype=float)
    q_da = settlement["q_da_mwh"].to_numpy(dtype=float)
    p_da = settlement["p_da"].to_numpy(dtype=float)
    rest_fen = (
        q_da * (p_da - p_rt) * 100.0
        + to_fen(settlement["contract_revenue"])
        - to_fen(settlement["penalty"])
    )
    magnitude = np.abs(x)
    total = magnitude.sum(axis=1, keepdims=True)
    n_assets = x.shape[1]
    weight = np.divide(
        magnitude, total, out=np.full_like(magnitude, 1.0 / n_assets), where=total > 0
    )
    asset_fen = round_fen(x * p_rt[:, None] * 100.0 + weight * rest_fen[:, None])
    residue = to_fen(settlement["revenue"]) - asset_fen.sum(axis=1)
    largest = np.argmax(magnitude, axis=1)
    asset_fen[np.arange(len(index)), largest] += residue

    return pd.DataFrame(
        {
            "timestamp": index.repeat(n_assets),
            "asset_id": np.tile(asset_actual_mwh.columns.to_numpy(dtype=object), len(index)),
            "energy_mwh": x.reshape(-1),
            "revenue": from_fen(asset_fen.reshape(-1)),
        }
    )
