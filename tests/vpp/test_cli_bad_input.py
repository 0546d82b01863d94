"""Issue 12 item 13: odd files and option values give a clear ``error:`` and exit 1, never a
traceback or a hang, and ``--out`` never replaces a folder, symbolic link or special file."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vpp.cli import app
from vpp.examples_paths import DEFAULT_PRICES, EXAMPLES_DIR

runner = CliRunner()
MINIMAL = (EXAMPLES_DIR / "minimal.yaml").read_text()
HANG_S = 60


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Bad inputs in ``tmp_path``: portfolios, price files, special files."""
    (tmp_path / "markup.yaml").write_text(
        MINIMAL.replace("name: demo", 'name: "[/]"').replace("id: bess-1", 'id: "[bold]b[/bold"')
    )
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "deep.yaml").write_text("[" * 50_000 + "]" * 50_000)
    (tmp_path / "twice.json").write_text(
        '{"name": "a", "name": "b", "grid": {"import_limit_mw": 5, "export_limit_mw": 5}, '
        '"assets": [{"id": "b", "type": "battery", "power_mw": 1, "energy_mwh": 2}]}'
    )
    (tmp_path / "bool.yaml").write_text(MINIMAL.replace("power_mw: 1.0", "power_mw: true"))
    os.mkfifo(tmp_path / "fifo.yaml")
    lines = DEFAULT_PRICES.read_text().splitlines()
    header = lines[0].split(",")
    at = header.index("da_price")
    (tmp_path / "twice.csv").write_text(
        "\n".join(f"{line},{line.split(',')[at]}" for line in lines[:3000]) + "\n"
    )
    (tmp_path / "extra.csv").write_text("\n".join([lines[0], lines[1] + ",9", *lines[2:3000]]) + "\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("a file\n")
    (tmp_path / "target.csv").write_text("keep me\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "target.csv")
    os.mkfifo(tmp_path / "special.csv")
    return tmp_path


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    """Fail a case that runs longer than ``HANG_S`` seconds (a hang) instead of blocking CI."""

    def expired(*_: object) -> None:
        raise TimeoutError(f"hung for {HANG_S} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(HANG_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


MINIMAL_PATH = str(EXAMPLES_DIR / "minimal.yaml")
BID_DAY = ["bid", "--no-plot", "--day", "2024-04-16", "--allow-late", "--prices", str(DEFAULT_PRICES)]
BID_ON = [*BID_DAY, "--portfolio", MINIMAL_PATH]  # add --out
BID = [*BID_ON, "--out", "{tmp}/out/bid.csv"]
BACKTEST = ["backtest", "--start", "2024-04-15", "--end", "2024-04-15", "--quiet", "--strategy", "da_only"]
CASES = {
    # name: (arguments, exit code, words the output must hold)
    "markup name and id": (["validate", "{tmp}/markup.yaml"], 0, ["Portfolio '[/]'"]),
    "markup name in bid": (
        [*BID_DAY, "--portfolio", "{tmp}/markup.yaml", "--out", "{tmp}/out/m.csv"],
        0,
        ["[/]: day-ahead bid"],
    ),
    "100k-deep JSON": (["validate", "{tmp}/deep.json"], 1, ["nested too deeply"]),
    "50k-deep YAML": (["validate", "{tmp}/deep.yaml"], 1, ["nested too deeply"]),
    "FIFO portfolio": (["validate", "{tmp}/fifo.yaml"], 1, ["not a regular file"]),
    "repeated JSON key": (["validate", "{tmp}/twice.json"], 1, ["key 'name' appears twice"]),
    "power_mw true": (["validate", "{tmp}/bool.yaml"], 1, ["power_mw", "valid number"]),
    "repeated da_price column": (
        [*BID, "--prices", "{tmp}/twice.csv"],
        1,
        ["'da_price' is given more than once"],
    ),
    "extra field in row 1": (
        [*BID, "--prices", "{tmp}/extra.csv"],
        1,
        ["row 1: 7 fields where the header has 6"],
    ),
    "--out onto a folder": ([*BID_ON, "--out", "{tmp}/folder"], 1, ["is a folder"]),
    "--out under a file": (
        [*BID_ON, "--out", "{tmp}/file/bid.csv"],
        1,
        ["is a file, not a folder"],
    ),
    "--out in /proc": ([*BID_ON, "--out", "/proc/vpp-bid.csv"], 1, ["cannot write in /proc"]),
    "--out onto a symlink": (
        [*BID_ON, "--out", "{tmp}/link.csv"],
        1,
        ["symbolic link", "not replaced"],
    ),
    "--out onto a special file": (
        [*BID_ON, "--out", "{tmp}/special.csv"],
        1,
        ["not a regular file"],
    ),
    "backtest --out under a file": ([*BACKTEST, "--out", "{tmp}/file/bt"], 1, ["is a file, not a folder"]),
    "--seed -1": ([*BID, "--mode", "price-quantity", "--seed", "-1"], 1, ["--seed", "not a seed"]),
    "--scenarios 100000": ([*BID, "--mode", "price-quantity", "--scenarios", "100000"], 1, ["1 to 2000"]),
    "--time-limit -5": ([*BID, "--time-limit", "-5"], 1, ["--time-limit", "not a time limit"]),
    "--time-limit nan": ([*BID, "--time-limit", "nan"], 1, ["--time-limit", "not a time limit"]),
    "--mip-gap -1": ([*BID, "--mip-gap", "-1"], 1, ["--mip-gap"]),
    "--handoff banana": ([*BID, "--handoff", "banana"], 1, ["unknown hand-off 'banana'"]),
    "backtest --workers -2": ([*BACKTEST, "--workers", "-2", "--out", "{tmp}/bt"], 1, ["--workers"]),
    "backtest --time-limit nan": (
        [*BACKTEST, "--time-limit", "nan", "--out", "{tmp}/bt"],
        1,
        ["--time-limit"],
    ),
    "backtest --scheduler banana://x": (
        [*BACKTEST, "--scheduler", "banana://x", "--out", "{tmp}/bt"],
        1,
        ["not a Dask scheduler address"],
    ),
    "backtest --scheduler tcp://127.0.0.1:1": (
        [*BACKTEST, "--scheduler", "tcp://127.0.0.1:1", "--out", "{tmp}/bt"],
        1,
        ["cannot reach the Dask scheduler"],
    ),
    "sweep --workers -2": (
        ["sweep", "--param", "assets[bess-1].energy_mwh=1,2", "--workers", "-2", "--out", "{tmp}/sw"],
        1,
        ["--workers"],
    ),
    "run --time-limit -5": (
        [
            "run",
            "--db",
            "sqlite:///{tmp}/x.db",
            "--portfolio",
            str(EXAMPLES_DIR / "minimal.yaml"),
            "--time-limit",
            "-5",
        ],
        1,
        ["--time-limit"],
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_an_error_not_a_traceback_or_a_hang(
    inputs: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simulator.distributed

    monkeypatch.setattr(simulator.distributed, "CONNECT_TIMEOUT_S", 1, raising=False)
    monkeypatch.chdir(inputs)
    arguments, code, words = CASES[case]
    result = runner.invoke(app, [a.replace("{tmp}", str(inputs)) for a in arguments])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    if code:
        assert "error:" in result.output
    text = " ".join(result.output.split())  # rich may wrap long lines
    for word in words:
        assert word in text, result.output
    assert (inputs / "link.csv").is_symlink() and (inputs / "target.csv").read_text() == "keep me\n"
    assert (inputs / "special.csv").is_fifo() and (inputs / "folder").is_dir()
