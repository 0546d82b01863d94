"""The installed package version (for the OpenAPI document and ``/api/health``)."""

from __future__ import annotations

from functools import cache


@cache
def version() -> str:
    """Version of the ``vpp`` distribution, ``0`` when running from a bare source tree."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("vpp")
    except PackageNotFoundError:  # pragma: no cover
        return "0"
