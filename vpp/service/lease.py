"""The scheduler lease: exactly one active ``vpp run`` (service or simulation) per database.

Exclusion rests on a lock the operating system or the database server drops by itself when its
holder dies (kill -9, power loss), so a standby takes over at once and no stale row can block it:

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a dedicated autocommit
  connection for the life of the service. The session asks the server for TCP keepalives every
  few seconds, so a holder whose host vanished without closing its socket is dropped within about
  half a minute (the server's default would wait for hours).
- SQLite: an exclusive ``flock`` on the file ``<database>.lease`` next to the database (SQLite is a
  single-host database; not over NFS, as for SQLite itself). An in-memory database is private to
  its process and needs none.

Who holds it is written to the ``scheduler_lease`` row (holder id, host, pid, mode, clock, times) and
renewed by a heartbeat thread every :data:`HEARTBEAT_S`; ``vpp status`` and ``/api/health`` read it
(held while ``expires_at`` is in the future). A heartbeat that finds its PostgreSQL session gone
tries to lock again; when another process holds the lock by then, the lease is lost: the service
stops its scheduler and exits with an error instead of running next to the new holder.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from vpp.errors import VppError
from vpp.service.db import SchedulerLease, session_factory
from vpp.service.flock import FileLock

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
"""The one row of ``scheduler_lease`` (one active scheduler per database)."""

LEASE_LOCK_KEY = 0x7670_7000_0000_0002
"""PostgreSQL advisory lock key of the scheduler lease (the migration lock is ``...0001``)."""

HEARTBEAT_S = 5.0
"""The holder renews ``heartbeat_at`` this often (s)."""

TTL_S = 20.0
"""A lease row whose heartbeat is older than this (s) is reported as not held."""

STANDBY_POLL_S = 0.5
"""A standby tries the lock this often (s)."""

DEAD_HOLDER_GRACE_S = 15.0
"""When the recorded holder is a dead process on this host, a start without ``--standby`` waits
this long (s) for the server to drop its lock instead of refusing (a restart right after a crash)."""

KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
"""Server-side TCP keepalives of the PostgreSQL lock session (s, s, probes)."""


class LeaseHeldError(VppError):
    """Another ``vpp run`` holds the scheduler lease of this database."""


class LeaseLostError(VppError):
    """The running service lost its lease (its database session died and another process locked)."""


@dataclass(frozen=True)
class LeaseInfo:
    """The ``scheduler_lease`` row as read: who holds (or last held) the lease and until when."""

    holder: str
    host: str
    pid: int
    mode: str
    acquired_at: dt.datetime
    heartbeat_at: dt.datetime
    expires_at: dt.datetime
    clock: dict[str, Any] | None

    def held(self, now: dt.datetime | None = None) -> bool:
        """True while the heartbeat is fresh (``expires_at`` after ``now``, default wall time)."""
        return self.expires_at > (now or dt.datetime.now(dt.UTC))

    def describe(self, now: dt.datetime | None = None) -> str:
        """``vpp run (service) on host H, pid P, since T, last heartbeat N s ago``."""
        now = now or dt.datetime.now(dt.UTC)
        ago = (now - self.heartbeat_at).total_seconds()
        return (
            f"vpp run ({self.mode}) on host {self.host}, pid {self.pid}, since "
            f"{self.acquired_at.isoformat(timespec='seconds')}, last heartbeat {ago:.0f} s ago"
        )

    def to_dict(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Plain data for ``vpp status`` and ``/api/health``."""
        return {
            "held": self.held(now),
            "holder": self.holder,
            "host": self.host,
            "pid": self.pid,
            "mode": self.mode,
            "acquired_at": self.acquired_at.isoformat(),
            "heartbeat_at": self.heartbeat_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
        }


def read_lease(engine: Engine) -> LeaseInfo | None:
    """The lease row of ``engine``'s database, or None when no scheduler ever ran on it."""
    with session_factory(engine)() as s:
        row = s.get(SchedulerLease, LEASE_NAME)
    if row is None:
        return None
    return LeaseInfo(
        holder=row.holder,
        host=row.host,
        pid=row.pid,
        mode=row.mode,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
        expires_at=row.expires_at,
        clock=json.loads(row.clock) if row.clock else None,
    )


def _dead_here(info: LeaseInfo | None) -> bool:
    """True when ``info`` names a process on this host that no longer exists."""
    if info is None or info.host != socket.gethostname()[:255]:
        return False
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class _PostgresLock:
    """The session advisory lock on a dedicated autocommit connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def try_lock(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            for name, value in KEEPALIVE.items():
                connection.exec_driver_sql(f"SET {name} = {int(value)}")
            got = bool(connection.execute(sa.select(sa.func.pg_try_advisory_lock(LEASE_LOCK_KEY))).scalar())
        except Exception:
            connection.close()
            raise
        if not got:
            connection.close()
            return False
        self.connection = connection
        return True

    def alive(self) -> bool:
        """True while the lock session answers (then the lock is still ours)."""
        if self.connection is None:
            return False
        try:
            self.connection.exec_driver_sql("SELECT 1")
            return True
        except sa.exc.DBAPIError:
            self.connection.invalidate()
            self.connection.close()
            self.connection = None
            return False

    def unlock(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(sa.select(sa.func.pg_advisory_unlock(LEASE_LOCK_KEY)))
        except sa.exc.DBAPIError:
            pass  # the session is gone: so is its lock
        finally:
            self.connection.close()
            self.connection = None


class _ProcessLock:
    """An in-memory SQLite database: only this process can see it."""

    def __init__(self) -> None:
        self.locked = False

    def try_lock(self) -> bool:
        self.locked = True
        return True

    def alive(self) -> bool:
        return self.locked

    def unlock(self) -> None:
        self.locked = False


def _lock_for(engine: Engine) -> _PostgresLock | FileLock | _ProcessLock:
    if engine.dialect.name == "postgresql":
        return _PostgresLock(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(Path(f"{Path(database).resolve()}.lease"))
    return _ProcessLock()


class SchedulerLeaseHolder:
    """Take, keep and release the scheduler lease of one database.

    Parameters
    ----------
    engine : Engine
        The service database (schema upgraded).
    mode : str
        ``service`` (wall clock) or ``simulation``; written to the lease row.
    clock : dict, optional
        The simulation's clock (:meth:`AcceleratedClock.to_dict`), so status reads simulated time.
    heartbeat_s : float
        Renewal interval (s).
    ttl_s : float
        How long a heartbeat keeps the row "held" (s).
    """

    def __init__(
        self,
        engine: Engine,
        mode: str = "service",
        *,
        clock: dict[str, Any] | None = None,
        heartbeat_s: float = HEARTBEAT_S,
        ttl_s: float = TTL_S,
    ) -> None:
        self.engine = engine
        self.mode = mode
        self.clock = clock
        self.heartbeat_s = heartbeat_s
        self.ttl_s = ttl_s
        self.holder = uuid.uuid4().hex
        self.lost = threading.Event()
        self._lock = _lock_for(engine)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._acquired_at: dt.datetime | None = None

    # -- taking the lease ---------------------------------------------------------------
    def acquire(
        self,
        *,
        standby: bool = False,
        stop: threading.Event | None = None,
        on_wait: Callable[[LeaseInfo | None], None] | None = None,
    ) -> bool:
        """Take the lease; refuse (raise) or wait as a standby when another process holds it.

        Parameters
        ----------
        standby : bool
            Wait until the holder stops or dies (polling every :data:`STANDBY_POLL_S`), then take it.
        stop : threading.Event, optional
            Give up waiting when set (SIGTERM of the standby); then returns False.
        on_wait : callable, optional
            Called once with the holder's row when this process starts waiting.

        Raises
        ------
        LeaseHeldError
            Not a standby and another process holds the lease.
        """
        waiting = False
        grace = time.monotonic() + DEAD_HOLDER_GRACE_S
        while not self._lock.try_lock():
            info = read_lease(self.engine)
            if not standby and _dead_here(info) and time.monotonic() < grace:
                time.sleep(STANDBY_POLL_S)  # the holder died on this host: its lock goes any moment
                continue
            if not standby:
                who = info.describe() if info is not None else "another vpp run (no lease row yet)"
                raise LeaseHeldError(
                    f"the database {self._safe_url()} already has an active scheduler: {who}. Stop it "
                    "first, or start this one with --standby to wait and take over when it stops"
                )
            if not waiting:
                waiting = True
                log.warning(
                    "standby: the scheduler lease is held (%s); waiting to take over",
                    info.describe() if info else "no lease row yet",
                )
                if on_wait is not None:
                    on_wait(info)
            if stop is not None and stop.wait(STANDBY_POLL_S):
                return False
            if stop is None:
                time.sleep(STANDBY_POLL_S)
        self._acquired_at = dt.datetime.now(dt.UTC)
        self._write_row(new=True)
        if waiting:
            log.warning("standby: took over the scheduler lease")
        return True

    def record_clock(self, clock: dict[str, Any] | None) -> None:
        """Write the simulation's clock to the lease row (after :meth:`acquire`)."""
        self.clock = clock
        self._write_row(new=True)

    def start_heartbeat(self, on_lost: Callable[[str], None] | None = None) -> None:
        """Renew the lease row every ``heartbeat_s`` in a daemon thread; ``on_lost(reason)`` if lost."""

        def beat() -> None:
            while not self._stop.wait(self.heartbeat_s):
                reason = self.renew()
                if reason is not None:
                    log.error("scheduler lease lost: %s", reason)
                    self.lost.set()
                    if on_lost is not None:
                        on_lost(reason)
                    return

        self._thread = threading.Thread(target=beat, name="vpp-lease-heartbeat", daemon=True)
        self._thread.start()

    def renew(self) -> str | None:
        """One heartbeat: check the lock, renew the row; the reason when the lease is lost, else None."""
        if not self._lock.alive():
            try:
                got = self._lock.try_lock()
            except sa.exc.DBAPIError as exc:  # database unreachable: nobody else can lock either
                log.warning("scheduler lease: database unreachable, lock not renewed: %s", exc)
                return None
            if not got:
                info = read_lease(self.engine)
                return "another process locked the database after this one's session died: " + (
                    info.describe() if info else "unknown holder"
                )
        try:
            self._write_row(new=False)
        except sa.exc.DBAPIError as exc:
            log.warning("scheduler lease: heartbeat not written: %s", exc)
        return None

    def release(self) -> None:
        """Stop the heartbeat, mark the row expired (if still ours) and drop the lock."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.heartbeat_s + 5)
        if self._acquired_at is not None and not self.lost.is_set():
            try:
                now = dt.datetime.now(dt.UTC)
                with session_factory(self.engine).begin() as s:
                    s.execute(
                        sa.update(SchedulerLease)
                        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder)
                        .values(expires_at=now, heartbeat_at=now)
                    )
            except sa.exc.DBAPIError as exc:
                log.warning("scheduler lease: release not recorded: %s", exc)
        self._lock.unlock()
        self._acquired_at = None

    # -- the row --------------------------------------------------------------------------
    def _write_row(self, *, new: bool) -> None:
        now = dt.datetime.now(dt.UTC)
        values = {
            "name": LEASE_NAME,
            "holder": self.holder,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "mode": self.mode,
            "clock": json.dumps(self.clock) if self.clock else None,
            "acquired_at": self._acquired_at or now,
            "heartbeat_at": now,
            "expires_at": now + dt.timedelta(seconds=self.ttl_s),
        }
        with session_factory(self.engine).begin() as s:  # only the lock holder writes the row
            if not new:
                done = s.execute(
                    sa.update(SchedulerLease)
                    .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder)
                    .values(heartbeat_at=now, expires_at=values["expires_at"])
                ).rowcount
                if done == 1:
                    return
            s.execute(sa.delete(SchedulerLease).where(SchedulerLease.name == LEASE_NAME))
            s.add(SchedulerLease(**values))

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)
