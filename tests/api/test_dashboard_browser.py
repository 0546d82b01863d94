"""The dashboard in real headless Chromium (Selenium): log in, charts drawn, approve a bid, screenshot.

Skipped when Chromium or its driver is missing, except in CI (``CI=true``), where that fails.
The screenshot is saved to ``out/dashboard.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from .conftest import make_client
from .seed import DAY, Keys

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "out" / "dashboard.png"
CHARTS = ("chart-prices", "chart-bid", "chart-dispatch", "chart-soc", "chart-revenue", "chart-envelope",
          "chart-backtest")


def _browser() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    fallback = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    driver = shutil.which("chromedriver") or fallback
    if chromium and driver:
        return chromium, driver
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium and chromium-driver are missing: CI must run the browser test (.ci/run)")
    pytest.skip("chromium or chromedriver not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(seeded: tuple[str, Keys], tmp_path: Path) -> Iterator[tuple[str, Keys]]:
    """The app served by uvicorn on a free loopback port, with a finished backtest in it."""
    url, keys = seeded
    from vpp.api.app import create_app

    with make_client(url, tmp_path) as client:  # a backtest for the dashboard to show
        _finish_backtest(client, keys)
    port = _free_port()
    config = uvicorn.Config(create_app(url, data_dir=tmp_path / "api"), host="127.0.0.1", port=port,
                            log_level="warning")
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not app_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", keys
    app_server.should_exit = True
    thread.join(timeout=10)


def _finish_backtest(client: TestClient, keys: Keys) -> None:
    headers = {"X-API-Key": keys.operator}
    job = client.post("/api/backtests", headers=headers, json={
        "start": "2024-01-03", "end": "2024-01-04", "strategies": ["da_rt", "da_only", "rule_based"]}).json()
    deadline = time.monotonic() + 30
    while client.get(f"/api/backtests/{job['id']}", headers=headers).json()["status"] != "done":
        assert time.monotonic() < deadline, "backtest did not finish"
        time.sleep(0.1)


def test_dashboard_in_headless_chromium(server: tuple[str, Keys], tmp_path: Path) -> None:
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, keys = server
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,1500"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        wait = WebDriverWait(browser, 30)
        browser.get(base + "/")
        browser.find_element(By.ID, "api-key").send_keys(keys.operator)
        browser.find_element(By.ID, "login-button").click()
        wait.until(lambda b: b.execute_script("return document.body.dataset.loaded === 'true'"))
        assert browser.find_element(By.ID, "day").get_attribute("value") == str(DAY)
        assert browser.find_element(By.ID, "message").text == ""
        for chart in CHARTS:  # every chart drawn with data, and pixels on its canvas
            points = int(browser.find_element(By.ID, chart).get_attribute("data-points") or 0)
            assert points > 0, chart
            inked = browser.execute_script(
                "const c = document.getElementById(arguments[0]);"
                "const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;", chart)
            assert inked > 500, chart
        sources = [s.get_attribute("src") for s in browser.find_elements(By.TAG_NAME, "script")]
        assert all(src.startswith(base + "/static/") for src in sources), sources  # no CDN
        status = browser.find_element(By.ID, "bid-status")
        assert status.text == "awaiting approval"
        browser.find_element(By.ID, "approve").click()
        wait.until(lambda b: b.find_element(By.ID, "bid-status").text == "approved")
        assert not browser.find_element(By.ID, "approve").is_displayed()
        approved = browser.execute_script(
            "const r = await fetch('/api/bids/' + arguments[0], {headers: {'X-API-Key': "
            "sessionStorage.getItem('vpp-api-key')}}); return await r.json();", str(DAY))
        assert approved["status"] == "approved" and approved["approved_by"] == "olga"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENSHOT))
    finally:
        browser.quit()
    assert SCREENSHOT.stat().st_size > 10_000
