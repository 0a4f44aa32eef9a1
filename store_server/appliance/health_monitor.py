"""gRPC health follows the disk and the database.

NOT_SERVING while the database's file system is full or read-only, so a
monitor (or a till checking before a sale) sees it; SERVING again as soon as
a check finds it writable. A write that failed for such a cause is reported
at once by the interceptor, before the next periodic check.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from grpc_health.v1 import health, health_pb2

from store_server.appliance.storage_faults import DISK_FULL
from store_server.appliance.storage_probe import StorageState, probe_storage
from store_server.domain.errors import Unavailable

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class HealthMonitor:
    def __init__(
        self,
        servicer: health.HealthServicer,
        service_names: Iterable[str],
        database: Path,
        *,
        min_free_bytes: int,
        on_change: Callable[[str], None] | None = None,
    ) -> None:
        self._servicer = servicer
        self._names = ("", *service_names)
        self._database = database
        self._min_free = min_free_bytes
        self.on_change = on_change
        self._lock = threading.Lock()
        self._started = False
        self.status_text = "starting"
        self.state: StorageState | None = None

    def start(self) -> StorageState:
        """Begin reporting (the server is listening); returns the first check."""
        with self._lock:
            self._started = True
        return self.check()

    def check(self) -> StorageState:
        """Probe the disk and publish the result."""
        try:
            state = probe_storage(self._database, self._min_free)
        except OSError as exc:  # the directory vanished, an I/O error on statvfs
            state = StorageState("STORAGE_IO_ERROR", f"cannot check {self._database}: {exc}", 0, 0)
        self.state = state
        if state.ok:
            self._publish(SERVING, "serving")
        else:
            self._publish(NOT_SERVING, f"NOT_SERVING: {state.reason}: {state.detail}")
        return state

    def report_fault(self, fault: Unavailable) -> None:
        """A write just failed for a storage cause: stop serving until a check passes."""
        detail = "the disk is full" if fault.reason == DISK_FULL else fault.message
        self._publish(NOT_SERVING, f"NOT_SERVING: {fault.reason}: {detail}")

    def _publish(self, status: int, text: str) -> None:
        with self._lock:
            if not self._started:
                return  # the server sets SERVING itself once it listens
            changed = text != self.status_text
            self.status_text = text
            for name in self._names:
                self._servicer.set(name, status)
        if changed:
            level = logging.INFO if status == SERVING else logging.ERROR
            log.log(level, "health: %s", text)
            if self.on_change is not None:
                self.on_change(text)
