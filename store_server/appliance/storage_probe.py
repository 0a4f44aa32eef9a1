"""Is the disk under the database able to take writes? (statvfs, no write)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from store_server.appliance.storage_faults import DATABASE_READ_ONLY, DISK_FULL


@dataclass(frozen=True)
class StorageState:
    reason: str  # "" when writable, else DISK_FULL or DATABASE_READ_ONLY
    detail: str
    free_bytes: int
    total_bytes: int

    @property
    def ok(self) -> bool:
        return not self.reason


def probe_storage(database: Path, min_free_bytes: int) -> StorageState:
    """The state of the file system holding `database` (and its WAL beside it)."""
    directory = database.parent
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    total = st.f_blocks * st.f_frsize
    if st.f_flag & os.ST_RDONLY:
        return StorageState(DATABASE_READ_ONLY, f"{directory} is mounted read-only", free, total)
    # SQLite writes the -wal and -shm files beside the database: it needs both.
    for path in (directory, database):
        if path.exists() and not os.access(path, os.W_OK):
            return StorageState(DATABASE_READ_ONLY, f"{path} is not writable", free, total)
    if free < min_free_bytes:
        return StorageState(
            DISK_FULL,
            f"{_mb(free)} free on {directory}, below the {_mb(min_free_bytes)} minimum",
            free,
            total,
        )
    return StorageState("", f"{_mb(free)} free of {_mb(total)} on {directory}", free, total)


def _mb(n: int) -> str:
    return f"{n / 1_048_576:,.1f} MB"
