"""Checks of in-memory settlement inputs, shared by the settlement modules: aligned, finite,
tz-aware series (the checks of raw table files are :mod:`market.table_checks`).

Each check raises :class:`vpp.errors.InputError` naming the field and the first bad timestamp.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from market.money import to_fen
from vpp.errors import InputError

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

# --------------------------------------------------------------------------------------------


def check_time_index(index: pd.Index, field: str) -> pd.DatetimeIndex:
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


def check_aligned(index: pd.Index, ref: pd.DatetimeIndex, field: str, ref_field: str) -> None:
    """Require ``index`` to hold the same instants as ``ref``, in the same order."""
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        check_time_index(index, field)  # raises with the right message
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


def finite_values(
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


def series_values(
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
    check_aligned(series.index, ref, field, ref_field)
    return finite_values(series.set_axis(ref), field, allow_nan=allow_nan)


def scalar_or_series(
    value: object, ref: pd.DatetimeIndex, field: str, *, allow_nan: np.ndarray | None = None
) -> np.ndarray:
    """A finite scalar broadcast over ``ref``, or a Series checked like the other inputs."""
    if isinstance(value, pd.Series):
        return series_values(value, ref, field, allow_nan=allow_nan)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(
            f"must be a number or a pandas Series, got {type(value).__name__}", field=field
        )
    if not np.isfinite(value):
        raise InputError(f"must be finite, got {value}", field=field)
    return np.full(len(ref), float(value))


def settlement_frame(settlement: object, field: str = "settlement") -> pd.DataFrame:
    """Check a frame made by :func:`settle_periods` (columns, index) and return it."""
    if not isinstance(settlement, pd.DataFrame):
        raise InputError(
            f"must be the DataFrame returned by settle_periods, got {type(settlement).__name__}",
            field=field,
        )
    missing = [c for c in SETTLEMENT_COLUMNS if c not in settlement.columns]
    if missing:
        raise InputError(f"lacks settlement column(s) {', '.join(missing)}", field=field)
    index = check_time_index(settlement.index, field)
    for column in SETTLEMENT_COLUMNS:
        values = finite_values(settlement[column], f"{field}[{column}]")
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
