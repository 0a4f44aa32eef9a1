"""Operator login and token checks.

Tokens are 256-bit random strings, opaque to the client. The database keeps
only their SHA-256, so a copy of the database lets nobody in. Checked tokens
are cached in memory (this process owns the database, so it sees every logout
and can drop the entry), which keeps a token check off the disk on every scan.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, select, update

from store_server.clock import Clock
from store_server.db.database import Database
from store_server.db.models import AuthSession, Operator
from store_server.db.unit_of_work import Actor, UnitOfWork, unit_of_work
from store_server.domain.errors import (
    InvalidArgument,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from store_server.domain.permissions import Permission, permissions_of
from store_server.domain.pins import LockState, check_pin_format, verify_pin


@dataclass(frozen=True, slots=True)
class Principal:
    """The operator behind a call."""

    operator_id: str
    name: str
    role: str
    store_id: str
    device_id: str
    permissions: frozenset[Permission]
    expires_at: datetime
    token_hash: str

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_device_id(device_id: str, *, field: str = "device_id") -> str:
    if (
        not device_id
        or len(device_id) > 64
        or not device_id.isascii()
        or not device_id.isprintable()
    ):
        raise InvalidArgument(field, "1-64 printable ASCII characters")
    return device_id


class Authenticator:
    def __init__(self, db: Database, clock: Clock, ttl: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def login(self, operator_id: str, pin: str, device_id: str) -> tuple[str, Principal]:
        check_device_id(device_id)
        token = secrets.token_urlsafe(32)
        key = token_hash(token)
        now = self._clock.now()
        expires = now + self._ttl

        def open_session(uow: UnitOfWork) -> None:
            uow.conn.execute(
                AuthSession.__table__.insert().values(
                    token_hash=key,
                    operator_id=operator_id,
                    device_id=device_id,
                    issued_at=now,
                    expires_at=expires,
                )
            )

        op = self._check_pin(operator_id, pin, device_id, on_success=open_session)
        principal = self._principal(op, device_id, expires, key)
        with self._lock:
            self._cache[key] = principal
        return token, principal

    def verify_override(
        self, operator_id: str, pin: str, device_id: str, permission: Permission, *, field: str
    ) -> Principal:
        """A second operator's credentials for one action: same PIN rules and lock-out."""
        if not operator_id:
            raise PermissionDenied(
                f"the {permission} permission is needed: ask a supervisor", reason="NEEDS_OVERRIDE"
            )
        op = self._check_pin(operator_id, pin, device_id, field=field)
        approver = self._principal(op, device_id, self._clock.now(), "")
        if not approver.can(permission):
            raise PermissionDenied(
                f"operator {operator_id} ({approver.role}) cannot approve {permission}",
                reason="OVERRIDE_LACKS_PERMISSION",
            )
        return approver

    def _check_pin(
        self,
        operator_id: str,
        pin: str,
        device_id: str,
        *,
        field: str = "",
        on_success: Callable[[UnitOfWork], None] | None = None,
    ) -> Row:
        """Check a PIN with the lock-out rule; returns the operator row or raises."""
        prefix = f"{field}." if field else ""
        if not (operator_id.isascii() and operator_id.isalnum()) or len(operator_id) > 16:
            raise InvalidArgument(f"{prefix}operator_id", "1-16 letters or digits")
        check_pin_format(pin, field=f"{prefix}pin")
        with self._db.read() as conn:
            op = conn.execute(select(Operator).where(Operator.operator_id == operator_id)).first()
        now = self._clock.now()
        if op is None or not op.active:
            # Same answer as a wrong PIN: do not tell a guesser which ids exist.
            raise Unauthenticated("wrong operator id or PIN", reason="BAD_CREDENTIALS")
        # The hash is checked outside the write transaction: it takes tens of
        # ms and must not hold up the store's one writer.
        pin_ok = verify_pin(pin, op.pin_hash)
        with unit_of_work(self._db, Actor(operator_id, device_id), now) as uow:
            fresh = uow.conn.execute(
                select(Operator.failed_pin_count, Operator.locked_until).where(
                    Operator.operator_id == operator_id
                )
            ).one()
            state = LockState(fresh.failed_pin_count, fresh.locked_until)
            # Locked: refused below even with the right PIN, and nothing written.
            locked = state.is_locked(now)
            if not locked:
                if not pin_ok:
                    state = state.after_failure(now)
                elif state.failed_count:
                    state = LockState.cleared()
                if (state.failed_count, state.locked_until) != (
                    fresh.failed_pin_count,
                    fresh.locked_until,
                ):
                    uow.conn.execute(
                        update(Operator)
                        .where(Operator.operator_id == operator_id)
                        .values(
                            failed_pin_count=state.failed_count, locked_until=state.locked_until
                        )
                    )
                if pin_ok and on_success is not None:
                    on_success(uow)
        if locked:
            raise ResourceExhausted(
                f"operator {operator_id} is locked after too many wrong PINs",
                reason="PIN_LOCKED",
                retry_after=state.locked_until,
            )
        if not pin_ok:
            raise Unauthenticated("wrong operator id or PIN", reason="BAD_CREDENTIALS")
        return op

    def authenticate(self, token: str, device_id: str) -> Principal:
        if not token:
            raise Unauthenticated("not logged in: no token", reason="NO_TOKEN")
        key = token_hash(token)
        with self._lock:
            principal = self._cache.get(key)
        if principal is None:
            principal = self._load(key)
        now = self._clock.now()
        if now >= principal.expires_at:
            with self._lock:
                self._cache.pop(key, None)
            raise Unauthenticated("the session has expired: log in again", reason="TOKEN_EXPIRED")
        if device_id != principal.device_id:
            raise Unauthenticated("this token belongs to another device", reason="WRONG_DEVICE")
        return principal

    def logout(self, principal: Principal) -> None:
        now = self._clock.now()
        actor = Actor(principal.operator_id, principal.device_id)
        with unit_of_work(self._db, actor, now) as uow:
            uow.conn.execute(
                update(AuthSession)
                .where(AuthSession.token_hash == principal.token_hash)
                .values(revoked_at=now)
            )
            uow.after_commit(lambda: self._forget(principal.token_hash))

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def _load(self, key: str) -> Principal:
        with self._db.read() as conn:
            row = conn.execute(
                select(
                    Operator.operator_id,
                    Operator.name,
                    Operator.role,
                    Operator.store_id,
                    Operator.active,
                    AuthSession.device_id,
                    AuthSession.expires_at,
                    AuthSession.revoked_at,
                )
                .join(Operator, Operator.operator_id == AuthSession.operator_id)
                .where(AuthSession.token_hash == key)
            ).first()
        if row is None or row.revoked_at is not None or not row.active:
            raise Unauthenticated("unknown or ended session: log in again", reason="BAD_TOKEN")
        principal = self._principal(row, row.device_id, row.expires_at, key)
        with self._lock:
            self._cache[key] = principal
        return principal

    @staticmethod
    def _principal(op: Row, device_id: str, expires_at: datetime, key: str) -> Principal:
        return Principal(
            operator_id=op.operator_id,
            name=op.name,
            role=op.role,
            store_id=op.store_id,
            device_id=device_id,
            permissions=permissions_of(op.role),
            expires_at=expires_at,
            token_hash=key,
        )
