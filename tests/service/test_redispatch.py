"""Real-time re-dispatch of portfolios with EV hubs and heating, which cannot restart mid-day.

Their past is pinned at the plan in force when each period was dispatched
(``ModelSolver.restart_pinning_past``), so every period re-solves instead of falling back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from market.calendar import gate_closure, period_hours, trading_day_index
from vpp.envelope import FAMILY_RANGES, Horizon
from vpp.profile_refs import profile_resolver
from vpp.service import planning, repository, simulated_gateways
from vpp.service.config import ServiceConfig
from vpp.service.db import JobRun, make_engine, upgrade_schema
from vpp.service.pipeline import Pipeline

from .conftest import PRICES, ROOT

URBAN = ROOT / "vpp" / "examples" / "shanxi_urban_renewal.yaml"
URBAN_PRICES = ROOT / "vpp" / "examples" / "data" / "prices_gansu_2024-01_2024-07.csv"
DAY = dt.date(2024, 1, 2)

EV_ENERGY_MWH = 0.3
EV_EFFICIENCY = 0.9
EV_PORTFOLIO = f"""
name: ev-and-battery
market: shanxi
grid: {{import_limit_mw: 5, export_limit_mw: 5}}
assets:
  - {{id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0}}
  - id: hub
    type: ev_hub
    charge_efficiency: {EV_EFFICIENCY}
    sessions:
      - {{arrival: "01:00", departure: "03:00", energy_mwh: {EV_ENERGY_MWH}, max_power_mw: 0.4}}
"""
"""One session connected in periods 4..11 (01:00-03:00, 15 min), needing 0.3 MWh at the vehicle."""


def _config(tmp_path: Path, portfolio: Path) -> ServiceConfig:
    return ServiceConfig(
        db_url=f"sqlite:///{tmp_path / 'vpp.db'}",
        portfolio=str(portfolio),
        inbox=str(tmp_path / "inbox"),
        outbox=str(tmp_path / "outbox"),
    )


def _bid_pipeline(config: ServiceConfig, prices: Path) -> Pipeline:
    """A pipeline on a migrated database with ``DAY``'s prices published and its bid made."""
    engine = make_engine(config.db_url)
    upgrade_schema(engine)
    pipe = Pipeline(config, engine)
    simulated_gateways.publish_day_ahead(config.inbox, str(prices), pipe.market, DAY)
    assert pipe.bid_day(gate_closure(pipe.market, DAY) - pd.Timedelta(minutes=30))["status"] == "ok"
    return pipe


def _portfolio_pipeline(tmp_path: Path, portfolio_yaml: str) -> Pipeline:
    """:func:`_bid_pipeline` for a portfolio given as YAML text, with the test prices."""
    path = tmp_path / "portfolio.yaml"
    path.write_text(portfolio_yaml)
    return _bid_pipeline(_config(tmp_path, path), PRICES)


def _dispatch(pipe: Pipeline, k: int) -> dict:
    """Dispatch period ``k`` of ``DAY`` (called 30 s before it starts, inside the dispatch lead)."""
    start = trading_day_index(pipe.market, DAY)[k]
    return pipe.dispatch_period(start - pd.Timedelta(seconds=30))


def _setpoints(pipe: Pipeline, k: int) -> dict[str, float]:
    start = trading_day_index(pipe.market, DAY)[k].tz_convert("UTC").to_pydatetime()
    with pipe.sessions() as s:
        return {a: r.setpoint_mw for a, r in repository.setpoints_at(s, start).items()}


def _dispatch_all_ok(pipe: Pipeline, periods: int, asset_id: str) -> np.ndarray:
    """Dispatch periods ``0..periods-1`` in order, each ``ok``; ``asset_id``'s setpoints (MW)."""
    try:
        out = []
        for k in range(periods):
            result = _dispatch(pipe, k)
            assert result["status"] == "ok", result
            out.append(_setpoints(pipe, k)[asset_id])
    finally:
        pipe.engine.dispose()
    return np.array(out)


@pytest.fixture
def urban(tmp_path: Path) -> Iterator[Pipeline]:
    """The bundled urban-renewal portfolio (EV hubs, heating, batteries, PV, HVAC) after its bid."""
    pipe = _bid_pipeline(_config(tmp_path, URBAN), URBAN_PRICES)
    yield pipe
    pipe.engine.dispose()


def test_urban_portfolio_dispatches_every_period_without_fallback(urban: Pipeline) -> None:
    index = trading_day_index(urban.market, DAY)
    horizon = Horizon(index, period_hours(index, urban.market), profile_resolver(urban.loaded, index))
    low, high = {}, {}
    for family, specs in ((t, urban.loaded.portfolio.assets_of(t)) for t in FAMILY_RANGES):
        if specs:
            ranges = FAMILY_RANGES[family](specs, horizon)
            for i, spec in enumerate(specs):
                low[spec.id], high[spec.id] = ranges.min_net_mw[i], ranges.max_net_mw[i]
    for k in range(8):
        out = _dispatch(urban, k)
        assert out["status"] == "ok", out
        assert out.get("past") == ("pinned" if k else None)
        setpoints = _setpoints(urban, k)
        assert set(setpoints) == set(low)
        for asset, mw in setpoints.items():
            assert low[asset][k] - 1e-6 <= mw <= high[asset][k] + 1e-6, (k, asset, mw)


def test_ev_session_receives_exactly_its_energy_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipe = _portfolio_pipeline(tmp_path, EV_PORTFOLIO)
    rng = np.random.default_rng(7)

    def shifting_price(
        slot: planning.PeriodSlot, da: np.ndarray, rt: np.ndarray, history: pd.DataFrame
    ) -> np.ndarray:
        # A new random future at every restart, and a free past: re-planning the past would put
        # the whole session there and dispatch too little energy.
        price = rng.uniform(100.0, 600.0, len(da))
        price[: slot.k] = 0.0
        return price

    monkeypatch.setattr(planning, "dispatch_price", shifting_price)
    hub_mw = _dispatch_all_ok(pipe, 13, "hub")
    assert np.all(hub_mw[:4] == 0.0) and np.all(hub_mw[12:] == 0.0)  # not connected
    assert np.all((hub_mw >= -0.4 - 1e-9) & (hub_mw <= 1e-9))
    assert len(np.unique(np.round(hub_mw[4:12], 6))) > 1  # the plan moved between restarts
    drawn_mwh = -hub_mw[4:12].sum() * 0.25
    assert drawn_mwh == pytest.approx(EV_ENERGY_MWH / EV_EFFICIENCY, abs=1e-6)


def test_fresh_process_mid_day_replans_the_past_instead_of_falling_back(
    urban: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    for k in range(3):
        assert _dispatch(urban, k)["status"] == "ok"
    fresh = Pipeline(urban.config, urban.engine)  # a restarted process: no plan in memory
    with caplog.at_level(logging.INFO, logger="vpp.service.pipeline"):
        first = _dispatch(fresh, 3)
    assert first["status"] == "ok" and first["past"] == "re-planned"
    assert any("re-plan periods 0..2" in r.getMessage() for r in caplog.records)
    with fresh.sessions() as s:
        runs = {r.period_key: r for r in s.scalars(sa.select(JobRun).where(JobRun.job == "dispatch"))}
    run = runs[planning.period_key(pd.Timestamp(first["period"]))]
    assert run.status == "ok" and json.loads(run.detail)["past"] == "re-planned"
    second = _dispatch(fresh, 4)  # the plan of period 3 now covers the past
    assert second["status"] == "ok" and second["past"] == "pinned"


FLEX_PORTFOLIO = """
name: flex
market: shanxi
grid: {import_limit_mw: 5, export_limit_mw: 5}
assets:
  - {id: hvac, type: flexible_load, baseline: 1.0, scale_mw: 1.0, up_frac: 0.5, down_frac: 0.5,
     energy_tolerance_frac: 0.0}
"""
"""A 1 MW baseline that may move between 0.5 and 1.5 MW but must consume exactly 24 MWh a day."""


def test_flexible_load_keeps_its_daily_energy_across_restarts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the energy consumed so far in the restart state, every re-solve saw the whole
    # 24 MWh still open and moved it into the remaining (cheap) periods: far more than 24 MWh.
    pipe = _portfolio_pipeline(tmp_path, FLEX_PORTFOLIO)
    rng = np.random.default_rng(11)
    monkeypatch.setattr(
        planning, "dispatch_price", lambda slot, da, rt, history: rng.uniform(100.0, 600.0, len(da))
    )
    mw = -_dispatch_all_ok(pipe, 96, "hvac")
    assert np.all((mw >= 0.5 - 1e-9) & (mw <= 1.5 + 1e-9))
    assert mw.sum() * 0.25 == pytest.approx(24.0, abs=1e-6)
