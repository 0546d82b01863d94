"""Fixtures shared by every test package, and the rule that keeps slow tests out of a developer's run.

Tests marked ``slow`` (seconds to minutes each: simulated trading days on the real scheduler, kill -9
runs, the README's commands, browser sessions, wheel builds) run only with ``--runslow``,
``VPP_SLOW=1`` or ``CI=true`` (``.ci/run`` sets it, so CI runs every test). Without those they are
deselected and the summary says how many.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import psutil
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

POSTGRES_ENV = "VPP_TEST_POSTGRES_URL"
"""Environment variable with the URL of a PostgreSQL server the tests may create databases on."""

SLOW_HOW = "--runslow, VPP_SLOW=1 or CI=true runs them"


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow", action="store_true", default=False, help=f"run the tests marked slow ({SLOW_HOW})"
    )


def run_slow(config: pytest.Config) -> bool:
    """Whether this run includes the ``slow`` tests: ``--runslow``, ``VPP_SLOW=1``, ``CI=true`` or a
    ``-m`` expression that names the marker (``-m slow`` runs only them)."""
    return (
        config.getoption("--runslow")
        or _env_true("VPP_SLOW")
        or _env_true("CI")
        or ("slow" in (markexpr := config.getoption("markexpr", "") or "") and "not slow" not in markexpr)
    )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the ``slow`` tests unless :func:`run_slow`; when they run, run them first.

    Slow first: pytest-xdist hands tests out in this order, so the minute-long ones start at once
    and the short ones fill the workers' gaps, instead of one long test running alone at the end.
    The wall-clock service tests (``xdist_group("clock")``) run one after the other on one worker,
    so that no two accelerated clocks compete (a starved clock skips periods).
    """
    for item in items:
        _name_the_group(config, item)
        if CLOCK_GROUP in _xdist_groups(item):
            item.add_marker(pytest.mark.flaky(reruns=CLOCK_RERUNS))
    if run_slow(config):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: slow ones first
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
    config.stash[_SLOW_KEY] = len(slow)


_SLOW_KEY = pytest.StashKey[int]()


def _xdist_groups(node: pytest.Item) -> set[str]:
    """Names of the ``xdist_group`` markers on a test."""
    return {str(m.args[0]) for m in node.iter_markers("xdist_group") if m.args}


def _name_the_group(config: pytest.Config, item: pytest.Item) -> None:
    """``--dist loadgroup``: append ``@group`` to the node id as pytest-xdist means to; a test that
    uses a module- or class-scoped fixture is grouped with its module.

    xdist 3.8 writes the suffix to ``item._nodeid``, which pytest 9 no longer reads (the id lives in
    ``item._id``), so every group was silently ignored; this sets it where pytest 9 keeps it.
    """
    names = sorted(_xdist_groups(item))
    fixtures = getattr(item, "_fixtureinfo", None)
    if not names and fixtures is not None and any(
        d.scope in ("module", "class") for defs in fixtures.name2fixturedefs.values() for d in defs
    ):  # one worker per module: a module-scoped fixture (a backtest, a stochastic solve) is built once
        names = [item.nodeid.split("::")[0].removesuffix(".py").replace("/", ".")]
    if not names or not getattr(config.option, "loadgroup", False) or "@" in item.nodeid:  # set in workers
        return
    if hasattr(item, "_id"):
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")


CLOCK_GROUP = "clock"
"""xdist group of the tests that run a service on an accelerated wall clock."""

CLOCK_RERUNS = 1
"""Reruns of a failed wall-clock test (pytest-rerunfailures). On the accelerated clock a period lasts
under a wall second, so a host that stalls the whole process for two seconds (a VM's memory
reclaim, a disk flush: seen in CI and here, with no log line from the service, its dispatch
firings coalesced) loses periods that no code of ours caused. A service bug fails the rerun too;
a stall seldom comes twice in the same test. Reruns show as ``R`` and in the summary."""

OTHER_WORKERS_NICENESS = 10
"""Niceness given to the other pytest-xdist workers while a wall-clock test runs."""


@pytest.fixture(autouse=True)
def _wall_clock_first(request: pytest.FixtureRequest) -> None:
    """Under pytest-xdist, let a wall-clock service test have the CPU before the other workers.

    A simulated service day maps each 15-minute period onto a fraction of a wall second: when the
    other workers' solves take both cores, its dispatches are late and periods are skipped (the
    failure these tests exist to catch in the service, not one of the machine). So before each such
    test the sibling workers and their children are made nicer (never this worker): raising another
    process's niceness needs no privilege, and they keep running, only after the clock's work.

    Disk stalls too: the service's database commits and outbox files are fsynced, and on ext4 an
    fsync can wait for other files' dirty pages (a fresh install leaves about a gigabyte; with 1.5 GB
    dirty, the kill test lost simulated periods here). So the page cache is flushed first.
    """
    if CLOCK_GROUP not in _xdist_groups(request.node):
        return
    if hasattr(os, "sync"):
        os.sync()
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    me = psutil.Process()
    mine = {me.pid, *(p.pid for p in me.children(recursive=True))}
    for other in psutil.Process(me.ppid()).children(recursive=True):
        if other.pid in mine:
            continue
        try:
            if other.nice() < OTHER_WORKERS_NICENESS:
                other.nice(OTHER_WORKERS_NICENESS)
        except psutil.Error:
            pass  # gone meanwhile, or not ours


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: one worker per core, and one more when the slow tests run, because the worker
    of the wall-clock service tests (``xdist_group("clock")``) mostly waits on the clock."""
    if not run_slow(config):
        return None  # xdist's default: one per core
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Say that slow tests were left out, and how to run them (the count is known only without
    pytest-xdist: its workers collect, not this process)."""
    if run_slow(config):
        return
    deselected = config.stash.get(_SLOW_KEY, None)
    if deselected is None and getattr(config.option, "numprocesses", None):
        terminalreporter.write_line(f"tests marked slow were deselected: {SLOW_HOW}", yellow=True)
    elif deselected:
        terminalreporter.write_line(f"{deselected} slow tests deselected: {SLOW_HOW}", yellow=True)


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
