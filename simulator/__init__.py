"""Replay of historical data: day-ahead bidding, real-time re-dispatch, settlement and reports."""
