"""Packaging (issue 14 item 10): extras, bounds, the lock file, scipy only where needed, and a wheel
without the unlicensed Gansu prices; the wheel installs into a fresh venv and runs (the Python
layer of deploy/Dockerfile, issue 14 item 7)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from vpp.errors import InputError
from vpp.extras import require

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MINIMAL = ROOT / "vpp" / "examples" / "minimal.yaml"
PRICES = ROOT / "vpp" / "examples" / "data" / "prices_gansu_2024-01_2024-07.csv"


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower()


def test_extras_bounds_and_scipy_out_of_the_core() -> None:
    project = PYPROJECT["project"]
    core = {_name(r): r for r in project["dependencies"]}
    assert "scipy" not in core
    assert {"fastapi", "uvicorn", "psycopg", "dask"}.isdisjoint(core)
    assert "<" in core["pyomo"] and "<" in core["highspy"]
    extras = project["optional-dependencies"]
    assert {"api", "postgres", "parallel", "forecast"} <= extras.keys()
    assert "vpp[api,postgres,parallel,forecast]" in extras["all"]
    assert "vpp[all]" in extras["dev"]  # `make test` gets everything
    assert "scipy" in {_name(r) for r in extras["forecast"]}


def test_scipy_is_imported_at_run_time_by_no_packaged_module() -> None:
    """The one direct scipy user, the raw-highspy twin of tests and benchmarks, lives in bench/; in
    the package only the opt-in open-LP cut (``SolveOptions.open_lp``) uses it, and nothing
    imports that module at import time (the adapter imports it when the option asks for it)."""

    def grep(pattern: str) -> list[str]:
        found = subprocess.run(
            ["grep", "-rn", pattern, "vpp", "market", "optimizer", "simulator"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        return [line for line in found if ".py:" in line]

    assert {line.split(":")[0] for line in grep("import scipy")} == {"optimizer/open_lp.py"}
    top_level = [line for line in grep("optimizer.open_lp import") if line.split(":", 2)[2][:1] not in " \t"]
    assert top_level == []


@pytest.mark.slow  # two command processes
def test_bid_and_backtest_run_without_scipy(tmp_path: Path) -> None:
    """``sys.modules['scipy'] = None`` makes ``import scipy`` fail, as on an install without it."""
    script = "import sys; sys.modules['scipy'] = None; from vpp.cli import app; app(sys.argv[1:])"
    for args in (
        [
            "bid",
            "--portfolio",
            str(MINIMAL),
            "--prices",
            str(PRICES),
            "--day",
            "2024-04-16",
            "--allow-late",
            "--out",
            str(tmp_path / "bid.csv"),
            "--no-plot",
        ],
        [
            "backtest",
            "--portfolio",
            str(MINIMAL),
            "--start",
            "2024-04-16",
            "--end",
            "2024-04-16",
            "--strategy",
            "da_rt",
            "--out",
            str(tmp_path / "bt"),
            "--quiet",
        ],
    ):
        done = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300, cwd=tmp_path
        )
        assert done.returncode == 0, (args[0], done.stderr[-2000:])


def test_a_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(InputError, match=r"pip install 'vpp\[api\]'"):
        require("uvicorn", "api", "vpp serve")
    from typer.testing import CliRunner

    from vpp.cli import app

    result = CliRunner().invoke(app, ["serve", "--db", "sqlite:///:memory:"])
    assert result.exit_code == 1 and "vpp[api]" in result.output and "Traceback" not in result.output


def test_lock_file_pins_every_core_dependency() -> None:
    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = dict(line.lower().split("==", 1) for line in lines if "==" in line and not line.startswith("#"))
    for requirement in PYPROJECT["project"]["dependencies"]:
        assert _name(requirement) in pins, requirement
    assert pins["pyomo"].startswith("6.") and pins["highspy"].startswith("1.")
    assert "lock:" in (ROOT / "Makefile").read_text(encoding="utf-8")


SOURCES = (
    "pyproject.toml",
    PYPROJECT["project"]["readme"],
    *(p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]),
)
"""What the wheel is built from: pyproject, the readme and the packages setuptools finds."""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources: setuptools' ``build/`` and ``*.egg-info`` land in
    the copy, never in the checkout (and two test workers never build in the same folder)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=skip)
        else:
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("vpp-*.whl")
    return built


@pytest.mark.slow  # builds the wheel
def test_wheel_leaves_out_the_gansu_prices_and_keeps_the_rest(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "prices_gansu" in n]
    assert "vpp/examples/minimal.yaml" in names
    assert "vpp/examples/data/SOURCES.md" in names
    assert any(n.startswith("vpp/service/migrations/versions/") for n in names)
    assert any(n.startswith("vpp/api/static/") for n in names)
    assert any(n.startswith("market/presets/") and n.endswith(".yaml") for n in names)
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert {"api", "postgres", "parallel", "forecast"} <= set(
        re.findall(r"^Provides-Extra: (\S+)", text, re.M)
    )


@pytest.mark.slow  # builds the wheel and a venv
def test_wheel_installs_into_a_fresh_venv_and_runs(wheel: Path, tmp_path: Path) -> None:
    """The Dockerfile's Python layer: a venv, the wheel installed, ``vpp --version`` and a command
    that reads the packaged data. Dependencies come from this environment's site-packages
    (PYTHONPATH: no network, CI-size), the vpp package itself only from the wheel."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    vpp = venv / "bin" / "vpp"
    done = subprocess.run(
        [str(vpp), "--version"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("vpp ")
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import vpp; print(vpp.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert where.stdout.startswith(str(venv)), where.stdout  # the wheel's copy, not the checkout
    listed = subprocess.run(
        [str(vpp), "market", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert listed.returncode == 0 and "shanxi" in listed.stdout, listed.stderr
