"""Battery energy storage: community, commercial or utility batteries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vpp.assets.base import AssetSpec, Efficiency, NonNegativeFloat, PositiveFloat
from vpp.assets.family import Family, StateKey


class BatterySpec(AssetSpec):
    """A battery with charge and discharge limits, efficiencies and a state-of-charge window.

    State of charge ``soc`` is the energy stored at the END of each period (MWh);
    ``soc_initial_mwh`` is the energy at the start of the first period::

        soc[t] = soc[t-1] * (1 - self_discharge_per_hour) ** dt_h
                 + charge_efficiency * charge_mw[t] * dt_h
                 - discharge_mw[t] * dt_h / discharge_efficiency
    """

    type: Literal["battery"] = "battery"
    power_mw: PositiveFloat | None = Field(
        default=None, description="Charge and discharge power limit (MW), when both are equal."
    )
    charge_power_mw: PositiveFloat | None = Field(default=None, description="Charge limit (MW).")
    discharge_power_mw: PositiveFloat | None = Field(default=None, description="Discharge limit (MW).")
    energy_mwh: PositiveFloat = Field(description="Usable energy capacity (MWh).")
    charge_efficiency: Efficiency = Field(default=0.95, description="Grid-to-cell efficiency.")
    discharge_efficiency: Efficiency = Field(default=0.95, description="Cell-to-grid efficiency.")
    soc_initial_mwh: NonNegativeFloat = Field(description="Stored energy at the day's start (MWh).")
    soc_min_mwh: NonNegativeFloat = Field(default=0.0, description="Lowest allowed energy (MWh).")
    soc_max_mwh: NonNegativeFloat | None = Field(
        default=None, description="Highest allowed energy (MWh); defaults to energy_mwh."
    )
    soc_final_mwh: NonNegativeFloat | None = Field(
        default=None,
        description="Least energy at the day's end (MWh); defaults to soc_initial_mwh.",
    )
    self_discharge_per_hour: float = Field(
        default=0.0, ge=0, lt=1, description="Fraction of stored energy lost per hour."
    )
    degradation_cost: NonNegativeFloat = Field(
        default=0.0, description="Wear cost per MWh discharged (yuan/MWh)."
    )
    max_cycles_per_day: PositiveFloat | None = Field(
        default=None, description="Most full-equivalent discharge cycles per day."
    )

    @model_validator(mode="after")
    def _check_power_and_soc(self) -> BatterySpec:
        if self.power_mw is None and (self.charge_power_mw is None or self.discharge_power_mw is None):
            raise ValueError("give power_mw, or both charge_power_mw and discharge_power_mw")
        soc_max = self.soc_ceiling_mwh
        if soc_max > self.energy_mwh + 1e-9:
            raise ValueError(f"soc_max_mwh {soc_max} exceeds energy_mwh {self.energy_mwh}")
        if self.soc_min_mwh > soc_max:
            raise ValueError(f"soc_min_mwh {self.soc_min_mwh} exceeds soc_max_mwh {soc_max}")
        for name in ("soc_initial_mwh", "soc_final_mwh"):
            value = getattr(self, name)
            if value is not None and not self.soc_min_mwh - 1e-9 <= value <= soc_max + 1e-9:
                raise ValueError(
                    f"{name} {value} is outside [soc_min_mwh, soc_max_mwh] = [{self.soc_min_mwh}, {soc_max}]"
                )
        return self

    @property
    def charge_limit_mw(self) -> float:
        """Charge power limit (MW)."""
        return float(self.charge_power_mw if self.charge_power_mw is not None else self.power_mw)

    @property
    def discharge_limit_mw(self) -> float:
        """Discharge power limit (MW)."""
        return float(self.discharge_power_mw if self.discharge_power_mw is not None else self.power_mw)

    @property
    def soc_ceiling_mwh(self) -> float:
        """Highest allowed stored energy (MWh): ``soc_max_mwh``, else ``energy_mwh``."""
        return float(self.soc_max_mwh if self.soc_max_mwh is not None else self.energy_mwh)

    @property
    def soc_final_floor_mwh(self) -> float:
        """Least stored energy at the end of the day (MWh): ``soc_final_mwh``, else ``soc_initial_mwh``."""
        return float(self.soc_final_mwh if self.soc_final_mwh is not None else self.soc_initial_mwh)


SOC_MWH = StateKey("battery", "soc_mwh", "MWh", series="battery.soc_mwh")
"""Energy stored at the end of a period (MWh)."""
DISCHARGED_MWH = StateKey("battery", "discharged_mwh", "MWh", daily=True)
"""Energy discharged so far today (MWh), for the cycle budget."""

FAMILY = Family("battery", BatterySpec, (SOC_MWH, DISCHARGED_MWH), stored_energy=SOC_MWH)
