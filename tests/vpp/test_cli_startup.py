"""`vpp --help` stays fast: the heavy libraries are imported inside the commands that need them.

Checked by the modules imported (``python -X importtime``), not by wall time, which depends on the
machine's load.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("pandas", "pyomo", "matplotlib", "numpy", "scipy", "sqlalchemy", "highspy", "dask", "fastapi")
"""Top-level packages that `vpp --help` (and any command's --help) must not import."""


def _imported_modules(*args: str) -> set[str]:
    """Module names imported by ``python -X importtime -m vpp ARGS``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vpp", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Usage" in done.stdout
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_help_imports_no_heavy_library() -> None:
    modules = _imported_modules("--help")
    assert "vpp.cli" in modules  # the measurement sees our own modules
    assert _heavy(modules) == set()
    assert len(modules) < 500  # 1,545 before the imports moved into the commands


@pytest.mark.parametrize(
    "command", ["validate", "bid", "backtest", "sweep", "run", "status", "dispatch", "market", "schema"]
)
def test_command_help_imports_no_heavy_library(command: str) -> None:
    assert _heavy(_imported_modules(command, "--help")) == set()
