"""Promotions on the store server: the active set for pricing, and their admin.

The active set is cached as an indexed PromotionSet. This process's own
changes replace it at once; storectl (another process) bumps the
promotions revision, which the server notices within a second.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from store_server.config import Config
from store_server.db import fast
from store_server.db.database import Database
from store_server.db.promotion_models import PromotionRow
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import AlreadyExists, NotFound
from store_server.domain.promotions import Promotion
from store_server.domain.promotions.catalog_index import PromotionSet
from store_server.domain.promotions.codec import from_dict, to_dict

REVISION = "promotions_revision"
RECHECK_SECONDS = 1.0


def load_active(conn: Connection, zone: str) -> list[Promotion]:
    rows = conn.execute(
        select(PromotionRow.definition)
        .where(PromotionRow.status == "active")
        .order_by(PromotionRow.promo_id)
    ).scalars()
    return [from_dict(json.loads(text), zone=zone) for text in rows]


class PromotionBook:
    def __init__(self, db: Database, config: Config) -> None:
        self._db = db
        self._zone = config.timezone
        self._lock = threading.Lock()
        self._set = PromotionSet(())
        self._revision = -1
        self._checked = 0.0

    def current(self) -> PromotionSet:
        """The active promotions; re-read when another process changed them."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked < RECHECK_SECONDS and self._revision >= 0:
                return self._set
            self._checked = now
        with self._db.read() as conn:
            rows = fast.execute(conn, "SELECT value FROM counters WHERE name = ?", (REVISION,))
            revision = int(rows[0][0]) if rows else 0
            with self._lock:
                if revision == self._revision:
                    return self._set
            promotions = load_active(conn, self._zone)
        with self._lock:
            self._set, self._revision = PromotionSet(promotions), revision
            return self._set

    def forget(self) -> None:
        """Re-read on the next pricing (after this process changed promotions)."""
        with self._lock:
            self._revision, self._checked = -1, 0.0


def create(uow: UnitOfWork, data: dict, *, zone: str) -> Promotion:
    promo = from_dict(data, zone=zone)
    exists = uow.conn.execute(
        select(PromotionRow.definition).where(PromotionRow.promo_id == promo.promo_id)
    ).scalar()
    definition = json.dumps(to_dict(promo), ensure_ascii=False, sort_keys=True)
    if exists is not None:
        if exists == definition:
            return promo  # a replay of the same create
        raise AlreadyExists(
            f"promotion {promo.promo_id} exists with another definition", field="promo_id"
        )
    uow.conn.execute(
        insert(PromotionRow).values(
            promo_id=promo.promo_id,
            name=promo.name,
            definition=definition,
            group_name=promo.group,
            priority=promo.priority,
            members_only=promo.members_only,
            status="active",
            created_at=uow.now,
            created_by=uow.actor.operator_id,
        )
    )
    uow.next_value(REVISION)
    uow.audit("promotion.create", promo.promo_id, detail={"name": promo.name})
    uow.change("promotion", promo.promo_id, {"definition": definition, "status": "active"})
    return promo


def end(uow: UnitOfWork, promo_id: str) -> bool:
    """End a promotion now; returns False when it had ended already."""
    row = uow.conn.execute(
        select(PromotionRow.status).where(PromotionRow.promo_id == promo_id)
    ).scalar()
    if row is None:
        raise NotFound(f"no promotion {promo_id}", reason="UNKNOWN_PROMOTION")
    if row == "ended":
        return False
    uow.conn.execute(
        update(PromotionRow)
        .where(PromotionRow.promo_id == promo_id)
        .values(status="ended", ended_at=uow.now)
    )
    uow.next_value(REVISION)
    uow.audit("promotion.end", promo_id)
    uow.change("promotion", promo_id, {"status": "ended"})
    return True


def listing(conn: Connection, *, include_ended: bool) -> list[tuple[str, str, str, datetime]]:
    """(promo_id, status, definition JSON, created_at), newest first."""
    stmt = select(
        PromotionRow.promo_id, PromotionRow.status, PromotionRow.definition, PromotionRow.created_at
    ).order_by(PromotionRow.created_at.desc())
    if not include_ended:
        stmt = stmt.where(PromotionRow.status == "active")
    return [tuple(r) for r in conn.execute(stmt)]
