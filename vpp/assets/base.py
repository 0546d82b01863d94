"""Common pieces of every asset spec: identity, grouping and profile references.

Sign convention (``shared/CONVENTIONS.md``): positive power is delivered TO the grid (export,
generation, discharge), negative is drawn FROM the grid. Asset specs state ratings as positive
magnitudes; the optimizer applies the sign.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ProfileRef = Annotated[
    float | list[float] | str,
    Field(
        description=(
            "A time profile: a constant, a list with one value per period of the trading day, or the "
            "name of a column in the portfolio's profile files."
        )
    ),
]
"""A profile is a constant, one value per period, or a column name in the portfolio's profile files."""

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Efficiency = Annotated[float, Field(gt=0, le=1)]


class StrictNumbers(BaseModel):
    """A model validated in pydantic's strict mode: a number field takes an int or a float, never
    ``true``/``false`` (lax mode reads them as 1.0 / 0.0) or a quoted ``"1.5"``."""

    model_config = ConfigDict(strict=True)


class AssetSpec(StrictNumbers):
    """Fields shared by every asset.

    Attributes
    ----------
    id : str
        Unique name of the asset within the portfolio.
    group : str or None
        Feeder or transformer the asset sits behind; the portfolio may limit each group's net power.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: str = Field(min_length=1, description="Unique asset name within the portfolio.")
    group: str | None = Field(
        default=None, description="Feeder or transformer group, for per-group grid limits."
    )

    def profile_refs(self) -> dict[str, ProfileRef]:
        """Return the profile-valued fields of this asset, by field name."""
        return {}
