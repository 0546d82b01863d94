"""The 15-minute dispatch plans on the backtest's ``da_rt`` RT forecast, spread profile included.

:func:`vpp.service.planning.dispatch_price` fades the last RT-DA spread of the day into the mean
spread of each time of day over the stored prices of the 28 days before it
(:func:`simulator.rt_forecasts.rt_forecast_spread_profile`, what ``da_rt`` re-dispatches on).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.calendar import period_hours, trading_day_index
from market.presets import get_market
from simulator.forecasts import known_before
from simulator.rt_forecasts import rt_forecast_decaying_spread, rt_forecast_spread_profile
from simulator.strategies import RtView
from vpp.service import planning, repository
from vpp.service.config import ServiceConfig
from vpp.service.db import make_engine, session_factory, upgrade_schema
from vpp.service.pipeline import Pipeline

from .conftest import PRICES
from .test_redispatch import DAY, _bid_pipeline, _dispatch

K = 40
"""Period dispatched (10:00); the RT prices of periods 0..K-1 are in."""

LAST_SPREAD = 80.0
"""RT minus DA price of period K-1 (yuan/MWh)."""


def _slot_spread(j: int) -> float:
    """RT-DA spread of time-of-day slot ``j`` on the stored past days (yuan/MWh)."""
    return 40.0 if j % 2 == 0 else -20.0


def _store_past_days(pipe: Pipeline) -> None:
    """28 days before ``DAY`` with a known spread per slot: day 5 back is missing, day 28 back
    (the oldest one counted) is 270 above the pattern, day 29 back (outside) 10,000 above.
    The mean over the 27 stored days of the window is the pattern + 10 (yuan/MWh)."""
    rows = []
    for back in [d for d in range(1, 30) if d != 5]:
        extra = {28: 270.0, 29: 10_000.0}.get(back, 0.0)
        index = trading_day_index(pipe.market, DAY - dt.timedelta(days=back))
        for j, start in enumerate(index):
            da = 300.0 + j
            rt = da + _slot_spread(j) + extra
            rows.append(
                {"period_start": start.tz_convert("UTC").to_pydatetime(), "da_price": da, "rt_price": rt}
            )
    with pipe.sessions.begin() as s:
        repository.upsert_prices(s, rows)


def _planned_prices(pipe: Pipeline, monkeypatch: pytest.MonkeyPatch) -> list[np.ndarray]:
    """Stores the RT prices of periods ``0..K-1`` of ``DAY`` (the last LAST_SPREAD above DA),
    dispatches periods K and K+2 (RT of K and K+1 not in) and returns the prices each solve got."""
    index, da, _ = pipe.day_prices(DAY)
    rt = da[:K] + 25.0
    rt[K - 1] = da[K - 1] + LAST_SPREAD
    rows = [
        {"period_start": t.tz_convert("UTC").to_pydatetime(), "rt_price": float(p)}
        for t, p in zip(index[:K], rt, strict=True)
    ]
    with pipe.sessions.begin() as s:
        repository.upsert_prices(s, rows)
    seen: list[np.ndarray] = []
    solve = pipe._solve_noting_past

    def recording(day, price, *args):
        seen.append(np.array(price, dtype=float))
        return solve(day, price, *args)

    monkeypatch.setattr(pipe, "_solve_noting_past", recording)
    for k in (K, K + 2):
        assert _dispatch(pipe, k)["status"] == "ok"
    return seen


@pytest.fixture
def pipe(config: ServiceConfig) -> Pipeline:
    """A pipeline (SQLite and PostgreSQL) with ``DAY``'s prices published and its bid made."""
    pipeline = _bid_pipeline(config, PRICES)
    yield pipeline
    pipeline.engine.dispose()


def test_dispatch_plans_on_the_last_spread_fading_into_the_stored_28_day_profile(
    pipe: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store_past_days(pipe)
    _, da, _ = pipe.day_prices(DAY)
    at_k, at_k2 = _planned_prices(pipe, monkeypatch)
    # p[t] = da[t] + s_last w + (1 - w) m[slot], w = exp(-(hours ahead) / 1 h), m = pattern + 10
    assert at_k[K] == pytest.approx(da[K] + LAST_SPREAD)
    w = math.exp(-1.0)  # K+4: one hour ahead, even slot (m = 50)
    assert at_k[K + 4] == pytest.approx(da[K + 4] + LAST_SPREAD * w + (1 - w) * 50.0)
    w = math.exp(-1.25)  # K+5: odd slot (m = -10)
    assert at_k[K + 5] == pytest.approx(da[K + 5] + LAST_SPREAD * w - (1 - w) * 10.0)
    # RT of K+1 not in yet: no last spread, only the profile fades in from K+2
    assert at_k2[K + 2] == pytest.approx(da[K + 2])
    assert at_k2[K + 6] == pytest.approx(da[K + 6] + (1 - math.exp(-1.0)) * 50.0)


def test_dispatch_without_stored_history_plans_as_before(
    pipe: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, da, _ = pipe.day_prices(DAY)
    at_k, at_k2 = _planned_prices(pipe, monkeypatch)
    _, _, rt = pipe.day_prices(DAY)
    before = rt_forecast_decaying_spread(RtView(index, period_hours(index, pipe.market), K, da, rt[:K]))
    np.testing.assert_array_equal(at_k, before)
    assert at_k[K + 4] == pytest.approx(da[K + 4] + LAST_SPREAD * math.exp(-1.0))
    np.testing.assert_array_equal(at_k2, da)  # RT of K+1 not in yet: the DA price


@pytest.mark.parametrize("day", ["2024-10-27", "2024-11-05", "2024-03-31"])
def test_stored_history_gives_the_backtest_forecast_across_dst_on_an_hourly_market(
    tmp_path: Path, day: str
) -> None:
    # generic: Europe/Berlin, hourly; 10-27 has 25 periods (02:00 twice), 03-31 has 23, and the
    # 28 days before 11-05 cross the change: the profile's slots are local wall-clock hours.
    market = get_market("generic")
    rng = np.random.default_rng(3)
    utc = pd.date_range("2024-02-20", "2024-11-07", freq="h", tz="UTC")
    frame = pd.DataFrame(
        {"da_price": rng.uniform(0.0, 200.0, len(utc)), "rt_price": rng.uniform(-50.0, 300.0, len(utc))},
        index=utc.tz_convert(market.timezone),
    )
    frame.iloc[::7, 1] = np.nan  # missing RT prices
    engine = make_engine(f"sqlite:///{tmp_path / 'vpp.db'}")
    upgrade_schema(engine)
    sessions = session_factory(engine)
    rows = [
        {
            "period_start": t.to_pydatetime(),
            "da_price": float(d),
            "rt_price": None if np.isnan(r) else float(r),
        }
        for t, d, r in zip(utc, frame["da_price"], frame["rt_price"], strict=True)
    ]
    with sessions.begin() as s:
        repository.upsert_prices(s, rows)
    index = trading_day_index(market, dt.date.fromisoformat(day))
    dt_h = period_hours(index, market)
    day_frame = frame.loc[index]
    da, rt = day_frame["da_price"].to_numpy(), day_frame["rt_price"].fillna(0.0).to_numpy()
    for k in (0, 3, 5):
        slot = planning.slot_at(market, index[k] + pd.Timedelta(minutes=30))
        with sessions() as s:
            service = planning.dispatch_price(slot, da, rt, planning.spread_history(s, market, slot))
        view = RtView(index, dt_h, k, da, rt[:k], history=known_before(frame, index[0]))
        np.testing.assert_allclose(service, rt_forecast_spread_profile(view), rtol=0, atol=1e-9)
    engine.dispose()
