"""The SQLite database: one writer path, many readers.

SQLite lets one transaction write at a time. Rather than discover that under
load as "database is locked", every write goes through `Database.write()` on
the one writer connection: writers queue on a lock (with a timeout) and each
transaction starts with BEGIN IMMEDIATE, so it holds the write lock from its
first statement and never fails half-way on upgrade. The connection stays
checked out between transactions: the pool's checkout, reset and checkin cost
about a fifth of the writer's Python per sale (measured with py-spy).
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
# How long a write waits for the one writer connection before it gives up.
WRITE_WAIT_S = 30


class WriterBusy(TimeoutError):
    """The writer connection was not free within WRITE_WAIT_S."""


log = logging.getLogger(__name__)


def _make_engine(path: Path, *, writer: bool, synchronous: str) -> Engine:
    pool = (
        {"pool_size": 1, "max_overflow": 0, "pool_timeout": WRITE_WAIT_S}
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
            # The group commit's SAVEPOINTs keep a statement journal (the pages
            # each sale changed, to roll that one sale back): in memory, not
            # a temp file created, written page by page and unlinked per commit.
            cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # On the DB-API connection itself: through exec_driver_sql this one
        # statement was half of an empty transaction's cost (~120 µs), paid by
        # every call (a scan is one transaction). Its errors are sqlite3's
        # own, which storage_faults and callers read as well. Inside
        # Database.write the transaction is open already (SQLAlchemy begins
        # its own bookkeeping at a block's first Core statement): nothing to do.
        raw = conn.connection.driver_connection
        if not raw.in_transaction:
            raw.execute(begin)

    return engine


def _roll_back(conn: Connection, raw: sqlite3.Connection) -> None:
    """End a failed write's transaction; the error being raised stays the one
    the caller sees (a connection left in a transaction is dropped on release)."""
    try:
        if conn.in_transaction():
            conn.rollback()
        if raw.in_transaction:
            raw.rollback()
    except Exception:
        log.exception("rolling back a failed write failed")


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
        self._write_lock = threading.Lock()
        self._write_conn: Connection | None = None

    @contextmanager
    def writer_connection(self) -> Iterator[Connection]:
        """The one writer connection, held alone, outside any transaction (migrations)."""
        if not self._write_lock.acquire(timeout=WRITE_WAIT_S):
            raise WriterBusy(f"the database writer was busy for {WRITE_WAIT_S} s")
        try:
            conn = self._write_conn
            if conn is None or conn.closed or conn.invalidated:
                conn = self._write_conn = self.writer.connect()
            try:
                yield conn
            finally:
                self._release_writer(conn)
        finally:
            self._write_lock.release()

    def _release_writer(self, conn: Connection) -> None:
        """End whatever the user left open, as the pool's reset would; a
        connection that cannot be brought back outside a transaction (a failed
        rollback, an I/O error) is dropped and the next write opens a new one."""
        try:
            if conn.in_transaction():
                conn.rollback()
            broken = conn.invalidated or conn.connection.driver_connection.in_transaction
        except Exception:
            log.exception("the writer connection could not be reset; opening a new one")
            broken = True
        if broken:
            self._write_conn = None
            try:
                conn.invalidate()
                conn.close()
            except Exception:
                log.exception("closing the broken writer connection failed")

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
        with self.writer_connection() as conn:
            raw = conn.connection.driver_connection
            # SQLite refuses to change it inside a transaction: set it first.
            if conn.connection.info.get("synchronous") != level:
                raw.execute(f"PRAGMA synchronous={level}")
                conn.connection.info["synchronous"] = level
            # BEGIN and COMMIT on the DB-API connection: SQLAlchemy's
            # transaction object, events and context manager cost ~25 µs of
            # Python per write (measured in process), and a scan is one write.
            # Core statements in the block still work: SQLAlchemy then opens
            # its bookkeeping (the begin hook sees the transaction open) and
            # commits or rolls back through the same DB-API connection.
            raw.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                if conn.in_transaction():
                    conn.commit()
                else:
                    raw.commit()
            except BaseException:
                _roll_back(conn, raw)
                raise

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
        with self._write_lock:
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None
        self.writer.dispose()
        self.reader.dispose()
