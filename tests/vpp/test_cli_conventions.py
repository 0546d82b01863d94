"""Command line conventions (issue 14 item 8): ``python -m vpp``, ``--version``, shell completion,
``--json`` on validate, bid (tests/vpp/test_cli_bid_defaults.py), backtest and sweep, tables whose
figures are never cut at 80 columns or in a pipe, and progress over days for parallel runs.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import vpp
from vpp.cli import app
from vpp.console import fit_table
from vpp.examples_paths import DEFAULT_PRICES, EXAMPLES_DIR

MINIMAL = EXAMPLES_DIR / "minimal.yaml"
runner = CliRunner()


def _vpp(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vpp", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_python_m_vpp_and_version() -> None:
    done = _vpp("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"vpp {vpp.__version__}"
    assert importlib.metadata.version("vpp") == vpp.__version__  # one source: pyproject reads it


def test_shell_completion_completes_command_names() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("vpp"))],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "_VPP_COMPLETE": "complete_bash", "COMP_WORDS": "vpp ba", "COMP_CWORD": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["backtest"]
    script = runner.invoke(app, ["--show-completion", "bash"])
    assert script.exit_code == 0 and "_VPP_COMPLETE" in script.output


def test_validate_json_has_the_envelope_per_period() -> None:
    result = runner.invoke(app, ["validate", str(MINIMAL), "--day", "2024-04-16", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["valid"] is True and data["day"] == "2024-04-16"
    assert len(data["envelope"]) == 96
    assert data["envelope"][0]["timestamp"] == "2024-04-16T00:00:00+08:00"
    # one 1 MW battery between 0.2 and 2.0 MWh: +-1 MW either way, 1.8 MWh shiftable
    assert data["adjustable_mw"] == 1.0 and data["shiftable_energy_mwh"] == pytest.approx(1.8)
    assert data["assets"] == [
        {
            "type": "battery",
            "count": 1,
            "power_mw": 1.0,
            "energy_mwh": 2.0,
            "notes": "discharge; charge 1.00 MW; round trip 90%",
        }
    ]


def test_backtest_json_is_the_summary_written(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    result = runner.invoke(
        app,
        [
            "backtest",
            "--portfolio",
            str(MINIMAL),
            "--start",
            "2024-04-16",
            "--end",
            "2024-04-16",
            "--strategy",
            "perfect_foresight,da_only",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    written = json.loads((out / "summary.json").read_text())
    assert {k: v for k, v in data.items() if k != "files"} == json.loads(json.dumps(written))
    assert set(data["strategies"]) == {"perfect_foresight", "da_only"}
    assert str(out / "summary.json") in data["files"]


def test_sweep_json_rows(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "sweep",
            "--portfolio",
            str(MINIMAL),
            "--param",
            "assets[bess-1].power_mw=0.5,1",
            "--start",
            "2024-04-16",
            "--end",
            "2024-04-16",
            "--strategy",
            "da_only",
            "--out",
            str(tmp_path / "sw"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["variants"] == 2
    rows = {(r["variant"], r["strategy"]): r for r in data["rows"]}
    assert {s for _, s in rows} == {"da_only"}
    low, high = sorted(rows.values(), key=lambda r: r["perfect_foresight_revenue_yuan"])
    # twice the power can only earn more under perfect foresight
    assert high["perfect_foresight_revenue_yuan"] > low["perfect_foresight_revenue_yuan"]


def test_fit_table_never_cuts_a_figure_at_80_columns() -> None:
    header = [
        "strategy",
        "revenue (yuan)",
        "DA",
        "RT",
        "over passive",
        "capture",
        "yuan/MWh",
        "daily sd",
        "worst day",
        "RT solves",
    ]
    rows = [
        [
            name,
            "1,234,567.89",
            "1,000,000.00",
            "-234,567.89",
            "34,567.89",
            "0.987",
            "512.34",
            "12,345.67",
            "-9,876.54",
            "1,344",
        ]
        for name in ("perfect_foresight", "da_rt", "da_only", "rule_based", "stochastic_curve")
    ]
    for width in (80, 60):
        console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        for table in fit_table("demo: backtest 2024-04-08 to 2024-04-21", header, rows, width=width):
            console.print(table)
        text = console.export_text()
        assert "…" not in text
        assert max(len(line) for line in text.splitlines()) <= width
        for cell in {c for row in rows for c in row}:
            assert cell in text, (width, cell)
    wide = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    (table,) = fit_table("t", header, rows, width=200)
    wide.print(table)
    assert re.search(r"perfect_foresight\s*│\s*1,234,567.89", wide.export_text())  # not transposed: it fits


def test_backtest_table_in_a_pipe_keeps_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bt"
    done = _vpp(
        "backtest",
        "--portfolio",
        str(MINIMAL),
        "--start",
        "2024-04-16",
        "--end",
        "2024-04-16",
        "--strategy",
        "perfect_foresight,da_only,rule_based",
        "--out",
        str(out),
        env={"COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    assert "…" not in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    summary = json.loads((out / "summary.json").read_text())
    for block in summary["strategies"].values():
        assert f"{block['total_revenue_yuan']:,.2f}" in done.stdout


def test_parallel_tasks_report_every_day() -> None:
    """map_tasks calls on_step once per replayed day of every task, in process and on Dask workers."""
    from dask.distributed import Client

    from market.prices import read_prices
    from simulator.distributed import _task, map_tasks
    from vpp.portfolio_io import load_portfolio

    loaded = load_portfolio(MINIMAL)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    days = [dt.date(2024, 4, 15), dt.date(2024, 4, 16)]
    calls = [(loaded, "da_only"), (loaded, "rule_based")]
    shared = {"prices": prices, "days": days, "forecast": "persistence", "options": None}
    steps: list[int] = []
    here = map_tasks(None, _task, calls, shared, on_step=lambda: steps.append(1), steps_per_call=len(days))
    assert len(steps) == 4 and [r.days for r in here] == [days, days]
    remote_steps: list[int] = []
    with Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        remote = map_tasks(
            client, _task, calls, shared, on_step=lambda: remote_steps.append(1), steps_per_call=len(days)
        )
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while len(remote_steps) < 4 and dt.datetime.now() < deadline:  # events may trail the results
            client.sync(lambda: __import__("asyncio").sleep(0.05))
    assert len(remote_steps) == 4
    assert [r.records.keys() for r in remote] == [r.records.keys() for r in here]
