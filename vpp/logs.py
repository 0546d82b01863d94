"""Structured logs of ``vpp run`` (issue 14 item 5): one JSON object per line.

Every line carries ``time`` (the wall clock in the market's zone, with its UTC offset),
``level``, ``logger``, ``message`` and the job context: ``job``, ``trading_day``, ``period``
(the period start, market zone, offset marked) and ``at`` (the service clock's instant: on a
simulated run it is the simulated time). Outside a job the context fields are null. The context
is set by :func:`job_context` around each scheduled job (:mod:`vpp.service.jobs`), in a
``contextvars.ContextVar``, so concurrent jobs on the scheduler's threads keep their own.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

_CONTEXT: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "vpp_log_context", default=None
)
CONTEXT_FIELDS = ("job", "trading_day", "period", "at")
"""Fields every JSON line has (null outside a job)."""


@contextlib.contextmanager
def job_context(job: str, trading_day: Any = None, period: Any = None, at: Any = None) -> Iterator[None]:
    """Tag every log line inside the block with the job, trading day, period and clock instant."""
    token = _CONTEXT.set({
        "job": job,
        "trading_day": None if trading_day is None else str(trading_day),
        "period": None if period is None else period.isoformat(),
        "at": None if at is None else at.isoformat(),
    })
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line, times in ``timezone`` with their offset."""

    def __init__(self, timezone: str = "UTC") -> None:
        super().__init__()
        self.zone = ZoneInfo(timezone)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_CONTEXT.get() or dict.fromkeys(CONTEXT_FIELDS))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Plain text with the time in ``timezone`` (offset marked) and the job context when in a job."""

    def __init__(self, timezone: str = "UTC") -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.zone = ZoneInfo(timezone)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return dt.datetime.fromtimestamp(record.created, self.zone).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _CONTEXT.get()
        if context:
            text += " [" + " ".join(f"{k}={v}" for k, v in context.items() if v is not None) + "]"
        return text


def configure_logging(level: str = "WARNING", fmt: str = "json", timezone: str = "UTC") -> None:
    """Send the root logger's records to stderr as JSON lines (``fmt="json"``) or text."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(timezone) if fmt == "json" else TextFormatter(timezone))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
