"""Points expire without anyone running a command: once a day, in the server's tick."""

from __future__ import annotations

import logging
from datetime import date

from store_server.clock import Clock
from store_server.config import Config
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.members import queries
from store_server.members.book import MemberBook

log = logging.getLogger(__name__)


class PointsExpiryJob:
    def __init__(self, db: Database, config: Config, clock: Clock, book: MemberBook) -> None:
        self._db = db
        self._cfg = config
        self._clock = clock
        self._book = book
        self._done_for: date | None = None

    def tick(self) -> None:
        """Expire what is due once per calendar day (a rerun finds nothing: idempotent)."""
        now = self._clock.now()
        today = now.astimezone(self._cfg.zone).date()
        if today == self._done_for:
            return
        with unit_of_work(self._db, Actor.system("points-expiry"), now) as uow:
            lots, points, touched = queries.expire_points(uow, self._cfg, today)
            for member_id in touched:
                uow.after_commit(lambda m=member_id: self._book.forget(m))
        self._done_for = today
        if lots:
            log.info("expired %d points in %d lots", points, lots)
