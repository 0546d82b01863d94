"""Every command in the README's ``bash`` blocks runs as written (issue 14 item 2).

The commands run in README order, in one temporary folder that holds only the files the README
points at (``vpp/examples`` and ``tests/data``), so each command sees the state the ones before it
left (``sim.db``, ``out/``), as a user following the README would. A command passes when it exits 0
without a traceback.

How the long-running ones are bounded (the README says the same under "The README's commands"):

- ``vpp run`` without ``--simulate`` (the service) and ``vpp serve`` (the API) run until they
  answer -- the service prints where it looks, the API answers ``/api/health`` -- then get SIGINT
  and must stop cleanly; ``vpp serve`` listens on a free port instead of 8000.
- ``vpp run --simulate``: ``--days`` at most 1 and ``--day-seconds`` at most 30 (the default).
- ``vpp backtest`` and ``vpp sweep``: one trading day (``--end`` = ``--start``, 2024-04-16 when
  the command gives no ``--start``).
- ``make demo`` and ``make test`` are not run here: CI runs ``make test`` (which runs this test)
  and ``make demo`` is ``vpp backtest --out out/backtest`` over the default fortnight.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
VPP = Path(sys.executable).with_name("vpp")
TIMEOUT_S = 600
BOUND_DAY = "2024-04-16"


def readme_commands(text: str) -> list[str]:
    """The command lines of the ``bash`` blocks: continuations joined, comments dropped."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


def _set(argv: list[str], option: str, value: str) -> list[str]:
    """``argv`` with ``option VALUE`` replaced, or appended when absent."""
    if option in argv:
        argv = list(argv)
        argv[argv.index(option) + 1] = value
        return argv
    return [*argv, option, value]


def _get(argv: list[str], option: str) -> str | None:
    return argv[argv.index(option) + 1] if option in argv else None


def bounded(argv: list[str]) -> tuple[list[str], str]:
    """The command to run and how: ``run`` (to completion), ``service`` or ``server`` (until ready)."""
    command = argv[1] if len(argv) > 1 else ""
    if command == "run" and "--simulate" not in argv:
        return argv, "service"
    if command == "run":
        seconds = min(float(_get(argv, "--day-seconds") or 30.0), 30.0)
        return _set(_set(argv, "--day-seconds", f"{seconds:g}"), "--days", "1"), "run"
    if command == "serve":
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        return _set(argv, "--port", str(port)), "server"
    if command in ("backtest", "sweep"):
        start = _get(argv, "--start") or BOUND_DAY
        return _set(_set(argv, "--start", start), "--end", start), "run"
    return argv, "run"


def _until_ready(argv: list[str], cwd: Path, mode: str) -> None:
    """Start a long-running command, wait until it is ready, stop it with SIGINT, check it stopped."""
    log = cwd / f"{mode}.log"
    with log.open("w") as sink:
        process = subprocess.Popen(argv, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert process.poll() is None, f"{shlex.join(argv)} exited early:\n{log.read_text()}"
                if mode == "service" and "Ctrl-C to stop" in log.read_text():
                    break
                if mode == "server":
                    url = f"http://127.0.0.1:{_get(argv, '--port')}/api/health"
                    try:
                        with urllib.request.urlopen(url, timeout=2):
                            break
                    except urllib.error.HTTPError as answer:  # 503: up, but not healthy yet
                        if answer.code == 503:
                            break
                    except OSError:
                        pass
                time.sleep(0.5)
            else:
                pytest.fail(f"{shlex.join(argv)} not ready in 120 s:\n{log.read_text()}")
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_readme_has_commands() -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert sum(c.startswith("vpp ") for c in commands) >= 15
    assert any(c.startswith("vpp dispatch ") for c in commands)


@pytest.mark.slow  # every README command, one after the other: minutes
def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "vpp").mkdir()
    (tmp_path / "vpp" / "examples").symlink_to(ROOT / "vpp" / "examples")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "data").symlink_to(ROOT / "tests" / "data")
    env = {**os.environ, "COLUMNS": "100"}
    env.pop("VPP_DB_URL", None)
    ran = []
    for line in readme_commands(README.read_text(encoding="utf-8")):
        words = shlex.split(line)
        if words[0] == "make":
            continue
        assert words[0] == "vpp", f"README command is not a vpp command: {line}"
        stdout_file = None
        if ">" in words:  # `vpp schema > portfolio.schema.json`
            stdout_file = tmp_path / words[words.index(">") + 1]
            words = words[: words.index(">")]
        argv, mode = bounded([str(VPP), *words[1:]])
        began = time.monotonic()
        if mode != "run":
            _until_ready(argv, tmp_path, mode)
            ran.append(f"{time.monotonic() - began:6.1f} s  {line}")
            continue
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert done.returncode == 0, f"{line}\nexit {done.returncode}\n{output}"
        assert "Traceback" not in done.stderr, f"{line}\n{done.stderr[-3000:]}"
        if stdout_file is not None:
            stdout_file.write_text(done.stdout)
        ran.append(f"{time.monotonic() - began:6.1f} s  {line}")
    print("\n".join(ran))  # shown with -s: what ran and how long it took
    assert len(ran) >= 15
    assert (tmp_path / "portfolio.schema.json").stat().st_size > 1000
    assert (tmp_path / "out" / "bid.csv").is_file()
