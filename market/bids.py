"""Quantity-only day-ahead bids (报量不报价): one net power per period of a trading day.

Sign (CONVENTIONS.md): ``net_mw`` > 0 is delivered TO the grid (export), < 0 is drawn from it. Files
are written atomically (temporary file in the same folder, then ``os.replace``): a reader sees the
old file or the complete new one, never a partial one. Price-quantity curves come later.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import format_timestamps, gate_closure, period_hours, trading_day_index
from market.presets import MarketSpec, resolve_market
from vpp.errors import InputError


@dataclass(frozen=True)
class QuantityBid:
    """A quantity-only bid for one trading day.

    Attributes
    ----------
    market : str
        Market preset name, e.g. ``'shanxi'``.
    day : datetime.date
        The trading (delivery) day the bid is for (also readable as ``trading_day``).
    net_mw : pd.Series
        Net export per period (MW; positive = to the grid), indexed by tz-aware period starts.
    """

    market: str
    day: dt.date
    net_mw: pd.Series

    @property
    def trading_day(self) -> dt.date:
        """The trading day (alias of ``day``)."""
        return self.day

    @property
    def energy_mwh(self) -> pd.Series:
        """Net export energy per period (MWh) = ``net_mw`` x period length (hours)."""
        return self.net_mw * period_hours(self.net_mw.index, self.market)


def validate_quantity_bid(
    bid: QuantityBid,
    market: MarketSpec | str | None = None,
    now: pd.Timestamp | dt.datetime | None = None,
    *,
    allow_late: bool = False,
) -> str | None:
    """Check a bid before submission.

    Parameters
    ----------
    bid : QuantityBid
    market : MarketSpec or str, optional
        Defaults to ``bid.market``; must be the same market.
    now : pd.Timestamp or datetime, optional
        Submission time (naive = market-zone wall clock); default the current time.
    allow_late : bool
        Accept a bid after gate closure and return a warning instead of raising.

    Returns
    -------
    str or None
        A warning for a late bid accepted with ``allow_late``; otherwise None.

    Raises
    ------
    InputError
        Wrong market, the market takes no quantity-only bids, periods not those of the trading
        day, a missing or non-finite value, or a bid after gate closure.
    """
    spec = resolve_market(market if market is not None else bid.market)
    if spec.name != bid.market:
        raise InputError(f"bid is for market {bid.market!r}, not {spec.name!r}", field="market")
    if "quantity_only" not in spec.bid_modes:
        raise InputError(f"market {spec.name} takes no quantity-only bids", field="bid_mode")
    _check_periods(bid, spec)
    values = bid.net_mw.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"net_mw is not a finite number: {values[first]}",
            row=first + 1,
            timestamp=bid.net_mw.index[first],
            field="net_mw",
        )
    closes = gate_closure(spec, bid.trading_day)
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now.tz is None:
        now = now.tz_localize(spec.timezone)
    if now > closes:
        late = (
            f"bid for {spec.name} trading day {bid.trading_day} at {now.tz_convert(spec.timezone)} "
            f"is after gate closure {closes}"
        )
        if not allow_late:
            raise InputError(late, field="trading_day")
        return f"late bid accepted (allow_late): {late}"
    return None


def _check_periods(bid: QuantityBid, spec: MarketSpec) -> None:
    index = bid.net_mw.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InputError("net_mw must be indexed by tz-aware timestamps", field="net_mw")
    expected = trading_day_index(spec, bid.trading_day)
    got = index.as_unit("ns").asi8
    want = expected.as_unit("ns").asi8
    if len(got) == len(want) and np.array_equal(got, want):
        return
    missing = np.flatnonzero(~np.isin(want, got))
    extra = np.flatnonzero(~np.isin(got, want))
    if missing.size:
        where, what = expected[missing[0]], f"{missing.size} period(s) of the day missing"
    elif extra.size:
        where = index[extra[0]].tz_convert(spec.timezone)
        what = f"{extra.size} timestamp(s) outside the day's periods"
    else:
        where, what = None, "periods duplicated or out of order"
    raise InputError(
        f"bid periods do not match trading day {bid.trading_day} of {spec.name} "
        f"({len(want)} periods of {spec.period_minutes} min): {what}",
        timestamp=where,
        field="net_mw",
    )


def _bid_frame(bid: QuantityBid) -> tuple[MarketSpec, pd.DatetimeIndex, np.ndarray]:
    spec = resolve_market(bid.market)
    index = pd.DatetimeIndex(bid.net_mw.index)
    if index.tz is None:
        raise InputError("net_mw must be indexed by tz-aware timestamps", field="net_mw")
    values = bid.net_mw.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all():
        first = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InputError(
            "net_mw is not a finite number", row=first + 1, timestamp=index[first], field="net_mw"
        )
    return spec, index.tz_convert(spec.timezone), values


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: temp file in the same folder, then replace."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bid_csv(bid: QuantityBid, path: str | Path) -> Path:
    """Write ``timestamp,net_mw`` (ISO 8601 with offset, market zone; MW, export positive).

    Returns
    -------
    Path
        The written file.
    """
    _, index, values = _bid_frame(bid)
    frame = pd.DataFrame({"timestamp": format_timestamps(index), "net_mw": values})
    return atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))


def write_bid_json(bid: QuantityBid, path: str | Path) -> Path:
    """Write the bid as JSON: market, trading day, units, sign and one entry per period.

    Returns
    -------
    Path
        The written file.
    """
    spec, index, values = _bid_frame(bid)
    document = {
        "market": spec.name,
        "trading_day": bid.day.isoformat(),
        "timezone": spec.timezone,
        "period_minutes": spec.period_minutes,
        "bid_mode": "quantity_only",
        "unit": "MW",
        "sign": "positive = delivered to the grid (export)",
        "periods": [
            {"timestamp": ts, "net_mw": float(v)}
            for ts, v in zip(format_timestamps(index), values, strict=True)
        ],
    }
    return atomic_write_text(path, json.dumps(document, indent=2, allow_nan=False) + "\n")
