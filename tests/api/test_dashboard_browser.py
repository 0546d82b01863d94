"""The dashboard and /docs in real headless Chromium (Selenium), with no network beyond the app.

Checked: nothing of the session shows before login; charts drawn, their time axes naming the market
zone; a dispatched and settled bid says so (not "awaiting approval"); the bid table and its CSV
download; approving a new bid; the Chinese labels; Swagger UI served from the app's own files.
The screenshot is saved as ``dashboard.png`` in the test's ``tmp_path`` (under pytest's base
temporary folder, never the checkout; ``--basetemp=DIR`` chooses where).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from vpp.api.auth import create_key
from vpp.service.db import make_engine, session_factory

from .conftest import make_client
from .seed import DAY, Keys
from .test_repaired_day import repaired_day

CHARTS = (
    "chart-prices",
    "chart-bid",
    "chart-dispatch",
    "chart-soc",
    "chart-revenue",
    "chart-envelope",
    "chart-backtest",
)
AT_PERIOD_END = ("chart-soc", "chart-revenue")
"""Charts of end-of-period values (stored energy, cumulative revenue), drawn at period ends."""
NEW_DAY = "2024-01-03"
"""A day the test bids through the API: awaiting approval, nothing dispatched."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(url: str, folder: Path) -> Iterator[str]:
    """The app on ``url`` served by uvicorn on a free loopback port; yields its base URL."""
    from vpp.api.app import create_app

    port = _free_port()
    config = uvicorn.Config(
        create_app(url, data_dir=folder / "api"), host="127.0.0.1", port=port, log_level="warning"
    )
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app_server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(seeded: tuple[str, Keys], tmp_path: Path) -> Iterator[tuple[str, Keys]]:
    """The served app with a finished backtest and a new bid in it."""
    url, keys = seeded
    with make_client(url, tmp_path) as client:
        _finish_backtest(client, keys)
        created = client.post(
            f"/api/bids/{NEW_DAY}",
            headers={"X-API-Key": keys.operator},
            json={"forecast": [300.0 + (i % 24) * 10 for i in range(96)]},
        )
        assert created.status_code == 201, created.text
    with _serve(url, tmp_path) as base:
        yield base, keys


def _finish_backtest(client: TestClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.operator}
    job = client.post(
        "/api/backtests",
        headers=headers,
        json={"start": "2024-01-03", "end": "2024-01-04", "strategies": ["da_rt", "da_only", "rule_based"]},
    ).json()
    deadline = time.monotonic() + 30
    while client.get(f"/api/backtests/{job['id']}", headers=headers).json()["status"] != "done":
        assert time.monotonic() < deadline, "backtest did not finish"
        time.sleep(0.1)


def _loaded(browser) -> bool:
    return browser.execute_script("return document.body.dataset.loaded === 'true'")


def _fetch(browser, path: str) -> str:
    return browser.execute_script(
        "const key = sessionStorage.getItem('vpp-api-key');"
        "const r = await fetch(arguments[0], {headers: {'X-API-Key': key}});"
        "return await r.text();",
        path,
    )


@pytest.mark.slow  # a browser
def test_dashboard_in_headless_chromium(server: tuple[str, Keys], chromium: Callable, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    screenshot = tmp_path / "dashboard.png"
    base, keys = server
    browser = chromium(1400, 1500)
    wait = WebDriverWait(browser, 30)
    browser.get(f"{base}/?day={DAY}")  # the newest bid is NEW_DAY's
    # before login: the login form only; the day picker and Log out were shown (CSS beat `hidden`)
    assert browser.find_element(By.ID, "api-key").is_displayed()
    for hidden in ("session", "day", "logout", "dashboard"):
        assert not browser.find_element(By.ID, hidden).is_displayed(), hidden
    browser.find_element(By.ID, "api-key").send_keys(keys.operator)
    browser.find_element(By.ID, "login-button").click()
    wait.until(_loaded)
    assert (
        browser.find_element(By.ID, "day").is_displayed()
        and browser.find_element(By.ID, "logout").is_displayed()
    )
    assert browser.find_element(By.ID, "day").get_attribute("value") == str(DAY)
    assert browser.find_element(By.ID, "message").text == ""
    for chart in CHARTS:  # every chart drawn with data, and pixels on its canvas
        canvas = browser.find_element(By.ID, chart)
        assert int(canvas.get_attribute("data-points") or 0) > 0, chart
        inked = browser.execute_script(
            "const c = document.getElementById(arguments[0]);"
            "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;",
            chart,
        )
        assert inked > 500, chart
        if chart != "chart-backtest":  # time axes name the market zone and its offset
            axis = "end" if chart in AT_PERIOD_END else "start"
            assert canvas.get_attribute("data-x-title") == f"period {axis} (Asia/Shanghai, UTC+08:00)", chart
    # stored energy is an end-of-period state and a period's money is earned by its end: drawn at
    # period ends (00:15 ... 24:00), as the backtest report draws them (simulator/report_charts.py)
    for chart in AT_PERIOD_END:
        labels = browser.execute_script("return charts[arguments[0]].data.labels", chart)
        assert (len(labels), labels[0], labels[-1]) == (96, "00:15", "24:00"), chart
    labels = browser.execute_script("return charts['chart-dispatch'].data.labels")  # power: over the period
    assert (labels[0], labels[-1]) == ("00:00", "23:45")
    dispatch = browser.find_element(By.ID, "dispatch-detail")  # every solve proven optimal: nothing to flag
    assert dispatch.text == "· 96 of 96 periods dispatched"
    assert dispatch.get_attribute("data-not-optimal") == "0"
    sources = [s.get_attribute("src") for s in browser.find_elements(By.TAG_NAME, "script")]
    assert all(src.startswith(base + "/static/") for src in sources), sources  # no CDN

    # the seeded day was bid, dispatched in all 96 periods and settled: it said "awaiting approval"
    status = browser.find_element(By.ID, "bid-status")
    assert status.text == "settled" and status.get_attribute("data-stage") == "settled"
    detail = browser.find_element(By.ID, "bid-detail").text
    assert "96 of 96 periods dispatched" in detail and "settled revenue 802.35 yuan" in detail, detail
    assert not browser.find_element(By.ID, "approve").is_displayed()

    # the bid as a table and as the CSV file the API exports
    browser.find_element(By.CSS_SELECTOR, "#bid-table-box summary").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#bid-table tbody tr")
    assert len(rows) == 96
    export = _fetch(browser, f"/api/bids/{DAY}/export")
    first = export.splitlines()[1].split(",")
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    assert cells[0].text == "2024-01-02 00:00+08:00" and float(cells[1].text) == pytest.approx(
        float(first[1]), abs=1e-3
    )
    browser.find_element(By.ID, "bid-csv").click()
    target = browser.download_dir / f"bid_{DAY}.csv"
    deadline = time.monotonic() + 15
    while not target.is_file():
        assert time.monotonic() < deadline, "the CSV was not downloaded"
        time.sleep(0.1)
    assert target.read_text() == export and len(export.splitlines()) == 97

    # money named in the market's currency (a EUR market's API says so): labels follow
    units = browser.execute_script(
        "setCurrency('EUR');"
        "const u = [t('unit_price'), document.querySelector('[data-i18n=unit_yuan]').textContent];"
        "setCurrency('CNY'); return u;"
    )
    assert units == ["EUR/MWh", "EUR"]
    assert browser.find_element(By.CSS_SELECTOR, "[data-i18n=unit_yuan]").text == "yuan"

    browser.save_screenshot(str(screenshot))

    # a new bid: awaiting approval until an operator approves it
    day_input = browser.find_element(By.ID, "day")
    browser.execute_script(
        "arguments[0].value = arguments[1];arguments[0].dispatchEvent(new Event('change'));",
        day_input,
        NEW_DAY,
    )
    wait.until(
        lambda b: b.find_element(By.ID, "bid-status").get_attribute("data-stage") == "awaiting_approval"
    )
    assert browser.find_element(By.ID, "bid-status").text == "awaiting approval"
    browser.find_element(By.ID, "approve").click()
    wait.until(lambda b: b.find_element(By.ID, "bid-status").text == "approved")
    assert not browser.find_element(By.ID, "approve").is_displayed()
    assert '"approved_by":"olga"' in _fetch(browser, f"/api/bids/{NEW_DAY}").replace(" ", "")

    # Chinese: every label of the page, the charts' axes and the status
    Select(browser.find_element(By.ID, "lang")).select_by_value("zh")
    wait.until(lambda b: b.find_element(By.ID, "bid-status").text == "已批准" and _loaded(b))
    assert browser.find_element(By.TAG_NAME, "h1").text == "虚拟电厂运行监控台"
    assert browser.find_element(By.ID, "logout").text == "退出登录"
    assert browser.find_element(By.ID, "chart-prices").get_attribute("data-x-title") == (
        "时段起点（Asia/Shanghai, UTC+08:00）"
    )
    untranslated = browser.execute_script(
        "return [...document.querySelectorAll('[data-i18n]')].filter(e => e.offsetParent !== null && "
        "!/[\\u4e00-\\u9fff]/.test(e.textContent) && e.textContent.trim() !== 'MW').map(e => e.textContent)"
    )
    assert untranslated == []
    strategies = [
        r.text
        for r in browser.find_elements(
            By.CSS_SELECTOR, "#backtest-table tbody th, #backtest-table tbody td:first-child"
        )
    ]
    assert strategies == ["日前 + 实时", "仅日前", "规则策略"]
    browser.refresh()  # the choice is kept
    wait.until(_loaded)
    assert browser.find_element(By.ID, "lang").get_attribute("value") == "zh"
    assert browser.find_element(By.ID, "bid-status").text == "已结算"

    browser.find_element(By.ID, "logout").click()
    assert not browser.find_element(By.ID, "session").is_displayed()
    assert browser.find_element(By.ID, "login-button").text == "登录"
    assert screenshot.stat().st_size > 10_000


@pytest.mark.slow  # a browser
def test_dashboard_flags_a_repaired_dispatch_and_bid(
    tmp_path: Path, chromium: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day whose bid and two dispatches were repaired (tests/service/test_repaired_dispatch.py) says
    so beside the bid and the dispatch chart."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, day = repaired_day(tmp_path, monkeypatch)
    with session_factory(make_engine(url)).begin() as s:
        key = create_key(s, "olga", "operator")
    browser = chromium()
    with _serve(url, tmp_path) as base:
        browser.get(f"{base}/?day={day}")
        browser.find_element(By.ID, "api-key").send_keys(key)
        browser.find_element(By.ID, "login-button").click()
        WebDriverWait(browser, 30).until(_loaded)
        detail = browser.find_element(By.ID, "dispatch-detail")
        assert detail.text == (
            "· 2 of 96 periods dispatched; 2 repaired after the solver's time limit: feasible, not proven "
            "optimal (09:45, 10:00)"
        )
        assert detail.get_attribute("data-not-optimal") == "2"
        bid = browser.find_element(By.ID, "bid-detail").text
        assert "schedule repaired after the solver's time limit" in bid, bid


@pytest.mark.slow  # a browser
def test_docs_work_offline(seeded: tuple[str, Keys], tmp_path: Path, chromium: Callable) -> None:
    """Swagger UI's script and style come from the app, not a CDN: /docs is not blank offline."""
    browser = chromium()
    with _serve(seeded[0], tmp_path) as base:
        _show_docs(browser, base)


def _show_docs(browser, base: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(base + "/docs")
    WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock"))
    assert "vpp operator API" in browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title").text
    urls = browser.execute_script(
        "return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
    )
    assert urls and all(u.startswith(base + "/") for u in urls), urls
    assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) >= 10
