"""The libyaml-backed portfolio loader reads exactly what the pure-Python one reads, and a file it
refuses gets the pure-Python loader's message (line, column, problem)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vpp.errors import InputError
from vpp.portfolio_file import parse_portfolio_text
from vpp.portfolio_parsing import FastPortfolioYamlLoader, PortfolioYamlLoader

TEXTS = [
    "start: 17:30\nx: 1e3\ny: 0x1F\nz: .inf\nw: 1_000\nv: -.5\nu: 0o17\nb: yes\nn: ~\nd: 2024-04-16\n",
    "assets:\n- {id: b1, type: battery, power_mw: 1, energy_mwh: 2.5, profile: [0, 0.5, 1e-3]}\n",
    "name: 'quoted: 17:30'\nlist:\n  - 1\n  - 2.0\n  - three\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_fast_loader_reads_what_the_pure_loader_reads(text: str) -> None:
    assert yaml.load(text, Loader=FastPortfolioYamlLoader) == yaml.load(text, Loader=PortfolioYamlLoader)
    assert yaml.load(text, Loader=FastPortfolioYamlLoader)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", "invalid YAML at line 3, column 1: key 'a' appears twice in one mapping"),
        ("a: [1\n", "invalid YAML at line 2, column 1: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_a_refused_file_gets_the_pure_loaders_message(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        parse_portfolio_text(text, "yaml", Path("p.yaml"))
    assert message in str(err.value)
