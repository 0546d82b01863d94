"""Day-ahead bids: quantity-only (报量不报价, one net power per period) and price-quantity step
curves (报量报价, :class:`PriceQuantityBid`).

Sign (CONVENTIONS.md): ``net_mw`` > 0 is delivered TO the grid (export), < 0 is drawn from it. Files
are written atomically (temporary file in the same folder, then ``os.replace``): a reader sees the
old file or the complete new one, never a partial one.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import format_timestamps, gate_closure, period_hours, trading_day_index
from market.presets import MarketSpec, resolve_market
from vpp.errors import InputError
from vpp.io_utils import write_text_atomic


def _name(market: MarketSpec | str) -> str:
    return market.name if isinstance(market, MarketSpec) else str(market)


@dataclass(frozen=True)
class QuantityBid:
    """A quantity-only bid for one trading day.

    Attributes
    ----------
    market : MarketSpec or str
        The market: its spec (a user-defined market) or a preset name, e.g. ``'shanxi'``.
    day : datetime.date
        The trading (delivery) day the bid is for (also readable as ``trading_day``).
    net_mw : pd.Series
        Net export per period (MW; positive = to the grid), indexed by tz-aware period starts.
    """

    market: MarketSpec | str
    day: dt.date
    net_mw: pd.Series

    @property
    def market_name(self) -> str:
        """Name of the bid's market."""
        return _name(self.market)

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
    if spec.name != bid.market_name:
        raise InputError(f"bid is for market {bid.market_name!r}, not {spec.name!r}", field="market")
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


def write_bid_csv(bid: QuantityBid, path: str | Path) -> Path:
    """Write ``timestamp,net_mw`` (ISO 8601 with offset, market zone; MW, export positive).

    Returns
    -------
    Path
        The written file.
    """
    _, index, values = _bid_frame(bid)
    frame = pd.DataFrame({"timestamp": format_timestamps(index), "net_mw": values})
    return write_text_atomic(frame.to_csv(index=False, lineterminator="\n"), path)


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
    return write_text_atomic(json.dumps(document, indent=2, allow_nan=False) + "\n", path)


# -- price-quantity bids (报量报价) ---------------------------------------------------------------


@dataclass(frozen=True)
class PriceQuantityBid:
    """A price-quantity (step curve) bid for one trading day.

    Per period ``t`` the bid has ``K_t <= max_bid_segments`` segments ``k`` with strictly
    increasing prices ``price[t,1] < ... < price[t,K]`` (yuan/MWh) and positions ``net_mw[t,k]``
    (MW, positive = delivered to the grid) that never decrease with the price. The first price is
    the bid floor. At a DA clearing price ``p`` the cleared position is that of the last segment
    whose price is at or below ``p``::

        cleared[t](p) = net_mw[t,k*],  k* = max{k : price[t,k] <= p}

    So selling (``net_mw > 0``) does not decrease and buying does not increase as the price rises
    (MARKET_RULES 2.2, 3); one curve may cross from buying to selling.

    Attributes
    ----------
    market : MarketSpec or str
    day : datetime.date
    segments : pd.DataFrame
        Long form: ``timestamp`` (tz-aware period start), ``segment`` (1..K), ``price_yuan_per_mwh``,
        ``net_mw``; sorted by timestamp then segment.
    """

    market: MarketSpec | str
    day: dt.date
    segments: pd.DataFrame

    @property
    def market_name(self) -> str:
        """Name of the bid's market."""
        return _name(self.market)

    @property
    def trading_day(self) -> dt.date:
        """The trading day (alias of ``day``)."""
        return self.day

    def cleared_net_mw(self, clearing_price: pd.Series | np.ndarray) -> pd.Series:
        """Cleared position per period (MW) at DA clearing prices (yuan/MWh), one per period."""
        index = pd.DatetimeIndex(self.segments["timestamp"].unique())
        price = np.asarray(clearing_price, dtype=float).reshape(-1)
        if price.shape != (len(index),):
            raise InputError(f"{price.size} clearing prices for {len(index)} periods", field="clearing_price")
        seg = self.segments
        codes = pd.Categorical(seg["timestamp"], categories=index).codes
        accepted = seg["price_yuan_per_mwh"].to_numpy(dtype=float) <= price[codes] + 1e-9
        last = pd.Series(np.where(accepted, seg["segment"].to_numpy(), -1)).groupby(codes).max()
        pick = seg.assign(_t=codes).set_index(["_t", "segment"])["net_mw"]
        values = [float(pick.loc[(t, int(k))]) if k > 0 else np.nan for t, k in last.items()]
        return pd.Series(values, index=index, name="net_mw")


def validate_price_quantity_bid(
    bid: PriceQuantityBid,
    market: MarketSpec | str | None = None,
    now: pd.Timestamp | dt.datetime | None = None,
    *,
    allow_late: bool = False,
    tolerance_mw: float = 1e-6,
) -> str | None:
    """Check a price-quantity bid against the market's rules before submission.

    Checks: the market takes ``price_quantity`` bids; 1 to ``max_bid_segments`` segments for every
    period of the day and no other; finite values; prices in ``[bid_price_floor, bid_price_cap]``,
    strictly increasing, the first at the floor (every price clears something); positions not
    decreasing with the price (beyond ``tolerance_mw``); the gate closure.

    Returns
    -------
    str or None
        A warning for a late bid accepted with ``allow_late``; otherwise None.

    Raises
    ------
    InputError
        Naming the period (timestamp), segment and field of the first broken rule.
    """
    spec = resolve_market(market if market is not None else bid.market)
    if spec.name != bid.market_name:
        raise InputError(f"bid is for market {bid.market_name!r}, not {spec.name!r}", field="market")
    if "price_quantity" not in spec.bid_modes:
        raise InputError(f"market {spec.name} takes no price-quantity bids", field="bid_mode")
    seg = bid.segments
    missing_cols = {"timestamp", "segment", "price_yuan_per_mwh", "net_mw"} - set(seg.columns)
    if missing_cols:
        raise InputError(f"segments lack column(s) {sorted(missing_cols)}", field="segments")
    if (stamps := pd.DatetimeIndex(seg["timestamp"])).tz is None:
        raise InputError("segment timestamps must be tz-aware", field="timestamp")
    periods = pd.DatetimeIndex(stamps.unique())
    _check_periods(QuantityBid(bid.market, bid.day, pd.Series(0.0, index=periods)), spec)
    for (ts, group) in seg.groupby(stamps, sort=True):
        price = group["price_yuan_per_mwh"].to_numpy(dtype=float)
        net = group["net_mw"].to_numpy(dtype=float)
        where = pd.Timestamp(ts).tz_convert(spec.timezone)
        if not 1 <= len(group) <= spec.max_bid_segments:
            raise InputError(
                f"{len(group)} segments; {spec.name} allows 1 to {spec.max_bid_segments}",
                timestamp=where, field="segment",
            )
        for name, values in (("price_yuan_per_mwh", price), ("net_mw", net)):
            if not np.isfinite(values).all():
                raise InputError(f"{name} is not a finite number", timestamp=where, field=name)
        out = (price < spec.bid_price_floor - 1e-9) | (price > spec.bid_price_cap + 1e-9)
        if out.any():
            k = int(np.flatnonzero(out)[0])
            raise InputError(
                f"segment {k + 1} price {price[k]:g} outside [{spec.bid_price_floor:g}, "
                f"{spec.bid_price_cap:g}] {spec.price_unit}", timestamp=where, field="price_yuan_per_mwh",
            )
        if abs(price[0] - spec.bid_price_floor) > 1e-9:
            raise InputError(
                f"the first segment must start at the price floor {spec.bid_price_floor:g}, not {price[0]:g}",
                timestamp=where, field="price_yuan_per_mwh",
            )
        if (np.diff(price) <= 0).any():
            k = int(np.flatnonzero(np.diff(price) <= 0)[0])
            raise InputError(
                f"segment prices must increase strictly: segment {k + 2} ({price[k + 1]:g}) after "
                f"{price[k]:g}", timestamp=where, field="price_yuan_per_mwh",
            )
        if (np.diff(net) < -tolerance_mw).any():
            k = int(np.flatnonzero(np.diff(net) < -tolerance_mw)[0])
            raise InputError(
                f"net position must not decrease as the price rises (selling not less, buying not "
                f"more): segment {k + 2} {net[k + 1]:g} MW after {net[k]:g} MW",
                timestamp=where, field="net_mw",
            )
    closes = gate_closure(spec, bid.trading_day)
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    now = now.tz_localize(spec.timezone) if now.tz is None else now
    if now <= closes:
        return None
    late = f"bid for {spec.name} day {bid.day} at {now.tz_convert(spec.timezone)} is after closure {closes}"
    if not allow_late:
        raise InputError(late, field="trading_day")
    return f"late bid accepted (allow_late): {late}"


def _pq_frame(bid: PriceQuantityBid) -> pd.DataFrame:
    spec = resolve_market(bid.market)
    seg = bid.segments.sort_values(["timestamp", "segment"], kind="stable")
    net = np.round(seg["net_mw"].to_numpy(dtype=float), 6) + 0.0  # + 0.0: no "-0.0" in files
    return pd.DataFrame(
        {
            "timestamp": format_timestamps(pd.DatetimeIndex(seg["timestamp"]).tz_convert(spec.timezone)),
            "segment": seg["segment"].to_numpy(dtype=int),
            "price_yuan_per_mwh": seg["price_yuan_per_mwh"].to_numpy(dtype=float),
            "net_mw": net,
            "side": np.where(net > 0, "sell", np.where(net < 0, "buy", "none")),
            "quantity_mw": np.abs(net),
        }
    )


def write_price_quantity_csv(bid: PriceQuantityBid, path: str | Path) -> Path:
    """Write ``timestamp,segment,price_yuan_per_mwh,net_mw,side,quantity_mw``, one row per segment.

    ``net_mw`` is the position cleared when the DA price is at or above ``price_yuan_per_mwh`` (and
    below the next segment's price); ``side``/``quantity_mw`` restate it as buy or sell magnitude.
    """
    frame = _pq_frame(bid)
    return write_text_atomic(frame.to_csv(index=False, lineterminator="\n"), path)


def write_price_quantity_json(bid: PriceQuantityBid, path: str | Path) -> Path:
    """Write JSON: header (market, day, units, clearing rule), per period its segments."""
    spec = resolve_market(bid.market)
    frame = _pq_frame(bid)
    periods = [
        {
            "timestamp": ts,
            "segments": [
                {"price_yuan_per_mwh": float(p), "net_mw": float(q)}
                for p, q in zip(g["price_yuan_per_mwh"], g["net_mw"], strict=True)
            ],
        }
        for ts, g in frame.groupby("timestamp", sort=False)
    ]
    document = {
        "market": spec.name,
        "trading_day": bid.day.isoformat(),
        "timezone": spec.timezone,
        "period_minutes": spec.period_minutes,
        "bid_mode": "price_quantity",
        "currency": spec.currency,
        "unit": {"price": spec.price_unit, "quantity": "MW"},
        "sign": "positive = delivered to the grid (sell), negative = drawn from it (buy)",
        "clearing_rule": "cleared net_mw = that of the last segment whose price <= DA clearing price",
        "price_bounds": [spec.bid_price_floor, spec.bid_price_cap],
        "periods": periods,
    }
    return write_text_atomic(json.dumps(document, indent=2, allow_nan=False) + "\n", path)
