"""Group commit: sales that arrive together share one transaction and one fsync.

With synchronous=FULL every commit waits for the disk (~1-2 ms here), and
SQLite has one writer, so four tills committing at once would queue behind
each other's fsyncs. A committer thread takes every sale waiting, runs each
in its own SAVEPOINT of one transaction (a sale that fails is rolled back
alone and its error goes to its own caller; a sale alone needs no
SAVEPOINT), commits once, and only then answers all of them. Nothing is
acknowledged before it is on disk.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
MAX_BATCH = 32


@dataclass
class _Job:
    actor: Actor
    now: datetime
    work: Callable[[UnitOfWork], Any]
    future: Future


class GroupCommitter:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def run(self, actor: Actor, now: datetime, work: Callable[[UnitOfWork], Any]) -> Any:
        """Run `work` in a unit of work; returns its result once it is committed."""
        job = _Job(actor, now, work, Future())
        self._queue.put(job)
        return job.future.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(job)
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        if len(batch) == 1:
            self._commit_alone(batch[0])
            return
        done: list[tuple[_Job, UnitOfWork, Any]] = []
        try:
            with self._db.write() as conn:
                raw = conn.connection.driver_connection
                for job in batch:
                    uow = UnitOfWork(conn=conn, actor=job.actor, now=job.now)
                    raw.execute("SAVEPOINT job")
                    try:
                        result = job.work(uow)
                    except BaseException as exc:
                        raw.execute("ROLLBACK TO job")
                        raw.execute("RELEASE job")
                        for hook in uow._on_rollback:
                            hook()
                        job.future.set_exception(exc)
                        continue
                    raw.execute("RELEASE job")
                    done.append((job, uow, result))
        except BaseException as exc:
            log.exception("group commit of %d job(s) failed", len(done))
            for job, uow, _ in done:
                for hook in uow._on_rollback:
                    hook()
                job.future.set_exception(exc)
            return
        for job, uow, result in done:
            _answer(job, uow, result)

    def _commit_alone(self, job: _Job) -> None:
        """A job with nobody to share its transaction: a plain unit of work, no
        SAVEPOINT (whose statement journal would copy every page the sale
        touches once more)."""
        try:
            with unit_of_work(self._db, job.actor, job.now) as uow:
                result = job.work(uow)
        except BaseException as exc:
            job.future.set_exception(exc)
            return
        job.future.set_result(result)


def _answer(job: _Job, uow: UnitOfWork, result: Any) -> None:
    """After the commit: the unit's hooks, then its caller's answer."""
    for hook in uow._after_commit:
        try:
            hook()
        except Exception:  # a cache refresh must not turn a committed sale into an error
            log.exception("after-commit hook failed")
    job.future.set_result(result)
