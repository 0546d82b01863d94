"""``GET /api/health`` (no key: for probes) and ``GET /api/me`` (who the key belongs to)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from fastapi import APIRouter, Request

from vpp.api.app_version import version
from vpp.api.auth import Reader
from vpp.api.deps import api, market_of
from vpp.api.schemas import HealthOut, WhoAmI
from vpp.service.alerts import service_alerts

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut)
def health(request: Request) -> HealthOut:
    """Liveness and database reachability, with the schema revision."""
    try:
        with api(request).engine.connect() as conn:
            revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        with api(request).sessions() as session:  # a day whose gate closed without a bid
            now = pd.Timestamp.now("UTC")
            alerts = [a["message"] for a in service_alerts(session, market_of(request), now)]
        return HealthOut(status="degraded" if alerts else "ok", database="ok", schema_revision=revision,
                         version=version(), alerts=alerts)
    except Exception as exc:  # the probe reports, never raises
        return HealthOut(status="degraded", database=f"error: {type(exc).__name__}",
                         schema_revision=None, version=version())


@router.get("/me", response_model=WhoAmI)
def me(principal: Reader) -> WhoAmI:
    """The name and role of the key sent."""
    return WhoAmI(name=principal.name, role=principal.role)
