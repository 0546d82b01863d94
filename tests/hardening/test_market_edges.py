"""Market edge cases: circuit breaker, daylight-saving days, Shanxi floor and cap, an all-negative day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from market.calendar import trading_day_index
from market.presets import get_market
from market.price_days import prices_for_day
from market.prices import read_prices
from market.settlement import settle_periods, to_fen
from simulator.day_ahead import plan_day_ahead
from vpp.cli import app
from vpp.errors import InputError
from vpp.portfolio_io import load_portfolio

from ._scale import minimal_battery, record

BATTERY = minimal_battery()


def _portfolio(folder: Path, market: str, assets: list[dict], profiles: list[str] | None = None) -> Path:
    data = {
        "name": f"edge-{market}",
        "market": market,
        "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
        "assets": assets,
    }
    if profiles:
        data["profiles"] = profiles
    path = folder / f"portfolio_{market}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _price_file(folder: Path, index: pd.DatetimeIndex, da, rt, name: str = "prices.csv") -> Path:
    stamps = [t.isoformat() for t in index]
    path = folder / name
    pd.DataFrame({"timestamp": stamps, "da_price": da, "rt_price": rt}).to_csv(path, index=False)
    return path


# ---------------------------------------------------------------- circuit breaker


def test_circuit_breaker_settles_suspended_periods_at_the_administrative_price():
    index = trading_day_index("shanxi", dt.date(2024, 1, 2))
    rnd = np.random.default_rng(3)
    q_da = pd.Series(np.round(rnd.uniform(-0.3, 0.3, len(index)), 4), index=index)
    q_act = pd.Series(np.round(q_da.to_numpy() + rnd.uniform(-0.05, 0.05, len(index)), 4), index=index)
    p_da = pd.Series(np.round(rnd.uniform(0, 1500, len(index)), 2), index=index)
    p_rt = pd.Series(np.round(rnd.uniform(0, 1500, len(index)), 2), index=index)
    suspended = pd.Series(False, index=index)
    suspended.iloc[40:52] = True  # three hours of 熔断
    admin = pd.Series(np.where(suspended, 423.17, np.nan), index=index)
    out = settle_periods(q_da, q_act, p_da, p_rt, market_suspended=suspended, administrative_price=admin)
    assert (out.loc[suspended, "p_rt_settled"] == 423.17).all()
    assert (out.loc[~suspended, "p_rt_settled"] == p_rt[~suspended]).all()
    assert (out["p_rt"] == p_rt).all()  # the published price is kept
    legs = ["da_revenue", "rt_revenue", "contract_revenue"]
    total = sum(to_fen(out[c].to_numpy()) for c in legs) - to_fen(out["penalty"].to_numpy())
    assert (total == to_fen(out["revenue"].to_numpy())).all()  # legs add up to the fen, every period
    # by hand, a suspended period: the RT leg uses the administrative price
    t = index[45]
    expected_rt = round((q_act[t] - q_da[t]) * 423.17 * 100) / 100
    assert to_fen(np.array([out.at[t, "rt_revenue"]]))[0] == to_fen(np.array([expected_rt]))[0]
    plain = settle_periods(q_da, q_act, p_da, p_rt)
    assert (plain["da_revenue"] == out["da_revenue"]).all()  # the DA leg is unchanged by a suspension
    # a suspended period without an administrative price is refused, naming the field and timestamp
    with pytest.raises(InputError, match="administrative_price"):
        settle_periods(
            q_da,
            q_act,
            p_da,
            p_rt,
            market_suspended=suspended,
            administrative_price=pd.Series(np.nan, index=index),
        )


# ---------------------------------------------------------------- daylight saving (generic, hourly)


@pytest.mark.parametrize(("day", "periods"), [("2023-03-26", 23), ("2023-10-29", 25), ("2023-06-01", 24)])
def test_generic_dst_days_have_23_and_25_hourly_periods(day, periods):
    index = trading_day_index("generic", dt.date.fromisoformat(day))
    assert len(index) == periods
    assert index[0].hour == 0 and (index[-1] + pd.Timedelta(hours=1)).tz_convert("Europe/Berlin").hour == 0


@pytest.mark.parametrize(("day", "periods"), [("2023-03-26", 23), ("2023-10-29", 25)])
def test_vpp_bid_on_a_generic_dst_day_end_to_end(tmp_path, day, periods):
    index = trading_day_index("generic", dt.date.fromisoformat(day))
    da = np.round(60 + 40 * np.sin(np.arange(periods) / periods * 2 * np.pi), 2)
    prices = _price_file(tmp_path, index, da, da)
    portfolio = _portfolio(tmp_path, "generic", [BATTERY])
    out = tmp_path / "bid.csv"
    result = CliRunner().invoke(
        app,
        [
            "bid",
            "--portfolio",
            str(portfolio),
            "--prices",
            str(prices),
            "--day",
            day,
            "--out",
            str(out),
            "--no-plot",
            "--allow-late",
        ],
    )
    assert result.exit_code == 0, result.output
    bid = pd.read_csv(out)
    assert len(bid) == periods
    stamps = pd.to_datetime(bid["timestamp"], utc=True)
    assert stamps.is_unique and stamps.is_monotonic_increasing
    assert list(stamps) == list(index.tz_convert("UTC"))
    # the battery buys low and sells high: net energy bounded by its 2 MWh and its losses
    assert bid["net_mw"].abs().max() <= 1.0 + 1e-6
    record(f"edge_dst_{day}", {"periods": periods, "net_mwh": round(float(bid["net_mw"].sum()), 4)})


# ---------------------------------------------------------------- Shanxi floor and cap


def test_shanxi_prices_at_floor_and_cap_are_read_bid_and_settled(tmp_path):
    market = get_market("shanxi")
    day = dt.date(2024, 1, 2)
    index = trading_day_index(market, day)
    da = np.where(np.arange(96) < 48, 0.0, 1500.0)  # floor all morning, cap all afternoon
    rt = np.where(np.arange(96) % 2 == 0, 0.0, 1500.0)
    frame = prices_for_day(read_prices(_price_file(tmp_path, index, da, rt), market), market, day)
    assert frame["da_price"].min() == 0.0 and frame["da_price"].max() == 1500.0
    for bad, name in ((-0.01, "floor"), (1500.01, "cap")):
        broken = da.copy()
        broken[10] = bad
        path = _price_file(tmp_path, index, broken, rt, f"bad_{name}.csv")
        with pytest.raises(InputError, match=rf"row 11.*da_price.*{name}"):
            read_prices(path, market)
    loaded = load_portfolio(_portfolio(tmp_path, "shanxi", [BATTERY]))
    plan = plan_day_ahead(loaded, frame, day)
    bid = plan.bid_mw
    assert len(bid) == 96
    assert bid.iloc[:48].sum() <= 1e-6 and bid.iloc[48:].sum() >= -1e-6  # buy at the floor, sell at the cap
    q_da = bid * 0.25
    out = settle_periods(q_da, q_da, frame["da_price"], frame["rt_price"])
    hand = float(np.round((q_da.to_numpy() * da) * 100).sum()) / 100
    assert to_fen(out["revenue"].to_numpy()).sum() == round(hand * 100)
    assert (out["rt_revenue"] == 0).all()
    record("edge_floor_cap", {"revenue_yuan": float(out["revenue"].sum())})


# ---------------------------------------------------------------- an all-negative day (generic)


def test_all_negative_generic_day_no_simultaneous_charge_discharge_pv_curtails(tmp_path):
    day = dt.date(2023, 6, 1)
    index = trading_day_index("generic", day)
    da = np.round(-5 - 20 * np.sin(np.arange(24) / 24 * np.pi), 2)  # -5 .. -25 EUR/MWh, every hour
    rt = da - 3.0
    prices = read_prices(_price_file(tmp_path, index, da, rt), "generic")
    stamps = [t.isoformat() for t in index]
    pd.DataFrame(
        {"timestamp": stamps, "sun": np.clip(np.sin((np.arange(24) - 6) / 12 * np.pi), 0, None)}
    ).to_csv(tmp_path / "pv.csv", index=False)
    pv = {"id": "pv-1", "type": "pv", "capacity_mw": 2.0, "profile": "sun"}
    loaded = load_portfolio(_portfolio(tmp_path, "generic", [BATTERY, pv], ["pv.csv"]))
    plan = plan_day_ahead(loaded, prices, day)
    result = plan.result
    charge = result.series["battery.charge_mw"]["bess-1"].to_numpy()
    discharge = result.series["battery.discharge_mw"]["bess-1"].to_numpy()
    assert (np.minimum(charge, discharge) <= 1e-6).all()  # never both at once
    pv_out = result.asset_net_mw["pv-1"].to_numpy()
    assert (pv_out <= 1e-6).all()  # curtailed: exporting at a negative price costs money
    net = plan.bid_mw.to_numpy()
    assert net.sum() < 0  # over the day the fleet draws energy: it is paid to take it
    assert plan.result.objective_yuan > 0
    q = pd.Series(net * 1.0, index=index)  # hourly: MWh = MW
    q_act = q - 0.1
    out = settle_periods(q, q_act, prices["da_price"], prices["rt_price"])
    hand_da = np.round(q.to_numpy() * da * 100) / 100
    hand_rt = np.round(-0.1 * rt * 100) / 100
    assert (to_fen(out["da_revenue"].to_numpy()) == to_fen(hand_da)).all()
    assert (to_fen(out["rt_revenue"].to_numpy()) == to_fen(hand_rt)).all()
    assert (out["rt_revenue"] > 0).all()  # drawing more at a negative RT price is paid
    record(
        "edge_all_negative",
        {"charge_mwh": round(float(charge.sum()), 4), "revenue_yuan": float(out["revenue"].sum())},
    )
