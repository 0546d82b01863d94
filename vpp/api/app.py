"""The FastAPI application: ``create_app(db_url, ...)`` wires the database, routers and dashboard."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from vpp.api.app_version import version
from vpp.api.body_limit import DEFAULT_MAX_REQUEST_BYTES, RequestSizeLimit
from vpp.api.deps import ApiState
from vpp.api.jobs import BacktestRunner
from vpp.api.routers import backtests, bids, dispatch, health, settlement
from vpp.api.routers import portfolio as portfolio_router
from vpp.api.store import PortfolioStore, register_file
from vpp.errors import InputError
from vpp.examples_paths import DEFAULT_PRICES
from vpp.service.db import make_engine, session_factory, upgrade_schema

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
"""The dashboard (plain HTML, JavaScript, the bundled Chart.js) and Swagger UI's files: no CDN."""


def create_app(
    db_url: str,
    *,
    data_dir: str | Path = "vpp-api",
    portfolio: str | Path | None = None,
    prices: str | Path | None = None,
    upgrade: bool = True,
    backtest_workers: int = 1,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
) -> FastAPI:
    """Build the operator API and dashboard over the service database at ``db_url``.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL of the service database (SQLite or PostgreSQL).
    data_dir : str or Path
        Folder for portfolio bodies, the API's bid outbox and backtest files.
    portfolio : str or Path, optional
        A portfolio file made current at start when the database holds no portfolio yet.
    prices : str or Path, optional
        Realised prices for backtests (default: the bundled Gansu prices).
    upgrade : bool
        Upgrade the schema to the latest migration at start.
    backtest_workers : int
        Backtests run at once (threads).
    max_request_bytes : int
        Largest request body accepted (bytes, default 1 MB); larger ones get 413 and are not read.
    """
    engine = make_engine(db_url)
    if upgrade:
        upgrade_schema(engine)
    sessions = session_factory(engine)
    folder = Path(data_dir).resolve()
    store = PortfolioStore(folder)
    if portfolio is not None:
        with sessions.begin() as session:
            register_file(session, store, Path(portfolio))
    runner = BacktestRunner(sessions, store, folder, Path(prices or DEFAULT_PRICES), backtest_workers)
    state = ApiState(engine, sessions, store, folder, Path(prices or DEFAULT_PRICES), runner, {})

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runner.recover()
        yield
        runner.shutdown()
        engine.dispose()

    app = FastAPI(
        docs_url=None,  # served below from local files: the CDN default is blank offline
        redoc_url=None,
        title="vpp operator API",
        version=version(),
        description="Portfolio, day-ahead bids, dispatch, settlement and backtests of the vpp service. "
        "Send an API key (`vpp apikey create`) in the `X-API-Key` header.",
        lifespan=lifespan,
    )
    app.state.api = state
    app.state.sessions = sessions
    for module in (health, portfolio_router, bids, dispatch, settlement, backtests):
        app.include_router(module.router, prefix="/api")
    app.add_middleware(RequestSizeLimit, max_bytes=max_request_bytes)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_metrics(app, state)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - Swagger UI",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from the validator's site
        )

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 with each problem's field path (``body.forecast[3]``)."""
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(e["loc"]), "field": _dotted(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


_PROBLEM = re.compile(r"^\s*(?:- )?(?P<field>[^:\s][^:]*?): (?P<msg>.+)$")


async def _input_error(_: Request, exc: Exception) -> JSONResponse:
    """422 for bad input found past the request schema (a portfolio's fields), one entry per field."""
    assert isinstance(exc, InputError)
    lines = [line for line in exc.message.splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].endswith("problems:"):
        lines = lines[1:]
    detail = []
    for line in lines:
        match = _PROBLEM.match(line)
        field = match["field"] if match else (exc.field or "")
        detail.append({"loc": ["body", "content"], "field": field,
                       "msg": match["msg"] if match else line.strip(), "type": "value_error"})
    return JSONResponse({"detail": detail}, status_code=422)


def _add_metrics(app: FastAPI, state: ApiState) -> None:
    """``GET /metrics``: Prometheus text, read from the database on each scrape (no key, like
    /api/health: a scraper on the same host or network; :mod:`vpp.api.metrics`)."""
    from fastapi import Response
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    from vpp.api.metrics import ServiceCollector

    def market() -> object:
        with state.sessions() as session:
            return state.store.market(session)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(state.engine, market))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
