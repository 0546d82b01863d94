"""One rule for the day being bid (issue 16 item 4): the first trading day whose gate closure is
still ahead. At the closure instant itself the gate is closed, so the service bids the next day,
as ``vpp bid`` does (:func:`market.calendar.next_trading_day`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from market.calendar import gate_closure, next_trading_day
from vpp.service import bidding
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, upgrade_schema
from vpp.service.jobs import _context
from vpp.service.pipeline import Pipeline

from .conftest import DAY


def test_at_the_gate_closure_instant_the_service_bids_the_next_day(config: ServiceConfig) -> None:
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(config, engine)
    day = dt.date.fromisoformat(DAY)
    closure = gate_closure(pipe.market, day)
    just_before = closure - pd.Timedelta(microseconds=1)
    assert next_trading_day(pipe.market, just_before) == day
    assert next_trading_day(pipe.market, closure) == day + dt.timedelta(days=1)
    # the service's bid job and its log context agree with the command line
    assert bidding.bid_due(pipe, just_before) is True  # 30 min after the bid time, gate still open
    assert bidding.bid_due(pipe, closure) is False  # the closed day is not due; the next one is not yet
    assert _context(pipe, "bid_day", just_before)[1] == day
    assert _context(pipe, "bid_day", closure)[1] == day + dt.timedelta(days=1)
