"""Serial weighing scale driver: reads the continuous output in a background thread.

Only stable, non-negative, non-overload weights are ever given out as weights; the other
readings are reported as states so the till can say "wait", "re-zero" or "too heavy".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from devices.scale.protocol import (
    MAX_LINE_LENGTH,
    ScaleProtocolError,
    ScaleReading,
    ScaleState,
    parse_line,
)
from devices.serial_lines import SerialLineReader


def _ignore(*_args: object) -> None:
    pass


class SerialScale:
    """A scale on ``port_url`` (anything ``serial.serial_for_url`` accepts).

    Callbacks run on the reader thread:
    - ``on_weight(grams)`` when a stable sellable weight arrives that differs from the last
      one reported or follows a non-stable reading (continuous output repeats the same
      line ~10 times a second);
    - ``on_state(state)`` when the state changes;
    - ``on_error(reason, raw)`` for lines that break the protocol and port failures.

    ``stable_weight()`` returns the current sellable weight, or None when the scale is
    settling, overloaded, negative, or silent for more than ``stale_after`` seconds (a
    scale unplugged mid-weighing must not leave its last weight on the till).
    """

    def __init__(
        self,
        port_url: str,
        baudrate: int = 9600,
        terminator: bytes = b"\n",
        *,
        on_weight: Callable[[int], None] = _ignore,
        on_state: Callable[[ScaleState], None] = _ignore,
        on_error: Callable[[str, bytes], None] = _ignore,
        stale_after: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_weight = on_weight
        self._on_state = on_state
        self._on_error = on_error
        self._stale_after = stale_after
        self._clock = clock
        self._lock = threading.Condition()
        self._latest: ScaleReading | None = None
        self._latest_at = 0.0
        self._reported_grams: int | None = None
        self._reader = SerialLineReader(
            port_url,
            baudrate=baudrate,
            terminator=terminator,
            max_line=MAX_LINE_LENGTH,
            on_line=self._line,
            on_noise=on_error,
            device_name="scale",
        )

    @property
    def running(self) -> bool:
        return self._reader.running

    def start(self) -> None:
        """Open the port; raises devices.errors.DeviceUnavailableError when it is missing."""
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()

    @property
    def state(self) -> ScaleState | None:
        with self._lock:
            return None if self._latest is None else self._latest.state

    def stable_weight(self) -> int | None:
        """Current stable weight in grams, or None (see the class docstring)."""
        with self._lock:
            return self._sellable_locked()

    def wait_stable_weight(self, timeout: float) -> int | None:
        """Block until a stable weight is current, up to ``timeout`` seconds."""
        with self._lock:
            self._lock.wait_for(lambda: self._sellable_locked() is not None, timeout)
            return self._sellable_locked()

    def _sellable_locked(self) -> int | None:
        if self._latest is None:
            return None
        if self._stale_after is not None and self._clock() - self._latest_at > self._stale_after:
            return None
        return self._latest.sellable_grams

    def _line(self, raw: bytes) -> None:
        try:
            reading = parse_line(raw)
        except ScaleProtocolError as exc:
            self._on_error(str(exc), raw)
            return
        with self._lock:
            previous = self._latest
            self._latest = reading
            self._latest_at = self._clock()
            grams = reading.sellable_grams
            new_weight = grams is not None and grams != self._reported_grams
            self._reported_grams = grams
            self._lock.notify_all()
        if previous is None or previous.state is not reading.state:
            self._on_state(reading.state)
        if new_weight and grams is not None:
            self._on_weight(grams)
