"""Shanxi "time-of-use price + dividend" (分时价格 + 红利分享) split between operator and users.

MARKET_RULES 4.3: a load-type VPP operator bills its aggregated users a retail time-of-use
price for what they consume, settles the fleet in the wholesale market, and shares the
resulting gain (红利) with them. The split ratio is not public; ``RevenueShare`` holds it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import tzinfo
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from market.money import from_fen, to_fen
from market.settlement_checks import series_values, settlement_frame
from vpp.errors import InputError
from vpp.portfolio import RevenueShare

__all__ = ["RevenueSplit", "retail_prices", "split_revenue"]

_RETAIL_FIELD = "revenue_share.retail_price_yuan_per_mwh"


@dataclass(frozen=True)
class RevenueSplit:
    """The operator/user split of one settlement run. Money in yuan, whole fen.

    Identities, exact to the fen::

        dividend          = user_payments + wholesale_revenue - operating_fees
        user_dividend     = round(user_dividend_share * max(dividend, 0))
        operator_dividend = dividend - user_dividend
        user_net_payment  = user_payments - user_dividend
    """

    consumption_mwh: float
    """Users' metered consumption over the run (MWh, positive)."""
    days: int
    """Trading days (market zone) the run touches; each pays one day of operating fee."""
    user_payments: float
    """Users' retail bill, ``sum_t consumption[t] * retail_price[t]`` (yuan)."""
    wholesale_revenue: float
    """Sum of the settlement's ``revenue`` (yuan; negative = a wholesale cost)."""
    operating_fees: float
    """``operating_fee_yuan_per_day * days`` (yuan)."""
    dividend: float
    """The gain to share (yuan; may be negative)."""
    user_dividend: float
    """Paid back to the users (yuan, >= 0)."""
    operator_dividend: float
    """Kept by the operator (yuan; carries the whole of a negative dividend)."""
    user_net_payment: float
    """What the users pay in the end (yuan)."""

    def as_dict(self) -> dict[str, float | int]:
        """The fields as a plain dict."""
        return asdict(self)


def retail_prices(
    share: RevenueShare, index: pd.DatetimeIndex, tz: str | tzinfo | None = None
) -> np.ndarray:
    """Retail time-of-use price of each period (yuan/MWh).

    A constant ``retail_price_yuan_per_mwh`` applies to every period; a list of 24 values is
    indexed by the hour of day (0-23) of each period's start in ``tz`` (the market's zone).

    Parameters
    ----------
    share : vpp.portfolio.RevenueShare
        The split parameters.
    index : DatetimeIndex
        tz-aware period starts.
    tz : str or tzinfo, optional
        Zone of the hour of day; default the zone of ``index``.

    Returns
    -------
    numpy.ndarray of float, yuan/MWh, one per period.
    """
    price = share.retail_price_yuan_per_mwh
    if not isinstance(price, list):
        if not np.isfinite(price):
            raise InputError(f"must be finite, got {price}", field=_RETAIL_FIELD)
        return np.full(len(index), float(price))
    curve = np.asarray(price, dtype=float)
    if curve.shape != (24,):
        raise InputError(
            f"needs one price per hour of day (24 values), got {len(curve)}", field=_RETAIL_FIELD
        )
    if not np.isfinite(curve).all():
        raise InputError(
            f"hour {int(np.argmax(~np.isfinite(curve)))} is not finite", field=_RETAIL_FIELD
        )
    local = index if tz is None else _in_zone(index, tz)
    return curve[local.hour.to_numpy()]


def split_revenue(
    settlement: pd.DataFrame,
    share: RevenueShare,
    consumption_mwh: pd.Series,
    *,
    tz: str | tzinfo | None = None,
) -> RevenueSplit:
    """Split a settlement run between the VPP operator and its users (MARKET_RULES 4.3).

    ::

        user_payments     = round( sum_t consumption[t] * retail_price[t] )
        wholesale_revenue = sum_t revenue[t]                       (settle_periods, yuan)
        operating_fees    = round(operating_fee_yuan_per_day) * days
        dividend          = user_payments + wholesale_revenue - operating_fees
        user_dividend     = round( user_dividend_share * max(dividend, 0) )
        operator_dividend = dividend - user_dividend

    ``round`` is to the fen, half away from zero; the retail bill is rounded once on its total.
    ``retail_price[t]`` comes from :func:`retail_prices`. ``days`` counts the trading days
    (in ``tz``) that hold at least one period; a partial day pays a whole day's fee.
    MARKET_RULES 4.3 writes the dividend as ``UserPay - WholesaleCost - OpFees``; here the
    wholesale term is a revenue (CONVENTIONS sign), so it is added.

    Parameters
    ----------
    settlement : DataFrame
        The result of :func:`market.settlement.settle_periods` for the run.
    share : vpp.portfolio.RevenueShare
        Retail price, users' dividend share and operating fee.
    consumption_mwh : Series, MWh per period
        The users' metered consumption on the settlement's index, as a POSITIVE amount (the
        opposite of the CONVENTIONS net-export sign, since it is named a consumption). Negative
        values are rejected so a net-export series passed by mistake cannot flip the bill.
    tz : str or tzinfo, optional
        The market's zone, for the hour of the retail price and the trading days. Default: the
        zone of the settlement's index; pass it when that index is in UTC.

    Returns
    -------
    RevenueSplit

    Raises
    ------
    vpp.errors.InputError
        A bad settlement frame, ``consumption_mwh`` not aligned with it, NaN or negative, a
        retail curve without 24 values, or an unknown ``tz``.
    """
    settlement = settlement_frame(settlement)
    index = settlement.index
    field = "consumption_mwh"
    consumption = series_values(consumption_mwh, index, field, ref_field="settlement")
    negative = consumption < 0
    if negative.any():
        position = int(np.argmax(negative))
        raise InputError(
            f"is negative ({consumption[position]}); "
            "consumption is a positive amount drawn from the grid",
            field=field,
            timestamp=index[position],
        )
    local = index if tz is None else _in_zone(index, tz)
    price = retail_prices(share, local)
    days = len(np.unique(local.tz_localize(None).normalize().asi8))

    user_fen = int(to_fen(float(np.sum(consumption * price))))
    wholesale_fen = int(to_fen(settlement["revenue"]).sum())
    fee_fen = int(to_fen(share.operating_fee_yuan_per_day)) * days
    dividend_fen = user_fen + wholesale_fen - fee_fen
    user_dividend_fen = int(
        (Decimal(repr(share.user_dividend_share)) * max(dividend_fen, 0)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    )
    operator_dividend_fen = dividend_fen - user_dividend_fen

    def yuan(fen: int) -> float:
        return float(from_fen(fen))

    return RevenueSplit(
        consumption_mwh=float(consumption.sum()),
        days=days,
        user_payments=yuan(user_fen),
        wholesale_revenue=yuan(wholesale_fen),
        operating_fees=yuan(fee_fen),
        dividend=yuan(dividend_fen),
        user_dividend=yuan(user_dividend_fen),
        operator_dividend=yuan(operator_dividend_fen),
        user_net_payment=yuan(user_fen - user_dividend_fen),
    )


def _in_zone(index: pd.DatetimeIndex, tz: str | tzinfo) -> pd.DatetimeIndex:
    try:
        return index.tz_convert(tz)
    except Exception as exc:  # unknown zone names raise several exception types
        raise InputError(f"is not a known time zone: {tz!r} ({exc})", field="tz") from exc
