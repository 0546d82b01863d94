"""Two-settlement energy arithmetic per period (attribution to assets: ``market.attribution``).

Pure functions of pandas Series and DataFrames. Units and signs follow ``CONVENTIONS.md``: energy
in MWh per period, positive = net export to the grid; prices in yuan/MWh (negative allowed, the
markets that forbid them check that elsewhere); money in yuan, positive = the VPP is paid.

Money is settled to the fen (0.01 yuan). Each leg is rounded on its own (half away from zero,
四舍五入) and the total is the sum of the rounded legs, so the legs always add up to the total.
Money columns are float64 yuan that hold a whole number of fen; compare or add them exactly with
:func:`to_fen`, which turns them into int64 fen.

Rules behind the formulas: ``shared/MARKET_RULES.md`` section 4.1 (CfD against the DA price,
deviation at the RT price), 4.2 (deviation handling) and 1.4 (RT circuit breaker).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from market.money import from_fen, to_fen
from market.settlement_checks import (
    MONEY_COLUMNS,
    SETTLEMENT_COLUMNS,
    check_aligned,
    check_time_index,
    finite_values,
    scalar_or_series,
    series_values,
)
from vpp.errors import InputError

__all__ = [
    "MONEY_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "from_fen",
    "settle_periods",
    "to_fen",
]

# --------------------------------------------------------------------------------------------
# settlement
# --------------------------------------------------------------------------------------------


def settle_periods(
    q_da_mwh: pd.Series,
    q_actual_mwh: pd.Series,
    p_da: pd.Series,
    p_rt: pd.Series,
    *,
    q_contract_mwh: pd.Series | None = None,
    p_contract: pd.Series | float | None = None,
    penalty_band_frac: float | None = None,
    penalty_price: pd.Series | float = 0.0,
    market_suspended: pd.Series | None = None,
    administrative_price: pd.Series | None = None,
    contract_reference: Literal["da", "rt"] = "da",
) -> pd.DataFrame:
    """Settle each period of the two-settlement market (day-ahead, real-time, CfD, penalty).

    Per period ``t`` (``CONVENTIONS.md``, MARKET_RULES 4.1)::

        da_revenue[t]       = q_da[t] * p_da[t]
        rt_revenue[t]       = (q_actual[t] - q_da[t]) * p_rt_settled[t]
        contract_revenue[t] = q_contract[t] * (p_contract[t] - p_ref[t])   (p_ref = p_da in Shanxi)
        penalty[t]          = penalty_price[t] * max(|q_actual[t] - q_da[t]| - band * |q_da[t]|, 0)
        revenue[t]          = da_revenue[t] + rt_revenue[t] + contract_revenue[t] - penalty[t]

    Each of the four legs is rounded to the fen (0.01 yuan, half away from zero, see
    :func:`to_fen`) and ``revenue`` is the sum of the rounded legs, so the legs add up to the
    total exactly to the fen in every period.

    Deviation penalty (MARKET_RULES 4.2): Shanxi has no tolerance band for wholesale spot energy;
    deviations are priced at the real-time price only (4.2 item 1), so the penalty is off by
    default (``penalty_band_frac=None``). Markets with a band pass its width as a fraction of the
    DA position: the part of the absolute deviation beyond ``band * |q_da|`` pays
    ``penalty_price`` on top of the RT deviation leg, whichever the direction of the deviation.
    ``penalty`` is a positive amount the VPP pays.

    Real-time circuit breaker (熔断, MARKET_RULES 1.4): in periods where ``market_suspended`` is
    true the real-time leg settles at ``administrative_price`` instead of ``p_rt``. When (and only
    when) ``market_suspended`` is given, the result has a column ``p_rt_settled`` (after ``p_rt``)
    with the price the RT leg used; ``p_rt`` keeps the published price. The DA, contract and
    penalty legs are unchanged by a suspension.

    Parameters
    ----------
    q_da_mwh : Series, MWh per period
        Day-ahead cleared net export (positive = to the grid). Its tz-aware ``DatetimeIndex`` of
        period starts is the index every other Series must match (same instants, same order; any
        zone).
    q_actual_mwh : Series, MWh per period
        Metered net export.
    p_da : Series, yuan/MWh
        Day-ahead clearing price.
    p_rt : Series, yuan/MWh
        Real-time clearing price.
    q_contract_mwh : Series, MWh per period, optional
        Medium/long-term contract-for-difference quantity (net export). Needs ``p_contract``.
    p_contract : float or Series, yuan/MWh, optional
        Contract price. Needs ``q_contract_mwh``.
    penalty_band_frac : float, optional
        Tolerance band as a fraction of ``|q_da|`` (``>= 0``). ``None`` (default): no penalty.
    penalty_price : float or Series, yuan/MWh
        Price of deviation beyond the band (``>= 0``). Must be 0 when ``penalty_band_frac`` is
        ``None``.
    market_suspended : Series of bool, optional
        True where the real-time market is suspended. Needs ``administrative_price``.
    administrative_price : Series, yuan/MWh, optional
        Price of the real-time leg in suspended periods; may be NaN where the market is not
        suspended.
    contract_reference : {"da", "rt"}
        Spot price the contract for difference settles against (``MarketSpec.settlement.
        contract_reference_price``): ``"da"`` (default, Shanxi, MARKET_RULES 4.1) or ``"rt"``
        (the RT price as settled, i.e. ``p_rt_settled``).

    Returns
    -------
    DataFrame
        Index ``timestamp`` (that of ``q_da_mwh``), columns ``q_da_mwh``, ``q_actual_mwh`` (MWh),
        ``p_da``, ``p_rt``, [``p_rt_settled``] (yuan/MWh), ``da_revenue``, ``rt_revenue``,
        ``contract_revenue``, ``penalty``, ``revenue`` (yuan, whole fen).

    Raises
    ------
    vpp.errors.InputError
        An input is not a Series, its index is not tz-aware, unique and increasing, it does not
        hold the timestamps of ``q_da_mwh`` (misaligned or of another length), it holds NaN,
        infinite or non-numeric values, or the options are inconsistent. The message names the
        field and, where there is one, the first offending timestamp.
    """
    if not isinstance(q_da_mwh, pd.Series):
        raise InputError(
            f"must be a pandas Series indexed by timestamp, got {type(q_da_mwh).__name__}",
            field="q_da_mwh",
        )
    index = check_time_index(q_da_mwh.index, "q_da_mwh")
    q_da = finite_values(q_da_mwh, "q_da_mwh")
    q_act = series_values(q_actual_mwh, index, "q_actual_mwh")
    pda = series_values(p_da, index, "p_da")
    prt = series_values(p_rt, index, "p_rt")
    suspended, prt_settled = _rt_settlement_price(
        prt, index, market_suspended, administrative_price
    )
    q_con, p_con = _contract_terms(index, q_contract_mwh, p_contract)
    if contract_reference not in ("da", "rt"):
        raise InputError(
            f"must be 'da' or 'rt', got {contract_reference!r}", field="contract_reference"
        )
    p_ref = pda if contract_reference == "da" else prt_settled
    band, p_pen = _penalty_terms(index, penalty_band_frac, penalty_price)

    deviation = q_act - q_da
    excess = np.maximum(np.abs(deviation) - band * np.abs(q_da), 0.0)

    da_fen = to_fen(q_da * pda)
    rt_fen = to_fen(deviation * prt_settled)
    contract_fen = to_fen(q_con * (p_con - p_ref))
    penalty_fen = to_fen(excess * p_pen)
    revenue_fen = da_fen + rt_fen + contract_fen - penalty_fen

    columns: dict[str, np.ndarray] = {
        "q_da_mwh": q_da,
        "q_actual_mwh": q_act,
        "p_da": pda,
        "p_rt": prt,
    }
    if suspended is not None:
        columns["p_rt_settled"] = prt_settled
    columns |= {
        "da_revenue": from_fen(da_fen),
        "rt_revenue": from_fen(rt_fen),
        "contract_revenue": from_fen(contract_fen),
        "penalty": from_fen(penalty_fen),
        "revenue": from_fen(revenue_fen),
    }
    return pd.DataFrame(columns, index=index.rename("timestamp"))


def _require_pair(first: object, second: object, names: tuple[str, str]) -> None:
    """Two options that only work together: both given or neither."""
    if (first is None) != (second is None):
        given, needed = names if second is None else names[::-1]
        raise InputError(f"{given} is given, so {needed} is needed too", field=needed)


def _rt_settlement_price(
    p_rt: np.ndarray,
    index: pd.DatetimeIndex,
    market_suspended: pd.Series | None,
    administrative_price: pd.Series | None,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Suspension flags (None when not given) and the price of the RT leg (MARKET_RULES 1.4)."""
    _require_pair(
        market_suspended, administrative_price, ("market_suspended", "administrative_price")
    )
    if market_suspended is None:
        return None, p_rt
    field = "market_suspended"
    if not isinstance(market_suspended, pd.Series):
        raise InputError(
            "must be a pandas Series of bool indexed by timestamp, "
            f"got {type(market_suspended).__name__}",
            field=field,
        )
    check_aligned(market_suspended.index, index, field, "q_da_mwh")
    missing = market_suspended.isna().to_numpy()
    if missing.any():
        raise InputError("value is missing", field=field, timestamp=index[int(np.argmax(missing))])
    if not pd.api.types.is_bool_dtype(market_suspended.dtype):
        raise InputError(f"must be boolean, got dtype {market_suspended.dtype}", field=field)
    suspended = market_suspended.to_numpy(dtype=bool)
    p_admin = series_values(
        administrative_price, index, "administrative_price", allow_nan=~suspended
    )
    return suspended, np.where(suspended, p_admin, p_rt)


def _contract_terms(
    index: pd.DatetimeIndex, q_contract_mwh: pd.Series | None, p_contract: pd.Series | float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Contract quantity (MWh) and price (yuan/MWh) per period; zeros without a contract."""
    _require_pair(q_contract_mwh, p_contract, ("q_contract_mwh", "p_contract"))
    if q_contract_mwh is None:
        return np.zeros(len(index)), np.zeros(len(index))
    return (
        series_values(q_contract_mwh, index, "q_contract_mwh"),
        scalar_or_series(p_contract, index, "p_contract"),
    )


def _penalty_terms(
    index: pd.DatetimeIndex, penalty_band_frac: float | None, penalty_price: pd.Series | float
) -> tuple[float, np.ndarray]:
    """Tolerance band (fraction) and penalty price per period (yuan/MWh, MARKET_RULES 4.2)."""
    if penalty_band_frac is None:
        if isinstance(penalty_price, pd.Series) or penalty_price != 0:
            raise InputError(
                "a penalty price needs penalty_band_frac (0.0 for no tolerance)",
                field="penalty_band_frac",
            )
        return 0.0, np.zeros(len(index))
    if (
        isinstance(penalty_band_frac, bool)
        or not isinstance(penalty_band_frac, int | float | np.integer | np.floating)
        or not np.isfinite(penalty_band_frac)
        or penalty_band_frac < 0
    ):
        raise InputError(
            f"must be a finite number >= 0, got {penalty_band_frac!r}", field="penalty_band_frac"
        )
    p_pen = scalar_or_series(penalty_price, index, "penalty_price")
    negative = p_pen < 0
    if negative.any():
        position = int(np.argmax(negative))
        raise InputError(
            f"must be >= 0 (a penalty is a cost), got {p_pen[position]}",
            field="penalty_price",
            timestamp=index[position] if isinstance(penalty_price, pd.Series) else None,
        )
    return float(penalty_band_frac), p_pen
