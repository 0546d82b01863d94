"""``GET /api/health`` (no key: for probes) and ``GET /api/me`` (who the key belongs to)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vpp.api.app_version import version
from vpp.api.auth import Reader
from vpp.api.deps import api, market_of
from vpp.api.schemas import HealthOut, WhoAmI
from vpp.api.store import DEFAULT_MARKET

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}})
def health(request: Request) -> JSONResponse:
    """200 when the service is healthy, 503 (for a load balancer or monitor) with the reasons when
    the database is unreachable, no scheduler holds the lease, the last dispatched period is more
    than two periods old, or an alert is raised (a bid not approved by its gate closure)."""
    from market.presets import get_market
    from vpp.service.status import health_report

    state = api(request)
    try:
        market = market_of(request)
    except Exception:  # the database is down: the report below says so
        market = get_market(DEFAULT_MARKET)
    report = health_report(state.engine, market)
    body = HealthOut(
        status="ok" if report["healthy"] else "unhealthy",
        problems=report["problems"],
        database=report["database"],
        schema_revision=report["schema_revision"],
        version=version(),
        lease=report["lease"],
        dispatch=report["dispatch"],
        alerts=report["alerts"],
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if report["healthy"] else 503)


@router.get("/me", response_model=WhoAmI)
def me(principal: Reader) -> WhoAmI:
    """The name and role of the key sent."""
    return WhoAmI(name=principal.name, role=principal.role)
