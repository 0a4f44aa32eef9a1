"""The SQLite database: one writer path, many readers.

SQLite lets one transaction write at a time. Rather than discover that under
load as "database is locked", every write goes through `Database.write()`,
whose engine has a single connection: writers queue in the pool (in order,
with a timeout) and each transaction starts with BEGIN IMMEDIATE, so it holds
the write lock from its first statement and never fails half-way on upgrade.
Readers use their own pool; WAL lets them read while the writer writes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event

BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger(__name__)


def _make_engine(path: Path, *, writer: bool, synchronous: str) -> Engine:
    pool = (
        {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30}
        if writer
        else {"pool_size": 8, "max_overflow": 16, "pool_timeout": 30}
    )
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        **pool,
    )
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Take transaction control from the sqlite3 module (it would begin
        # lazily and deferred); SQLAlchemy's "begin" event issues ours.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        if writer:
            # Checkpoints run on the background checkpointer, not inside
            # whichever scan happens to fill the WAL (a latency spike there).
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the DB-API connection itself: through exec_driver_sql this one
        # statement was half of an empty transaction's cost (~120 µs), paid by
        # every call (a scan is one transaction). Its errors are sqlite3's
        # own, which storage_faults and callers read as well.
        conn.connection.driver_connection.execute(begin)

    return engine


class Database:
    """Owns the two engines of one SQLite file."""

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError(f"synchronous={synchronous!r}: use FULL, NORMAL or EXTRA")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.synchronous = synchronous.upper()
        self.writer = _make_engine(self.path, writer=True, synchronous=self.synchronous)
        self.reader = _make_engine(self.path, writer=False, synchronous=self.synchronous)
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error.

        durable=False commits with synchronous=NORMAL: it survives a crash of
        the process but may be lost in a power cut. Only for transient state
        the till can send again by its ids (basket edits); documents (sales,
        returns, shifts) stay durable. In WAL mode a durable commit also makes
        every earlier non-durable one durable.
        """
        level = self.synchronous if durable else "NORMAL"
        with self.writer.connect() as conn:
            raw = conn.connection.driver_connection
            # SQLite refuses to change it inside a transaction: set it first.
            if conn.connection.info.get("synchronous") != level:
                raw.execute(f"PRAGMA synchronous={level}")
                conn.connection.info["synchronous"] = level
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction: a consistent snapshot for the whole block."""
        with self.reader.begin() as conn:
            yield conn

    def start_checkpointer(self, interval: float = 1.0) -> None:
        """Copy the WAL back into the database file every `interval` seconds.

        PASSIVE never waits for readers or the writer; a checkpoint that could
        not finish is simply continued next time. If this thread stops, the
        WAL grows but nothing is lost; the failure is logged.
        """
        if self._checkpointer is not None:
            return

        def run() -> None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                while not self._stop.wait(interval):
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    except sqlite3.Error:
                        log.exception("WAL checkpoint failed")
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                conn.close()

        self._checkpointer = threading.Thread(target=run, name="wal-checkpoint", daemon=True)
        self._checkpointer.start()

    def dispose(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=10)
            self._checkpointer = None
        self.writer.dispose()
        self.reader.dispose()
