"""A service database with one trading day done: bid, 96 dispatches, telemetry, RT prices, settled.

The service pipeline does the work (``bid_day``, ``dispatch_period``, ``settle_day``) on the tiny
example portfolio and the 2024-01-02 Gansu prices; the devices follow their setpoints exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from market.calendar import gate_closure, trading_day_index
from market.price_days import prices_for_day
from market.prices import read_prices
from vpp.api.auth import create_key
from vpp.service import repository, simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import Setpoint, Telemetry, make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
PORTFOLIO = ROOT / "vpp" / "examples" / "minimal.yaml"
PRICES = ROOT / "tests" / "data" / "gansu_2024-01-02_15min.csv"
DAY = dt.date(2024, 1, 2)


@dataclass(frozen=True)
class Keys:
    """API keys made in the seeded database."""

    operator: str
    read: str


def seed(db_url: str, folder: Path, *, settle: bool = True) -> Keys:
    """Run the service through :data:`DAY` on ``db_url`` and create an operator and a read key."""
    engine = make_engine(db_url)
    upgrade_schema(engine)
    config = ServiceConfig(db_url=db_url, portfolio=str(PORTFOLIO), inbox=str(folder / "inbox"),
                           outbox=str(folder / "outbox"))
    pipe = Pipeline(config, engine)
    market = pipe.market
    simulated_gateways.publish_day_ahead(config.inbox, str(PRICES), market, DAY)
    assert pipe.bid_day(gate_closure(market, DAY) - pd.Timedelta(minutes=30))["status"] == "ok"
    index = trading_day_index(market, DAY)
    for start in index:
        pipe.dispatch_period(start - pd.Timedelta(seconds=30))
    realised = prices_for_day(read_prices(PRICES, market), market, DAY)
    utc = index.tz_convert("UTC").to_pydatetime()
    with pipe.sessions.begin() as s:
        repository.upsert_prices(s, [{"period_start": t, "rt_price": float(p)}
                                     for t, p in zip(utc, realised["rt_price"], strict=True)])
        sent = repository.setpoints_between(s, utc[0], utc[-1] + dt.timedelta(hours=1))
        repository.insert_ignore(s, Telemetry, [
            {"period_start": r.period_start, "asset_id": r.asset_id, "metered_mw": r.setpoint_mw,
             "soc_mwh": r.soc_end_mwh} for r in sent if isinstance(r, Setpoint)
        ], ["period_start", "asset_id"])
    if settle:
        after = index[-1] + market.period + pd.Timedelta(seconds=config.settle_delay_s + 60)
        assert pipe.settle_day(after)["status"] == "ok"
    with pipe.sessions.begin() as s:
        keys = Keys(operator=create_key(s, "olga", "operator"), read=create_key(s, "rita", "read"))
    engine.dispose()
    return keys
