"""Where the bundled example portfolio and real price data live inside the installed package."""

from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
"""The bundled examples folder."""

DEFAULT_PORTFOLIO = EXAMPLES_DIR / "shanxi_urban_renewal.yaml"
"""The example Shanxi urban-renewal portfolio."""

DEFAULT_PRICES = EXAMPLES_DIR / "data" / "prices_gansu_2024-01_2024-07.csv"
"""Real 15-minute day-ahead and real-time prices (Gansu spot market, 2024-01..07)."""
