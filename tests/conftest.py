"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_ENV = "VPP_TEST_POSTGRES_URL"
"""Environment variable with the URL of a PostgreSQL server the tests may create databases on."""


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test.

    Skipped when ``VPP_TEST_POSTGRES_URL`` is unset, except in CI (``CI=true``), where that fails:
    CI must run the PostgreSQL tests (``.ci/run`` starts a server).
    """
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set: CI must run the PostgreSQL tests")
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"vpp_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        for attempt in range(10):  # FORCE cannot end an autovacuum worker (PostgreSQL 15): retry
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except sa.exc.ProgrammingError:
                if attempt == 9:
                    raise
                time.sleep(1.0)
        admin.dispose()


def simulation_command(config, day: str, prices: str, day_seconds: float, *extra: str) -> list[str]:
    """The ``vpp run --simulate`` command line (a subprocess the tests can kill) for ``config``."""
    return [
        sys.executable,
        "-m",
        "vpp.cli",
        "run",
        "--portfolio",
        str(config.portfolio),
        "--db",
        config.db_url,
        "--inbox",
        str(config.inbox),
        "--outbox",
        str(config.outbox),
        "--simulate",
        str(day),
        "--prices",
        str(prices),
        "--day-seconds",
        str(day_seconds),
        *extra,
    ]


@pytest.fixture
def simulate_command() -> Callable[..., list[str]]:
    """:func:`simulation_command`, for tests in any package."""
    return simulation_command


@pytest.fixture
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., object]]:
    """A factory of headless Chromium sessions (Selenium) that are closed after the test.

    ``chromium(width=1280, height=1000)`` returns a ``webdriver.Chrome`` whose downloads go to its
    ``download_dir`` attribute. Skipped when Chromium or its driver is missing, except in CI
    (``CI=true``), where that fails: CI must run the browser tests.
    """
    import shutil
    from pathlib import Path

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    fallback = "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    driver_path = shutil.which("chromedriver") or fallback
    if not (browser_path and driver_path):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium and chromium-driver are missing: CI must run the browser tests (.ci/run)")
        pytest.skip("chromium or chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opened = []

    def start(width: int = 1280, height: int = 1000) -> object:
        folder = tmp_path_factory.mktemp("chromium")
        options = webdriver.ChromeOptions()
        options.binary_location = browser_path
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--no-first-run",
                    f"--user-data-dir={folder / 'profile'}", f"--window-size={width},{height}"):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {"download.default_directory": str(folder / "downloads"),
                                                  "download.prompt_for_download": False})
        browser = webdriver.Chrome(service=Service(driver_path), options=options)
        browser.download_dir = folder / "downloads"  # type: ignore[attr-defined]
        opened.append(browser)
        return browser

    yield start
    for browser in opened:
        browser.quit()
