"""The till's durable print queue: a committed sale's receipt is never lost, never doubled.

The sale commits on the store server first; the till then enqueues its receipt here. A job
is a row in a SQLite file (WAL, synchronous=FULL: on disk when enqueue() returns), keyed by
the receipt number (plus ":copy" for a reprint) with a unique constraint, so enqueuing the
same receipt twice, say after a retried commit, makes one job.

A worker prints the oldest pending job: it opens the printer (through a factory, per job,
so a replugged printer is found again), lays the receipt out, writes it, kicks the drawer
for a cash sale, and marks the job done. Any printer error leaves the job pending with a
sentence for the cashier and one more attempt counted; the worker retries with backoff.

Why at most a *marked* duplicate, and only after a crash:

- The job is marked done only after the printer took every byte, so a failed write
  never counts as printed: no lost receipt.
- The done flag is committed the moment the last write returns (before the printer is
  even closed), so the only window for a duplicate is the process dying between the last
  byte and that commit.
- That window is covered too: just before the first byte, the job is marked "printing" on
  disk. A queue opened after a crash finds it still "printing" and reprints it with the
  "重印 COPY" banner and without a drawer kick. The worst case is a second slip that says
  it is a copy; never an unmarked duplicate, never a lost receipt.
- A write that fails while the printer is running (unplugged, paper door) is handled the
  same way: once the TOTAL line has started going out the slip may read as a receipt, so
  the retry is a marked copy; before it the slip is a torn fragment (the printer drops
  its unprinted buffer at the next ESC @) and the retry is the original.
  In normal operation (no crash, no failure mid-slip) every receipt prints exactly once.

The drawer is kicked only by an attempt shortly after the sale (drawer_window_s): a drawer
springing open minutes later, when a printer comes back, might be unattended.

One queue (one worker) per file: the till owns its queue.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from escpos.escpos import Escpos

from clients.printing.print_errors import INTERRUPTED, Stage, cashier_message
from clients.printing.printer_factory import PrinterFactory
from clients.printing.receipt_layout import (
    WIDTH_80MM,
    DrawerKick,
    Op,
    layout_receipt,
    render,
    total_index,
)
from tillpoint.v1 import sales_pb2

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS print_job (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job_key TEXT NOT NULL UNIQUE,
    receipt_no TEXT NOT NULL,
    receipt BLOB NOT NULL,          -- sales_pb2.Receipt, serialized
    open_drawer INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'printing', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,                -- for the cashier, Chinese and English
    error_detail TEXT,              -- for support
    maybe_printed INTEGER NOT NULL DEFAULT 0,  -- reprint marked COPY, no drawer kick
    enqueued_at REAL NOT NULL,
    attempted_at REAL,
    printed_at REAL
);
CREATE INDEX IF NOT EXISTS print_job_state ON print_job (state, id);
"""


class RunResult(enum.Enum):
    IDLE = "idle"  # nothing pending
    PRINTED = "printed"
    FAILED = "failed"  # the job stays pending with its error


@dataclass(frozen=True)
class PendingJob:
    """A receipt not printed yet, as the till's screen lists it."""

    key: str
    receipt_no: str
    attempts: int
    last_error: str | None  # a sentence for the cashier; None before the first attempt
    detail: str | None  # the exception, for support
    maybe_printed: bool  # the next print is marked 重印 COPY
    printing: bool  # a worker is printing it right now
    enqueued_at: float


@dataclass(frozen=True)
class Backoff:
    """Seconds between attempts: first_s, doubling per failure, at most max_s."""

    first_s: float = 1.0
    factor: float = 2.0
    max_s: float = 60.0
    idle_s: float = 2.0  # polling when idle; enqueue() wakes the worker at once anyway

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failed attempts in a row (failures >= 1)."""
        return min(self.max_s, self.first_s * self.factor ** max(0, failures - 1))


def job_key(receipt: sales_pb2.Receipt) -> str:
    """'S01-20261123-0042', or 'S01-20261123-0042:copy' for a reprint."""
    return receipt.receipt_no + (":copy" if receipt.copy else "")


class PrintQueue:
    """Receipts waiting for the printer, in a SQLite file at ``path``.

    ``clock`` (seconds) and ``sleep`` are injectable so tests drive time; ``sleep`` is
    called by the background worker between attempts and must return promptly.
    """

    def __init__(
        self,
        path: str | Path,
        open_printer: PrinterFactory,
        *,
        width: int = WIDTH_80MM,
        backoff: Backoff | None = None,
        drawer_window_s: float = 60.0,
        drawer_pin: int = 2,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._open_printer = open_printer
        self._width = width
        self._backoff = backoff or Backoff()
        self._drawer_window_s = drawer_window_s
        self._drawer_pin = drawer_pin
        self._clock = clock
        self._sleep = sleep or self._wait_for_work
        self._db_lock = threading.Lock()  # one connection, shared by UI and worker threads
        self._print_lock = threading.Lock()  # one job at a time on the printer
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed job (and its done flag) survives a power cut, not only a crash.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._recover_interrupted()

    # -- the till's side ------------------------------------------------------------

    def enqueue(
        self, receipt: sales_pb2.Receipt, *, open_drawer: bool, key: str | None = None
    ) -> bool:
        """Queue ``receipt``; True if this made a new job, False if it was already queued.

        ``open_drawer`` is Sale.open_drawer (a cash payment). ``key`` defaults to
        job_key(receipt); pass another (e.g. 'R...:copy:2') for a deliberate second reprint.
        """
        if not receipt.receipt_no:
            raise ValueError("a receipt to print needs its receipt number")
        with self._locked_db() as db:
            cursor = db.execute(
                "INSERT INTO print_job (job_key, receipt_no, receipt, open_drawer, enqueued_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_key) DO NOTHING",
                (
                    key or job_key(receipt),
                    receipt.receipt_no,
                    receipt.SerializeToString(deterministic=True),
                    int(open_drawer),
                    self._clock(),
                ),
            )
            created = cursor.rowcount == 1
        self._wake.set()
        return created

    def pending(self) -> list[PendingJob]:
        """Receipts not printed yet, oldest first, with why (for the till's screen)."""
        with self._locked_db() as db:
            rows = db.execute(
                "SELECT job_key, receipt_no, attempts, last_error, error_detail, maybe_printed,"
                " state, enqueued_at FROM print_job WHERE state != 'done' ORDER BY id"
            ).fetchall()
        return [
            PendingJob(
                key=row[0],
                receipt_no=row[1],
                attempts=row[2],
                last_error=row[3],
                detail=row[4],
                maybe_printed=bool(row[5]),
                printing=row[6] == "printing",
                enqueued_at=row[7],
            )
            for row in rows
        ]

    # -- the worker -------------------------------------------------------------------

    def run_once(self) -> RunResult:
        """Print the oldest pending job, if any; printer errors are recorded, not raised."""
        with self._print_lock:
            job = self._oldest_pending()
            if job is None:
                return RunResult.IDLE
            job_id, blob, open_drawer, maybe_printed, enqueued_at = job
            try:
                ops = self._operations(blob, open_drawer, maybe_printed, enqueued_at)
            except Exception as exc:  # a receipt the layout refuses: a person must look
                self._failed(job_id, exc, Stage.LAYOUT, count_attempt=True)
                return RunResult.FAILED
            try:
                printer = self._open_printer()
            except Exception as exc:
                self._failed(job_id, exc, Stage.OPEN, count_attempt=True)
                return RunResult.FAILED
            return self._print(job_id, ops, printer)

    def start(self) -> None:
        """Run the worker in a background thread until stop()."""
        if self._thread is not None:
            raise RuntimeError("the print queue worker is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, name="print-queue", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker after its current job (a job is never abandoned mid-slip)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError("the print queue worker did not stop")

    def close(self) -> None:
        self.stop()
        with self._db_lock:
            self._db.close()

    def __enter__(self) -> PrintQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------

    @contextmanager
    def _locked_db(self) -> Iterator[sqlite3.Connection]:
        with self._db_lock:
            yield self._db

    def _recover_interrupted(self) -> None:
        # A job still "printing" on open: the process died while printing it, perhaps
        # after the last byte. Reprint it, marked as a copy (see the module docstring).
        with self._locked_db() as db:
            db.execute(
                "UPDATE print_job SET state = 'pending', maybe_printed = 1, last_error = ?,"
                " error_detail = 'interrupted while printing' WHERE state = 'printing'",
                (INTERRUPTED,),
            )

    def _oldest_pending(self) -> tuple[int, bytes, bool, bool, float] | None:
        with self._locked_db() as db:
            row = db.execute(
                "SELECT id, receipt, open_drawer, maybe_printed, enqueued_at FROM print_job"
                " WHERE state = 'pending' ORDER BY id LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return row[0], row[1], bool(row[2]), bool(row[3]), row[4]

    def _operations(
        self, blob: bytes, open_drawer: bool, maybe_printed: bool, enqueued_at: float
    ) -> list[Op]:
        receipt = sales_pb2.Receipt.FromString(blob)
        if maybe_printed:
            receipt.copy = True
        ops = layout_receipt(receipt, width=self._width)
        fresh = self._clock() - enqueued_at <= self._drawer_window_s
        if open_drawer and not maybe_printed and fresh:
            ops.append(DrawerKick(self._drawer_pin))
        return ops

    def _print(self, job_id: int, ops: list[Op], printer: Escpos) -> RunResult:
        # On disk before the first byte: a crash from here on is found by
        # _recover_interrupted and reprinted as a copy.
        try:
            self._execute(
                "UPDATE print_job SET state = 'printing', attempts = attempts + 1,"
                " attempted_at = ? WHERE id = ?",
                (self._clock(), job_id),
            )
        except BaseException:
            _close_quietly(printer)
            raise
        # From the first byte of the TOTAL line on, the slip may read as a receipt; a
        # failure while that line goes out counts as after it (the safe side: a copy).
        readable_from = total_index(ops)
        slip_readable = False
        try:
            render(ops[:readable_from], printer)
            slip_readable = True
            render(ops[readable_from:], printer)
            flush = getattr(printer, "flush", None)
            if flush is not None:
                flush()
        except Exception as exc:
            self._failed(job_id, exc, Stage.WRITE, count_attempt=False, maybe_printed=slip_readable)
            _close_quietly(printer)
            return RunResult.FAILED
        # Every byte was taken: commit done at once, the duplicate window's far end.
        self._execute(
            "UPDATE print_job SET state = 'done', printed_at = ?, last_error = NULL,"
            " error_detail = NULL WHERE id = ?",
            (self._clock(), job_id),
        )
        _close_quietly(printer)
        return RunResult.PRINTED

    def _failed(
        self,
        job_id: int,
        exc: Exception,
        stage: Stage,
        *,
        count_attempt: bool,
        maybe_printed: bool = False,
    ) -> None:
        log.warning("receipt print job %s failed (%s): %r", job_id, stage.value, exc)
        self._execute(
            "UPDATE print_job SET state = 'pending', attempts = attempts + ?,"
            " last_error = ?, error_detail = ?, maybe_printed = max(maybe_printed, ?),"
            " attempted_at = ? WHERE id = ?",
            (
                int(count_attempt),
                cashier_message(exc, stage),
                f"{type(exc).__name__}: {exc}",
                int(maybe_printed),
                self._clock(),
                job_id,
            ),
        )

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        with self._locked_db() as db:
            db.execute(sql, params)

    def _work(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                result = self.run_once()
            except Exception:  # the queue file itself (disk full): keep trying, loudly
                log.exception("print queue worker")
                result = RunResult.FAILED
            if result is RunResult.PRINTED:
                failures = 0
                continue
            failures = failures + 1 if result is RunResult.FAILED else 0
            if self._stop.is_set():
                break
            self._sleep(self._backoff.delay(failures) if failures else self._backoff.idle_s)

    def _wait_for_work(self, seconds: float) -> None:
        # The default sleep: enqueue() and stop() cut it short.
        self._wake.wait(seconds)
        self._wake.clear()


def _close_quietly(printer: Escpos) -> None:
    # After a failed write the close fails too (EIO flushing a dead pty); after a good
    # one the job is already done. Either way there is nothing left to tell the cashier.
    try:
        printer.close()
    except Exception as exc:
        log.info("closing the printer: %r", exc)
