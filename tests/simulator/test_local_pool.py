"""map_local: the results of a serial loop, in call order, with helpers' work, errors and deaths."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from simulator.local_pool import WorkerDiedError, map_local

WAIT_S = 30.0


def _square(x: int, *, offset: int, on_day=None) -> tuple[int, int]:
    for day in range(3):
        if on_day is not None:
            on_day(day)
    return x * x + offset, os.getpid()


def _wait_for_helper(i: int, flag: str, *, failure: str = "") -> tuple[int, int]:
    """Call 0 (taken here) waits until a helper has taken call 1; call 1 fails as ``failure`` says."""
    path = Path(flag)
    if i == 0:
        deadline = time.monotonic() + WAIT_S
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert path.exists(), "no helper took call 1"
        return i, os.getpid()
    path.touch()
    if i == 1 and failure == "raise":
        raise ValueError("call 1 failed in a helper")
    if i == 1 and failure == "die":
        os._exit(3)
    return i, os.getpid()


def test_results_in_call_order_and_every_step_reported(tmp_path: Path) -> None:
    steps: list[int] = []
    calls = [(0,), (1,)] + [(x,) for x in range(2, 6)]
    results = map_local(_wait_for_helper, calls, {"flag": str(tmp_path / "f")}, workers=2)
    assert [r[0] for r in results] == list(range(6))
    assert results[0][1] == os.getpid() and results[1][1] != os.getpid()  # a helper did call 1
    squares = map_local(_square, [(x,) for x in range(5)], {"offset": 1}, workers=2,
                        on_step=lambda: steps.append(1), steps_per_call=3)
    assert [s for s, _ in squares] == [x * x + 1 for x in range(5)]
    assert len(steps) == 15


def test_a_small_run_never_waits_for_a_starting_helper() -> None:
    start = time.perf_counter()
    results = map_local(_square, [(x,) for x in range(4)], {"offset": 0}, workers=2)
    assert [s for s, _ in results] == [0, 1, 4, 9]
    assert {pid for _, pid in results} == {os.getpid()}  # all done here before a helper was ready
    assert time.perf_counter() - start < 1.0  # a helper's start-up (imports) is not waited for


def test_workers_one_runs_here() -> None:
    results = map_local(_square, [(2,), (3,)], {"offset": 0}, workers=1)
    assert results == [(4, os.getpid()), (9, os.getpid())]


def test_an_error_in_a_helper_is_raised_here(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="call 1 failed in a helper"):
        map_local(_wait_for_helper, [(0,), (1,), (2,)], {"flag": str(tmp_path / "f"), "failure": "raise"},
                  workers=2)


def test_a_helper_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    with pytest.raises(WorkerDiedError, match="exit code 3"):
        map_local(_wait_for_helper, [(0,), (1,), (2,)], {"flag": str(tmp_path / "f"), "failure": "die"},
                  workers=2)
