"""The one seam every business write passes through.

A unit of work is one write transaction. The business rows, the audit entry
and the replication change-log rows commit together or not at all, and
in-memory caches are told only after the commit (never about a write that
rolled back). Later features hook in here once, not in each service.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, insert, update

from store_server.db.audit_log import append_audit
from store_server.db.database import Database
from store_server.db.models import ChangeLogEntry, Counter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is writing: an operator on a device, or the system itself."""

    operator_id: str
    device_id: str

    @staticmethod
    def system(what: str) -> Actor:
        return Actor(operator_id="system", device_id=what)


@dataclass
class UnitOfWork:
    conn: Connection
    actor: Actor
    now: datetime
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def audit(
        self,
        action: str,
        target: str = "",
        *,
        outcome: str = "OK",
        detail: dict[str, object] | None = None,
    ) -> int:
        return append_audit(
            self.conn,
            at=self.now,
            operator_id=self.actor.operator_id,
            device_id=self.actor.device_id,
            action=action,
            target=target,
            outcome=outcome,
            detail=detail,
        )

    def change(self, kind: str, key: str, payload: dict[str, object]) -> None:
        """Record a change for HQ replication, in this transaction."""
        self.conn.execute(
            insert(ChangeLogEntry).values(
                kind=kind,
                key=key,
                payload=json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str),
                at=self.now,
            )
        )

    def next_value(self, counter: str) -> int:
        """Increment a named counter; gap-free because it rolls back with the transaction."""
        value = self.conn.execute(
            update(Counter)
            .where(Counter.name == counter)
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        ).scalar()
        if value is None:
            self.conn.execute(insert(Counter).values(name=counter, value=1))
            return 1
        return int(value)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)


@contextmanager
def unit_of_work(db: Database, actor: Actor, now: datetime) -> Iterator[UnitOfWork]:
    with db.write() as conn:
        uow = UnitOfWork(conn=conn, actor=actor, now=now)
        yield uow
    for hook in uow._after_commit:
        try:
            hook()
        except Exception:  # a cache refresh must not turn a committed write into an error
            log.exception("after-commit hook failed")
