"""What the domain core knows about an asset family: its spec, its state and its rules.

An asset family is two modules and one registry entry (ARCHITECTURE.md, "Asset families"):

- ``vpp/assets/<name>.py``: the pydantic spec and ``FAMILY``, an :class:`AssetFamily` with the
  family's domain rules (this module's protocol);
- ``optimizer/families/<name>.py``: the optimisation block (:class:`optimizer.families.protocol.FamilyModel`);
- one line in :data:`vpp.assets.registry.FAMILY_NAMES`.

Nothing here imports ``market``, ``optimizer`` or ``simulator``: the domain core sits below them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from vpp.assets.base import AssetSpec, ProfileRef

ProfileResolver = Callable[[AssetSpec, str, Any], np.ndarray]
"""``resolve(asset, field, ref)``: a profile reference of an asset as an array of shape (T,)."""

Peak = Callable[[ProfileRef], float]
"""``peak(ref)``: the largest value of a profile reference (over the whole profile for a column)."""


@dataclass(frozen=True)
class StateKey:
    """One value of an asset's state carried between periods and days.

    Attributes
    ----------
    family : str
        The family's name, e.g. ``battery``.
    name : str
        The key in a state mapping ``{asset_id: {name: value}}``, e.g. ``soc_mwh``.
    unit : str
        Unit of the value (``MWh``, ``MW``, ``h``, ``deg C``, ``0/1``).
    daily : bool
        A counter of the trading day: it restarts at 0 with each day.
    series : str or None
        Key of the solved schedule that holds the value at each period's end
        (``ScheduleResult.series``), e.g. ``battery.soc_mwh``; None when it is not a schedule.
    accrues : {"export", "import"} or None
        A daily counter of energy (MWh) that the dispatch service adds up from the day's
        setpoints: the energy delivered to the grid (``export``) or drawn from it (``import``).
    """

    family: str
    name: str
    unit: str
    daily: bool = False
    series: str | None = None
    accrues: Literal["export", "import"] | None = None


@dataclass(frozen=True)
class Horizon:
    """The periods an envelope is computed for.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts (tz-aware), shape (T,).
    dt_h : np.ndarray
        Period lengths (h), shape (T,).
    resolve : ProfileResolver
        ``(asset, field, ref) -> np.ndarray`` of shape (T,).
    """

    index: pd.DatetimeIndex
    dt_h: np.ndarray
    resolve: ProfileResolver

    def stack(self, specs: Sequence[AssetSpec], field: str) -> np.ndarray:
        """The profile ``field`` of every spec, stacked: shape (n_assets, T)."""
        return np.stack([self.resolve(s, field, _field_value(s, field)) for s in specs])


def _field_value(spec: AssetSpec, field: str) -> object:
    value: object = spec
    for part in field.split("."):
        value = getattr(value, part)
    return value


@dataclass(frozen=True)
class FamilyRange:
    """Net power range of the assets of one family (MW, export positive), arrays (n_assets, T).

    Attributes
    ----------
    min_net_mw, max_net_mw : np.ndarray
        Lowest and highest net power the asset can take in each period.
    baseline_mw : np.ndarray
        Net power with no flexibility used.
    shiftable_mwh : float
        Energy the family can move in time within the horizon (MWh), see each family function.
    """

    min_net_mw: np.ndarray
    max_net_mw: np.ndarray
    baseline_mw: np.ndarray
    shiftable_mwh: float


@dataclass(frozen=True)
class Summary:
    """One row of ``vpp validate``'s asset table for all assets of a family.

    Attributes
    ----------
    power_mw : float
        Total rated power (MW; which power the notes say).
    energy_mwh : float or None
        Total energy (MWh; which energy the notes say), None when the family stores none.
    notes : str
        What the figures mean, in a few words.
    """

    power_mw: float
    energy_mwh: float | None
    notes: str


@dataclass(frozen=True)
class TelemetryRange:
    """The physical range of one asset's telemetry, from its ratings.

    Attributes
    ----------
    low_mw, high_mw : float or None
        Lowest and highest net power (MW, export positive); None: the grid connection's limit.
    stored_max_mwh : float or None
        Most energy the asset can report stored (MWh); None when it stores none.
    """

    low_mw: float | None
    high_mw: float | None
    stored_max_mwh: float | None = None


@dataclass(frozen=True)
class Fallback:
    """A family's safe setpoint when the real-time solve fails, from the measured state.

    Attributes
    ----------
    clip : callable
        ``clip(spec, stored_mwh, target_mw, dt_h) -> MW``: the setpoint closest to ``target_mw``
        the asset can hold for ``dt_h`` hours from ``stored_mwh`` (MWh at the period's start).
    stored_after : callable
        ``stored_after(spec, stored_mwh, p_mw, dt_h) -> MWh``: stored energy at the period's end.
    """

    clip: Callable[[Any, float, float, float], float]
    stored_after: Callable[[Any, float, float, float], float]


class AssetFamily(Protocol):
    """The domain half of an asset family (the optimisation half is ``optimizer.families.<name>``).

    Attributes
    ----------
    name : str
        The asset ``type`` in portfolio files, and the name of the family's model module.
    spec : type[AssetSpec]
        The pydantic spec of one asset (its ``type`` field is ``Literal[name]``).
    state_keys : tuple[StateKey, ...]
        The state carried between periods and days (empty: the family keeps none).
    stored_energy : StateKey or None
        The state key that is the energy stored at a period's end (MWh), recorded with each
        setpoint (``soc_end_mwh``), measured by telemetry and plotted; None when the family
        stores none.
    initial_stored_mwh : callable or None
        ``initial_stored_mwh(spec)``: stored energy at the day's start when nothing was measured
        (MWh); with ``stored_energy`` only.
    envelope : callable
        ``envelope(specs, horizon) -> FamilyRange``: per-period net range and baseline of all
        assets of the family (``vpp.envelope``).
    summary : callable
        ``summary(specs, peak) -> Summary``: the family's row in ``vpp validate``.
    telemetry : callable
        ``telemetry(spec) -> TelemetryRange``: what a meter of the asset can read.
    fallback : Fallback or None
        How the dispatch service clips the day-ahead setpoint when a solve fails (and scales it
        back inside the grid limits); None: the day-ahead setpoint as it is.
    baseline_notes : callable or None
        ``baseline_notes(specs, family_range) -> list[str]``: where the family's envelope baseline
        is not a physical position (``simulator.passive.baseline_notes``); None: no notes.
    """

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[AssetSpec]: ...

    @property
    def state_keys(self) -> tuple[StateKey, ...]: ...

    @property
    def stored_energy(self) -> StateKey | None: ...

    @property
    def initial_stored_mwh(self) -> Callable[[Any], float] | None: ...

    @property
    def envelope(self) -> Callable[[Sequence[Any], Horizon], FamilyRange]: ...

    @property
    def summary(self) -> Callable[[Sequence[Any], Peak], Summary]: ...

    @property
    def telemetry(self) -> Callable[[Any], TelemetryRange]: ...

    @property
    def fallback(self) -> Fallback | None: ...

    @property
    def baseline_notes(self) -> Callable[[Sequence[Any], FamilyRange], list[str]] | None: ...


@dataclass(frozen=True)
class Family:
    """A plain :class:`AssetFamily`: what most families need (see the protocol's attributes)."""

    name: str
    spec: type[AssetSpec]
    envelope: Callable[[Sequence[Any], Horizon], FamilyRange]
    summary: Callable[[Sequence[Any], Peak], Summary]
    telemetry: Callable[[Any], TelemetryRange]
    state_keys: tuple[StateKey, ...] = ()
    stored_energy: StateKey | None = None
    initial_stored_mwh: Callable[[Any], float] | None = None
    fallback: Fallback | None = None
    baseline_notes: Callable[[Sequence[Any], FamilyRange], list[str]] | None = None
