"""Scale and counters of the hardening tests.

``VPP_HARDENING_SCALE`` (default 1, the CI size) multiplies every example and fault count; the
figures in RELIABILITY.md come from a larger scale run by hand. Each test prints its counts as one
``HARDENING {json}`` line and appends it to ``RECORD`` (``vpp-hardening/counts.jsonl`` in the
system's temporary folder, never the checkout; ``VPP_HARDENING_RECORD`` names another file), so
the figures can be collected after a run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCALE = max(float(os.environ.get("VPP_HARDENING_SCALE", "1")), 0.1)
RECORD = Path(
    os.environ.get("VPP_HARDENING_RECORD") or Path(tempfile.gettempdir()) / "vpp-hardening" / "counts.jsonl"
)
"""Where :func:`record` appends its lines."""


def scaled(n: int, minimum: int = 1) -> int:
    """``n`` times the scale, at least ``minimum``."""
    return max(minimum, round(n * SCALE))


def fuzz_settings():
    """Hypothesis settings of the fuzzers: ``40 x scale`` examples, derandomized at scale <= 1."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=scaled(40, 5),
        deadline=None,
        derandomize=SCALE <= 1,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def record(name: str, counts: dict) -> None:
    """Print and append one count record."""
    row = {"test": name, "scale": SCALE, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **counts}
    line = json.dumps(row, sort_keys=True, default=str)
    print(f"HARDENING {line}")
    try:
        RECORD.parent.mkdir(parents=True, exist_ok=True)
        with RECORD.open("a", encoding="utf-8") as sink:
            sink.write(line + "\n")
    except OSError:  # a read-only checkout: the printed line is the record
        pass


def minimal_battery() -> dict:
    """The battery of ``vpp/examples/minimal.yaml`` (the README's smallest portfolio), as plain data."""
    import yaml

    return yaml.safe_load((ROOT / "vpp" / "examples" / "minimal.yaml").read_text())["assets"][0]


def seed_module():
    """``tests/api/seed.py`` (the seeded service database), loaded by path."""
    import importlib.util
    import sys

    if "vpp_tests_api_seed" in sys.modules:
        return sys.modules["vpp_tests_api_seed"]
    spec = importlib.util.spec_from_file_location("vpp_tests_api_seed", ROOT / "tests" / "api" / "seed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["vpp_tests_api_seed"] = module
    spec.loader.exec_module(module)
    return module
