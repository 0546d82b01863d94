"""The service's DA price forecast when no forecast file is stored: the configured forecaster on
the stored prices known at the gate closure (issue 17 item 1; one persistence code path)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from market.calendar import trading_day_index
from vpp.errors import InputError
from vpp.service import bidding, repository
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline

from .conftest import PORTFOLIO

DAY = dt.date(2024, 3, 11)


@pytest.fixture
def pipeline(tmp_path):
    config = ServiceConfig(
        db_url=f"sqlite:///{tmp_path / 'vpp.db'}",
        portfolio=str(PORTFOLIO),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(config, engine)
    rows = []
    for back in range(1, 11):  # day D-k: DA price 100 + 10 k + slot (yuan/MWh)
        index = trading_day_index(pipe.market, DAY - dt.timedelta(days=back))
        for slot, t in enumerate(index.tz_convert("UTC").to_pydatetime()):
            rows.append({"period_start": t, "da_price": 100.0 + 10 * back + slot, "rt_price": 90.0})
    with pipe.sessions.begin() as s:
        repository.upsert_prices(s, rows)
    yield pipe
    engine.dispose()


def test_default_is_persistence_of_the_stored_day_before(pipeline):
    index = trading_day_index(pipeline.market, DAY)
    rows = bidding._model_forecast(pipeline, DAY, index)
    assert [r["source"] for r in rows] == ["persistence"] * 96
    np.testing.assert_allclose([r["da_price"] for r in rows], 110.0 + np.arange(96))


def test_configured_forecaster_is_used(pipeline):
    pipeline.config = dataclasses.replace(pipeline.config, forecaster="ewm")
    index = trading_day_index(pipeline.market, DAY)
    rows = bidding._model_forecast(pipeline, DAY, index)
    weights = 0.5 ** (np.arange(10) / 4.0)  # 1..10 days back, half-life 4 days
    expected = np.sum(weights * (100.0 + 10 * np.arange(1, 11))) / weights.sum()
    assert rows[0]["source"] == "ewm"
    assert rows[0]["da_price"] == pytest.approx(expected)
    assert rows[5]["da_price"] == pytest.approx(expected + 5)


def test_no_stored_price_of_the_day_before_is_an_input_error(pipeline):
    with pytest.raises(InputError, match="no cleared prices of the day before"):
        later = DAY + dt.timedelta(days=5)
        bidding._model_forecast(pipeline, later, trading_day_index(pipeline.market, later))
