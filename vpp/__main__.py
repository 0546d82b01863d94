"""``python -m vpp``: the same command line as the ``vpp`` script."""

from vpp.cli import app

app(prog_name="vpp")
