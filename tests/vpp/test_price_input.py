"""Issue 13 item 2: price files are read in the zone and with the period label the user or the
market states, and a day missing from a file blocks only the days that need it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from market.calendar import format_timestamps, trading_day_index
from market.price_days import prices_for_day
from market.prices import read_prices
from vpp.cli import app
from vpp.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
SHANXI_END = DATA / "shanxi_typical_2024-01_end_labelled.csv"  # 00:15 ... 24:00, naive
GANSU_WEEK = DATA / "gansu_2024-01-02_08_15min.csv"  # 2024-01-02 .. 08, period starts, +08:00
DE_LU_FALL = DATA / "de_lu_2023-10-29_hourly_naive.csv"  # 25 naive Berlin hours, fall-back day

runner = CliRunner()

BATTERY = {
    "id": "bess-1", "type": "battery", "power_mw": 1.0, "energy_mwh": 2.0,
    "charge_efficiency": 0.95, "discharge_efficiency": 0.95,
    "soc_initial_mwh": 1.0, "soc_min_mwh": 0.2, "soc_max_mwh": 2.0,
}


def _portfolio(folder: Path, market: str) -> Path:
    path = folder / f"portfolio_{market}.yaml"
    document = {"name": "prices", "market": market,
                "grid": {"import_limit_mw": 5, "export_limit_mw": 5}, "assets": [BATTERY]}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _bid(tmp_path: Path, portfolio: Path, prices: Path, day: str, *options: str):
    out = tmp_path / f"bid_{len(list(tmp_path.iterdir()))}.csv"
    result = runner.invoke(app, ["bid", "--portfolio", str(portfolio), "--prices", str(prices),
                                 "--day", day, "--out", str(out), "--no-plot", "--allow-late", *options])
    return result, out


def _two_shanxi_days(tmp_path: Path) -> tuple[Path, Path]:
    """The same two days of Shanxi prices, labelled by period ends (as the exchange publishes,
    00:15 ... 24:00, naive) and by period starts with offsets."""
    day1 = pd.read_csv(SHANXI_END)
    prices = np.concatenate([day1["da_price"].to_numpy(), day1["da_price"].to_numpy()[::-1]])
    starts = trading_day_index("shanxi", "2024-01-01").append(trading_day_index("shanxi", "2024-01-02"))
    ends = [f"2024-01-0{1 + (i + 1) // 96} {((i + 1) % 96) // 4:02d}:{15 * ((i + 1) % 4):02d}"
            for i in range(192)]
    ends[95], ends[191] = "2024-01-01 24:00", "2024-01-02 24:00"
    end_file, start_file = tmp_path / "end.csv", tmp_path / "start.csv"
    pd.DataFrame({"timestamp": ends, "price": prices}).to_csv(end_file, index=False)
    pd.DataFrame({"timestamp": format_timestamps(starts), "price": prices}).to_csv(start_file, index=False)
    return end_file, start_file


def test_period_end_file_is_honoured_by_bid_for_a_market_that_labels_ends(tmp_path):
    end_file, start_file = _two_shanxi_days(tmp_path)
    portfolio = _portfolio(tmp_path, "shanxi")  # source_period_label: end
    by_end, out_end = _bid(tmp_path, portfolio, end_file, "2024-01-02")
    by_start, out_start = _bid(tmp_path, portfolio, start_file, "2024-01-02", "--prices-label", "start")
    assert by_end.exit_code == 0, by_end.output
    assert by_start.exit_code == 0, by_start.output
    bid_end, bid_start = pd.read_csv(out_end), pd.read_csv(out_start)
    assert bid_end["timestamp"].iloc[0] == "2024-01-02T00:00:00+08:00"
    np.testing.assert_allclose(bid_end["net_mw"], bid_start["net_mw"], atol=1e-6)
    shifted, out_shifted = _bid(tmp_path, portfolio, end_file, "2024-01-02", "--prices-label", "start")
    assert shifted.exit_code == 0, shifted.output  # what `bid` did before: one period late
    assert not np.allclose(pd.read_csv(out_shifted)["net_mw"], bid_start["net_mw"], atol=1e-3)


def test_period_end_file_is_honoured_by_backtest(tmp_path):
    end_file, start_file = _two_shanxi_days(tmp_path)
    portfolio = _portfolio(tmp_path, "shanxi")
    totals = []
    for prices, options in ((end_file, []), (start_file, ["--prices-label", "start"])):
        out = tmp_path / f"bt_{prices.stem}"
        result = runner.invoke(app, [
            "backtest", "--portfolio", str(portfolio), "--prices", str(prices), "--start",
            "2024-01-02", "--end", "2024-01-02", "--strategy", "perfect_foresight", "--out",
            str(out), "--quiet", *options,
        ])
        assert result.exit_code == 0, result.output
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        totals.append(summary["strategies"]["perfect_foresight"]["total_revenue_yuan"])
    assert totals[0] == pytest.approx(totals[1], abs=0.01)


def test_naive_timestamps_are_read_in_the_zone_the_user_states(tmp_path):
    # the fall-back day in naive Berlin time is ambiguous; its 25 hours in naive UTC are not
    with pytest.raises(InputError, match="ambiguous"):
        read_prices(DE_LU_FALL, "generic")
    index = trading_day_index("generic", "2023-10-29")
    utc = tmp_path / "utc.csv"
    pd.DataFrame({
        "timestamp": index.tz_convert("UTC").tz_localize(None).strftime("%Y-%m-%d %H:%M"),
        "price": 40 + 30 * np.sin(np.arange(25) / 4),  # synthetic EUR/MWh
    }).to_csv(utc, index=False)
    prices = read_prices(utc, "generic", tz="UTC")
    assert prices.index.equals(index) and len(prices) == 25
    portfolio = _portfolio(tmp_path, "generic")
    result, out = _bid(tmp_path, portfolio, utc, "2023-10-29", "--prices-tz", "UTC")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(out)) == 25
    wrong = runner.invoke(app, ["bid", "--portfolio", str(portfolio), "--prices", str(utc), "--day",
                                "2023-10-29", "--prices-tz", "Mars/Base", "--no-plot", "--allow-late"])
    assert wrong.exit_code == 1 and "unknown IANA time zone 'Mars/Base'" in wrong.output


def _without_day(tmp_path: Path, day: str) -> Path:
    lines = GANSU_WEEK.read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if not line.startswith(day)]
    assert len(kept) == len(lines) - 96
    path = tmp_path / "gansu_gap.csv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path


def test_a_missing_day_blocks_only_itself(tmp_path):
    path = _without_day(tmp_path, "2024-01-05")
    prices = read_prices(path, "gansu")
    assert prices.attrs["missing_days"] == ["2024-01-05"]
    assert len(prices_for_day(prices, "gansu", pd.Timestamp("2024-01-06").date())) == 96
    with pytest.raises(InputError, match="no prices for trading day 2024-01-05: the price file skips"):
        prices_for_day(prices, "gansu", pd.Timestamp("2024-01-05").date())
    portfolio = _portfolio(tmp_path, "gansu")
    ok, _ = _bid(tmp_path, portfolio, path, "2024-01-06")
    assert ok.exit_code == 0, ok.output
    blocked, _ = _bid(tmp_path, portfolio, path, "2024-01-05")
    assert blocked.exit_code == 1 and "2024-01-05" in blocked.output
    backtest = runner.invoke(app, [
        "backtest", "--portfolio", str(portfolio), "--prices", str(path), "--start", "2024-01-03",
        "--end", "2024-01-07", "--strategy", "perfect_foresight", "--out", str(tmp_path / "bt"),
        "--quiet",
    ])
    assert backtest.exit_code == 1
    assert "1 of 5 trading days lack prices (2024-01-05)" in backtest.output


def test_a_gap_inside_a_day_is_still_an_error_at_read(tmp_path):
    lines = GANSU_WEEK.read_text(encoding="utf-8").splitlines()
    del lines[300]
    path = tmp_path / "hole.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="gap: missing period"):
        read_prices(path, "gansu")


def test_a_skipped_day_inside_a_requested_range_is_named(tmp_path):
    path = _without_day(tmp_path, "2024-01-05")
    with pytest.raises(InputError, match="no prices for trading day 2024-01-05"):
        read_prices(path, "gansu", start=pd.Timestamp("2024-01-03").date(),
                    end=pd.Timestamp("2024-01-07").date())
    assert len(read_prices(path, "gansu", start=pd.Timestamp("2024-01-06").date())) == 3 * 96


def test_service_replay_reads_the_file_in_the_stated_zone_and_label(tmp_path):
    from market.presets import get_market
    from vpp.service import simulated_gateways

    end_file, start_file = _two_shanxi_days(tmp_path)
    utc_end = tmp_path / "utc_end.csv"  # the period-end file, written in naive UTC
    frame = pd.read_csv(end_file)
    frame["timestamp"] = (read_prices(end_file, "shanxi", period_label="end").index
                          + pd.Timedelta(minutes=15)).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")
    frame.to_csv(utc_end, index=False)
    market = get_market("shanxi")
    day = pd.Timestamp("2024-01-02").date()
    simulated_gateways.publish_day_ahead(tmp_path / "a", str(start_file), market, day)
    simulated_gateways.publish_day_ahead(tmp_path / "b", str(utc_end), market, day, prices_tz="UTC",
                                         prices_label="end")
    want = (tmp_path / "a" / "forecast_2024-01-02.csv").read_text(encoding="utf-8")
    assert (tmp_path / "b" / "forecast_2024-01-02.csv").read_text(encoding="utf-8") == want
    assert want.splitlines()[1].startswith("2024-01-02T00:00:00+08:00")
    bad = runner.invoke(app, ["run", "--portfolio", str(_portfolio(tmp_path, "shanxi")), "--simulate",
                              "2024-01-02", "--prices", str(utc_end), "--prices-label", "middle",
                              "--db", f"sqlite:///{tmp_path / 'x.db'}", "--inbox", str(tmp_path / "in"),
                              "--outbox", str(tmp_path / "out")])  # never ./inbox, ./outbox of the checkout
    assert bad.exit_code == 1 and "--prices-label must be 'start' or 'end'" in bad.output
