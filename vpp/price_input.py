"""How the command line reads a user's price file: the zone of naive timestamps and the period
label, from the user's options or else from the market (issue 13 item 2).

- ``--prices-tz ZONE``: timestamps without a UTC offset are wall-clock times in ZONE (default the
  market's zone); timestamps with an offset are exact whatever ZONE says.
- ``--prices-label start|end``: whether each row is labelled by its period's start or end; default
  the market's ``source_period_label`` (Shanxi publishes 00:15 ... 24:00, so ``end``). The bundled
  example prices are labelled by period starts (``vpp/examples/data/SOURCES.md``) whatever the
  market says.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from vpp.examples_paths import EXAMPLES_DIR

if TYPE_CHECKING:
    import pandas as pd

    from market.presets import MarketSpec

PeriodLabel = Literal["start", "end"]

BUNDLED_PRICES_LABEL: PeriodLabel = "start"
"""How the price files under ``vpp/examples/data`` label their periods."""

PricesTzOption = Annotated[
    str | None,
    typer.Option(
        "--prices-tz",
        help="IANA zone of price timestamps written without a UTC offset.",
        show_default="the market's zone",
    ),
]
PricesLabelOption = Annotated[
    str | None,
    typer.Option(
        "--prices-label",
        help="Price rows labelled by period 'start' or 'end' (00:15 ... 24:00).",
        show_default="the market's source_period_label",
    ),
]


def price_label(path: str | Path, market: MarketSpec, label: str | None) -> PeriodLabel:
    """The period label to read ``path`` with: ``label`` if given, else the bundled files' own,
    else the market's ``source_period_label``.

    Raises
    ------
    InputError
        ``label`` is neither ``start`` nor ``end``.
    """
    from vpp.errors import InputError

    if label is not None:
        if label not in ("start", "end"):
            raise InputError(
                f"--prices-label must be 'start' or 'end', not {label!r}", field="--prices-label"
            )
        return label  # type: ignore[return-value]
    if Path(path).resolve().is_relative_to(EXAMPLES_DIR / "data"):
        return BUNDLED_PRICES_LABEL
    return market.source_period_label


def check_prices_options(tz: str | None, label: str | None) -> None:
    """Check ``--prices-tz`` (an IANA zone) and ``--prices-label`` (``start`` or ``end``).

    Raises
    ------
    InputError
        Naming the option.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from vpp.errors import InputError

    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(f"unknown IANA time zone {tz!r}", field="--prices-tz") from None
    if label is not None and label not in ("start", "end"):
        raise InputError(f"--prices-label must be 'start' or 'end', not {label!r}", field="--prices-label")


def read_price_input(
    path: str | Path, market: MarketSpec, *, tz: str | None = None, label: str | None = None
) -> pd.DataFrame:
    """Read a price file given on the command line (``market.prices.read_prices``) in the zone and
    with the period label the user stated, else the market's.

    Raises
    ------
    InputError
        An unknown zone or label, or anything :func:`market.prices.read_prices` rejects.
    """
    from market.prices import read_prices

    check_prices_options(tz, label)
    return read_prices(path, market, period_label=price_label(path, market, label), tz=tz)
