"""Outgoing files for the device gateways and the market desk, each written atomically.

- ``setpoints_<YYYY-MM-DDTHH-MM>.csv`` and ``.json`` per period (market-zone period start in the
  name): ``timestamp, asset_id, setpoint_mw, soc_end_mwh, source`` (MW, positive = to the grid;
  MWh stored at the period's end by any family that stores energy; ``source``: ``optimal``,
  ``repaired`` or ``feasible`` from a solve that was proven optimal or not
  (:func:`vpp.solve_outcome.schedule_source`), ``fallback`` for the safe dispatch).
- ``bid_<YYYY-MM-DD>.csv``: ``timestamp, net_mw`` of the quantity-only day-ahead bid.

The files are written after the database commit, and rewritten from the database when a rerun
finds the period (or the bid) already done or a later dispatch pass finds them missing, so a crash
or a full disk between commit and file leaves no gap once the outbox is writable again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from market.calendar import format_timestamps
from vpp.io_utils import remove_stale_temporary, write_csv_atomic, write_text_atomic

log = logging.getLogger(__name__)


def _stamp(period_start: pd.Timestamp) -> str:
    return period_start.strftime("%Y-%m-%dT%H-%M")


def sweep(outbox: str | Path) -> int:
    """At service start: delete the temporary files of writes a killed run left in the outbox."""
    removed = remove_stale_temporary(outbox)
    if removed:
        log.warning("removed %d temporary file(s) a killed run left in %s", removed, outbox)
    return removed


def setpoint_paths(outbox: str | Path, period_start: pd.Timestamp) -> tuple[Path, Path]:
    """CSV and JSON paths of the setpoints of the period starting at ``period_start`` (market zone)."""
    base = Path(outbox) / f"setpoints_{_stamp(period_start)}"
    return base.with_suffix(".csv"), base.with_suffix(".json")


def write_setpoints(
    outbox: str | Path, period_start: pd.Timestamp, rows: Sequence[Mapping[str, Any]]
) -> tuple[Path, Path]:
    """Write one period's setpoints as CSV and JSON (atomically).

    Parameters
    ----------
    outbox : str or Path
        The outbox folder.
    period_start : pd.Timestamp
        Period start, tz-aware in the market zone.
    rows : sequence of mapping
        ``asset_id``, ``setpoint_mw`` (MW), ``soc_end_mwh`` (MWh or None), ``source``.
    """
    csv_path, json_path = setpoint_paths(outbox, period_start)
    stamp = str(format_timestamps(pd.DatetimeIndex([period_start]))[0])
    frame = pd.DataFrame(
        {
            "timestamp": stamp,
            "asset_id": [r["asset_id"] for r in rows],
            "setpoint_mw": [round(float(r["setpoint_mw"]), 6) for r in rows],
            "soc_end_mwh": [r.get("soc_end_mwh") for r in rows],
            "source": [r["source"] for r in rows],
        }
    )
    write_csv_atomic(frame, csv_path)
    document = {"period_start": stamp, "setpoints": frame.drop(columns="timestamp").to_dict("records")}
    write_text_atomic(json.dumps(document, indent=1, default=_json_default), json_path)
    return csv_path, json_path


def read_setpoints(path: str | Path) -> dict[str, Any]:
    """Read a setpoint JSON file back (what a gateway does)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def bid_path(outbox: str | Path, day: str) -> Path:
    """Path of the bid file of trading day ``day`` (``YYYY-MM-DD``)."""
    return Path(outbox) / f"bid_{day}.csv"


def write_bid(outbox: str | Path, day: str, net_mw: pd.Series) -> Path:
    """Write the quantity-only bid of trading day ``day`` (MW per period, market zone)."""
    return write_csv_atomic(net_mw.rename("net_mw").to_frame(), bid_path(outbox, day), index=True)


def _json_default(value: object) -> object:
    if pd.isna(value):  # type: ignore[arg-type]
        return None
    return float(value)  # type: ignore[arg-type]
