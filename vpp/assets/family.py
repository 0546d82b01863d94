"""What the domain core knows about an asset family: its spec, its state and its rules.

An asset family is two modules and one registry entry (ARCHITECTURE.md, "Asset families"):

- ``vpp/assets/<name>.py``: the pydantic spec and ``FAMILY``, an :class:`AssetFamily` with the
  family's domain rules (this module's protocol);
- ``optimizer/families/<name>.py``: the optimisation block (:class:`optimizer.families.protocol.FamilyModel`);
- one line in :data:`vpp.assets.registry.FAMILY_NAMES`.

Nothing here imports ``market``, ``optimizer`` or ``simulator``: the domain core sits below them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from vpp.assets.base import AssetSpec


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
    """

    family: str
    name: str
    unit: str
    daily: bool = False
    series: str | None = None


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
        setpoint (``soc_end_mwh``) and plotted; None when the family stores none.
    """

    @property
    def name(self) -> str: ...

    @property
    def spec(self) -> type[AssetSpec]: ...

    @property
    def state_keys(self) -> tuple[StateKey, ...]: ...

    @property
    def stored_energy(self) -> StateKey | None: ...


@dataclass(frozen=True)
class Family:
    """A plain :class:`AssetFamily`: what most families need (see the protocol's attributes)."""

    name: str
    spec: type[AssetSpec]
    state_keys: tuple[StateKey, ...] = ()
    stored_energy: StateKey | None = None
