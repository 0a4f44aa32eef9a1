"""Backup file names: `<store id>-<UTC time, YYYYmmddTHHMMSSZ>.db`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<store>[A-Za-z0-9]{1,16})-(?P<stamp>\d{8}T\d{6}Z)\.db$")
PARTIAL_SUFFIX = ".partial"


def backup_name(store_id: str, taken_at: datetime) -> str:
    return f"{store_id}-{taken_at.astimezone(UTC).strftime(_STAMP)}.db"


def stamp_of(path: Path, store_id: str) -> datetime | None:
    """When the backup at `path` was taken, if it is one of `store_id`'s backups."""
    match = _NAME.match(path.name)
    if match is None or match["store"] != store_id:
        return None
    return datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)


def list_backups(directory: Path, store_id: str) -> list[tuple[datetime, Path]]:
    """This store's backups in `directory`, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        stamp = stamp_of(path, store_id)
        if stamp is not None and path.is_file():
            found.append((stamp, path))
    return sorted(found, reverse=True)
