"""Restoring a backup in place of the store database.

Refuses a backup that fails integrity_check, that belongs to another store,
or whose schema this version does not know (taken by a newer Tillpoint).
The current database is never deleted: it is renamed aside, together with
its WAL, as `<db>.before-restore-<stamp>` (openable as it was). The server
must be stopped; it migrates a restored older schema when it starts.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from store_server.backups.backup_info import BackupInfo, inspect_backup
from store_server.db import migrate

# SQLite finds a database's WAL and shared memory by these suffixes, so the
# set aside keeps them under the same new stem.
_COMPANIONS = ("", "-wal", "-shm", "-journal")


class RestoreRefused(RuntimeError):
    pass


@dataclass(frozen=True)
class RestoreResult:
    info: BackupInfo
    set_aside: Path | None  # where the database it replaced now is (None: there was none)


def check_restorable(backup: Path, store_id: str) -> BackupInfo:
    """The backup's description, or RestoreRefused saying why it must not be restored."""
    info = inspect_backup(backup)
    if not info.intact:
        raise RestoreRefused(
            f"{backup} is damaged or unreadable ({info.integrity}); nothing was changed"
        )
    if info.store_id is None:
        raise RestoreRefused(
            f"{backup} is not a Tillpoint backup (no store id recorded); nothing was changed"
        )
    if info.store_id != store_id:
        raise RestoreRefused(
            f"{backup} is a backup of store {info.store_id}, this is store {store_id}; "
            "nothing was changed"
        )
    if info.revision is not None and not _known_revision(info.revision):
        raise RestoreRefused(
            f"{backup} has schema {info.revision}, unknown to this version (a newer "
            "Tillpoint wrote it); nothing was changed"
        )
    return info


def restore_backup(backup: Path, database: Path, *, store_id: str, now: datetime) -> RestoreResult:
    """Replace `database` by `backup` (the store server must not be running)."""
    info = check_restorable(backup, store_id)
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(database.name + ".restoring")
    _copy(backup, incoming)
    set_aside = None
    if database.exists():
        set_aside = database.with_name(
            f"{database.name}.before-restore-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        )
        for suffix in _COMPANIONS:
            current = Path(f"{database}{suffix}")
            if current.exists():
                os.replace(current, Path(f"{set_aside}{suffix}"))
    os.replace(incoming, database)
    _fsync_dir(database.parent)
    return RestoreResult(info, set_aside)


def _copy(backup: Path, target: Path) -> None:
    """Copy through SQLite (checks every page on the way) and fsync."""
    for suffix in _COMPANIONS:
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _known_revision(revision: str) -> bool:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    try:
        return ScriptDirectory.from_config(cfg).get_revision(revision) is not None
    except CommandError:
        return False


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
