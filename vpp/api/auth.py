"""API keys and roles.

A key is ``secrets.token_urlsafe(32)`` (256 random bits), shown once when created; the database
keeps its SHA-256 hex digest (a key this random needs no salt or slow hash) and its first 8
characters to tell keys apart. Requests send it in the ``X-API-Key`` header. Roles: ``read`` may
read everything; ``operator`` may also replace the portfolio, create and approve bids and start
backtests. No or an unknown key gives 401, a read key on an operator endpoint 403.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from vpp.errors import InputError
from vpp.service.api_tables import ApiKey

ROLES = ("read", "operator")
"""Roles, weakest first: a role may do everything the roles before it may."""

HEADER = "X-API-Key"

_header = APIKeyHeader(name=HEADER, auto_error=False, description="An API key made by `vpp apikey create`.")


@dataclass(frozen=True)
class Principal:
    """Who sent a request: the key's name and role."""

    name: str
    role: str


def hash_key(key: str) -> str:
    """SHA-256 hex digest of ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, role: str) -> str:
    """Store a new key for ``name`` with ``role`` and return it (the only time it is visible).

    Raises
    ------
    InputError
        Unknown role, empty name, or a key of that name exists.
    """
    if role not in ROLES:
        raise InputError(f"unknown role '{role}'; use {' or '.join(ROLES)}", field="--role")
    if not name.strip():
        raise InputError("the key needs a name", field="--name")
    if session.scalar(sa.select(ApiKey.id).where(ApiKey.name == name)) is not None:
        raise InputError(f"a key named '{name}' exists", field="--name")
    key = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            name=name,
            role=role,
            key_hash=hash_key(key),
            key_prefix=key[:8],
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    return key


def list_keys(session: Session) -> list[ApiKey]:
    """Every key (active and revoked), oldest first: name, role, prefix, created and revoked times."""
    return list(session.scalars(sa.select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def revoke_key(session: Session, name: str) -> ApiKey:
    """Revoke the key named ``name`` (its requests get 401 from now on) and return it.

    Raises
    ------
    InputError
        No key has that name, or it is already revoked.
    """
    row = session.scalar(sa.select(ApiKey).where(ApiKey.name == name))
    if row is None:
        known = ", ".join(k.name for k in list_keys(session)) or "none"
        raise InputError(f"no key named '{name}' (keys: {known})", field="--name")
    if row.revoked_at is not None:
        raise InputError(
            f"the key '{name}' was already revoked at {row.revoked_at.isoformat()}", field="--name"
        )
    row.revoked_at = dt.datetime.now(dt.UTC)
    return row


def lookup(session: Session, key: str) -> Principal | None:
    """The principal of an active key, or None."""
    row = session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.name, row.role)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": HEADER})


def current_principal(request: Request, key: Annotated[str | None, Depends(_header)]) -> Principal:
    """FastAPI dependency: the principal of the request's key (401 without a valid key)."""
    if not key:
        raise _unauthorized(f"missing API key: send it in the {HEADER} header")
    with request.app.state.sessions() as session:
        principal = lookup(session, key)
    if principal is None:
        raise _unauthorized("invalid or revoked API key")
    return principal


def require(role: str):
    """A dependency that admits principals with ``role`` or a stronger one (403 otherwise)."""
    needed = ROLES.index(role)

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if ROLES.index(principal.role) < needed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the '{role}' role")
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require("read"))]
"""Any valid key."""

Operator = Annotated[Principal, Depends(require("operator"))]
"""An operator key."""
