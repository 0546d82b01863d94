"""``vpp validate`` and ``vpp schema`` through the typer app."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from vpp.cli import app
from vpp.examples_paths import EXAMPLES_DIR

runner = CliRunner()

HEADER = "name: t\nmarket: shanxi\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\n"
BATTERY = "  - {id: bess-1, type: battery, power_mw: 1, energy_mwh: 2, soc_initial_mwh: 1}\n"


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_minimal_example_validates_with_one_mw_each_way():
    result = run("validate", EXAMPLES_DIR / "minimal.yaml", "--day", "2024-01-15")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if re.search(r"\b\d\d:00\b", line)]
    assert len(rows) == 24
    for row in rows:  # from, max export, max import, baseline, up, down
        assert re.findall(r"-?\d+\.\d\d", row) == ["1.00", "1.00", "0.00", "1.00", "1.00"]
    assert "max export 1.00 MW, max import 1.00 MW" in result.stdout
    assert "shiftable energy 1.80 MWh" in result.stdout
    assert "battery" in result.stdout


def test_minimal_example_validates_without_a_day():
    assert run("validate", EXAMPLES_DIR / "minimal.yaml").exit_code == 0


def test_bundled_example_validates_on_its_first_day():
    result = run("validate", EXAMPLES_DIR / "shanxi_urban_renewal.yaml")
    assert result.exit_code == 0, result.output
    assert "Flexibility envelope 2024-01-01" in result.stdout
    assert "group feeder-north" in result.stdout


BAD_INPUTS = {
    "yaml syntax": (HEADER + "assets:\n  - {id: b, type: battery\n", "invalid YAML at line"),
    "unknown type": (HEADER + "assets:\n  - {id: x, type: flywheel}\n",
                     "assets[0] (x).type: unknown asset type 'flywheel'; known types: battery"),
    "negative energy": (HEADER + "assets:\n" + BATTERY.replace("energy_mwh: 2", "energy_mwh: -2"),
                        "assets[0] (bess-1).energy_mwh: Input should be greater than 0"),
    "duplicate ids": (HEADER + "assets:\n" + BATTERY + BATTERY,
                      "asset ids must be unique; repeated: bess-1"),
    "missing column": (HEADER + "profiles: [p.csv]\nassets:\n"
                       "  - {id: pv-1, type: pv, capacity_mw: 1, profile: sun}\n",
                       "assets[0] (pv-1).profile: profile column 'sun' is not in the profile"),
    "unknown group": (HEADER + "group_limits: {feeder-9: {import_limit_mw: 1, export_limit_mw: 1}}"
                      "\nassets:\n" + BATTERY,
                      "group_limits name groups no asset belongs to: feeder-9"),
    "list profile length": (HEADER + "assets:\n  - {id: house, type: load, profile: [1, 2, 3]}\n",
                            "assets[0] (house).profile: a profile list needs one value per period"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exits_1_with_the_field_and_no_traceback(tmp_path, case):
    text, expected = BAD_INPUTS[case]
    (tmp_path / "p.csv").write_text("timestamp,pv\n2024-01-15T00:00:00+08:00,0.0\n"
                                    "2024-01-15T00:15:00+08:00,0.0\n", encoding="utf-8")
    path = tmp_path / "portfolio.yaml"
    path.write_text(text, encoding="utf-8")
    result = run("validate", path, "--day", "2024-01-15")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert str(path) in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_day_outside_the_profiles_exits_1():
    result = run("validate", EXAMPLES_DIR / "shanxi_urban_renewal.yaml", "--day", "2024-09-01")
    assert result.exit_code == 1
    assert "profile column 'pv_rooftop_pu': profiles cover" in result.stderr


def test_missing_portfolio_file_exits_1(tmp_path):
    result = run("validate", tmp_path / "nowhere.yaml")
    assert result.exit_code == 1
    assert "portfolio file not found" in result.stderr


def test_schema_is_json_with_the_battery_fields():
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    battery = schema["$defs"]["BatterySpec"]["properties"]
    assert {"power_mw", "energy_mwh", "soc_initial_mwh", "charge_efficiency"} <= set(battery)
    assert "grid" in schema["required"]


def test_no_arguments_shows_the_commands():
    result = run()
    assert "validate" in result.output
    assert "schema" in result.output
