"""Adjustable consumption: commercial HVAC, pumping, process loads."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vpp.assets.base import AssetSpec, Fraction, NonNegativeFloat, ProfileRef
from vpp.assets.family import Family, StateKey


class FlexibleLoadSpec(AssetSpec):
    """Consumption that may move within per-period bounds while keeping its daily energy.

    With ``baseline_mw[t] = scale_mw * baseline[t]`` and consumption ``x[t]`` (MW)::

        baseline_mw[t] * (1 - down_frac) <= x[t] <= baseline_mw[t] * (1 + up_frac)
        sum_t x[t] dt_h <= E_base * (1 + energy_tolerance_frac)
        sum_t x[t] dt_h >= E_base * (1 - energy_tolerance_frac) - curtailed_mwh

    ``curtailed_mwh`` (MWh, >= 0) costs ``curtailment_cost`` yuan/MWh and is fixed to zero when
    ``curtailment_cost`` is not given.
    """

    type: Literal["flexible_load"] = "flexible_load"
    baseline: ProfileRef = Field(description="Baseline consumption profile; times scale_mw (MW).")
    scale_mw: NonNegativeFloat = Field(default=1.0, description="Multiplier of the baseline (MW).")
    up_frac: NonNegativeFloat = Field(
        default=0.3, description="Most extra consumption in a period, as a fraction of baseline."
    )
    down_frac: Fraction = Field(
        default=0.3, description="Most reduction in a period, as a fraction of baseline."
    )
    energy_tolerance_frac: Fraction = Field(
        default=0.0, description="Allowed deviation of daily energy from the baseline's (fraction)."
    )
    curtailment_cost: NonNegativeFloat | None = Field(
        default=None,
        description="Price of energy not consumed at all (yuan/MWh); None forbids curtailment.",
    )

    def profile_refs(self) -> dict[str, object]:
        return {"baseline": self.baseline}


ENERGY_CONSUMED_MWH = StateKey("flexible_load", "energy_consumed_mwh", "MWh", daily=True)
"""Energy consumed so far today (MWh), for the daily energy window."""

FAMILY = Family("flexible_load", FlexibleLoadSpec, (ENERGY_CONSUMED_MWH,))
