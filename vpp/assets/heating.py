"""Electric space heating: heat pumps and resistive heaters in a building with thermal mass."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from vpp.assets.base import AssetSpec, PositiveFloat, ProfileRef
from vpp.assets.family import Family, StateKey


class HeatingSpec(AssetSpec):
    """Electric heating that keeps indoor temperature in a band, using the building as storage.

    Indoor temperature ``T[t]`` (deg C) at the END of period t, electric power ``p[t]`` (MW)::

        C * (T[t] - T[t-1]) = dt_h * (cop * p[t] - Q[t])
        Q[t] = heat_demand_mw[t]                                  (heat-demand form), or
        Q[t] = heat_loss_mw_per_k * (T[t-1] - outdoor_temperature_c[t])  (outdoor form)
        temp_min_c <= T[t] <= temp_max_c,  0 <= p[t] <= rated_power_mw

    ``cop`` is the heat-pump coefficient of performance; a resistive heater has ``cop`` = its
    efficiency (about 1).
    """

    type: Literal["heating"] = "heating"
    rated_power_mw: PositiveFloat = Field(description="Electric power rating (MW).")
    cop: PositiveFloat = Field(default=3.0, description="Heat out per electricity in (-).")
    thermal_capacity_mwh_per_k: PositiveFloat = Field(
        description="Heat stored per kelvin of indoor temperature (MWh/K)."
    )
    heat_loss_mw_per_k: PositiveFloat | None = Field(
        default=None, description="Heat loss per kelvin indoor-outdoor difference (MW/K)."
    )
    outdoor_temperature_c: ProfileRef | None = Field(
        default=None, description="Outdoor temperature profile (deg C)."
    )
    heat_demand_mw: ProfileRef | None = Field(
        default=None, description="Heat demand profile (MW thermal), instead of the outdoor form."
    )
    temp_min_c: float = Field(default=18.0, description="Lowest indoor temperature (deg C).")
    temp_max_c: float = Field(default=22.0, description="Highest indoor temperature (deg C).")
    temp_initial_c: float = Field(default=20.0, description="Indoor temperature at the start (deg C).")
    temp_final_c: float | None = Field(
        default=None, description="Least temperature at the day's end (deg C); defaults to initial."
    )

    @model_validator(mode="after")
    def _check_thermal_model(self) -> HeatingSpec:
        if (self.heat_demand_mw is None) == (self.outdoor_temperature_c is None):
            raise ValueError("give exactly one of heat_demand_mw or outdoor_temperature_c")
        if self.outdoor_temperature_c is not None and self.heat_loss_mw_per_k is None:
            raise ValueError("outdoor_temperature_c needs heat_loss_mw_per_k")
        if self.temp_min_c > self.temp_max_c:
            raise ValueError(f"temp_min_c {self.temp_min_c} exceeds temp_max_c {self.temp_max_c}")
        if not self.temp_min_c <= self.temp_initial_c <= self.temp_max_c:
            raise ValueError(
                f"temp_initial_c {self.temp_initial_c} is outside [{self.temp_min_c}, {self.temp_max_c}]"
            )
        return self

    @property
    def temp_final(self) -> float:
        """Least indoor temperature at the end of the day (deg C)."""
        return self.temp_initial_c if self.temp_final_c is None else self.temp_final_c

    def profile_refs(self) -> dict[str, object]:
        refs = {}
        if self.outdoor_temperature_c is not None:
            refs["outdoor_temperature_c"] = self.outdoor_temperature_c
        if self.heat_demand_mw is not None:
            refs["heat_demand_mw"] = self.heat_demand_mw
        return refs


TEMPERATURE_C = StateKey("heating", "temperature_c", "deg C", series="heating.temperature_c")
"""Indoor temperature at the end of a period (deg C)."""

FAMILY = Family("heating", HeatingSpec, (TEMPERATURE_C,))
