"""The backtest report: readable headline, figures that reconcile, charts in real Chromium, two languages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from market.money import to_fen
from market.prices import read_prices
from simulator.backtest import BacktestResult, run_backtest, write_backtest
from simulator.report import render_report
from simulator.report_charts import report_data
from simulator.report_html import format_value
from simulator.report_labels import label
from simulator.report_tables import REVENUE_SHARE_ROWS
from vpp.cli import app
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import LoadedPortfolio, load_portfolio

DAYS = [dt.date(2024, 4, 15), dt.date(2024, 4, 16)]
ROOT = Path(__file__).resolve().parents[2]
LEGEND_OFF_THE_PLOT = """
const chart = arguments[0], legend = chart.querySelector(".legend");
if (!legend) return true;
const a = legend.getBoundingClientRect();
const p = chart.querySelector(".nsewdrag").getBoundingClientRect();  // the plotting area
return a.bottom <= p.top + 1 || a.top >= p.bottom - 1 || a.right <= p.left + 1 || a.left >= p.right - 1;
"""


def _battery(name: str, power: float) -> str:
    return (
        f"{{id: {name}, type: battery, power_mw: {power}, energy_mwh: {2 * power}, charge_efficiency: 0.95, "
        f"discharge_efficiency: 0.9, soc_initial_mwh: {power}, soc_min_mwh: 0.2, soc_max_mwh: {2 * power}}}"
    )


def _portfolio(folder: Path) -> Path:
    path = folder / "two.yaml"
    path.write_text(
        "name: two-batteries\nmarket: shanxi\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\n"
        f"assets:\n  - {_battery('bess-a', 1.0)}\n  - {_battery('bess-b', 2.0)}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> tuple[BacktestResult, LoadedPortfolio, Path]:
    """Two days of two batteries, da_rt and da_only, written to a folder (report.html in English)."""
    folder = tmp_path_factory.mktemp("report")
    loaded = load_portfolio(_portfolio(folder))
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    result = run_backtest(loaded, prices, DAYS, ["da_rt", "da_only"], progress=False)
    write_backtest(result, folder / "out", loaded)
    return result, loaded, folder / "out"


def test_figures_print_as_an_analyst_reads_them() -> None:
    assert format_value("realtime_solves", 14) == "14"  # printed 14.00
    assert format_value("days", 14.0) == "14"
    assert format_value("total_revenue_yuan", -29898.34) == "-29,898"
    assert format_value("capture_ratio", 0.358373) == "35.8%"
    assert format_value("yuan_per_mwh", -118.1494) == "-118.1"
    assert format_value("capture_ratio", None) == "-"
    assert format_value("x_yuan", -0.3) == "0" and format_value("capture_ratio", -0.00001) == "0.0%"
    # a gap in money is money (to the fen: it is small), never a percentage; a relative gap is one
    assert format_value("perfect_foresight_gap_yuan", 0.14) == "0.14"  # was "14.0%"
    assert format_value("perfect_foresight_gap_yuan", 0.0) == "0.00"  # was "0.00e+00"
    assert format_value("perfect_foresight_gap_yuan", 1234.5) == "1,234.50"
    assert format_value("mip_gap", 0.05) == "5.0%"
    assert format_value("perfect_foresight_gap", 2e-5) == "2.00e-05"


def test_keys_added_to_the_summary_get_readable_labels_in_both_languages() -> None:
    assert (
        label("total_revenue_yuan", "en") == "Revenue (yuan)"
        and label("total_revenue_yuan", "zh") == "收益（元）"
    )
    assert label("capture_ratio_physical_da", "en") == "Capture vs physical day-ahead"
    assert label("capture_ratio_physical_da", "zh") == "捕获率相对物理日前"
    assert label("physical_rt_optimum_revenue_yuan", "en") == "Physical real-time optimum revenue (yuan)"
    assert label("value_split.spread_yuan", "zh") == "价值分解: 价差（元）"
    # headings that read as English, each with its unit
    assert label("capture_ratio_at_proven_bound", "en") == "Capture vs perfect foresight's proven bound"
    assert label("capture_ratio_at_proven_bound", "zh") == "相对完全预见已证明上界的捕获率"
    assert label("perfect_foresight_gap_yuan", "en") == "Perfect foresight's proven gap (yuan)"
    assert label("run.seconds", "en") == "Run time (s)" and label("run.seconds", "zh") == "运行时间（秒）"
    assert label("bounds.da_optimum_revenue_yuan", "zh") == "上界: 日前最优收益（元）"


def test_day_whose_clocks_go_back_runs_forward(tmp_path: Path) -> None:
    """25 periods on 2023-10-29 in Berlin: 02:00 twice, told apart by their offsets."""
    path = tmp_path / "eu.yaml"
    path.write_text(
        f"name: eu\nmarket: generic\ngrid: {{import_limit_mw: 5, export_limit_mw: 5}}\n"
        f"assets:\n  - {_battery('bess-a', 1.0)}\n",
        encoding="utf-8",
    )
    loaded = load_portfolio(path)
    naive = pd.read_csv(ROOT / "tests" / "data" / "de_lu_2023-10-29_hourly_naive.csv")["price"].tolist()
    values = naive[:3] + naive[2:]  # the file has one 02:00; the day has two hours that start at 02:00
    starts = pd.date_range("2023-10-28 22:00", periods=25, freq="h", tz="UTC").tz_convert("Europe/Berlin")
    csv = tmp_path / "de_lu.csv"  # each timestamp with its offset
    pd.DataFrame({"timestamp": [t.isoformat() for t in starts], "price": values}).to_csv(csv, index=False)
    prices = read_prices(csv, loaded.market)
    result = run_backtest(loaded, prices, [dt.date(2023, 10, 29)], ["da_only"], progress=False)
    data = report_data(result, loaded)
    assert len(data["clock"]) == 25 == len(set(data["clock"]))
    assert data["clock"][2:4] == ["02:00 +02:00", "02:00 +01:00"]
    # state of charge is stored energy at each period's END: its chart's labels are period ends
    assert len(data["clock_end"]) == 25 == len(set(data["clock_end"]))
    assert data["clock_end"][1:4] == ["02:00 +02:00", "02:00 +01:00", "03:00 +01:00"]
    assert data["clock_end"][-1] == "24:00 +01:00"
    assert data["zone"] == "Europe/Berlin, UTC+02:00/UTC+01:00"
    page = render_report(result, loaded)
    assert "(EUR)" in page and " yuan" not in page
    # summary.json says in which unit the forecast errors are: the market's, not yuan
    assert result.summary["forecast_errors_unit"] == "EUR/MWh; bias = mean(forecast - realised DA)"


def test_asset_attribution_reconciles_to_the_settlement(backtest) -> None:
    result, loaded, _ = backtest
    data = report_data(result, loaded)
    for name in ("da_rt", "da_only"):
        parts = data["attribution"][name]
        settlement = result.settlements[name]
        assert set(parts["assets"]) == {"bess-a", "bess-b"}
        fen = {k: sum(int(to_fen(p[k])) for p in parts["assets"].values()) for k in ("revenue", "own_energy")}
        assert fen["revenue"] == to_fen(settlement["revenue"]).sum() == int(to_fen(parts["total"]))
        # the assets' own energy at the RT price is the fleet's metered energy at it (to a fen an asset)
        at_rt = (settlement["q_actual_mwh"] * settlement["p_rt"]).sum()
        assert fen["own_energy"] / 100 == pytest.approx(at_rt, abs=0.01 * len(parts["assets"]))
        for p in parts["assets"].values():
            assert to_fen(p["own_energy"]) + to_fen(p["fleet_share"]) == to_fen(p["revenue"])
        assert data["cumulative"][name][-1] == pytest.approx(
            result.summary["strategies"][name]["total_revenue_yuan"], abs=0.01
        )
    # the passive line ends at the summary's passive revenue
    assert data["passive_cumulative"][-1] == pytest.approx(result.summary["passive_revenue_yuan"], abs=0.01)
    assert sum(data["daily"]["passive"]) == pytest.approx(result.summary["passive_revenue_yuan"], abs=0.01)
    assert data["zone"] == "Asia/Shanghai, UTC+08:00" and data["time"][0] == "2024-04-15 00:00"
    assert data["day_slices"] == {"2024-04-15": [0, 96], "2024-04-16": [96, 192]}
    assert data["clock_end"][:2] == ["00:15", "00:30"] and data["clock_end"][95:97] == ["24:00", "00:15"]



def test_cumulative_revenue_is_drawn_at_period_ends(backtest) -> None:
    """The revenue of a period is earned by its end: drawn at period starts (``time``) the chart
    showed the first period's money at 00:00 and the total a period before the last one ended."""
    result, loaded, _ = backtest
    data = report_data(result, loaded)
    assert data["time_end"][:2] == ["2024-04-15 00:15", "2024-04-15 00:30"]
    assert data["time_end"][95:97] == ["2024-04-16 00:00", "2024-04-16 00:15"]
    assert data["time_end"][-1] == "2024-04-17 00:00"  # the total, at the end of the last day
    for name in ("da_rt", "da_only"):
        assert len(data["cumulative"][name]) == len(data["time_end"]) == 192
        first = result.settlements[name]["revenue"].iloc[0]  # earned over 00:00-00:15
        assert data["cumulative"][name][0] == pytest.approx(first, abs=0.005)
    assert len(data["passive_cumulative"]) == 192

class _TableRows(HTMLParser):
    """The text of each row of one table of a page (cells as shown), by the table's id."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.inside = dict(attrs).get("id") == self.table_id
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("th", "td"):
            self.cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("th", "td") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """Rows (header row first) of the table ``table_id`` of ``page``, each cell's shown text."""
    parser = _TableRows(table_id)
    parser.feed(page)
    return parser.rows


def test_revenue_by_asset_is_members_csv_to_the_fen(tmp_path: Path) -> None:
    """The report's table shows what members.csv says each asset earns, and adds up to the fleet.

    With a contract for difference the old table (each asset's DA leg + RT leg) moved the contract
    to a "fleet terms" row and disagreed with members.csv, which shares it among the assets.
    """
    path = _portfolio(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8") + "contract: {quantity_mw: -0.5, price_yuan_per_mwh: 300}\n",
        encoding="utf-8",
    )
    loaded = load_portfolio(path)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    result = run_backtest(loaded, prices, DAYS[:1], ["da_only", "rule_based"], progress=False)
    out = tmp_path / "out"
    write_backtest(result, out, loaded)
    head, *rows = table_rows((out / "report.html").read_text(encoding="utf-8"), "attribution")
    assert head == ["Asset", "Day-ahead only", "Rule-based"]
    for column, name in enumerate(result.strategies, start=1):
        settlement = result.settlements[name]
        assert to_fen(settlement["contract_revenue"]).sum() != 0  # the case the two rules differ on
        members = pd.read_csv(out / name / "members.csv")
        expected = [[a, f"{r:,.2f}"] for a, r in zip(members["asset_id"], members["revenue"], strict=True)]
        fleet_fen = int(to_fen(settlement["revenue"]).sum())
        assert int(to_fen(members["revenue"]).sum()) == fleet_fen
        expected.append(["Total", f"{fleet_fen / 100:,.2f}"])
        assert [[row[0], row[column]] for row in rows] == expected


def test_run_figures_name_their_units(backtest) -> None:
    """The "Run" table: the operator/users split has its own table with units and is not repeated
    in it without them; every remaining row names its unit or is a count."""
    result, loaded, _ = backtest
    summary = json.loads(json.dumps(result.summary))
    summary["revenue_share"] = {key: 1.0 for key in REVENUE_SHARE_ROWS}
    page = render_report(BacktestResult(result.strategies, result.run, result.settlements, summary), loaded)
    rows = [row[0] for row in table_rows(page, "run-table")]
    assert rows and not [r for r in rows if r.startswith("Revenue share")]
    counts = {"Days", "Periods", "Run: Model builds", "Run: Solves"}
    assert [r for r in rows if r not in counts and not r.endswith(("(yuan)", "(s)"))] == []


def test_headline_shows_every_bound_the_summary_holds(backtest) -> None:
    result, loaded, _ = backtest
    summary = json.loads(json.dumps(result.summary))  # fields another backtest version may add:
    summary["physical_da_optimum_revenue_yuan"] = 1234.5
    summary["perfect_foresight_gap"] = 2e-5
    for block in summary["strategies"].values():
        block["capture_ratio_physical_da"] = 0.5
    page = render_report(BacktestResult(result.strategies, result.run, result.settlements, summary), loaded)
    headline = re.search(r"<table id='headline'>.*?</table>", page, re.S).group(0)
    for text in (
        "Capture vs physical day-ahead",
        "Physical day-ahead optimum revenue (yuan)",
        "50.0%",
        "Capture vs full perfect foresight",
        "Value over passive (yuan)",
        "yuan/MWh",
        "Passive position<",
        "1,234",
        "2.00e-05",
    ):
        assert text in headline, text
    assert "total_revenue_yuan" not in headline and ".00<" not in headline


def _with_bounds(result: BacktestResult) -> BacktestResult:
    """``result`` with the summary shape of the physical bounds: a ``bounds`` block, captures, value split."""
    summary = json.loads(json.dumps(result.summary))
    passive = summary["passive_revenue_yuan"]
    summary["bounds"] = {
        "da_optimum_revenue_yuan": passive + 1000.0,
        "rt_optimum_revenue_yuan": passive + 4000.0,
        "perfect_foresight_revenue_yuan": summary["perfect_foresight_revenue_yuan"],
        "passive_revenue_yuan": passive,
        "definitions": {"capture": "(revenue - passive) / ..."},
    }
    for block in summary["strategies"].values():
        block.update(
            capture_da_optimum=0.8126, capture_rt_optimum=0.25, energy_shifting_yuan=700.0, spread_yuan=-12.0
        )
    return BacktestResult(result.strategies, result.run, result.settlements, summary)


def test_bounds_block_captures_and_value_split_are_rendered(backtest) -> None:
    result, loaded, _ = backtest
    result = _with_bounds(result)
    summary = result.summary
    page = render_report(result, loaded)
    headline = re.search(r"<table id='headline'>.*?</table>", page, re.S).group(0)
    for text in (
        "Capture vs physical DA optimum",
        "Capture vs physical RT optimum",
        "81.3%",
        "25.0%",
        "Physical DA optimum<",
        "Physical RT optimum<",
        ">1,000<",
        ">4,000<",
    ):
        assert text in headline, text
    assert "Physical day-ahead optimum: each day" in page  # its definition beside the table
    full = re.search(r"<table id='full-table'>.*?</table>", page, re.S).group(0)
    assert "Value from the DA-RT spread (yuan)" in full and ">-12<" in full and ">700<" in full
    zh = render_report(
        BacktestResult(result.strategies, result.run, result.settlements, summary), loaded, "zh"
    )
    assert ">相对物理日前最优的捕获率<" in zh and ">物理实时最优<" in zh


def test_cli_lang_zh_and_a_bad_language(tmp_path: Path) -> None:
    portfolio = _portfolio(tmp_path)
    args = [
        "backtest",
        "--portfolio",
        str(portfolio),
        "--start",
        "2024-04-15",
        "--end",
        "2024-04-15",
        "--strategy",
        "da_only",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    ]
    bad = CliRunner().invoke(app, [*args, "--lang", "fr"])
    assert bad.exit_code == 1 and "--lang" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "out").exists()  # refused before running
    res = CliRunner().invoke(app, [*args, "--lang", "zh"])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "data-lang='zh'" in page and ">收益（元）<" in page and ">回测报告<" in page


@pytest.mark.slow  # a browser
def test_headline_with_every_bound_fits_1280_px(backtest, chromium: Callable, tmp_path: Path) -> None:
    """Four captures and four references: the headline still shows every column without scrolling."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    result, loaded, _ = backtest
    page = tmp_path / "report.html"
    page.write_text(render_report(_with_bounds(result), loaded, "zh"), encoding="utf-8")
    browser = chromium(1280, 900)
    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.body.dataset.rendered"))
    headline = browser.find_element(By.ID, "headline")
    box = headline.find_element(By.XPATH, "..")
    assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", box)
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return arguments[0].getBoundingClientRect().right", headline) <= width
    heads = [th.text for th in headline.find_elements(By.CSS_SELECTOR, "thead th")]
    # strategy, revenue, value over passive, four captures (full PF, at its proven bound, DA, RT), yuan/MWh
    assert len(heads) == 8 and heads[-1] == "元/MWh" and "相对物理实时最优的捕获率" in heads


@pytest.mark.slow  # a browser
def test_report_in_headless_chromium(backtest, chromium: Callable) -> None:
    """At 1280 px: the headline fits, no horizontal scroll, every chart drawn, legends off the data."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    _, _, out = backtest
    browser = chromium(1280, 900)
    browser.get((out / "report.html").as_uri())
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.execute_script("return document.body.dataset.rendered === 'true'"))
    assert browser.get_log("browser") == []  # no script error, nothing fetched and missed
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    headline = browser.find_element(By.ID, "headline")
    assert headline.is_displayed()
    assert browser.execute_script("return arguments[0].getBoundingClientRect().right", headline) <= width
    charts = browser.find_elements(By.CSS_SELECTOR, ".chart")
    assert len(charts) == 6
    for chart in charts:
        chart_id = chart.get_attribute("id")
        assert int(chart.get_attribute("data-traces")) >= 1, chart_id
        assert chart.find_elements(By.CSS_SELECTOR, ".main-svg"), chart_id
        assert browser.execute_script(LEGEND_OFF_THE_PLOT, chart), chart_id
    names = browser.execute_script("return document.getElementById('chart-cumulative').data.map(t => t.name)")
    assert names == ["Day-ahead + real-time", "Day-ahead only", "passive position"]
    x_title = browser.execute_script(
        "return document.getElementById('chart-cumulative').layout.xaxis.title.text"
    )
    assert x_title == "period end (Asia/Shanghai, UTC+08:00)"  # revenue is earned by a period's end
    ends = browser.execute_script(
        "return document.getElementById('chart-cumulative').data.map(t => [t.x[0], t.x[t.x.length - 1]])"
    )
    assert ends == [["2024-04-15 00:15", "2024-04-17 00:00"]] * 3
    # per strategy and per day
    Select(browser.find_element(By.ID, "pick-day")).select_by_value("2024-04-16")
    Select(browser.find_element(By.ID, "pick-strategy")).select_by_value("da_only")
    title = browser.execute_script("return document.getElementById('chart-schedule').layout.title.text")
    assert title == "Prices and schedule: Day-ahead only, 2024-04-16"
    soc = browser.execute_script(
        "return document.getElementById('chart-soc').data.map(t => [t.name, t.x[0], t.x[t.x.length - 1]])"
    )
    assert soc == [  # drawn at period ends: stored energy is that at the end of its period
        ["bess-a", "00:15", "24:00"],
        ["bess-b", "00:15", "24:00"],
        ["total", "00:15", "24:00"],
    ]
    x_title = browser.execute_script("return document.getElementById('chart-soc').layout.xaxis.title.text")
    assert x_title == "period end (Asia/Shanghai, UTC+08:00), 2024-04-16"
    assert not browser.find_element(By.ID, "full-table").is_displayed()  # collapsed below
    browser.find_element(By.CSS_SELECTOR, "#all-figures summary").click()
    assert browser.find_element(By.ID, "full-table").is_displayed()
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    # Chinese
    browser.find_element(By.CSS_SELECTOR, "[data-set-lang=zh]").click()
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "h1").text.startswith("回测报告"))
    heads = [th.text for th in headline.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads[:3] == ["策略", "收益（元）", "超出被动收益（元）"]
    assert browser.execute_script(
        "return document.getElementById('chart-cumulative').layout.xaxis.title.text"
    ) == ("时段终点（Asia/Shanghai, UTC+08:00）")
    untranslated = browser.execute_script(
        "return [...document.querySelectorAll('[data-en]')].filter(e => e.offsetParent !== null && "
        "e.dataset.zh === e.dataset.en && /[a-z]{3}/.test(e.dataset.en)).map(e => e.dataset.en)"
    )
    assert untranslated == []
