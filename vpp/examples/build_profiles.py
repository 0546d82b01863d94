"""Build ``data/profiles_shanxi_urban_renewal.csv`` for the bundled Shanxi urban-renewal portfolio.

A one-off build tool, run by hand; the engine never runs it. It is the only place in the package
that reads the team's shared data folder (``shared/data``, default ``../shared/data`` beside the
repository, or ``--data-dir``); its output CSV is committed, so nothing reads ``shared`` at run
time. Run it from anywhere::

    python vpp/examples/build_profiles.py [--data-dir /work/shared/data] [--out PATH]

Output: one row per 15-minute period from 2024-01-01T00:00+08:00 to 2024-07-31T23:45+08:00 (the
range of the bundled Gansu price file ``prices_gansu_2024-01_2024-07.csv``), 20,448 rows, column
``timestamp`` (ISO 8601, +08:00, period START) and:

``pv_rooftop_pu`` (per unit of AC capacity, 0..1)
    Measured AC power of NREL PVDAQ system 50 (``pv_measured_nrel_system50_2011-2013_15min.csv``,
    clock UTC-07:00), divided by its all-time peak (3,367.9 W). Each 2024 period takes the 2012
    value (2012 and 2024 are both leap years, so a calendar date is the same day of year) at the
    same local clock time minus 30 minutes: the file's clock is taken as local solar time (its
    production centroid is about 12:10), and Taiyuan (112.5 E) has solar noon about 30 minutes
    after 12:00 Beijing time. Missing values (4.8 % of 2012, mostly whole days in April and May)
    are filled: gaps of up to one hour by linear interpolation, longer gaps from the same date and
    time in 2013, then 2011, and any rest by interpolation.
``residential_load_pu`` (per unit of the yearly peak)
    Shanxi provincial hourly load (``shanxi_hourly_load_provincial.csv``, 8,760 hours of one
    year, Wu & Kan 2023), divided by its yearly peak; ``hour_idx`` h is 2024-01-01 00:00 + (h - 1)
    hours (local time), and each hour's value is forward-filled to its four 15-minute periods.
    The provincial shape is flatter than a pure residential one (industry dominates it); it is the
    real Shanxi data we have.
``mall_hvac_pu`` (per unit of its peak)
    The commercial baseline: the same Shanxi hourly shape with its intraday swing tripled around
    each day's mean (``mean_d + 3 * (x - mean_d)``; a mall's HVAC follows opening hours more
    strongly than the province), divided by its peak, forward-filled to 15 minutes.
``heat_demand_block_mw`` (MW thermal)
    The heat demand of the renovated building block: measured heat-pump energy of one home in
    Konstanz (``household_opsd_de_kn_residential4_hourly_kwh.csv``, ``heat_pump_kwh``, OPSD,
    CC-BY-4.0) in its local time (Europe/Berlin), mapped by date and hour from 2016 (a leap year)
    onto 2024; gaps filled by linear interpolation (the spring daylight-saving hour too); a centred
    3-hour rolling mean (one heat pump cycles on and off, a block of many flats does not); divided
    by its peak over the window and scaled to ``HEAT_PEAK_MW`` thermal; forward-filled to 15
    minutes. The heat pump also makes hot water, and it is off in June and July, so summer demand is
    near zero, as measured.
``ev_fleet_availability`` (0..1)
    Hand-written, not measured: the share of the community fleet's chargers with a vehicle
    connected, ``FLEET_AVAILABILITY_BY_HOUR`` repeated every day (overnight charging at home,
    fewer vehicles during working hours). The Caltech ACN sessions in ``shared/data`` may not be
    bundled, so the EV hub's sessions and this curve are typical values written by hand.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import format_timestamps

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE.parents[2] / "shared" / "data"
OUTPUT = HERE / "data" / "profiles_shanxi_urban_renewal.csv"

START, END = "2024-01-01 00:00", "2024-07-31 23:45"
TIMEZONE = "Asia/Shanghai"
PV_CLOCK_SHIFT = pd.Timedelta(minutes=30)
"""Shanxi clock time minus the PV site's clock time at equal solar time."""
HEAT_PEAK_MW = 1.8
"""Peak heat demand of the building block (MW thermal)."""
MALL_SWING_FACTOR = 3.0
"""Factor applied to the intraday deviation from the daily mean for the mall baseline."""
FLEET_AVAILABILITY_BY_HOUR = [
    0.90, 0.90, 0.90, 0.90, 0.90, 0.85, 0.70, 0.50, 0.30, 0.25, 0.25, 0.25,
    0.30, 0.30, 0.25, 0.25, 0.30, 0.45, 0.65, 0.80, 0.85, 0.90, 0.90, 0.90,
]
"""Share of fleet chargers with a vehicle connected, hour 0..23 local time (hand-written)."""


def target_index() -> pd.DatetimeIndex:
    """Naive local (Asia/Shanghai wall clock) 15-minute period starts of the output."""
    return pd.date_range(START, END, freq="15min", name="timestamp")


def pv_per_unit(data_dir: Path, index: pd.DatetimeIndex) -> np.ndarray:
    """PV per unit from NREL system 50, 2012, shifted to Shanxi solar time (see module doc)."""
    raw = pd.read_csv(data_dir / "pv_measured_nrel_system50_2011-2013_15min.csv")
    clock = pd.to_datetime(raw["measured_on"]).dt.tz_localize(None)  # site clock, UTC-07:00
    power = pd.Series(raw["ac_power_2"].to_numpy(), index=clock).sort_index()
    power = power[~power.index.duplicated()].asfreq("15min")
    filled = power.interpolate(limit=4, limit_area="inside")
    for years in (1, -1):  # the same date and time in 2013, then in 2011
        other = power.shift(freq=pd.DateOffset(years=years))
        other = other[~other.index.duplicated()].reindex(filled.index)
        filled = filled.fillna(other)
    filled = filled.interpolate(limit_area="inside").fillna(0.0)
    per_unit = (filled / power.max()).clip(0.0, 1.0)
    source = index.map(lambda t: t.replace(year=2012)) - PV_CLOCK_SHIFT
    return per_unit.reindex(source).to_numpy()


def shanxi_hourly(data_dir: Path, hours: pd.DatetimeIndex) -> pd.Series:
    """Shanxi provincial load (MWh per hour) on the 2024 hours ``hours`` (naive local)."""
    raw = pd.read_csv(data_dir / "shanxi_hourly_load_provincial.csv")
    stamps = pd.Timestamp(START) + pd.to_timedelta(raw["hour_idx"] - 1, unit="h")
    return pd.Series(raw["load_mwh"].to_numpy(), index=stamps).reindex(hours)


def mall_shape(load: pd.Series) -> pd.Series:
    """Intraday swing of ``load`` multiplied by ``MALL_SWING_FACTOR`` around each day's mean."""
    daily_mean = load.groupby(load.index.date).transform("mean")
    return daily_mean + MALL_SWING_FACTOR * (load - daily_mean)


def heat_demand(data_dir: Path, hours: pd.DatetimeIndex) -> pd.Series:
    """Heat demand per unit of peak from the Konstanz home's heat pump, on ``hours`` (2024)."""
    raw = pd.read_csv(data_dir / "household_opsd_de_kn_residential4_hourly_kwh.csv")
    local = pd.to_datetime(raw["utc_timestamp"], utc=True).dt.tz_convert("Europe/Berlin")
    energy = pd.Series(raw["heat_pump_kwh"].to_numpy(), index=local.dt.tz_localize(None))
    energy = energy[~energy.index.duplicated()].sort_index().asfreq("h")  # adds the DST gap hour
    energy = energy.interpolate(limit_area="inside")
    smooth = energy.rolling(3, center=True, min_periods=1).mean()
    source = hours.map(lambda t: t.replace(year=2016))
    window = smooth.reindex(source)
    return pd.Series((window / window.max()).to_numpy(), index=hours)


def build(data_dir: Path) -> pd.DataFrame:
    """All profile columns on the 15-minute 2024 index (see the module docstring)."""
    index = target_index()
    hours = pd.date_range(START, END, freq="h")
    load = shanxi_hourly(data_dir, hours)
    hourly = pd.DataFrame(
        {
            "residential_load_pu": load / load.max(),
            "mall_hvac_pu": mall_shape(load) / mall_shape(load).max(),
            "heat_demand_block_mw": HEAT_PEAK_MW * heat_demand(data_dir, hours),
        }
    )
    quarter = hourly.reindex(index, method="ffill")
    frame = pd.DataFrame(
        {
            "pv_rooftop_pu": pv_per_unit(data_dir, index),
            "residential_load_pu": quarter["residential_load_pu"].to_numpy(),
            "mall_hvac_pu": quarter["mall_hvac_pu"].to_numpy(),
            "heat_demand_block_mw": quarter["heat_demand_block_mw"].to_numpy(),
            "ev_fleet_availability": np.asarray(FLEET_AVAILABILITY_BY_HOUR)[index.hour],
        },
        index=index.tz_localize(TIMEZONE),
    ).round(4)
    if frame.isna().any().any():
        raise RuntimeError(f"unfilled values:\n{frame.isna().sum()}")
    return frame


def main(argv: list[str] | None = None) -> None:
    """Build the profiles and write them as CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    frame = build(args.data_dir)
    out = frame.copy()
    out.index = pd.Index(format_timestamps(frame.index), name="timestamp")
    out.to_csv(args.out)
    print(f"wrote {len(frame)} rows x {len(frame.columns)} profiles to {args.out}")
    print(frame.describe().round(3).to_string())


if __name__ == "__main__":
    main()
