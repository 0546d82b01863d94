"""``GET /metrics``: Prometheus metrics read from the service database (issue 14 item 6)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from market.presets import get_market
from vpp.api.metrics import ServiceCollector
from vpp.service.db import JobRun, make_engine


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_what_the_database_holds(client: TestClient, seeded: tuple) -> None:
    answer = client.get("/metrics")  # no key: for a scraper, like /api/health
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    engine = make_engine(seeded[0])
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(JobRun.status, sa.func.count())
                .where(JobRun.job == "dispatch")
                .group_by(JobRun.status)
            ).all()
        )
    engine.dispose()
    assert sum(counts.values()) == 96  # the seeded day: one dispatch a period
    for status in ("ok", "fallback", "failed"):
        assert samples[("vpp_dispatches_total", (("status", status),))] == counts.get(status, 0)
    assert samples[("vpp_fallbacks_total", ())] == counts.get("fallback", 0)
    assert samples[("vpp_dispatch_seconds_count", ())] == 96
    assert samples[("vpp_dispatch_seconds_sum", ())] > 0
    assert samples[("vpp_scrape_error", ())] == 0
    assert samples[("vpp_last_dispatch_age_seconds", ())] >= 0
    assert ("vpp_missed_periods", ()) in samples


def test_bid_state_and_missed_periods_on_the_service_clock(seeded: tuple) -> None:
    engine = make_engine(seeded[0])
    market = get_market("shanxi")
    late_evening = pd.Timestamp("2024-01-03 01:00", tz="Asia/Shanghai")  # 2024-01-02 ended 1 h ago
    collector = ServiceCollector(engine, market, now=lambda: late_evening)
    # no lease in the seeded database: the service clock is the wall clock given
    values = {s.name: s.value for family in collector.collect() for s in family.samples if not s.labels}
    engine.dispose()
    states = {
        (s.labels["trading_day"], s.labels["state"]): s.value
        for family in ServiceCollector(make_engine(seeded[0]), market, now=lambda: late_evening).collect()
        for s in family.samples
        if s.name == "vpp_bid_state"
    }
    # today (2024-01-03): no bid; the next bid day (2024-01-04, gate 01-03 09:30): none yet
    assert states[("2024-01-03", "none")] == 1
    assert states[("2024-01-04", "none")] == 1
    assert sum(states.values()) == 2  # one-hot per day
    # the last period of 2024-01-02 was dispatched; the four of 2024-01-03 00:00-01:00 passed without
    assert values["vpp_missed_periods"] == 4, values


def test_settled_day_reads_settled(seeded: tuple) -> None:
    engine = make_engine(seeded[0])
    noon = pd.Timestamp("2024-01-02 23:00", tz="Asia/Shanghai")
    families = list(ServiceCollector(engine, get_market("shanxi"), now=lambda: noon).collect())
    engine.dispose()
    states = {
        (s.labels["trading_day"], s.labels["state"]): s.value
        for f in families
        for s in f.samples
        if s.name == "vpp_bid_state"
    }
    assert states[("2024-01-02", "settled")] == 1
