"""Calendar features of trading days: weekday, public holidays and adjusted working days.

Public holidays come from the ``holidays`` package, by the market's country (:data:`COUNTRY_BY_ZONE`
from the market's time zone). China moves working days around its holidays: some Saturdays and
Sundays are working days (``holidays.China().weekend_workdays``, e.g. 2024-04-28 and 2024-05-11
around the 2024-05-01..05 Golden Week) and some weekdays are days off. ``workday`` is 1 on a
working day by these rules (a weekday that is not a holiday, or an adjusted weekend working day).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

import holidays
import numpy as np
import pandas as pd

from market.presets import MarketSpec

COUNTRY_BY_ZONE = {
    "Asia/Shanghai": "CN",
    "Asia/Chongqing": "CN",
    "Asia/Urumqi": "CN",
    "Europe/Berlin": "DE",
    "Europe/Paris": "FR",
    "Europe/Madrid": "ES",
    "Europe/London": "GB",
    "America/New_York": "US",
    "America/Chicago": "US",
    "America/Los_Angeles": "US",
    "America/Denver": "US",
    "Australia/Sydney": "AU",
    "Australia/Brisbane": "AU",
}
"""Country (ISO 3166) whose public holidays apply to a market in this zone; other zones: none."""

CALENDAR_COLUMNS = ("weekday", "holiday", "workday")


@lru_cache(maxsize=32)
def _country_calendar(country: str, years: tuple[int, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=list(years))


def calendar_frame(days: Sequence[dt.date], market: MarketSpec) -> pd.DataFrame:
    """Calendar features of ``days``.

    Returns
    -------
    pd.DataFrame
        Index ``days``; ``weekday`` (0 = Monday), ``holiday`` (1 on a public holiday),
        ``workday`` (1 on a working day, adjusted working days included).
    """
    days = list(days)
    weekday = np.array([d.weekday() for d in days], dtype=int)
    holiday = np.zeros(len(days), dtype=int)
    extra_workdays: set[dt.date] = set()
    country = COUNTRY_BY_ZONE.get(market.timezone)
    if country is not None and days:
        years = tuple(sorted({d.year for d in days}))
        cal = _country_calendar(country, years)
        holiday = np.array([int(d in cal) for d in days], dtype=int)
        extra_workdays = set(getattr(cal, "weekend_workdays", ()) or ())
    workday = ((weekday < 5) & (holiday == 0)) | np.array([d in extra_workdays for d in days], dtype=bool)
    return pd.DataFrame(
        {"weekday": weekday, "holiday": holiday, "workday": workday.astype(int)},
        index=pd.Index(days, name="day", dtype=object),
    )
