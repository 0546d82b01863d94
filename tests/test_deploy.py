"""deploy/: the systemd unit and the Dockerfile (issue 14 item 7).

What can be checked on a machine without a Docker engine is: the unit passes ``systemd-analyze
verify`` (with ExecStart pointed at this environment's ``vpp``), the Dockerfile's structure
(multi-stage, non-root, a HEALTHCHECK whose command works), and -- in tests/test_packaging.py -- the
image's Python layer: the wheel installed into a fresh venv runs ``vpp --version``. ``docker build``
runs only where a Docker engine answers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
VPP = Path(sys.executable).with_name("vpp")
MINIMAL = ROOT / "vpp" / "examples" / "minimal.yaml"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "vpp.service").read_text(encoding="utf-8")
    assert "ExecStart=/opt/vpp/bin/vpp run --portfolio" in unit
    assert "--db" not in unit and "PASSWORD=" not in unit  # the password comes as a credential file
    local = tmp_path / "vpp.service"
    local.write_text(unit.replace("/opt/vpp/bin/vpp", str(VPP)), encoding="utf-8")
    done = subprocess.run(
        ["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "vpp.service" not in done.stderr, done.stderr  # no warning about our unit


def _stages(dockerfile: str) -> list[str]:
    return re.split(r"^FROM ", dockerfile, flags=re.M)[1:]


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    stages = _stages(text)
    assert len(stages) == 2 and " AS build" in stages[0].splitlines()[0]
    final = stages[1]
    assert "COPY --from=build /opt/vpp /opt/vpp" in final
    users = re.findall(r"^USER (\S+)", final, flags=re.M)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r'^HEALTHCHECK .*\n?.*"python", "-m", "vpp.healthcheck"', final, flags=re.M)
    assert 'ENTRYPOINT ["vpp"]' in final
    assert "--no-cache-dir -c requirements.lock" in stages[0]  # the CI lock pins the image too
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", stages[0], flags=re.M):
        for name in copied.split():
            assert (ROOT / name).exists(), name


def test_healthcheck_command_reports_an_unhealthy_service(tmp_path: Path) -> None:
    from vpp.service.db import make_engine, upgrade_schema

    url = f"sqlite:///{tmp_path / 'vpp.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)  # a service database on which no scheduler ever ran
    engine.dispose()
    env = {**os.environ, "VPP_DB_URL": url}
    env.pop("VPP_SETTINGS_FILE", None)
    done = subprocess.run(
        [sys.executable, "-m", "vpp.healthcheck", str(MINIMAL)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1
    assert "unhealthy: no scheduler has ever held the lease" in done.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "vpp.healthcheck"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert usage.returncode == 2


def _docker_engine() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_engine(), reason="needs a running Docker engine")
def test_docker_image_builds_and_runs_version() -> None:  # pragma: no cover - not on CI machines
    subprocess.run(
        ["docker", "build", "-f", str(DEPLOY / "Dockerfile"), "-t", "vpp:test", str(ROOT)],
        check=True,
        timeout=1800,
    )
    done = subprocess.run(
        ["docker", "run", "--rm", "vpp:test", "--version"], capture_output=True, text=True, timeout=300
    )
    assert done.stdout.startswith("vpp ")


def test_vpp_run_creates_its_folders_and_says_where_it_looks(tmp_path: Path) -> None:
    import signal
    import time

    argv = [
        str(VPP),
        "run",
        "--portfolio",
        str(MINIMAL),
        "--db",
        f"sqlite:///{tmp_path / 'vpp.db'}",
        "--inbox",
        "deep/inbox",
        "--outbox",
        "deep/outbox",
    ]
    log = tmp_path / "run.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            argv,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        try:
            deadline = time.monotonic() + 120
            while "Ctrl-C to stop" not in log.read_text() and time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                time.sleep(0.3)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    text = log.read_text()
    assert (tmp_path / "deep" / "inbox").is_dir() and (tmp_path / "deep" / "outbox").is_dir()
    assert f"inbox  {tmp_path / 'deep' / 'inbox'}" in text, text
    assert f"outbox {tmp_path / 'deep' / 'outbox'}" in text, text
    assert "Traceback" not in text
