"""SQLite failures that mean the storage under the database is at fault.

A full disk, a file system remounted read-only (an SD card going bad) or an
I/O error are not bugs and not the caller's fault: the write is rolled back
whole, and it will succeed once an operator frees space or fixes the disk.
They become Unavailable (gRPC UNAVAILABLE, which a till retries with the same
ids) with a reason naming the fault, instead of an opaque INTERNAL.
"""

from __future__ import annotations

import sqlite3

from store_server.domain.errors import DomainError, Unavailable

# Primary result codes (the low byte of the extended code), sqlite3.h.
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_FULL = 13

DISK_FULL = "DISK_FULL"
DATABASE_READ_ONLY = "DATABASE_READ_ONLY"
STORAGE_IO_ERROR = "STORAGE_IO_ERROR"

_FAULTS = {
    SQLITE_FULL: (DISK_FULL, "the store server's disk is full; the write was not made"),
    SQLITE_READONLY: (
        DATABASE_READ_ONLY,
        "the store database is read-only (file system or permissions); the write was not made",
    ),
    SQLITE_IOERR: (STORAGE_IO_ERROR, "the store server's disk failed a write; it was not made"),
}


def storage_fault(exc: BaseException) -> Unavailable | None:
    """The Unavailable error `exc` stands for, or None when it is no storage fault."""
    if isinstance(exc, DomainError):
        # Already an answer chosen by the code that raised it, whatever it
        # was handling at the time.
        return exc if isinstance(exc, Unavailable) else None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _FAULTS:
                reason, message = _FAULTS[code & 0xFF]
                return Unavailable(message, reason=reason)
            if code is None and "disk is full" in str(current):  # very old sqlite3 modules
                return Unavailable(_FAULTS[SQLITE_FULL][1], reason=DISK_FULL)
        # SQLAlchemy keeps the DB-API exception in .orig.
        orig = getattr(current, "orig", None)
        current = (
            orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
        )
    return None
