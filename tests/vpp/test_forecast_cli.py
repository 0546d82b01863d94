"""``vpp forecast list`` / ``evaluate`` and the feature file (issue 17 items 2, 5)."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from vpp.cli import app
from vpp.examples_paths import DEFAULT_PRICES

MINIMAL = "vpp/examples/minimal.yaml"


def test_forecast_list_names_every_forecaster_and_the_default():
    result = CliRunner().invoke(app, ["forecast", "list"])
    assert result.exit_code == 0, result.output
    names = ("persistence", "weekday", "rolling_mean", "ewm", "ridge", "lear", "lgbm", "lgbm_rank", "blend")
    for name in names:
        assert name in result.output
    assert "blend (default)" in result.output


def test_forecast_evaluate_prints_and_writes_the_table(tmp_path):
    out = tmp_path / "eval.csv"
    result = CliRunner().invoke(
        app,
        [
            "forecast",
            "evaluate",
            "--portfolio",
            MINIMAL,
            "--start",
            "2024-04-16",
            "--end",
            "2024-04-17",
            "--forecast",
            "persistence,ewm",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, index_col="forecaster")
    assert list(table.index) == ["persistence", "ewm"]
    assert (table["capture_da_optimum"] <= 1.0 + 1e-9).all()  # the optimum at realised prices bounds them
    assert (table["mae"] > 0).all() and (table["rmse"] >= table["mae"]).all()
    assert "physical DA optimum" in result.output


def test_a_feature_file_that_repeats_a_price_column_is_refused(tmp_path):
    prices = pd.read_csv(DEFAULT_PRICES, nrows=96 * 3)
    features = tmp_path / "features.csv"
    prices[["timestamp", "load_forecast_mw"]].to_csv(features, index=False)
    result = CliRunner().invoke(
        app,
        [
            "forecast",
            "evaluate",
            "--portfolio",
            MINIMAL,
            "--start",
            "2024-01-03",
            "--end",
            "2024-01-03",
            "--features",
            str(features),
        ],
    )
    assert result.exit_code == 1
    assert "load_forecast_mw" in result.output and "also in the price file" in result.output


def test_forecast_evaluate_labels_money_in_the_markets_currency():
    """On a EUR market the value column and the bounds are in EUR, not yuan."""
    result = CliRunner().invoke(
        app,
        [
            "forecast",
            "evaluate",
            "--portfolio",
            "bench/data/fleet_three_batteries_de.yaml",
            "--prices",
            "bench/data/de_lu_2023-01_06_hourly.csv",
            "--start",
            "2023-01-10",
            "--end",
            "2023-01-10",
            "--forecast",
            "persistence",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "value (EUR)" in result.output
    assert "physical DA optimum" in result.output and "EUR, passive" in result.output
    assert "yuan" not in result.output


def test_forecast_evaluate_error_columns_name_the_price_unit():
    """MAE, RMSE and bias were headed without a unit (only the footer said "errors in EUR/MWh")."""
    result = CliRunner().invoke(
        app,
        [
            "forecast", "evaluate", "--portfolio", "bench/data/fleet_three_batteries_de.yaml",
            "--prices", "bench/data/de_lu_2023-01_06_hourly.csv", "--start", "2023-01-10", "--end",
            "2023-01-10", "--forecast", "persistence",
        ],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    for header in ("MAE (EUR/MWh)", "RMSE (EUR/MWh)", "bias (EUR/MWh)"):
        assert header in result.output
