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
