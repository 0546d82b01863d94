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
