"""One-shot commands that build a large model run without Python's cyclic garbage collector.

A 1,000-battery model is millions of Pyomo objects, none of them garbage until the command ends.
The model build already pauses the collector (:func:`optimizer.model.build_model`); after it, every
collection of the oldest generation walks all of them again: 1.7 s of CPU in a 1,000-battery
``vpp bid`` went to one such pass triggered by a list of 96,000 keys, and extraction, the CSV and
the plot trigger more. The command runs to the end with the collector paused (reference counting
still frees almost everything at once) and restores it as it was, error or not.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def without_cyclic_gc(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` with the cyclic garbage collector paused, then restore its state."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return wrapper
