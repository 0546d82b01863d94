"""Flexibility envelope: small portfolios whose numbers are worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from market.calendar import trading_day_index
from market.presets import get_market
from vpp.assets import ASSET_TYPES
from vpp.envelope import ENVELOPE_COLUMNS, FAMILY_RANGES, flexibility_envelope
from vpp.portfolio import Portfolio
from vpp.portfolio_io import LoadedPortfolio

DAY = trading_day_index("shanxi", "2024-01-15")
PROFILE = [0.0, 0.25, 0.5, 1.0] * 24
"""A per-unit PV profile repeating every hour: 0, 0.25, 0.5, 1.0."""
P = np.array(PROFILE)


def loaded(assets: list[dict], *, import_mw: float = 5.0, export_mw: float = 5.0,
           group_limits: dict | None = None, market: str = "shanxi") -> LoadedPortfolio:
    portfolio = Portfolio.model_validate({
        "name": "t",
        "market": market,
        "grid": {"import_limit_mw": import_mw, "export_limit_mw": export_mw},
        "group_limits": group_limits or {},
        "assets": assets,
    })
    return LoadedPortfolio(portfolio, Path("t.yaml"), None, get_market(market))


BATTERY = {"id": "b", "type": "battery", "power_mw": 1.0, "energy_mwh": 2.0,
           "soc_initial_mwh": 1.0, "soc_min_mwh": 0.2, "soc_max_mwh": 1.8}


def test_every_asset_type_has_a_range_function():
    assert set(FAMILY_RANGES) == set(ASSET_TYPES)


def test_battery_and_pv_export_is_capped_by_the_grid():
    pv = {"id": "pv", "type": "pv", "capacity_mw": 2.0, "profile": PROFILE}
    envelope = flexibility_envelope(loaded([BATTERY, pv], export_mw=2.5), DAY)
    frame = envelope.per_period
    assert list(frame.columns) == list(ENVELOPE_COLUMNS)
    assert frame.index.equals(DAY)
    np.testing.assert_allclose(frame["max_export_mw"], np.minimum(1 + 2 * P, 2.5))
    np.testing.assert_allclose(frame["max_export_mw"][:4], [1.0, 1.5, 2.0, 2.5])
    np.testing.assert_allclose(frame["max_import_mw"], 1.0)  # PV curtailed to 0, battery charges
    np.testing.assert_allclose(frame["baseline_mw"], 2 * P)
    np.testing.assert_allclose(frame["up_mw"][:4], [1.0, 1.0, 1.0, 0.5])
    np.testing.assert_allclose(frame["down_mw"][:4], [1.0, 1.5, 2.0, 3.0])
    assert envelope.shiftable_energy_mwh == pytest.approx(1.6)
    assert envelope.adjustable_mw == pytest.approx(3.0)
    assert envelope.conflicts == ()


def test_non_curtailable_pv_reduces_the_import_range():
    pv = {"id": "pv", "type": "pv", "capacity_mw": 2.0, "profile": PROFILE, "curtailable": False}
    frame = flexibility_envelope(loaded([BATTERY, pv]), DAY).per_period
    np.testing.assert_allclose(frame["max_import_mw"][:4], [1.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(frame["down_mw"], 1.0)


def test_loads_and_heating():
    assets = [
        {"id": "house", "type": "load", "profile": 0.4, "scale_mw": 2.0},
        {"id": "mall", "type": "flexible_load", "baseline": 1.0, "up_frac": 0.2, "down_frac": 0.3},
        {"id": "heat", "type": "heating", "rated_power_mw": 0.5, "cop": 2.5,
         "thermal_capacity_mwh_per_k": 1.0, "heat_demand_mw": 0.75},
    ]
    envelope = flexibility_envelope(loaded(assets), DAY)
    row = envelope.per_period.iloc[0]
    assert row["max_import_mw"] == pytest.approx(0.8 + 1.2 + 0.5)
    assert row["max_export_mw"] == 0.0  # the fleet always imports at least 0.8 + 0.7 MW
    assert row["baseline_mw"] == pytest.approx(-(0.8 + 1.0 + 0.75 / 2.5))
    assert row["up_mw"] == pytest.approx(0.3 + 0.3)
    assert row["down_mw"] == pytest.approx(0.2 + 0.2)
    # flexible load: 24 MWh * 0.2 * 0.3 / 0.5; heating: 1 MWh/K * (22 - 18) K / 2.5
    assert envelope.shiftable_energy_mwh == pytest.approx(2.88 + 1.6)


def test_ev_session_counts_the_share_of_each_period_it_is_plugged_in():
    hub = {"id": "ev", "type": "ev_hub", "v2g": True, "charge_efficiency": 1.0,
           "sessions": [{"arrival": "07:10", "departure": "08:00", "energy_mwh": 0.05,
                         "max_power_mw": 0.12}]}
    envelope = flexibility_envelope(loaded([hub]), DAY)
    frame = envelope.per_period
    at_seven = slice(28, 32)  # 07:00, 07:15, 07:30, 07:45
    np.testing.assert_allclose(frame["max_import_mw"][at_seven], [0.04, 0.12, 0.12, 0.12])
    np.testing.assert_allclose(frame["max_export_mw"][at_seven], [0.04, 0.12, 0.12, 0.12])
    np.testing.assert_allclose(frame["baseline_mw"][at_seven], [-0.02, -0.06, -0.06, -0.06])
    assert frame["max_import_mw"].drop(frame.index[at_seven]).eq(0).all()
    assert -frame["baseline_mw"].sum() * 0.25 == pytest.approx(0.05)
    assert envelope.shiftable_energy_mwh == pytest.approx(min(0.05, 0.12 * 50 / 60 - 0.05))


def test_ev_fleet_without_v2g_only_imports():
    hub = {"id": "fleet", "type": "ev_hub", "charge_efficiency": 0.8,
           "fleet": {"max_power_mw": 0.4, "availability": 0.5, "daily_energy_mwh": 0.96}}
    envelope = flexibility_envelope(loaded([hub]), DAY)
    frame = envelope.per_period
    np.testing.assert_allclose(frame["max_import_mw"], 0.2)
    np.testing.assert_allclose(frame["max_export_mw"], 0.0)
    np.testing.assert_allclose(frame["baseline_mw"], -1.2 / 24)  # 0.96 / 0.8 MWh over 24 h
    assert envelope.shiftable_energy_mwh == pytest.approx(1.2)


def test_generator_exports_up_to_its_maximum():
    gen = {"id": "g", "type": "generator", "max_mw": 2.0, "min_mw": 0.5}
    row = flexibility_envelope(loaded([gen]), DAY).per_period.iloc[0]
    assert (row["max_export_mw"], row["max_import_mw"], row["baseline_mw"]) == (2.0, 0.0, 0.0)


def test_group_limit_clips_its_members_only():
    grouped = {**BATTERY, "id": "a", "power_mw": 2.0, "energy_mwh": 4.0, "group": "feeder"}
    limits = {"feeder": {"import_limit_mw": 1.0, "export_limit_mw": 1.5}}
    frame = flexibility_envelope(loaded([grouped, BATTERY], group_limits=limits), DAY).per_period
    np.testing.assert_allclose(frame["max_export_mw"], 1.5 + 1.0)
    np.testing.assert_allclose(frame["max_import_mw"], 1.0 + 1.0)


def test_forced_export_above_the_grid_limit_is_reported():
    pv = {"id": "pv", "type": "pv", "capacity_mw": 3.0, "profile": 1.0, "curtailable": False}
    envelope = flexibility_envelope(loaded([pv], export_mw=2.5), DAY)
    np.testing.assert_allclose(envelope.per_period["max_export_mw"], 2.5)
    np.testing.assert_allclose(envelope.per_period[["up_mw", "down_mw"]], 0.0)
    assert len(envelope.conflicts) == 1
    assert "grid must export at least 3.000 MW, above its export limit 2.5 MW" in \
        envelope.conflicts[0]
    assert "(and 95 more periods)" in envelope.conflicts[0]


def test_daylight_saving_day_of_an_hourly_market_has_23_rows():
    day = trading_day_index("generic", "2023-03-26")
    hub = {"id": "ev", "type": "ev_hub", "charge_efficiency": 1.0,
           "sessions": [{"arrival": "01:00", "departure": "04:00", "energy_mwh": 0.2,
                         "max_power_mw": 0.1}]}
    frame = flexibility_envelope(loaded([BATTERY, hub], market="generic"), day).per_period
    assert len(frame) == 23
    # 01:00-04:00 local is two real hours (02:00 does not exist): 0.1 MW at 01:00 and 03:00
    np.testing.assert_allclose(frame["max_import_mw"][:4], [1.0, 1.1, 1.1, 1.0])
    np.testing.assert_allclose(frame["baseline_mw"][1:3], [-0.1, -0.1])
