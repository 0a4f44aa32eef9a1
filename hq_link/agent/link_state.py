"""The agent's state as the store sees it: last contact with HQ, last error.

Kept in the store database's `store_meta` (beside `hq_link.shipped_seq`), so
`storectl doctor` and `storectl hq status` read one file, and a store whose
agent never ran has none of these keys ("not configured"). Writes are rare:
at most one every `min_interval` seconds per kind, besides state changes,
so a busy link never competes with the tills for SQLite's one writer.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HQ_KEY = "hq_link.hq"  # "host:port (mTLS)" or "(plaintext)"
CONTACT_KEY = "hq_link.last_contact_at"  # last answer from HQ, UTC ISO-8601
ERROR_KEY = "hq_link.last_error"
ERROR_AT_KEY = "hq_link.last_error_at"
CERT_KEY = "hq_link.tls_cert"  # the store certificate's path, for doctor's expiry check
KEYS = (HQ_KEY, CONTACT_KEY, ERROR_KEY, ERROR_AT_KEY, CERT_KEY)
BUSY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LinkState:
    hq: str
    last_contact_at: datetime | None
    last_error: str
    last_error_at: datetime | None
    tls_cert: str

    @property
    def failing(self) -> bool:
        """The last thing that happened on the link was an error."""
        if self.last_error_at is None:
            return False
        return self.last_contact_at is None or self.last_error_at > self.last_contact_at


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def read_link_state(conn: sqlite3.Connection) -> LinkState | None:
    """The agent's recorded state; None when no agent ever ran on this store."""
    marks = ",".join("?" * len(KEYS))
    try:
        rows = dict(conn.execute(f"SELECT key, value FROM store_meta WHERE key IN ({marks})", KEYS))
    except sqlite3.OperationalError:  # no store_meta yet: a database never migrated
        return None
    if not rows:
        return None
    return LinkState(
        hq=rows.get(HQ_KEY, ""),
        last_contact_at=_time(rows.get(CONTACT_KEY)),
        last_error=rows.get(ERROR_KEY, ""),
        last_error_at=_time(rows.get(ERROR_AT_KEY)),
        tls_cert=rows.get(CERT_KEY, ""),
    )


class LinkRecorder:
    """Writes the agent's state to store_meta; failures to write are the caller's
    to ignore (the state is for people, the change log's cursor is not here)."""

    def __init__(
        self,
        database: Path,
        *,
        hq: str = "",
        tls_cert: Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] | None = None,
        min_interval: float = 10.0,
    ) -> None:
        self.path = Path(database)
        mode = "mTLS" if tls_cert is not None else "plaintext"
        # Where the agent connects and how: written with the first state recorded
        # (by the recorder that knows it; others record contact only).
        self._identity = {HQ_KEY: f"{hq} ({mode})", CERT_KEY: str(tls_cert or "")}
        self._identity_written = not hq
        self._now = now
        self._clock = clock or time.monotonic
        self._min_interval = min_interval
        self._last_contact_write: float | None = None
        self._last_error_write: float | None = None
        self._last_error = ""
        self._failing = False

    def _write(self, values: dict[str, str]) -> None:
        if not self._identity_written:
            values = {**self._identity, **values}
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
        self._identity_written = True

    def connected(self) -> None:
        """A (re)connect: always recorded."""
        self._write({CONTACT_KEY: self._now().isoformat()})
        self._last_contact_write = self._clock()
        self._failing = False

    def contact(self) -> None:
        """HQ answered; recorded at most every min_interval while all is well."""
        tick = self._clock()
        if (
            not self._failing
            and self._last_contact_write is not None
            and tick - self._last_contact_write < self._min_interval
        ):
            return
        self._write({CONTACT_KEY: self._now().isoformat()})
        self._last_contact_write = tick
        self._failing = False

    def error(self, text: str) -> None:
        """The link failed; a new error is recorded at once, a repeated one rarely."""
        tick = self._clock()
        if (
            text == self._last_error
            and self._failing
            and self._last_error_write is not None
            and tick - self._last_error_write < self._min_interval
        ):
            return
        self._write({ERROR_KEY: text[:500], ERROR_AT_KEY: self._now().isoformat()})
        self._last_error_write = tick
        self._last_error = text
        self._failing = True
