"""A request size limit: a body larger than the limit is refused with 413 before any handler runs."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_REQUEST_BYTES = 1_000_000
"""Largest request body the API accepts by default (1 MB)."""


class BodyTooLargeError(Exception):
    """Raised by the receive channel once a streamed body passes the limit."""


class RequestSizeLimit:
    """ASGI middleware answering 413 to a request whose body is larger than ``max_bytes``.

    A declared ``Content-Length`` above the limit is refused before reading anything; a body sent
    without one (chunked) is counted as it arrives: past the limit reading it fails (FastAPI then
    never calls the handler) and whatever answer the app gives is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        too_large = False
        refused = False

        async def counted_receive() -> Message:
            nonlocal seen, too_large
            if too_large:
                raise BodyTooLargeError
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise BodyTooLargeError  # the body is never complete: no handler runs on it
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal refused
            if not too_large:
                await send(message)
            elif not refused and message["type"] == "http.response.start":
                refused = True
                await self._refuse(send)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLargeError:
            if not refused:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
