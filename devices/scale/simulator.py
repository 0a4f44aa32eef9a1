"""Plays a serial scale: writes continuous-output lines to a port."""

from __future__ import annotations

from typing import Protocol

from devices.scale.protocol import ScaleReading, ScaleState, WeightKind, format_line


class WritablePort(Protocol):
    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...


class ScaleSimulator:
    """Writes protocol lines (see devices.scale.protocol) to an open port the caller owns."""

    def __init__(self, port: WritablePort, unit: str = "kg") -> None:
        if unit not in ("kg", "g"):
            raise ValueError("unit must be 'kg' or 'g'")
        self.port = port
        self.unit = unit

    def send(
        self, state: ScaleState, grams: int | None, kind: WeightKind = WeightKind.GROSS
    ) -> bytes:
        """Write one reading; returns the bytes written."""
        line = format_line(ScaleReading(state, kind, grams), self.unit)
        self.send_raw(line)
        return line

    def stable(self, grams: int) -> bytes:
        return self.send(ScaleState.STABLE, grams)

    def unstable(self, grams: int) -> bytes:
        return self.send(ScaleState.UNSTABLE, grams)

    def overload(self) -> bytes:
        return self.send(ScaleState.OVERLOAD, None)

    def send_raw(self, data: bytes) -> None:
        """Write arbitrary bytes: noise or a half line."""
        self.port.write(data)
        self.port.flush()
