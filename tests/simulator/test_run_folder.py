"""A backtest's output folder holds one run: an earlier run's strategy folders do not survive it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from simulator.run_folder import MANIFEST, previous_outputs
from vpp.cli import app

BATTERY = (
    "{id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, charge_efficiency: 0.95, "
    "discharge_efficiency: 0.9, soc_initial_mwh: 1.0, soc_min_mwh: 0.2, soc_max_mwh: 2.0}"
)


def _portfolio(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: tiny\nmarket: shanxi\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\n"
        f"assets:\n  - {BATTERY}\n",
        encoding="utf-8",
    )
    return path


def _backtest(portfolio: Path, out: Path, day: str, strategies: str) -> None:
    res = CliRunner().invoke(
        app,
        [
            "backtest",
            "--portfolio",
            str(portfolio),
            "--start",
            day,
            "--end",
            day,
            "--strategy",
            strategies,
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output


def _days(csv: Path) -> set[str]:
    return {t[:10] for t in pd.read_csv(csv)["timestamp"]}


def test_second_backtest_leaves_no_folder_of_the_first(tmp_path: Path) -> None:
    portfolio, out = _portfolio(tmp_path), tmp_path / "out"
    _backtest(portfolio, out, "2024-04-15", "da_only,rule_based")
    assert (out / "rule_based" / "settlement.csv").is_file()
    (out / "notes.txt").write_text("mine", encoding="utf-8")  # not the backtest's: must stay
    _backtest(portfolio, out, "2024-04-16", "da_only")

    assert not (out / "rule_based").exists()  # the old run's strategy, gone with its folder
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["strategies"]) == ["da_only"] and summary["first_day"] == "2024-04-16"
    for csv in out.rglob("*.csv"):  # every table left covers the summary's day, none the old one
        if csv.name == "members.csv":  # per member over the run, no timestamps: only the new run's strategies
            assert csv.parent in (out, out / "da_only"), csv
            continue
        assert _days(csv) == {"2024-04-16"}, csv
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest["files"]) == sorted(
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, "notes.txt")
    )


def test_folder_written_before_manifests_is_cleaned_by_its_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = out / "perfect_foresight"
    old.mkdir(parents=True)
    (old / "settlement.csv").write_text("timestamp,revenue\n2024-05-01T00:00:00+08:00,1\n", encoding="utf-8")
    (old / "assets.csv").write_text("timestamp\n", encoding="utf-8")
    (old / "plot.png").write_bytes(b"analyst's")  # not a backtest file: the folder stays for it
    (out / "summary.json").write_text(json.dumps({"strategies": {"perfect_foresight": {}}}), encoding="utf-8")
    assert "perfect_foresight/settlement.csv" in previous_outputs(out)

    _backtest(_portfolio(tmp_path), out, "2024-04-15", "da_only")
    assert sorted(p.name for p in old.iterdir()) == ["plot.png"]
    assert (out / "report.html").is_file() and (out / "da_only" / "settlement.csv").is_file()


def test_manifest_paths_outside_the_folder_are_ignored(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(
        json.dumps({"files": ["../victim.txt", "/etc/passwd", "a/b.csv", 3]}), encoding="utf-8"
    )
    assert previous_outputs(tmp_path) == {"a/b.csv"}
