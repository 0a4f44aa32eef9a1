"""Background reader that splits a serial byte stream into terminated lines.

Shared by the serial scanner and the serial scale: both devices send short ASCII lines
ending in a fixed terminator, and both must report noise instead of guessing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from devices.errors import DeviceUnavailableError

log = logging.getLogger(__name__)

# Short read timeout so stop() is honoured quickly without closing the port under the
# reader thread (pyserial is not safe against close() racing a read()).
_READ_TIMEOUT_S = 0.05


class SerialLineReader:
    """Reads lines from ``port_url`` in a daemon thread.

    ``on_line(raw)`` gets each line without its terminator. ``on_noise(reason, raw)`` gets
    lines longer than ``max_line`` bytes, a partial line left when the port closes, and
    port failures. Both callbacks run on the reader thread.
    """

    def __init__(
        self,
        port_url: str,
        *,
        baudrate: int,
        terminator: bytes,
        max_line: int,
        on_line: Callable[[bytes], None],
        on_noise: Callable[[str, bytes], None],
        device_name: str = "serial device",
    ) -> None:
        if not terminator:
            raise ValueError("terminator must not be empty")
        self.port_url = port_url
        self.baudrate = baudrate
        self.terminator = terminator
        self.max_line = max_line
        self.device_name = device_name
        self._on_line = on_line
        self._on_noise = on_noise
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._buffer = bytearray()
        # After an over-long line we drop bytes up to the next terminator, so the tail of
        # the noise is not mistaken for a fresh line.
        self._discarding = False

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def pending_bytes(self) -> int:
        """Bytes of an unfinished line received so far (for diagnostics and tests)."""
        return len(self._buffer)

    def start(self) -> None:
        """Open the port and start reading; raises DeviceUnavailableError if it is missing."""
        if self.running:
            return
        try:
            port = serial.serial_for_url(
                self.port_url, baudrate=self.baudrate, timeout=_READ_TIMEOUT_S
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnavailableError(
                f"{self.device_name} port {self.port_url!r} cannot be opened "
                f"(is it plugged in and is the port right?): {exc}"
            ) from exc
        self._stop.clear()
        self._buffer.clear()
        self._discarding = False
        self._thread = threading.Thread(
            target=self._run, args=(port,), name=f"{self.device_name} reader", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port; a partial line is reported as noise."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        self._thread = None

    def _run(self, port: serial.SerialBase) -> None:
        try:
            while not self._stop.is_set():
                try:
                    chunk = port.read(max(1, port.in_waiting))
                except (serial.SerialException, OSError) as exc:
                    self._noise(f"port failed: {exc}", b"")
                    break
                if chunk:
                    self._feed(chunk)
        finally:
            port.close()
            if self._buffer and not self._discarding:
                self._noise("partial line left when the port closed", bytes(self._buffer))
            self._buffer.clear()

    def _feed(self, chunk: bytes) -> None:
        self._buffer += chunk
        while True:
            end = self._buffer.find(self.terminator)
            if end < 0:
                break
            line = bytes(self._buffer[:end])
            del self._buffer[: end + len(self.terminator)]
            if self._discarding:
                self._discarding = False
                continue
            self._deliver(line)
        # Keep len(terminator) - 1 bytes: they may be the start of a split terminator.
        if not self._discarding and len(self._buffer) > self.max_line + len(self.terminator):
            self._noise(f"line longer than {self.max_line} bytes", bytes(self._buffer))
            self._discarding = True
        if self._discarding:
            keep = len(self.terminator) - 1
            del self._buffer[: max(0, len(self._buffer) - keep)]

    def _deliver(self, line: bytes) -> None:
        if len(line) > self.max_line:
            self._noise(f"line longer than {self.max_line} bytes", line)
            return
        try:
            self._on_line(line)
        except Exception:
            # A bug in the caller's callback must not kill the reader thread: the next
            # scan or weight still has to arrive.
            log.exception("%s line callback failed", self.device_name)

    def _noise(self, reason: str, raw: bytes) -> None:
        try:
            self._on_noise(reason, raw)
        except Exception:
            log.exception("%s noise callback failed", self.device_name)
