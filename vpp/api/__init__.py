"""The operator interface: a FastAPI application (REST API + dashboard) over the service database.

Modules: :mod:`~vpp.api.app` (``create_app``), :mod:`~vpp.api.auth` (hashed API keys, roles),
:mod:`~vpp.api.schemas` (request and response models), :mod:`~vpp.api.store` (portfolio versions
and shared reads), :mod:`~vpp.api.jobs` (background backtests), ``routers/`` (one per resource) and
``static/`` (the dashboard, with Chart.js bundled). The tables live in
:mod:`vpp.service.api_tables` (migration ``0002``).
"""
