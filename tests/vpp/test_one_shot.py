"""One-shot commands pause the cyclic garbage collector and give it back as it was, error or not."""

from __future__ import annotations

import gc

import pytest
import typer

from vpp.commands.bid import bid_command
from vpp.commands.one_shot import without_cyclic_gc


def test_the_collector_is_paused_inside_and_restored_after_an_error() -> None:
    seen = []

    @without_cyclic_gc
    def command(fail: bool) -> int:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")
        return 7

    assert gc.isenabled()
    assert command(False) == 7
    with pytest.raises(ValueError, match="boom"):
        command(True)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        command(False)
        assert not gc.isenabled()  # a caller's own pause stays
    finally:
        gc.enable()


def test_vpp_bid_runs_without_the_collector(tmp_path, monkeypatch) -> None:
    import vpp.portfolio_io
    from vpp.errors import InputError

    seen = []

    def load(path):
        seen.append(gc.isenabled())
        raise InputError("stop here", file=path)

    monkeypatch.setattr(vpp.portfolio_io, "load_portfolio", load)
    with pytest.raises(typer.Exit):
        bid_command(portfolio=tmp_path / "p.yaml", prices=tmp_path / "x.csv", out=tmp_path / "bid.csv")
    assert seen == [False]
    assert gc.isenabled()
