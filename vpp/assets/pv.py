"""Rooftop or ground-mounted photovoltaics."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from vpp.assets.base import AssetSpec, NonNegativeFloat, PositiveFloat, ProfileRef
from vpp.assets.family import Family


class PvSpec(AssetSpec):
    """PV generation: ``available_mw[t] = capacity_mw * profile[t]`` (profile per unit, 0..1).

    A curtailable unit may produce anything in ``[0, available_mw[t]]``, paying
    ``curtailment_cost`` per MWh it spills; a non-curtailable unit produces exactly what is available.
    """

    type: Literal["pv"] = "pv"
    capacity_mw: PositiveFloat = Field(description="AC peak capacity (MW).")
    profile: ProfileRef = Field(description="Per-unit availability profile (0..1).")
    curtailable: bool = Field(default=True, description="May output be reduced below available?")
    curtailment_cost: NonNegativeFloat = Field(
        default=0.0, description="Cost of each MWh spilled (yuan/MWh)."
    )

    def profile_refs(self) -> dict[str, object]:
        return {"profile": self.profile}


FAMILY = Family("pv", PvSpec)
