"""Creating HiGHS instances the same way everywhere."""

from __future__ import annotations

import highspy
from pyomo.common.tee import capture_output


def new_highs() -> highspy.Highs:
    """A HiGHS instance that prints nothing.

    The C++ constructor prints a licence banner straight to file descriptor 1, which would land
    in the CLI's output (and in anything piped from it); it is captured here, and logging is off.
    """
    with capture_output(capture_fd=True):
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    return highs
