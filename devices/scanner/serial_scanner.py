"""Barcode scanner on a serial port (real RS-232, USB-CDC or a socat pty in tests).

A scanner sends ``prefix + code + suffix + terminator`` per scan. Only printable ASCII
codes of 1-48 characters reach ``on_code``; anything else is noise (a loose cable, a
baud-rate mismatch, a half-sent line) and goes to ``on_error`` with the reason, because a
garbled code that happened to match a product would ring up the wrong item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from devices.serial_lines import SerialLineReader

MAX_CODE_LENGTH = 48


@dataclass(frozen=True)
class NoisyLine:
    """A line that was not passed on as a code: why, and the raw bytes as received."""

    reason: str
    raw: bytes


class NoisyLineError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_code(line: bytes, prefix: bytes = b"", suffix: bytes = b"") -> str:
    """Return the code inside one line (terminator already removed) or raise NoisyLineError."""
    body = line
    if prefix:
        if not body.startswith(prefix):
            raise NoisyLineError(f"missing prefix {prefix!r}")
        body = body[len(prefix) :]
    if suffix:
        if not body.endswith(suffix):
            raise NoisyLineError(f"missing suffix {suffix!r}")
        body = body[: -len(suffix)]
    if not body:
        raise NoisyLineError("empty code")
    for index, byte in enumerate(body):
        if not 0x20 <= byte <= 0x7E:
            raise NoisyLineError(f"non-printable byte 0x{byte:02x} at position {index}")
    if len(body) > MAX_CODE_LENGTH:
        raise NoisyLineError(f"code of {len(body)} characters (at most {MAX_CODE_LENGTH})")
    return body.decode("ascii")


class SerialScanner:
    """Reads scans from ``port_url`` (anything ``serial.serial_for_url`` accepts).

    ``on_code(code)`` and ``on_error(NoisyLine)`` run on the reader thread; hand the code
    to the till's own queue rather than touching UI state there. Scanners set to send
    CR LF need ``terminator=b"\\r\\n"``: with the default CR the LF would make every
    following line noisy (and be reported so).
    """

    def __init__(
        self,
        port_url: str,
        baudrate: int = 9600,
        terminator: bytes = b"\r",
        prefix: bytes = b"",
        suffix: bytes = b"",
        *,
        on_code: Callable[[str], None],
        on_error: Callable[[NoisyLine], None],
    ) -> None:
        self.prefix = prefix
        self.suffix = suffix
        self._on_code = on_code
        self._on_error = on_error
        self._reader = SerialLineReader(
            port_url,
            baudrate=baudrate,
            terminator=terminator,
            max_line=len(prefix) + MAX_CODE_LENGTH + len(suffix),
            on_line=self._line,
            on_noise=self._noise,
            device_name="scanner",
        )

    @property
    def running(self) -> bool:
        return self._reader.running

    @property
    def pending_bytes(self) -> int:
        """Bytes of a scan still waiting for its terminator."""
        return self._reader.pending_bytes

    def start(self) -> None:
        """Open the port; raises devices.errors.DeviceUnavailableError when it is missing."""
        self._reader.start()

    def stop(self) -> None:
        """Close the port; a partial line still buffered is reported through on_error."""
        self._reader.stop()

    def _line(self, raw: bytes) -> None:
        try:
            code = check_code(raw, self.prefix, self.suffix)
        except NoisyLineError as exc:
            self._on_error(NoisyLine(exc.reason, raw))
            return
        self._on_code(code)

    def _noise(self, reason: str, raw: bytes) -> None:
        self._on_error(NoisyLine(reason, raw))
