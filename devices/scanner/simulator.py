"""Plays a serial barcode scanner: writes codes to a port the way the hardware does."""

from __future__ import annotations

from typing import Protocol


class WritablePort(Protocol):
    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...


class ScannerSimulator:
    """Writes ``prefix + code + suffix + terminator`` per scan to an open port.

    The port is any pyserial object (or anything with write/flush); the caller owns it.
    """

    def __init__(
        self,
        port: WritablePort,
        terminator: bytes = b"\r",
        prefix: bytes = b"",
        suffix: bytes = b"",
    ) -> None:
        self.port = port
        self.terminator = terminator
        self.prefix = prefix
        self.suffix = suffix

    def frame(self, code: str) -> bytes:
        """The bytes one scan of ``code`` puts on the wire."""
        return self.prefix + code.encode("ascii") + self.suffix + self.terminator

    def scan(self, code: str) -> None:
        self.send_raw(self.frame(code))

    def send_raw(self, data: bytes) -> None:
        """Write arbitrary bytes: noise, a half line, a line without terminator."""
        self.port.write(data)
        self.port.flush()
