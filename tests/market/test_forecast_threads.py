"""Concurrent model fits (market/forecasting/threads.py): the same forecasts as one fit after the other."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest

from market.forecasting.information import History
from market.forecasting.models import LightGbm
from market.forecasting.ranking import LightGbmRank
from market.forecasting.threads import THREADS_ENV, fit_threads, run_all
from market.prices import read_prices
from vpp.errors import InputError
from vpp.examples_paths import DEFAULT_PRICES

DAY = dt.date(2024, 2, 20)
"""50 complete days known before it in the bundled Gansu file: windows of 28 and 50 days."""


@pytest.fixture(scope="module")
def gansu() -> History:
    """The bundled real Gansu prices and exogenous forecasts up to the end of :data:`DAY`."""
    frame = read_prices(DEFAULT_PRICES, "gansu")
    return History(frame.loc[: str(DAY)], "gansu")


def test_run_all_runs_the_jobs_at_once_and_returns_them_in_order(monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "2")
    both = threading.Barrier(2, timeout=10)  # broken unless both jobs run at the same time

    def job(i: int) -> int:
        both.wait()
        return i

    assert run_all([lambda: job(0), lambda: job(1)]) == [0, 1]
    monkeypatch.setenv(THREADS_ENV, "1")
    assert run_all([threading.current_thread, threading.current_thread]) == [threading.current_thread()] * 2


def test_the_thread_count_is_the_usable_cores_or_a_positive_setting(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert fit_threads() >= 1
    monkeypatch.setenv(THREADS_ENV, " 3 ")
    assert fit_threads() == 3
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv(THREADS_ENV, bad)
        with pytest.raises(InputError, match=f"{THREADS_ENV}='{bad}' is not a positive integer"):
            fit_threads()


@pytest.mark.parametrize("model", [LightGbm, LightGbmRank], ids=["lgbm", "lgbm_rank"])
def test_fits_on_threads_are_the_fits_one_after_the_other(gansu, monkeypatch, model):
    known = gansu.known(DAY)
    assert len(known.history_days) == 50
    made = {}
    for threads in ("1", "2"):
        monkeypatch.setenv(THREADS_ENV, threads)
        forecaster = model()
        made[threads] = (forecaster.forecast(known), forecaster)
    (serial, one), (threaded, two) = made["1"], made["2"]
    np.testing.assert_array_equal(threaded.point, serial.point)
    assert sorted(threaded.quantiles) == sorted(serial.quantiles) == [0.1, 0.5, 0.9]
    for q in serial.quantiles:
        np.testing.assert_array_equal(threaded.quantiles[q], serial.quantiles[q])
    boosters = [m.booster_.model_to_string() for m in (one.point_models if model is LightGbm else one.models)]
    assert len(set(boosters)) == 2  # windows of 28 and 50 days, the 50 fitted once and used three times
    assert [m.booster_.model_to_string()
            for m in (two.point_models if model is LightGbm else two.models)] == boosters
