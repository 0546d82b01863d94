"""Two-settlement energy arithmetic per period, and its attribution to assets.

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

from vpp.errors import InputError

__all__ = [
    "MONEY_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "attribute_to_assets",
    "from_fen",
    "settle_periods",
    "to_fen",
]

#: Columns of :func:`settle_periods`, in order (``p_rt_settled`` is added after ``p_rt`` when a
#: suspension flag is given).
SETTLEMENT_COLUMNS: tuple[str, ...] = (
    "q_da_mwh",
    "q_actual_mwh",
    "p_da",
    "p_rt",
    "da_revenue",
    "rt_revenue",
    "contract_revenue",
    "penalty",
    "revenue",
)

#: Money columns of :func:`settle_periods` (yuan, whole fen).
MONEY_COLUMNS: tuple[str, ...] = (
    "da_revenue",
    "rt_revenue",
    "contract_revenue",
    "penalty",
    "revenue",
)

# Products such as 0.1 MWh x 10.05 yuan/MWh land a hair off the exact half fen in binary. An
# amount within max(1e-6 fen, 16 ulp) of a multiple of half a fen is snapped onto it before
# rounding, so that rounding follows the decimal value.
_FEN_SNAP = 1e-6
_FEN_SNAP_ULPS = 16


# --------------------------------------------------------------------------------------------
# money
# --------------------------------------------------------------------------------------------


def to_fen(yuan: pd.Series | np.ndarray | float) -> np.ndarray:
    """Round amounts of money to whole fen, half away from zero (四舍五入).

    Parameters
    ----------
    yuan : Series, array or float, yuan
        Amounts of money.

    Returns
    -------
    numpy.ndarray of int64, fen (0.01 yuan)
        ``sign(y) * floor(|y| + 0.5)`` with ``y = 100 x``, after snapping ``y`` onto the nearest
        multiple of 0.5 when it lies within ``max(1e-6, 16 ulp(y))`` of it, so that binary
        representation noise (``1.005 * 100 = 100.49999...``) does not decide the rounding.
    """
    return _round_fen(np.asarray(yuan, dtype=float) * 100.0)


def _round_fen(fen: np.ndarray) -> np.ndarray:
    """Round amounts already in fen (float) to whole fen, as :func:`to_fen` does."""
    fen = np.asarray(fen, dtype=float)
    half = np.round(fen * 2.0) / 2.0
    tolerance = np.maximum(_FEN_SNAP, _FEN_SNAP_ULPS * np.finfo(float).eps * np.abs(fen))
    snapped = np.where(np.abs(fen - half) <= tolerance, half, fen)
    return (np.sign(snapped) * np.floor(np.abs(snapped) + 0.5)).astype(np.int64)


def from_fen(fen: np.ndarray | int) -> np.ndarray:
    """Turn whole fen into float yuan (``fen / 100``, the nearest double to the exact amount)."""
    return np.asarray(fen, dtype=np.int64) / 100.0


# --------------------------------------------------------------------------------------------
# input checks (shared with market.statements and market.revenue_share)
# --------------------------------------------------------------------------------------------


def _check_time_index(index: pd.Index, field: str) -> pd.DatetimeIndex:
    """Require a tz-aware, unique, increasing DatetimeIndex; name the first bad timestamp."""
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError(
            f"index must be a tz-aware DatetimeIndex of period starts, got {type(index).__name__}",
            field=field,
        )
    if index.tz is None:
        first = index[0] if len(index) else None
        raise InputError(
            "index is timezone-naive; timestamps must be tz-aware", field=field, timestamp=first
        )
    duplicated = index.duplicated()
    if duplicated.any():
        raise InputError(
            "timestamp is repeated", field=field, timestamp=index[int(np.argmax(duplicated))]
        )
    if len(index) > 1:
        backwards = np.flatnonzero(index.asi8[1:] <= index.asi8[:-1])
        if len(backwards):
            raise InputError(
                "timestamps are not in increasing order",
                field=field,
                timestamp=index[backwards[0] + 1],
            )
    return index


def _check_aligned(index: pd.Index, ref: pd.DatetimeIndex, field: str, ref_field: str) -> None:
    """Require ``index`` to hold the same instants as ``ref``, in the same order."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        _check_time_index(index, field)  # raises with the right message
    other = index.tz_convert(ref.tz)
    if other.equals(ref):
        return
    missing = ref.difference(other)
    extra = other.difference(ref)
    if len(missing) or len(extra):
        first_missing = missing[0] if len(missing) else None
        first_extra = extra[0] if len(extra) else None
        if first_extra is None or (first_missing is not None and first_missing < first_extra):
            detail = f"is missing this timestamp of {ref_field}"
            timestamp = first_missing
        else:
            detail = f"has a timestamp that {ref_field} does not have"
            timestamp = first_extra
    else:  # same instants, other order or repeats
        n = min(len(other), len(ref))
        differ = np.flatnonzero(other[:n] != ref[:n])
        position = int(differ[0]) if len(differ) else n
        timestamp = other[position] if position < len(other) else ref[position]
        detail = f"is not in the order of {ref_field}"
    if len(other) != len(ref):
        detail = f"has {len(other)} periods where {ref_field} has {len(ref)}: it {detail}"
    else:
        detail = f"is not aligned with {ref_field}: it {detail}"
    raise InputError(detail, field=field, timestamp=timestamp)


def _finite_values(
    series: pd.Series, field: str, *, allow_nan: np.ndarray | None = None
) -> np.ndarray:
    """Return the values as float64; reject non-numeric data and NaN or infinite values.

    ``allow_nan`` (bool array) marks periods where NaN is allowed and kept.
    """
    if not (pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series)):
        raise InputError(f"must be numeric, got dtype {series.dtype}", field=field)
    values = series.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if allow_nan is not None:
        bad &= ~(allow_nan & np.isnan(values))
    if bad.any():
        position = int(np.argmax(bad))
        what = "NaN (missing)" if np.isnan(values[position]) else "infinite"
        raise InputError(f"value is {what}", field=field, timestamp=series.index[position])
    return values


def _series_values(
    series: object,
    ref: pd.DatetimeIndex,
    field: str,
    ref_field: str = "q_da_mwh",
    *,
    allow_nan: np.ndarray | None = None,
) -> np.ndarray:
    """Check that ``series`` is a numeric Series on ``ref`` and return its float64 values."""
    if not isinstance(series, pd.Series):
        raise InputError(
            f"must be a pandas Series indexed by timestamp, got {type(series).__name__}",
            field=field,
        )
    _check_aligned(series.index, ref, field, ref_field)
    return _finite_values(series.set_axis(ref), field, allow_nan=allow_nan)


def _scalar_or_series(
    value: object, ref: pd.DatetimeIndex, field: str, *, allow_nan: np.ndarray | None = None
) -> np.ndarray:
    """A finite scalar broadcast over ``ref``, or a Series checked like the other inputs."""
    if isinstance(value, pd.Series):
        return _series_values(value, ref, field, allow_nan=allow_nan)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(
            f"must be a number or a pandas Series, got {type(value).__name__}", field=field
        )
    if not np.isfinite(value):
        raise InputError(f"must be finite, got {value}", field=field)
    return np.full(len(ref), float(value))


def _settlement_frame(settlement: object, field: str = "settlement") -> pd.DataFrame:
    """Check a frame made by :func:`settle_periods` (columns, index) and return it."""
    if not isinstance(settlement, pd.DataFrame):
        raise InputError(
            f"must be the DataFrame returned by settle_periods, got {type(settlement).__name__}",
            field=field,
        )
    missing = [c for c in SETTLEMENT_COLUMNS if c not in settlement.columns]
    if missing:
        raise InputError(f"lacks settlement column(s) {', '.join(missing)}", field=field)
    index = _check_time_index(settlement.index, field)
    for column in SETTLEMENT_COLUMNS:
        values = _finite_values(settlement[column], f"{field}[{column}]")
        if column in MONEY_COLUMNS:
            fen = values * 100.0
            off = np.abs(fen - np.round(fen)) > 1e-6 + 1e-12 * np.abs(fen)
            if off.any():
                position = int(np.argmax(off))
                raise InputError(
                    f"amount {values[position]!r} yuan is not a whole number of fen",
                    field=f"{field}[{column}]",
                    timestamp=index[position],
                )
    legs = (
        to_fen(settlement["da_revenue"])
        + to_fen(settlement["rt_revenue"])
        + to_fen(settlement["contract_revenue"])
        - to_fen(settlement["penalty"])
    )
    unbalanced = legs != to_fen(settlement["revenue"])
    if unbalanced.any():
        position = int(np.argmax(unbalanced))
        raise InputError(
            "revenue is not da_revenue + rt_revenue + contract_revenue - penalty",
            field=f"{field}[revenue]",
            timestamp=index[position],
        )
    return settlement


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
    index = _check_time_index(q_da_mwh.index, "q_da_mwh")
    q_da = _finite_values(q_da_mwh, "q_da_mwh")
    q_act = _series_values(q_actual_mwh, index, "q_actual_mwh")
    pda = _series_values(p_da, index, "p_da")
    prt = _series_values(p_rt, index, "p_rt")
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
    _check_aligned(market_suspended.index, index, field, "q_da_mwh")
    missing = market_suspended.isna().to_numpy()
    if missing.any():
        raise InputError("value is missing", field=field, timestamp=index[int(np.argmax(missing))])
    if not pd.api.types.is_bool_dtype(market_suspended.dtype):
        raise InputError(f"must be boolean, got dtype {market_suspended.dtype}", field=field)
    suspended = market_suspended.to_numpy(dtype=bool)
    p_admin = _series_values(
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
        _series_values(q_contract_mwh, index, "q_contract_mwh"),
        _scalar_or_series(p_contract, index, "p_contract"),
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
    p_pen = _scalar_or_series(penalty_price, index, "penalty_price")
    negative = p_pen < 0
    if negative.any():
        position = int(np.argmax(negative))
        raise InputError(
            f"must be >= 0 (a penalty is a cost), got {p_pen[position]}",
            field="penalty_price",
            timestamp=index[position] if isinstance(penalty_price, pd.Series) else None,
        )
    return float(penalty_band_frac), p_pen


# --------------------------------------------------------------------------------------------
# attribution
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
    settlement = _settlement_frame(settlement)
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
    _check_aligned(asset_actual_mwh.index, index, field, "settlement")
    x = np.column_stack(
        [
            _finite_values(asset_actual_mwh.iloc[:, j].set_axis(index), f"{field}[{col}]")
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
    asset_fen = _round_fen(x * p_rt[:, None] * 100.0 + weight * rest_fen[:, None])
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
