"""The simulated days' exchange and device gateways: what they would drop into the inbox, replayed
from a price file and the service's own setpoints.

- before the simulation starts, for every simulated day D: ``forecast_<D>.csv`` (the day's DA
  price from the replay file, used as the forecast) and ``prices_da_<D>.csv`` (the cleared DA
  prices, published on D-1);
- after each period ends: ``prices_rt_<stamp>.csv`` (the RT prices of the day so far) and
  ``telemetry_<stamp>.csv``: each device followed the setpoint it read from the outbox JSON, so its
  metered power is the setpoint (MW) and its state of charge the planned end state (MWh).

Each file is written atomically, then its ``<name>.ready`` marker (the inbox contract).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from market.calendar import format_timestamps
from market.presets import MarketSpec
from market.price_days import prices_for_day
from market.prices import read_prices
from vpp.io_utils import write_csv_atomic
from vpp.service import outbox, planning
from vpp.service.inbox_files import mark_ready


def _day_prices(
    path: str, market: MarketSpec, day: dt.date, tz: str | None = None, label: str = "start"
) -> pd.DataFrame:
    return _cached_day_prices(path, market, day, tz, label)


@lru_cache(maxsize=4)
def _cached_day_prices(
    path: str, market: MarketSpec, day: dt.date, tz: str | None, label: str
) -> pd.DataFrame:
    # keyed by the whole (frozen, hashable) spec: a user market file may reuse a preset's name
    frame = read_prices(path, market, period_label=label, tz=tz)  # type: ignore[arg-type]
    return prices_for_day(frame, market, day)


def publish_day_ahead(
    inbox: str | Path,
    prices_path: str,
    market: MarketSpec,
    day: dt.date,
    *,
    prices_tz: str | None = None,
    prices_label: str = "start",
) -> None:
    """Drop the day's DA price forecast and cleared DA prices into the inbox.

    ``prices_tz`` is the zone of naive timestamps in the replay file (default the market's) and
    ``prices_label`` how it labels periods (default ``start``, the CONVENTIONS format).
    """
    frame = _day_prices(str(prices_path), market, day, prices_tz, prices_label)[["da_price"]]
    mark_ready(write_csv_atomic(frame, Path(inbox) / f"forecast_{day}.csv", index=True))
    mark_ready(write_csv_atomic(frame, Path(inbox) / f"prices_da_{day}.csv", index=True))


def gateway_job(
    settings: dict[str, Any],
    prices_path: str,
    day: str,
    last_day: str | None = None,
    prices_tz: str | None = None,
    prices_label: str = "start",
) -> None:
    """Report the period that just ended, if it is in trading days ``day``..``last_day``: its RT
    price and the devices' telemetry (replay file read as :func:`publish_day_ahead` reads it)."""
    from vpp.service.jobs import pipeline_for

    pipeline = pipeline_for(settings)
    market = pipeline.market
    now = pipeline.clock.now()
    ended = planning.slot_at(market, now - market.period)
    if not dt.date.fromisoformat(day) <= ended.day <= dt.date.fromisoformat(last_day or day):
        return
    stamp = ended.start.strftime("%Y-%m-%dT%H-%M")
    inbox = Path(pipeline.config.inbox)
    rt = _day_prices(str(prices_path), market, ended.day, prices_tz, prices_label)[["rt_price"]]
    rt = rt.iloc[: ended.k + 1]
    mark_ready(write_csv_atomic(rt, inbox / f"prices_rt_{stamp}.csv", index=True))
    _, json_path = outbox.setpoint_paths(pipeline.config.outbox, ended.start)
    if not json_path.exists():  # nothing was sent: the devices report nothing
        return
    sent = outbox.read_setpoints(json_path)["setpoints"]
    when = format_timestamps(pd.DatetimeIndex([ended.start]))[0]
    rows = pd.DataFrame(
        {
            "timestamp": when,
            "asset_id": [r["asset_id"] for r in sent],
            "metered_mw": [r["setpoint_mw"] for r in sent],
            "soc_mwh": [r["soc_end_mwh"] for r in sent],
        }
    )
    mark_ready(write_csv_atomic(rows, inbox / f"telemetry_{stamp}.csv"))
