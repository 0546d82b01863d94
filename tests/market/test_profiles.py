"""Profile files and resampling onto market periods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.calendar import trading_day_index
from market.profiles import read_profiles, resample_profile
from vpp.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
PV_DAY = DATA / "pv_nrel_system50_2012-06-02_15min.csv"


def _write(tmp_path: Path, text: str, name: str = "profiles.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _raises(path: Path, tz: str = "Asia/Shanghai") -> InputError:
    with pytest.raises(InputError) as info:
        read_profiles(path, tz)
    return info.value


def _located(err: InputError, path: Path, row: int, timestamp: str) -> None:
    message = str(err)
    assert str(path) in message and f"row {row}," in message and timestamp in message, message


HOURLY = "timestamp,load_mw,pv_pu\n" + "".join(
    f"2024-01-01 {h:02d}:00,{10 + h},{max(0.0, 1 - abs(h - 12) / 6):.3f}\n" for h in range(24)
)


def test_real_pv_profile_keeps_its_offset_and_resolution():
    profiles = read_profiles(PV_DAY, "America/Denver")
    assert list(profiles.columns) == ["pv_ac_w"]
    assert len(profiles) == 96
    assert profiles.index.freq == pd.Timedelta(minutes=15)
    assert profiles.index[0] == pd.Timestamp("2012-06-02T00:00:00-07:00")
    assert str(profiles.index.tz) == "America/Denver"
    assert profiles.loc["2012-06-02 11:00:00-07:00", "pv_ac_w"] == 2255.2866
    assert profiles["pv_ac_w"].max() < 3400  # a 3.37 kW system, in W


def test_hourly_naive_profile_read_in_zone(tmp_path):
    profiles = read_profiles(_write(tmp_path, HOURLY), "Asia/Shanghai")
    assert profiles.index[0] == pd.Timestamp("2024-01-01T00:00:00+08:00")
    assert profiles.index.freq == pd.Timedelta(hours=1)
    assert (profiles.dtypes == "float64").all()
    assert profiles["load_mw"].iloc[5] == 15.0


def test_five_minute_profile_allowed(tmp_path):
    text = "timestamp,x\n" + "".join(f"2024-01-01 00:{m:02d},{m}\n" for m in range(0, 60, 5))
    assert read_profiles(_write(tmp_path, text), "UTC").index.freq == pd.Timedelta(minutes=5)


def test_profile_errors_name_file_row_and_timestamp(tmp_path):
    lines = HOURLY.splitlines()
    gap = _write(tmp_path, "\n".join(lines[:4] + lines[5:]), "gap.csv")
    err = _raises(gap)
    _located(err, gap, 4, "2024-01-01 03:00:00+08:00")
    assert "gap" in str(err)

    dup = _write(tmp_path, "\n".join(lines[:4] + lines[3:]), "dup.csv")
    _located(_raises(dup), dup, 4, "2024-01-01 02:00:00+08:00")

    nan = _write(tmp_path, "\n".join([*lines[:6], "2024-01-01 05:00,,0.5", *lines[7:]]), "nan.csv")
    err = _raises(nan)
    _located(err, nan, 6, "2024-01-01 05:00:00+08:00")
    assert err.field == "load_mw"

    text = _write(tmp_path, "\n".join([*lines[:6], "2024-01-01 05:00,x,0.5", *lines[7:]]), "text.csv")
    assert "not a number: 'x'" in str(_raises(text))

    bad_ts = _write(tmp_path, "\n".join([*lines[:3], "2024-13-01 02:00,1,1", *lines[4:]]), "ts.csv")
    _located(_raises(bad_ts), bad_ts, 3, "2024-13-01 02:00")

    irregular = _write(tmp_path, "\n".join([*lines[:3], "2024-01-01 02:30,1,1", *lines[4:]]), "irr.csv")
    err = _raises(irregular)
    _located(err, irregular, 3, "2024-01-01 02:30:00+08:00")
    assert "irregular" in str(err)


def test_profile_file_without_profile_columns(tmp_path):
    assert "no profile columns" in str(_raises(_write(tmp_path, "timestamp\n2024-01-01 00:00\n")))
    assert "not found" in str(_raises(tmp_path / "missing.csv"))


def test_ambiguous_naive_profile_time(tmp_path):
    path = _write(tmp_path, "timestamp,x\n2023-10-29 01:00,1\n2023-10-29 02:00,2\n")
    err = _raises(path, "Europe/Berlin")
    _located(err, path, 2, "2023-10-29 02:00")


# ---------------------------------------------------------------- resampling


def test_coarser_profile_is_forward_filled_exactly(tmp_path):
    profiles = read_profiles(_write(tmp_path, HOURLY), "Asia/Shanghai")
    index = trading_day_index("shanxi", "2024-01-01")
    out = resample_profile(profiles, index)
    assert out.index.equals(index)
    np.testing.assert_array_equal(out["load_mw"].to_numpy(), np.repeat(np.arange(10.0, 34.0), 4))


def test_finer_profile_is_averaged():
    index = trading_day_index("shanxi", "2024-01-01")
    fine_index = pd.date_range(index[0], periods=96 * 3, freq="5min")
    fine = pd.DataFrame({"x": np.arange(96 * 3, dtype=float)}, index=fine_index)
    out = resample_profile(fine, index)
    np.testing.assert_allclose(out["x"].to_numpy(), np.arange(96) * 3 + 1.0)


def test_equal_resolution_is_unchanged():
    profiles = read_profiles(DATA / "gansu_2024-01-02_15min.csv", "Asia/Shanghai")
    index = trading_day_index("gansu", "2024-01-02")
    out = resample_profile(profiles, index)
    np.testing.assert_array_equal(out.to_numpy(), profiles.to_numpy())


def test_uneven_ratio_is_time_weighted():
    start = pd.Timestamp("2024-01-01", tz="UTC")
    ten = pd.DataFrame({"x": [0.0, 3.0, 6.0]}, index=pd.date_range(start, periods=3, freq="10min"))
    target = pd.date_range(start, periods=2, freq="15min")
    out = resample_profile(ten, target)
    np.testing.assert_allclose(out["x"].to_numpy(), [1.0, 5.0])  # (0*10+3*5)/15, (3*5+6*10)/15


def test_hourly_profile_onto_generic_dst_day():
    day = trading_day_index("generic", "2023-10-29")  # 25 hours
    utc = pd.date_range(day[0], periods=25 * 4, freq="15min").tz_convert("UTC")
    profiles = pd.DataFrame({"x": np.repeat(np.arange(25.0), 4)}, index=utc)
    out = resample_profile(profiles, day)
    np.testing.assert_allclose(out["x"].to_numpy(), np.arange(25.0))


def test_uncovered_index_names_first_timestamp(tmp_path):
    path = _write(tmp_path, HOURLY)
    profiles = read_profiles(path, "Asia/Shanghai")
    index = trading_day_index("shanxi", "2024-01-02")
    with pytest.raises(InputError) as info:
        resample_profile(profiles.iloc[:-1], trading_day_index("shanxi", "2024-01-01"), source=path)
    assert "2024-01-01 23:00:00+08:00" in str(info.value) and str(path) in str(info.value)
    with pytest.raises(InputError, match="2024-01-02 00:00:00"):
        resample_profile(profiles, index)
