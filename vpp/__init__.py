"""vpp: a virtual power plant engine.

Domain models (asset specs, portfolio), aggregation and the command line live here; market rules in
``market``, model assembly and solving in ``optimizer``, replay and backtests in ``simulator``.
"""

__version__ = "0.1.0"
