"""Optional dependencies (``pip install 'vpp[EXTRA]'``): a clear error when one is missing."""

from __future__ import annotations

import importlib

from vpp.errors import InputError


def require(module: str, extra: str, what: str) -> None:
    """Import ``module`` or raise an :class:`InputError` saying which extra ``what`` needs.

    Extras: ``api`` (vpp serve), ``postgres`` (PostgreSQL URLs), ``parallel`` (Dask, ``--scheduler``),
    ``forecast`` (learned forecasters), ``all``.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        raise InputError(f"{what} needs the optional '{extra}' dependencies: pip install 'vpp[{extra}]'",
                         field=extra) from None
