"""Market rules and arithmetic: presets, calendar, price input, bids and settlement.

Never imports ``optimizer`` or ``simulator``.
"""
