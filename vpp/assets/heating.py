"""Electric space heating: heat pumps and resistive heaters in a building with thermal mass."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from vpp.assets.base import AssetSpec, PositiveFloat, ProfileRef
from vpp.assets.family import Family, FamilyRange, Horizon, Peak, StateKey, Summary, TelemetryRange


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


# ---------------------------------------------------------------------------------------------
# Domain rules


def heating_range(specs: Sequence[HeatingSpec], horizon: Horizon) -> FamilyRange:
    """Electric heating: ``-rated_power_mw <= net[t] <= 0``; baseline = demand-neutral power::

        Q[t] = heat_demand_mw[t]                                       (heat-demand form)
        Q[t] = max(heat_loss_mw_per_k * (temp_initial_c - outdoor[t]), 0)   (outdoor form)
        baseline net[t] = -min(max(Q[t], 0) / cop, rated_power_mw)

    Shiftable energy = ``thermal_capacity_mwh_per_k * (temp_max_c - temp_min_c) / cop``: the
    electricity the building's thermal band stores.
    """
    T = len(horizon.index)
    heat = np.zeros((len(specs), T))
    for row, s in enumerate(specs):
        if s.heat_demand_mw is not None:
            heat[row] = horizon.resolve(s, "heat_demand_mw", s.heat_demand_mw)
        else:
            outdoor = horizon.resolve(s, "outdoor_temperature_c", s.outdoor_temperature_c)
            heat[row] = s.heat_loss_mw_per_k * (s.temp_initial_c - outdoor)
    rated = np.array([s.rated_power_mw for s in specs])[:, None]
    cop = np.array([s.cop for s in specs])[:, None]
    neutral = np.minimum(np.clip(heat, 0, None) / cop, rated)
    shiftable = sum(s.thermal_capacity_mwh_per_k * (s.temp_max_c - s.temp_min_c) / s.cop
                    for s in specs)
    return FamilyRange(-rated * np.ones(T), np.zeros((len(specs), T)), -neutral, float(shiftable))


def heating_summary(specs: Sequence[HeatingSpec], peak: Peak) -> Summary:
    """Rated power, thermal energy in the band and the COPs."""
    stored = sum(s.thermal_capacity_mwh_per_k * (s.temp_max_c - s.temp_min_c) for s in specs)
    cops = sorted({f"{s.cop:g}" for s in specs})
    return Summary(sum(s.rated_power_mw for s in specs), stored,
                   f"rated; MWh thermal in the band; COP {', '.join(cops)}")


def heating_telemetry(spec: HeatingSpec) -> TelemetryRange:
    """``[-rated_power_mw, 0]``."""
    return TelemetryRange(-spec.rated_power_mw, 0.0)


def heating_baseline_notes(specs: Sequence[HeatingSpec], family: FamilyRange) -> list[str]:
    """Buildings whose heat demand is above the rated power in some periods (the baseline caps it:
    the building would cool)."""
    notes = []
    for row, spec in enumerate(specs):
        capped = np.isclose(-family.baseline_mw[row], spec.rated_power_mw) & (family.min_net_mw[row] < 0)
        if capped.any():
            notes.append(f"{spec.id}: heat demand above rated power in {int(capped.sum())} periods")
    return notes


FAMILY = Family(
    "heating",
    HeatingSpec,
    envelope=heating_range,
    summary=heating_summary,
    telemetry=heating_telemetry,
    state_keys=(TEMPERATURE_C,),
    baseline_notes=heating_baseline_notes,
)
