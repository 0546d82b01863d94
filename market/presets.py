"""Market definitions: a frozen :class:`MarketSpec` per market, loaded from YAML data files.

Presets are data, not code: each market is one ``market/presets/<name>.yaml`` file whose keys
are the fields of :class:`MarketSpec`. Rules and their sources (``shared/MARKET_RULES.md`` ids S1,
S4 ... and confidence tags [V]/[P]/[R]/[D]) are cited as comments in those files.

Prices are in the market's currency per MWh (yuan/MWh for the Chinese provinces, CONVENTIONS.md);
the ``_yuan_per_mwh`` suffix of settlement fields is kept for every market and means "currency per
MWh".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vpp.errors import InputError

PRESET_DIR = Path(__file__).with_name("presets")
"""Folder holding one ``<name>.yaml`` file per bundled market."""

BidMode = Literal["quantity_only", "price_quantity"]
PeriodLabel = Literal["start", "end"]

MINUTES_PER_DAY = 24 * 60

MARKET_FILE_SUFFIXES = (".yaml", ".yml", ".json")
"""Suffixes that mark a ``market:`` reference as a file path rather than a preset name."""

CURRENCY_NAMES = {"CNY": "yuan"}
"""How money of a currency is named in text where it is not its ISO code (CNY -> yuan)."""


class SettlementRules(BaseModel):
    """Market-specific settlement parameters (CONVENTIONS.md, two-settlement formula)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deviation_penalty_band_frac: float | None = Field(
        default=None,
        ge=0,
        description=(
            "Tolerated |actual - day-ahead| deviation as a fraction of the day-ahead quantity "
            "(0..1); deviations beyond it pay the penalty price. None = no penalty band."
        ),
    )
    deviation_penalty_price_yuan_per_mwh: float = Field(
        default=0.0,
        ge=0,
        description="Penalty on deviation energy beyond the band (currency/MWh, >= 0).",
    )
    contract_reference_price: Literal["da", "rt"] = Field(
        default="da",
        description="Spot price a medium/long-term contract for difference settles against.",
    )


class MarketSpec(BaseModel):
    """The rules of one electricity market that the engine needs: time grid, bounds, bidding.

    Build one with :func:`get_market` (bundled presets) or :func:`load_market_file`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Registry name of the market, e.g. 'shanxi'.")
    description: str = Field(default="", description="One-line human description.")
    timezone: str = Field(description="IANA time zone of the market's clock, e.g. 'Asia/Shanghai'.")
    currency: str = Field(
        default="CNY",
        pattern=r"^[A-Z]{3}$",
        description="ISO 4217 code of the currency of every price and amount (CNY = yuan, EUR, USD).",
    )
    period_minutes: int = Field(
        gt=0, description="Length of one settlement period (minutes); must divide a day."
    )
    bid_price_floor: float | None = Field(
        description="Lowest bid price accepted (currency/MWh); None = unbounded below."
    )
    bid_price_cap: float = Field(description="Highest bid price accepted (currency/MWh).")
    clear_price_floor: float | None = Field(
        description="Lowest clearing price (currency/MWh); None = unbounded below."
    )
    clear_price_cap: float = Field(description="Highest clearing price (currency/MWh).")
    negative_prices: bool = Field(description="Whether clearing prices may be below zero.")
    da_gate_closure_days_before: int = Field(
        ge=0, description="Day-ahead gate closure: days before the trading day (1 = D-1)."
    )
    da_gate_closure_time: dt.time = Field(
        description="Day-ahead gate closure: local wall-clock time in the market zone."
    )
    bid_modes: tuple[BidMode, ...] = Field(
        min_length=1,
        description="Accepted bid forms: 'quantity_only' curve and/or 'price_quantity' steps.",
    )
    max_bid_segments: int = Field(
        ge=1, description="Most price-quantity segments per period in a 'price_quantity' bid."
    )
    source_period_label: PeriodLabel = Field(
        description=(
            "How the exchange labels periods in what it publishes: by their 'start' or 'end' "
            "(Shanxi: 00:15 ... 24:00). The engine itself always labels starts."
        )
    )
    settlement: SettlementRules = Field(default_factory=SettlementRules, description="Settlement parameters.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("period_minutes")
    @classmethod
    def _divides_day(cls, value: int) -> int:
        if MINUTES_PER_DAY % value:
            raise ValueError(f"period_minutes={value} does not divide a day of 1440 minutes")
        return value

    @field_validator("da_gate_closure_time", mode="before")
    @classmethod
    def _time_text(cls, value: object) -> object:
        if isinstance(value, int):  # YAML 1.1 reads an unquoted 12:00 as the base-60 integer 720
            raise ValueError("write the gate-closure time as a quoted 'HH:MM' string")
        return value

    @field_validator("bid_modes")
    @classmethod
    def _unique_modes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("bid_modes lists a mode twice")
        return value

    @model_validator(mode="after")
    def _consistent_bounds(self) -> MarketSpec:
        for kind in ("bid", "clear"):
            floor = getattr(self, f"{kind}_price_floor")
            cap = getattr(self, f"{kind}_price_cap")
            if floor is not None and floor > cap:
                raise ValueError(f"{kind}_price_floor {floor} is above {kind}_price_cap {cap}")
            if not self.negative_prices and (floor is None or floor < 0):
                raise ValueError(
                    f"negative_prices is false but {kind}_price_floor is {floor}: set a floor >= 0"
                )
        return self

    def within_clearing_bounds(self, price: object) -> np.ndarray:
        """``price`` (currency/MWh, any array-like) clipped to ``[clear_price_floor, clear_price_cap]``.

        A floor of None is no floor. The one clip of a forecast to prices the market can clear.
        """
        floor = -np.inf if self.clear_price_floor is None else float(self.clear_price_floor)
        return np.clip(np.asarray(price, dtype=float), floor, float(self.clear_price_cap))

    @property
    def period(self) -> pd.Timedelta:
        """Length of one period as a ``pd.Timedelta``."""
        return pd.Timedelta(minutes=self.period_minutes)

    @property
    def period_hours(self) -> float:
        """Length of one period (hours); energy per period (MWh) = power (MW) x this."""
        return self.period_minutes / 60.0

    @property
    def periods_per_hour(self) -> float:
        """Periods per hour (4.0 for 15-minute markets, 1.0 for hourly)."""
        return 60.0 / self.period_minutes

    @property
    def nominal_periods_per_day(self) -> int:
        """Periods in a 24-hour day; daylight-saving days differ, see ``trading_day_index``."""
        return MINUTES_PER_DAY // self.period_minutes

    @property
    def period_label(self) -> PeriodLabel:
        """Alias of ``source_period_label`` (the name used in ARCHITECTURE.md)."""
        return self.source_period_label

    @property
    def zone(self) -> ZoneInfo:
        """The market zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    @property
    def money_unit(self) -> str:
        """Unit of money amounts of this market in text: ``'yuan'`` for CNY, else the ISO code."""
        return CURRENCY_NAMES.get(self.currency, self.currency)

    @property
    def price_unit(self) -> str:
        """Unit of every price of this market, e.g. ``'yuan/MWh'``, ``'EUR/MWh'``."""
        return f"{self.money_unit}/MWh"


def load_market_file(path: str | Path) -> MarketSpec:
    """Read one market definition from a YAML (or JSON) file.

    Parameters
    ----------
    path : str or Path
        YAML file whose top-level keys are the fields of :class:`MarketSpec`.

    Returns
    -------
    MarketSpec

    Raises
    ------
    InputError
        The file is missing, is not valid YAML, or breaks a field rule (``field`` names the first;
        the message lists every broken field).
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("market file not found", file=path) from None
    except IsADirectoryError:
        raise InputError("the market path is a folder, not a YAML file", file=path) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read market file: {exc}", file=path) from exc
    if not isinstance(raw, dict):
        raise InputError("a market file must be a YAML mapping of field: value", file=path)
    return parse_market(raw, file=path)


def parse_market(data: Mapping[str, Any], *, file: str | Path | None = None, prefix: str = "") -> MarketSpec:
    """Validate a mapping of field: value as a :class:`MarketSpec`.

    Parameters
    ----------
    data : mapping
        The fields of :class:`MarketSpec` (an inline ``market:`` of a portfolio, a parsed file).
    file : str or Path, optional
        Where the data came from, for messages.
    prefix : str
        Field path of the mapping inside ``file`` (``"market"`` for an inline market).

    Raises
    ------
    InputError
        One line per broken field, each ``<field path>: <message>``; ``field`` names the first.
    """
    try:
        return MarketSpec.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
            problems.append((where, str(error["msg"]).removeprefix("Value error, ")))
        first = problems[0][0] or None
        if len(problems) == 1:
            message = problems[0][1]
        else:
            message = f"{len(problems)} problems in the market definition:\n" + "\n".join(
                f"  - {w}: {m}" if w else f"  - {m}" for w, m in problems
            )
        raise InputError(message, file=file, field=first) from None


def available_markets() -> list[str]:
    """Names of the bundled market presets, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    """The YAML file of the bundled preset ``name`` (which must exist)."""
    return PRESET_DIR / f"{get_market(name).name}.yaml"


@cache
def _load_preset(name: str) -> MarketSpec:
    spec = load_market_file(PRESET_DIR / f"{name}.yaml")
    if spec.name != name:
        raise InputError(f"preset file declares name {spec.name!r}", file=PRESET_DIR / f"{name}.yaml")
    return spec


def get_market(name: str) -> MarketSpec:
    """Return the bundled market preset called ``name`` (case-insensitive).

    Parameters
    ----------
    name : str
        A name from :func:`available_markets`, e.g. ``'shanxi'``.

    Raises
    ------
    InputError
        ``name`` is not a bundled preset; the message lists the known names.
    """
    key = str(name).strip().lower()
    known = available_markets()
    if key not in known:
        raise InputError(
            f"unknown market {name!r}; known markets: {', '.join(known)} (or give the path of a "
            "market YAML file)",
            field="market",
        )
    return _load_preset(key)


def is_market_path(ref: str | Path) -> bool:
    """True when ``ref`` names a market file rather than a bundled preset: a ``Path``, or text
    with a folder separator or a ``.yaml``/``.yml``/``.json`` suffix."""
    if isinstance(ref, Path):
        return True
    text = str(ref).strip()
    return "/" in text or "\\" in text or Path(text).suffix.lower() in MARKET_FILE_SUFFIXES


def load_market(
    ref: MarketSpec | str | Path | Mapping[str, Any],
    *,
    base_dir: str | Path | None = None,
    file: str | Path | None = None,
) -> MarketSpec:
    """Resolve a market reference: a spec, a bundled preset name, a market file or a mapping.

    Parameters
    ----------
    ref : MarketSpec, str, Path or mapping
        ``'shanxi'`` (a name from :func:`available_markets`), ``'markets/nem.yaml'`` (a market
        YAML file; see :func:`is_market_path`) or an inline mapping of :class:`MarketSpec` fields.
    base_dir : str or Path, optional
        Folder a relative market file path is relative to (the portfolio's folder); default the
        working directory.
    file : str or Path, optional
        The file ``ref`` was written in (a portfolio), named in messages about an inline mapping.

    Raises
    ------
    InputError
        Unknown preset, missing or unreadable market file, or a broken field (named).
    """
    if isinstance(ref, MarketSpec):
        return ref
    if isinstance(ref, Mapping):
        return parse_market(ref, file=file, prefix="market" if file is not None else "")
    if is_market_path(ref):
        path = Path(str(ref).strip()).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return load_market_file(path)
    return get_market(str(ref))


def resolve_market(market: MarketSpec | str | Path) -> MarketSpec:
    """Accept a :class:`MarketSpec`, a preset name or a market file path and return the spec."""
    return market if isinstance(market, MarketSpec) else load_market(market)


def market_summary(spec: MarketSpec) -> dict[str, Any]:
    """The fields of ``spec`` as plain JSON-ready data, with its derived figures."""
    data = spec.model_dump(mode="json")
    data["derived"] = {
        "periods_per_day": spec.nominal_periods_per_day,
        "period_hours": spec.period_hours,
        "price_unit": spec.price_unit,
        "money_unit": spec.money_unit,
        "daylight_saving": has_daylight_saving(spec),
    }
    return data


def has_daylight_saving(spec: MarketSpec) -> bool:
    """Whether the market's zone changes its UTC offset during a year (23- and 25-hour days)."""
    zone = spec.zone
    return len({dt.datetime(2024, m, 1, tzinfo=zone).utcoffset() for m in (1, 7)}) > 1
