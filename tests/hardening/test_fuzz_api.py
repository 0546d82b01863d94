"""Schemathesis against the API's OpenAPI spec, in process (ASGI), with an operator key: no 500s.

Every operation of ``/openapi.json`` gets ``8 x VPP_HARDENING_SCALE`` generated requests (schema
valid and invalid bodies, paths and queries), on a seeded SQLite copy. ``POST /api/backtests`` is
left out: a valid body starts a multi-second backtest thread per example.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from vpp.api.app import create_app

from ._scale import SCALE, record, scaled, seed_module

PER_OPERATION = scaled(8, 2)
SKIP = {("POST", "/api/backtests")}


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("api_fuzz_seed")
    keys = seed_module().seed(f"sqlite:///{folder / 'vpp.db'}", folder)
    return folder / "vpp.db", keys.operator


def test_api_never_answers_500_to_generated_requests(seeded_db, tmp_path):
    template, key = seeded_db
    shutil.copy(template, tmp_path / "vpp.db")
    app = create_app(f"sqlite:///{tmp_path / 'vpp.db'}", data_dir=tmp_path / "api")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    counts: dict[str, int] = {}
    statuses: dict[int, int] = {}
    errors: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        label = f"{operation.method.upper()} {operation.path}"
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE
        )

        _fuzz_operation(strategy, label, key, counts, statuses, errors)
    record(
        "fuzz_api",
        {
            "operations": len(counts),
            "requests": sum(counts.values()),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "per_operation": counts,
        },
    )
    assert errors == []
    assert len(counts) >= 15


def _fuzz_operation(strategy, label: str, key: str, counts: dict, statuses: dict, errors: list) -> None:
    @settings(
        max_examples=PER_OPERATION,
        deadline=None,
        derandomize=SCALE <= 1,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        counts[label] = counts.get(label, 0) + 1
        response = case.call(headers={"X-API-Key": key})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500 and not (label == "GET /api/health" and response.status_code == 503):
            errors.append(
                f"{label} {case.path_parameters} {case.query} {str(case.body)[:300]}: "
                f"{response.status_code} {response.text[:300]}"
            )
        assert not errors, errors[-1]  # /api/health answers 503 when the service is unhealthy (by design)

    run()


def test_a_day_beyond_2262_is_a_422_not_a_500(seeded_db, tmp_path):
    # regression (found by schemathesis): /api/portfolio/envelope?day=2263-01-01 raised OutOfBoundsDatetime
    from fastapi.testclient import TestClient

    template, key = seeded_db
    shutil.copy(template, tmp_path / "vpp.db")
    with TestClient(create_app(f"sqlite:///{tmp_path / 'vpp.db'}", data_dir=tmp_path / "api")) as client:
        for url in (
            "/api/portfolio/envelope?day=2263-01-01",
            "/api/bids/2263-01-01",
            "/api/settlement/daily/0001-01-01",
            "/api/settlement/monthly/0000-01",
            "/api/settlement/monthly/9999-12",
            "/api/backtests/9223372036854775808",  # scale-10 run: OverflowError in the SQLite driver
            "/api/backtests/9223372036854775808/results",
        ):
            response = client.get(url, headers={"X-API-Key": key})
            assert response.status_code in (404, 422), (url, response.status_code, response.text)
