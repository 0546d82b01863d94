"""The portfolio: every asset of the VPP, its grid connection and where its profiles come from."""

from __future__ import annotations

from collections import Counter

from pydantic import ConfigDict, Field, model_validator

from market.presets import MarketSpec
from vpp.assets import AnyAsset, AssetSpec
from vpp.assets.base import StrictNumbers


class GridConnection(StrictNumbers):
    """Limits of the VPP's connection to the grid (MW, positive magnitudes)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    import_limit_mw: float = Field(ge=0, description="Most power drawn from the grid (MW).")
    export_limit_mw: float = Field(ge=0, description="Most power delivered to the grid (MW).")


class RevenueShare(StrictNumbers):
    """Shanxi "time-of-use price + dividend" split between the VPP operator and its users.

    Users pay ``retail_price_yuan_per_mwh`` (a constant or a 24-value hourly time-of-use curve) for
    what they consume; the operator's wholesale result against that is the dividend, of which
    ``user_dividend_share`` goes back to the users (MARKET_RULES.md section 4.3).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    retail_price_yuan_per_mwh: float | list[float] = Field(
        default=332.0, description="Retail time-of-use price: a constant or 24 hourly values."
    )
    user_dividend_share: float = Field(
        default=0.5, ge=0, le=1, description="Share of a positive dividend paid to users."
    )
    operating_fee_yuan_per_day: float = Field(default=0.0, ge=0, description="Operator's fee.")


class Contract(StrictNumbers):
    """A medium/long-term contract for difference: a constant quantity at a fixed price."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    quantity_mw: float | list[float] = Field(
        description="Contracted net export (MW, sign as CONVENTIONS): constant or one per period."
    )
    price_yuan_per_mwh: float = Field(description="Contract price (yuan/MWh).")


class Portfolio(StrictNumbers):
    """A VPP portfolio as read from its YAML or JSON file.

    Profile references (column names) resolve against ``profiles``: CSV or Parquet files, with
    paths relative to the portfolio file, each with a ``timestamp`` column and one column per
    profile.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str = Field(min_length=1, description="Portfolio name.")
    market: str | MarketSpec = Field(
        default="shanxi",
        description=(
            "The market: a bundled preset name ('shanxi', see `vpp market list`), the path of a "
            "market YAML file (relative to this portfolio file) or an inline mapping of the market "
            "fields (`vpp schema --market`)."
        ),
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of the portfolio's files; defaults to the market's."
    )
    grid: GridConnection = Field(description="Grid connection limits.")
    group_limits: dict[str, GridConnection] = Field(
        default_factory=dict, description="Net power limits per asset group (feeder, transformer)."
    )
    profiles: list[str] = Field(
        default_factory=list, description="Profile files (CSV or Parquet), relative to this file."
    )
    contract: Contract | None = Field(default=None, description="Medium/long-term CfD, if any.")
    revenue_share: RevenueShare = Field(
        default_factory=RevenueShare, description="Operator/user revenue split parameters."
    )
    assets: list[AnyAsset] = Field(min_length=1, description="The VPP's resources.")
    bid_approval: bool = Field(
        default=False,
        description="The service writes each day-ahead bid file to its outbox only once an operator "
        "approved the bid (POST /api/bids/{day}/approve); unapproved at gate closure raises an alert.",
    )

    @model_validator(mode="after")
    def _check_ids_and_groups(self) -> Portfolio:
        duplicates = [i for i, n in Counter(a.id for a in self.assets).items() if n > 1]
        if duplicates:
            raise ValueError(f"asset ids must be unique; repeated: {', '.join(duplicates)}")
        groups = {a.group for a in self.assets if a.group is not None}
        unknown = sorted(set(self.group_limits) - groups)
        if unknown:
            raise ValueError(f"group_limits name groups no asset belongs to: {', '.join(unknown)}")
        return self

    def assets_of(self, asset_type: str) -> list[AssetSpec]:
        """Return the assets of one ``type``, in portfolio order."""
        return [a for a in self.assets if a.type == asset_type]
