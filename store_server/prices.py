"""Scheduled price changes: recorded ahead, applied when their time comes.

A change is applied (product or store price updated, catalog revision bumped
so tills pick it up, a shelf-label job queued) by whichever comes first: the
server's periodic tick, or a catalog read that finds the next change due.
The second path is what makes "effective at 08:00" exact to the call rather
than to the tick.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from sqlalchemy import func, insert, select, update

from store_server.db.catalog_repo import set_price
from store_server.db.database import Database
from store_server.db.models import LabelJob, PriceChange
from store_server.db.unit_of_work import Actor, UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
# How often the server looks for changes scheduled by another process.
RECHECK_SECONDS = 1.0
_NEXT_DUE = select(func.min(PriceChange.effective_at)).where(PriceChange.applied_at.is_(None))


class PriceScheduler:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._next_due: datetime | None = None
        self._loaded = False
        self._checked = time.monotonic()

    def note_scheduled(self, effective_at: datetime) -> None:
        """A change was committed for `effective_at`: wake up for it."""
        with self._lock:
            if self._next_due is None or effective_at < self._next_due:
                self._next_due = effective_at

    def ensure_current(self, now: datetime) -> None:
        """Cheap unless a change is due: then apply every due change."""
        with self._lock:
            if self._loaded and (self._next_due is None or now < self._next_due):
                if time.monotonic() - self._checked < RECHECK_SECONDS:
                    return
                self._checked = time.monotonic()
                recheck = True
            else:
                recheck = False
        if recheck:
            # Another process (the HQ link agent) may have scheduled a change.
            with self._db.read() as conn:
                next_due = conn.execute(_NEXT_DUE).scalar()
            with self._lock:
                if next_due is None or now < next_due:
                    if self._next_due is None or (
                        next_due is not None and next_due < self._next_due
                    ):
                        self._next_due = next_due
                    return
        self.apply_due(now)

    def apply_due(self, now: datetime) -> int:
        """Apply all changes with effective_at <= now; returns how many."""
        with unit_of_work(self._db, Actor.system("price-scheduler"), now) as uow:
            applied = apply_due_in(uow)
            next_due = uow.conn.execute(_NEXT_DUE).scalar()
        with self._lock:
            self._next_due, self._loaded = next_due, True
        if applied:
            log.info("applied %d scheduled price change(s)", applied)
        return applied


def apply_due_in(uow: UnitOfWork) -> int:
    due = uow.conn.execute(
        select(PriceChange)
        .where(PriceChange.applied_at.is_(None), PriceChange.effective_at <= uow.now)
        .order_by(PriceChange.effective_at, PriceChange.created_at)
    ).all()
    for change in due:
        revision = set_price(
            uow,
            product_id=change.product_id,
            store_id=change.store_id,
            retail_fen=change.retail_price_fen,
            member_fen=change.member_price_fen,
            now=uow.now,
        )
        uow.conn.execute(
            update(PriceChange)
            .where(PriceChange.change_id == change.change_id)
            .values(applied_at=uow.now)
        )
        uow.conn.execute(
            insert(LabelJob).values(
                product_id=change.product_id,
                reason="price_change",
                source_id=change.change_id,
                created_at=uow.now,
            )
        )
        uow.change(
            "price_change.applied",
            change.change_id,
            {
                "product_id": change.product_id,
                "store_id": change.store_id,
                "retail_price_fen": change.retail_price_fen,
                "member_price_fen": change.member_price_fen,
                "revision": revision,
            },
        )
    return len(due)
