"""The one flock helper of the lease and the inbox reader lock (issue 16 item 4)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from vpp.service.flock import FileLock


def test_two_locks_on_one_path_exclude_each_other_until_released(tmp_path):
    path = tmp_path / "x.lock"
    first, second = FileLock(path), FileLock(path)
    assert first.try_lock() and first.alive()
    assert not second.try_lock() and not second.alive()
    started = time.monotonic()
    assert second.acquire(0.1) is False
    assert time.monotonic() - started >= 0.1
    first.unlock()
    first.unlock()  # twice is nothing
    assert not first.alive()
    assert second.acquire(0.1) is True


def test_another_process_holding_it_keeps_it_until_it_exits(tmp_path):
    path = tmp_path / "x.lock"
    code = (
        "import pathlib, sys, time\nfrom vpp.service.flock import FileLock\n"
        f"FileLock(pathlib.Path({str(path)!r})).try_lock()\nprint('held', flush=True)\ntime.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        assert not FileLock(path).try_lock()
    finally:
        child.kill()
        child.wait()
    assert FileLock(path).acquire(2.0)  # the kernel dropped the dead process's lock


def test_the_lock_file_is_never_opened_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    link = tmp_path / "x.lock"
    link.symlink_to(target)
    with pytest.raises(OSError):
        FileLock(link).try_lock()
    assert not target.exists()
