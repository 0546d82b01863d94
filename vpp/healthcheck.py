"""``python -m vpp.healthcheck PORTFOLIO``: exit 0 when the service is healthy, 1 otherwise.

The container's HEALTHCHECK (``deploy/Dockerfile``) and any probe without HTTP: the same rules as
``/api/health`` (:func:`vpp.service.status.health_report`: the database answers, a scheduler holds
the lease, the last dispatched period is recent, no alert), on the database of the settings
(``VPP_DB_URL`` ..., README "Settings"). The problems go to stderr, one a line.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Check the service on the settings' database for the market of the portfolio file given."""
    from vpp.errors import VppError
    from vpp.portfolio_io import load_portfolio
    from vpp.service.db import make_engine
    from vpp.service.status import health_report
    from vpp.settings import database_url

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m vpp.healthcheck PORTFOLIO", file=sys.stderr)
        return 2
    try:
        market = load_portfolio(args[0]).market
        engine = make_engine(database_url(None))
    except VppError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    try:
        report = health_report(engine, market)
    finally:
        engine.dispose()
    for problem in report["problems"]:
        print(f"unhealthy: {problem}", file=sys.stderr)
    return 0 if report["healthy"] else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
