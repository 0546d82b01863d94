"""Atomic writes and the temporary files a killed writer leaves."""

from __future__ import annotations

import os
import time

from vpp.io_utils import remove_stale_temporary, write_text_atomic


def test_atomic_write_leaves_only_the_file(tmp_path):
    target = write_text_atomic("a,b\n1,2\n", tmp_path / "out.csv")
    assert target.read_text() == "a,b\n1,2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_only_old_temporary_files_of_atomic_writes_are_removed(tmp_path):
    stale = tmp_path / ".setpoints_2024-01-02T10-00.json.k3j9.tmp"  # a kill -9 mid-write
    fresh = tmp_path / ".setpoints_2024-01-02T10-15.json.x8q1.tmp"  # a write in flight
    other = tmp_path / "notes.tmp"  # not ours: no leading dot
    for path in (stale, fresh, other):
        path.write_text("{")
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    os.utime(other, (hour_ago, hour_ago))
    assert remove_stale_temporary(tmp_path) == 1
    assert not stale.exists() and fresh.exists() and other.exists()
    assert remove_stale_temporary(tmp_path / "missing") == 0


def test_written_files_honour_the_umask_not_mkstemps_0600(tmp_path):
    """Issue 12 item 15: a gateway running as another user must be able to read the outbox."""
    import pandas as pd

    from vpp.service import outbox

    start = pd.Timestamp("2024-01-02 10:00", tz="Asia/Shanghai")
    old = os.umask(0o022)
    try:
        plain = write_text_atomic("x\n", tmp_path / "plain.txt")
        row = {"asset_id": "b", "setpoint_mw": 1.0, "soc_end_mwh": 2.0, "source": "optimal"}
        files = outbox.write_setpoints(tmp_path / "outbox", start, [row])
        net = pd.Series([1.0], index=pd.DatetimeIndex([start]))
        bid = outbox.write_bid(tmp_path / "outbox", "2024-01-02", net)
        os.umask(0o027)
        private = write_text_atomic("x\n", tmp_path / "group.txt")
    finally:
        os.umask(old)
    for path in (plain, *files, bid):
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert private.stat().st_mode & 0o777 == 0o640


def test_csv_timestamps_formatted_once_per_distinct_time_read_as_before(tmp_path) -> None:
    # Long frames repeat each period per asset: every distinct time is formatted once and reused;
    # the text is the same as formatting row by row, across a DST change and with a missing time.
    import numpy as np
    import pandas as pd

    from market.calendar import format_timestamps
    from vpp.io_utils import write_csv_atomic

    index = pd.date_range("2023-03-26 00:00", periods=8, freq="30min", tz="Europe/Berlin")
    stamps = pd.Series(np.tile(index, 3))
    stamps[4] = pd.NaT
    frame = pd.DataFrame({"timestamp": stamps, "asset_id": np.repeat(["a", "b", "c"], 8), "x": 1.5})
    text = write_csv_atomic(frame, tmp_path / "long.csv").read_text().splitlines()
    rows = [line.split(",")[0] for line in text[1:]]
    expected = list(format_timestamps(pd.DatetimeIndex(np.tile(index, 3))))
    expected[4] = ""
    assert rows == expected
    assert rows[:2] == ["2023-03-26T00:00:00+01:00", "2023-03-26T00:30:00+01:00"]
    assert "2023-03-26T03:00:00+02:00" in rows
