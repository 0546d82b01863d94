"""Portfolio loader: valid files, one test per kind of bad input, profile resolution."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.calendar import trading_day_index
from vpp.errors import InputError
from vpp.examples_paths import EXAMPLES_DIR
from vpp.portfolio_io import load_portfolio
from vpp.profile_refs import default_day, profile_resolver, resolve_profile

HEADER = """\
name: test
market: shanxi
grid: {import_limit_mw: 5, export_limit_mw: 5}
"""
BATTERY = (
    "  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0}\n"
)


def write(tmp_path: Path, text: str, name: str = "portfolio.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def write_profiles(tmp_path: Path, name: str, columns: dict[str, list[float]],
                   start: str = "2024-01-01T00:00:00+08:00", freq: str = "15min") -> Path:
    n = len(next(iter(columns.values())))
    stamps = pd.date_range(start, periods=n, freq=freq)
    frame = pd.DataFrame({"timestamp": stamps.strftime("%Y-%m-%dT%H:%M:%S+08:00"), **columns})
    frame.to_csv(tmp_path / name, index=False)
    return tmp_path / name


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    return str(info.value)


# ---------------------------------------------------------------------------- valid files


def test_minimal_example_loads_without_profiles():
    loaded = load_portfolio(EXAMPLES_DIR / "minimal.yaml")
    assert loaded.portfolio.name == "demo"
    assert [a.id for a in loaded.portfolio.assets] == ["bess-1"]
    assert loaded.profiles is None
    assert loaded.market.name == "shanxi"
    assert loaded.timezone == "Asia/Shanghai"


def test_bundled_example_loads_with_seven_months_of_profiles():
    loaded = load_portfolio(EXAMPLES_DIR / "shanxi_urban_renewal.yaml")
    types = {a.type for a in loaded.portfolio.assets}
    assert types == {"battery", "pv", "load", "flexible_load", "ev_hub", "heating"}
    profiles = loaded.profiles
    assert len(profiles) == 213 * 96
    assert profiles.index[0] == pd.Timestamp("2024-01-01T00:00+08:00")
    assert profiles.index[-1] == pd.Timestamp("2024-07-31T23:45+08:00")
    assert profiles["pv_rooftop_pu"].between(0, 1).all()
    assert default_day(loaded) == dt.date(2024, 1, 1)


def test_time_of_day_after_noon_stays_a_time_not_a_base60_number(tmp_path):
    path = write(tmp_path, HEADER + textwrap.dedent("""\
        assets:
          - id: hub
            type: ev_hub
            sessions: [{arrival: 17:30, departure: 21:00, energy_mwh: 0.05, max_power_mw: 0.1}]
        """))
    session = load_portfolio(path).portfolio.assets[0].sessions[0]
    assert session.arrival == dt.time(17, 30)
    assert session.departure == dt.time(21, 0)


def test_json_portfolio_loads(tmp_path):
    data = {
        "name": "j",
        "grid": {"import_limit_mw": 1, "export_limit_mw": 1},
        "assets": [{"id": "g", "type": "generator", "max_mw": 1e0}],
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_portfolio(path).portfolio.assets[0].max_mw == 1.0


# ---------------------------------------------------------------------------- bad files


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n  - {id: bess-1, type: battery\n  - x: [\n")
    message = load_error(path)
    assert "invalid YAML at line" in message
    assert str(path) in message


def test_json_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{\n  "name": "x",\n  "grid": \n}\n', encoding="utf-8")
    assert "invalid JSON at line 4" in load_error(path)


def test_repeated_key_is_an_error_with_its_line(tmp_path):
    path = write(tmp_path, HEADER + "grid: {import_limit_mw: 1, export_limit_mw: 1}\n")
    assert "key 'grid' appears twice" in load_error(path)


def test_unknown_asset_type_lists_the_known_types(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n  - {id: x1, type: flywheel, power_mw: 1}\n")
    message = load_error(path)
    assert "assets[0] (x1).type: unknown asset type 'flywheel'" in message
    assert "battery, pv, load, flexible_load, ev_hub, generator, heating" in message


def test_negative_energy_names_field_path_and_asset_id(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n" + BATTERY.replace("energy_mwh: 2.0", "energy_mwh: -2"))
    message = load_error(path)
    assert "assets[0] (bess-1).energy_mwh: Input should be greater than 0" in message
    assert "ValidationError" not in message


def test_several_problems_are_listed_one_per_line(tmp_path):
    path = write(tmp_path, HEADER + textwrap.dedent("""\
        assets:
          - {id: b, type: battery, power_mw: -1, energy_mwh: 0, soc_initial_mwh: 0}
        """))
    message = load_error(path)
    assert "2 problems" in message
    assert "assets[0] (b).power_mw: Input should be greater than 0" in message
    assert "assets[0] (b).energy_mwh: Input should be greater than 0" in message


def test_cross_field_rule_names_the_asset(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n" + BATTERY.replace("soc_initial_mwh: 1.0",
                                                                   "soc_initial_mwh: 3.0"))
    assert "assets[0] (bess-1): soc_initial_mwh 3.0 is outside" in load_error(path)


def test_duplicate_asset_ids_are_named(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n" + BATTERY + BATTERY)
    assert "asset ids must be unique; repeated: bess-1" in load_error(path)


def test_group_limit_for_unknown_group_is_an_error(tmp_path):
    path = write(tmp_path, HEADER + "group_limits: {feeder-x: {import_limit_mw: 1, "
                 "export_limit_mw: 1}}\nassets:\n" + BATTERY)
    assert "group_limits name groups no asset belongs to: feeder-x" in load_error(path)


def test_misspelt_field_suggests_the_right_one(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n" + BATTERY.replace("energy_mwh", "energy_mw", 1))
    message = load_error(path)
    assert "assets[0] (bess-1).energy_mw: unknown field 'energy_mw' (did you mean 'energy_mwh'?)" \
        in message
    assert "assets[0] (bess-1).energy_mwh: Field required" in message


def test_bad_list_profile_entry_is_located_inside_the_list(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n  - {id: l, type: load, profile: [1, oops, 2]}\n")
    message = load_error(path)
    assert "assets[0] (l).profile[1]: Input should be a valid number" in message
    assert "valid string" not in message


def test_unknown_market_lists_the_presets(tmp_path):
    path = write(tmp_path, HEADER.replace("shanxi", "mars") + "assets:\n" + BATTERY)
    assert "market: unknown market 'mars'; known markets:" in load_error(path)


def test_missing_profile_column_names_asset_field_and_column(tmp_path):
    write_profiles(tmp_path, "p.csv", {"pv_pu": [0.0] * 96})
    path = write(tmp_path, HEADER + "profiles: [p.csv]\nassets:\n"
                 "  - {id: pv-1, type: pv, capacity_mw: 1, profile: pv_unit}\n")
    message = load_error(path)
    assert "assets[0] (pv-1).profile: profile column 'pv_unit' is not in the profile files" in message
    assert "did you mean 'pv_pu'" in message


def test_profile_column_without_profile_files_is_an_error(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n  - {id: l, type: load, profile: house}\n")
    assert "assets[0] (l).profile: names profile column 'house' but the portfolio lists no" \
        in load_error(path)


def test_missing_profile_file_is_named(tmp_path):
    path = write(tmp_path, HEADER + "profiles: [nowhere.csv]\nassets:\n" + BATTERY)
    assert "profiles[0]: profile file" in load_error(path)


def test_column_in_two_profile_files_is_an_error(tmp_path):
    write_profiles(tmp_path, "a.csv", {"x": [1.0] * 4})
    write_profiles(tmp_path, "b.csv", {"x": [2.0] * 4})
    path = write(tmp_path, HEADER + "profiles: [a.csv, b.csv]\nassets:\n" + BATTERY)
    assert "profiles[1]: column 'x' is in both a.csv and b.csv" in load_error(path)


# ---------------------------------------------------------------------------- resolution


@pytest.fixture
def day_index():
    return trading_day_index("shanxi", "2024-01-01")


def test_resolve_constant_list_and_column(tmp_path, day_index):
    hourly = [float(h) for h in range(24)]
    write_profiles(tmp_path, "h.csv", {"hourly": hourly}, freq="h")
    write_profiles(tmp_path, "q.csv", {"quarter": [0.5] * 96})
    path = write(tmp_path, HEADER + "profiles: [h.csv, q.csv]\nassets:\n" + BATTERY)
    loaded = load_portfolio(path)
    assert list(loaded.profiles.columns) == ["hourly", "quarter"]
    np.testing.assert_array_equal(resolve_profile(loaded, 2.5, day_index), np.full(96, 2.5))
    values = list(np.linspace(0, 1, 96))
    np.testing.assert_array_equal(resolve_profile(loaded, values, day_index), values)
    np.testing.assert_array_equal(resolve_profile(loaded, "hourly", day_index),
                                  np.repeat(hourly, 4))
    np.testing.assert_array_equal(resolve_profile(loaded, "quarter", day_index), np.full(96, 0.5))


def test_list_profile_of_wrong_length_names_asset_and_field(tmp_path):
    path = write(tmp_path, HEADER + "assets:\n  - {id: l, type: load, profile: [1, 2, 3]}\n")
    with pytest.raises(InputError, match=r"assets\[0\] \(l\)\.profile: a profile list needs one value per "
                                         r"period of the trading day \(96 values\), got 3"):
        load_portfolio(path)


def test_list_profile_of_one_day_on_a_two_day_horizon_is_an_error(tmp_path):
    values = ", ".join(["1"] * 96)
    path = write(tmp_path, HEADER + "assets:\n  - {id: l, type: load, profile: [" + values + "]}\n")
    loaded = load_portfolio(path)
    asset = loaded.portfolio.assets[0]
    two_days = trading_day_index("shanxi", "2024-01-02").append(trading_day_index("shanxi", "2024-01-03"))
    with pytest.raises(InputError, match=r"assets\[0\] \(l\)\.profile: the list has 96 values but "
                                         r"the horizon .* has 192 periods"):
        profile_resolver(loaded, two_days)(asset, "profile", asset.profile)


def test_column_outside_the_profile_range_is_an_error(tmp_path):
    write_profiles(tmp_path, "p.csv", {"load": [1.0] * 96})
    path = write(tmp_path, HEADER + "profiles: [p.csv]\nassets:\n"
                 "  - {id: l, type: load, profile: load}\n")
    loaded = load_portfolio(path)
    with pytest.raises(InputError, match=r"assets\[0\] \(l\)\.profile: profile column 'load': "
                                         r"profiles cover"):
        resolve_profile(loaded, "load", trading_day_index("shanxi", "2024-01-02"),
                        asset_id="l", field="profile")


def test_default_day_is_the_first_full_day_of_the_profiles(tmp_path):
    write_profiles(tmp_path, "p.csv", {"x": [1.0] * 200}, start="2024-01-01T06:00:00+08:00")
    path = write(tmp_path, HEADER + "profiles: [p.csv]\nassets:\n" + BATTERY)
    assert default_day(load_portfolio(path)) == dt.date(2024, 1, 2)


def test_default_day_without_profiles_is_today_in_the_market_zone():
    loaded = load_portfolio(EXAMPLES_DIR / "minimal.yaml")
    today = pd.Timestamp.now(tz="Asia/Shanghai").date()
    assert default_day(loaded) in (today, today + dt.timedelta(days=1))


def test_default_day_accepts_an_hourly_profile_ending_at_23_00(tmp_path):
    write_profiles(tmp_path, "p.csv", {"x": [1.0] * 24}, freq="h")
    path = write(tmp_path, HEADER + "profiles: [p.csv]\nassets:\n" + BATTERY)
    assert default_day(load_portfolio(path)) == dt.date(2024, 1, 1)


def test_profiles_covering_no_full_day_are_an_error(tmp_path):
    write_profiles(tmp_path, "p.csv", {"x": [1.0] * 50}, start="2024-01-01T06:00:00+08:00")
    path = write(tmp_path, HEADER + "profiles: [p.csv]\nassets:\n" + BATTERY)
    with pytest.raises(InputError, match="cover no full trading day"):
        default_day(load_portfolio(path))
