"""Market presets: bundled YAML data, registry and validation."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from market.presets import MarketSpec, available_markets, get_market, load_market_file
from vpp.errors import InputError


def test_registry_lists_bundled_presets():
    assert {"shanxi", "generic", "gansu"} <= set(available_markets())
    assert available_markets() == sorted(available_markets())


def test_shanxi_preset_values():
    m = get_market("shanxi")
    assert m.name == "shanxi"
    assert m.timezone == "Asia/Shanghai"
    assert m.currency == "CNY"
    assert m.period_minutes == 15
    assert (m.bid_price_floor, m.bid_price_cap) == (0, 1500)
    assert (m.clear_price_floor, m.clear_price_cap) == (0, 1500)
    assert m.negative_prices is False
    assert m.da_gate_closure_days_before == 1
    assert m.da_gate_closure_time == dt.time(9, 30)
    assert set(m.bid_modes) == {"quantity_only", "price_quantity"}
    assert m.max_bid_segments == 10
    assert m.source_period_label == "end" == m.period_label
    assert m.settlement.deviation_penalty_band_frac is None
    assert m.settlement.deviation_penalty_price_yuan_per_mwh == 0
    assert m.settlement.contract_reference_price == "da"
    assert m.periods_per_hour == 4
    assert m.period_hours == 0.25
    assert m.nominal_periods_per_day == 96
    assert m.period == pd.Timedelta(minutes=15)
    assert m.price_unit == "yuan/MWh"


def test_generic_preset_values():
    m = get_market("generic")
    assert m.timezone == "Europe/Berlin"
    assert m.period_minutes == 60
    assert m.negative_prices is True
    assert (m.clear_price_floor, m.clear_price_cap) == (-500, 4000)
    assert (m.bid_price_floor, m.bid_price_cap) == (-500, 4000)
    assert m.da_gate_closure_time == dt.time(12, 0)
    assert m.source_period_label == "start"
    assert m.nominal_periods_per_day == 24


def test_gansu_preset_values():
    m = get_market("gansu")
    assert (m.timezone, m.period_minutes) == ("Asia/Shanghai", 15)
    assert (m.clear_price_floor, m.clear_price_cap) == (0, 1500)


def test_names_are_case_insensitive_and_specs_cached():
    assert get_market(" Shanxi ") is get_market("shanxi")


def test_unknown_market_lists_known_ones():
    with pytest.raises(InputError) as info:
        get_market("atlantis")
    message = str(info.value)
    assert "atlantis" in message
    for name in ("shanxi", "generic", "gansu"):
        assert name in message


def test_spec_is_frozen():
    m = get_market("shanxi")
    with pytest.raises(ValidationError):
        m.period_minutes = 60  # type: ignore[misc]
    assert isinstance(m.bid_modes, tuple)


def test_every_field_is_documented():
    for name, field in MarketSpec.model_fields.items():
        assert field.description, name


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ("da_gate_closure_time: 12:00", "da_gate_closure_time"),  # YAML base-60 integer 720
        ("timezone: Mars/Olympus", "timezone"),
        ("period_minutes: 7", "period_minutes"),
        ("bid_modes: [sealed_envelope]", "bid_modes"),
    ],
)
def test_market_file_errors_name_the_field(tmp_path, change, field):
    spec = get_market("generic").model_dump(mode="json")
    spec.update(yaml.safe_load(change))  # as a user would write it, unquoted
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_market_file(path)
    assert info.value.field is not None and info.value.field.startswith(field)
    assert str(path) in str(info.value)


def test_no_negative_floor_without_negative_prices():
    data = get_market("shanxi").model_dump()
    data["clear_price_floor"] = -10
    with pytest.raises(ValidationError, match="negative_prices"):
        MarketSpec.model_validate(data)


def test_floor_above_cap_rejected():
    data = get_market("generic").model_dump()
    data["bid_price_floor"] = 5000
    with pytest.raises(ValidationError, match="above"):
        MarketSpec.model_validate(data)


def test_missing_market_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_market_file(tmp_path / "none.yaml")
