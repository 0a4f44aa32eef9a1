"""A simulated network receipt printer: ESC/POS over raw TCP, as printers do on port 9100.

Each connection is one job (python-escpos's Network printer, opened per job by the print
queue, connects, writes and closes). When the client closes, the bytes it sent are handed
to ``on_job``; a connection that sent nothing (a probe) is not a job. Jobs are handled one
at a time, in the order they finished, like a single print head.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

JobHandler = Callable[[bytes], None]
# A job that stalls longer than this is cut off and handled with what arrived.
READ_TIMEOUT_S = 30.0
MAX_JOB_BYTES = 16 * 1024 * 1024


class NetworkPrinterSimulator:
    """Listens on ``host:port`` (port 0: any free port) and calls ``on_job(bytes)``."""

    def __init__(self, on_job: JobHandler, host: str = "127.0.0.1", port: int = 9100) -> None:
        self._on_job = on_job
        self._sock = socket.create_server((host, port))
        self._sock.settimeout(0.2)  # so stop() is noticed
        self._stop = threading.Event()
        self._job_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._sock.getsockname()[:2]
        return host, port

    def start(self) -> NetworkPrinterSimulator:
        self._thread = threading.Thread(target=self._accept, name="sim-printer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> NetworkPrinterSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the socket was closed
            threading.Thread(target=self._receive, args=(connection,), daemon=True).start()

    def _receive(self, connection: socket.socket) -> None:
        data = bytearray()
        with connection:
            connection.settimeout(READ_TIMEOUT_S)
            try:
                while len(data) < MAX_JOB_BYTES and (chunk := connection.recv(65536)):
                    data += chunk
            except OSError as exc:
                log.warning("simulated printer: job cut off after %d bytes: %s", len(data), exc)
        if not data:
            return
        with self._job_lock:
            try:
                self._on_job(bytes(data))
            except Exception:  # a bad job must not stop the printer
                log.exception("simulated printer: job of %d bytes failed", len(data))
