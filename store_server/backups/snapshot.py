"""Taking a backup of the live database with SQLite's online backup API.

Never a file copy: copying store.db while the server writes (and while part
of the data is still in store.db-wal) gives a torn or stale file. The backup
API copies every page in one step inside one read transaction, so the copy
is exactly the database as of that moment, WAL content included, and the
server's tills keep committing meanwhile (WAL readers never block the writer).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from store_server.appliance.settings import BackupPolicy
from store_server.backups.backup_info import STORE_KEY, TAKEN_KEY, integrity_of
from store_server.backups.naming import PARTIAL_SUFFIX, backup_name, list_backups
from store_server.backups.rotation import backups_to_keep

log = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 30.0


class BackupFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    seconds: float
    removed: tuple[Path, ...]  # older backups the rotation deleted


def take_backup(
    database: Path, directory: Path, *, store_id: str, now: datetime
) -> tuple[Path, int, float]:
    """Write a verified backup of `database` into `directory`; returns (path, bytes, seconds).

    The file appears under its final name only once it is complete, on disk
    (fsync) and has passed integrity_check; a failed backup leaves nothing.
    """
    if not database.is_file():
        raise BackupFailed(f"no database at {database}")
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / backup_name(store_id, now)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    started = time.monotonic()
    try:
        _copy(database, partial, store_id=store_id, now=now)
        _fsync(partial)
        os.replace(partial, final)
        _fsync_dir(directory)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return final, final.stat().st_size, time.monotonic() - started


def _copy(database: Path, target: Path, *, store_id: str, now: datetime) -> None:
    target.unlink(missing_ok=True)
    src = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: all pages in one step, one consistent snapshot
        # A backup is one self-contained file, not a WAL database.
        dst.execute("PRAGMA journal_mode=DELETE")
        with dst:
            dst.executemany(
                "INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)",
                [(STORE_KEY, store_id), (TAKEN_KEY, now.isoformat())],
            )
        integrity = integrity_of(dst)
        if integrity != "ok":
            raise BackupFailed(f"the backup failed integrity_check: {integrity}")
    except sqlite3.Error as exc:
        raise BackupFailed(f"backing up {database}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def backup_and_rotate(
    database: Path, policy: BackupPolicy, *, store_id: str, now: datetime, zone: ZoneInfo
) -> BackupResult:
    """Take a backup, then delete the backups the rotation no longer keeps."""
    directory = policy.directory_for(database)
    path, size, seconds = take_backup(database, directory, store_id=store_id, now=now)
    for stale in directory.glob(f"*{PARTIAL_SUFFIX}"):  # left by a crash mid-backup
        stale.unlink(missing_ok=True)
    backups = list_backups(directory, store_id)
    keep = backups_to_keep((stamp for stamp, _ in backups), policy, zone)
    removed = []
    for stamp, old in backups:
        if stamp not in keep and old != path:
            old.unlink(missing_ok=True)
            removed.append(old)
    return BackupResult(path, size, seconds, tuple(removed))


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # So the rename itself survives a power cut.
    with contextlib.suppress(OSError):
        _fsync(directory)
