"""The battery-swap station in the dispatch service: bid, re-dispatch from the recorded stock, fallback.

Nothing in the service names the family: its stored energy (``stored_mwh``) is recorded with each
setpoint (``soc_end_mwh``) and read back as the next period's state through the family's
``stored_energy`` key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from market.calendar import trading_day_index
from vpp.service import repository
from vpp.service.db import Setpoint
from vpp.service.planning import INJECT_ENV

from .test_redispatch import DAY, _dispatch, _portfolio_pipeline

SWAPS = (4, 5, 9)
"""Periods with one swap each (01:00, 01:15, 02:15)."""

DEMAND = [1.0 if k in SWAPS else 0.0 for k in range(96)]
SWAP_PORTFOLIO = f"""
name: swap
market: shanxi
grid: {{import_limit_mw: 5, export_limit_mw: 5}}
assets:
  - {{id: swap-1, type: swap_station, packs: 4, pack_energy_mwh: 0.1, charger_power_mw: 0.2,
     charge_efficiency: 0.95, discharge_power_mw: 0.2, discharge_efficiency: 0.95,
     full_packs_initial: 1, swap_demand: {DEMAND}}}
  - {{id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0}}
"""
"""One full pack at the start; the second swap (period 5) needs a pack charged before it."""


def _rows(pipe, periods: int) -> pd.DataFrame:
    index = trading_day_index(pipe.market, DAY)[:periods].tz_convert("UTC")
    with pipe.sessions() as s:
        rows = s.scalars(sa.select(Setpoint).where(Setpoint.asset_id == "swap-1")).all()
    frame = pd.DataFrame(
        [(pd.Timestamp(r.period_start), r.setpoint_mw, r.soc_end_mwh, r.source) for r in rows],
        columns=["start", "mw", "stored_end", "source"],
    )
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    return frame.set_index("start").reindex(index)


def test_station_is_redispatched_from_its_recorded_stock(tmp_path: Path) -> None:
    pipe = _portfolio_pipeline(tmp_path, SWAP_PORTFOLIO)
    try:
        for k in range(12):
            out = _dispatch(pipe, k)
            assert out["status"] == "ok", out
        rows = _rows(pipe, 12)
    finally:
        pipe.engine.dispose()
    mw, stored = rows["mw"].to_numpy(), rows["stored_end"].to_numpy()
    assert not np.isnan(stored).any()  # the stored energy is recorded with every setpoint
    charge, discharge = np.maximum(-mw, 0.0), np.maximum(mw, 0.0)
    before = np.r_[0.1, stored[:-1]]  # one full pack of 0.1 MWh at the day's start
    demand = np.array(DEMAND[:12])
    # each re-solve starts from the stock the previous setpoint recorded: continuity holds across them
    np.testing.assert_allclose(
        stored, before - 0.1 * demand + 0.25 * (0.95 * charge - discharge / 0.95), atol=1e-6
    )
    assert (before - 0.1 * demand >= -1e-6).all(), "a swap without a full pack"
    assert (mw >= -0.2 - 1e-6).all() and (mw <= 0.2 + 1e-6).all()


def test_fallback_keeps_the_day_ahead_setpoint_of_the_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = _portfolio_pipeline(tmp_path, SWAP_PORTFOLIO)
    try:
        assert _dispatch(pipe, 0)["status"] == "ok"
        monkeypatch.setenv(INJECT_ENV, "1")
        out = _dispatch(pipe, 1)
        assert out["status"] == "fallback", out
        start = trading_day_index(pipe.market, DAY)[1].tz_convert("UTC").to_pydatetime()
        with pipe.sessions() as s:
            day_ahead = repository.day_ahead_at(s, start)["swap-1"].net_mw
        rows = _rows(pipe, 2)
    finally:
        pipe.engine.dispose()
    assert rows["source"].iloc[1] == "fallback"
    assert rows["mw"].iloc[1] == pytest.approx(day_ahead, abs=1e-9)
    assert np.isnan(rows["stored_end"].iloc[1])  # no fallback rule: no stored energy claimed
