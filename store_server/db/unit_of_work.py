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

from sqlalchemy import Connection

from store_server.db import fast
from store_server.db.audit_log import append_audit
from store_server.db.database import Database
from store_server.db.models import ChangeLogEntry, Counter

log = logging.getLogger(__name__)

# Every sale passes here: plain DB-API writes (see db.fast).
_CHANGES = ChangeLogEntry.__table__
_COUNTERS = Counter.__table__
_BUMP = "UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value"
# The next seq of the change log. Its seq is a plain rowid (max + 1) taken
# under the write lock that BEGIN IMMEDIATE holds until commit, so seqs are in
# commit order and have no gaps (a rolled-back seq is taken again).
_NEXT_SEQ = "SELECT COALESCE(MAX(seq), 0) + 1 FROM change_log"
# Version of the change rows' payload format; HQ reads every version up to its own.
# 2: a sale's or return's receipt is a JSON object in the payload (1 held it as
# a JSON string, escaped on every commit and decoded twice at HQ).
CHANGE_SCHEMA_VERSION = 2


def receipt_payload(receipt_json: str, **extra: object) -> str:
    """The payload of a sale's or return's change row: {"receipt": <the stored
    receipt JSON, spliced in as it is>, plus `extra` in key order}."""
    parts = ['{"receipt": ', receipt_json]
    for key in sorted(extra):
        parts += [", ", json.dumps(key), ": ", json.dumps(extra[key], ensure_ascii=False)]
    parts.append("}")
    return "".join(parts)


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
    _on_rollback: list[Callable[[], None]] = field(default_factory=list)
    _txn: int = 0  # seq of this unit's first change-log row (0: none yet)

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
        """Record a change for HQ replication, in this transaction.

        Every row of one unit of work carries the seq of its first row (`txn`),
        so the HQ link ships the unit whole or not at all.
        """
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
        self.change_encoded(kind, key, text)

    def change_encoded(self, kind: str, key: str, payload: str) -> None:
        """change() with the payload already as its JSON text (receipt_payload):
        a commit encodes before it holds the writer."""
        row: dict[str, object] = {
            "kind": kind,
            "key": key,
            "at": self.now,
            "payload": payload,
            "schema_version": CHANGE_SCHEMA_VERSION,
        }
        if not self._txn:
            self._txn = int(fast.execute(self.conn, _NEXT_SEQ)[0][0])
            row["seq"] = self._txn
        row["txn"] = self._txn
        fast.insert_rows(self.conn, _CHANGES, [row])

    def next_value(self, counter: str) -> int:
        """Increment a named counter; gap-free because it rolls back with the transaction."""
        rows = fast.execute(self.conn, _BUMP, (counter,))
        if not rows:
            fast.insert_rows(self.conn, _COUNTERS, [{"name": counter, "value": 1}])
            return 1
        return int(rows[0][0])

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    def on_rollback(self, hook: Callable[[], None]) -> None:
        """Undo an in-memory change made inside the transaction if it does not commit."""
        self._on_rollback.append(hook)


@contextmanager
def unit_of_work(
    db: Database, actor: Actor, now: datetime, *, durable: bool = True
) -> Iterator[UnitOfWork]:
    uow: UnitOfWork | None = None
    try:
        with db.write(durable=durable) as conn:
            uow = UnitOfWork(conn=conn, actor=actor, now=now)
            yield uow
    except BaseException:
        for hook in uow._on_rollback if uow is not None else ():
            hook()
        raise
    for hook in uow._after_commit:
        try:
            hook()
        except Exception:  # a cache refresh must not turn a committed write into an error
            log.exception("after-commit hook failed")
