from __future__ import annotations

import queue

import pytest
import serial

from devices.errors import DeviceUnavailableError
from devices.scale.protocol import ScaleState
from devices.scale.serial_scale import SerialScale
from devices.scale.simulator import ScaleSimulator
from tests.devices.conftest import PtyPair

TIMEOUT = 5.0


class Collected:
    def __init__(self) -> None:
        self.weights: queue.Queue[int] = queue.Queue()
        self.states: queue.Queue[ScaleState] = queue.Queue()
        self.errors: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def scale(self, port_url: str, **options: object) -> SerialScale:
        return SerialScale(
            port_url,
            on_weight=self.weights.put,
            on_state=self.states.put,
            on_error=lambda reason, raw: self.errors.put((reason, raw)),
            **options,
        )


def test_only_stable_weights_come_out(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    got = Collected()
    scale = got.scale(pty_pair.a, stale_after=None)
    scale.start()
    try:
        simulator = ScaleSimulator(far_end)
        simulator.unstable(340)
        assert got.states.get(timeout=TIMEOUT) is ScaleState.UNSTABLE
        assert scale.stable_weight() is None
        simulator.unstable(351)
        simulator.stable(352)
        simulator.stable(352)  # continuous output repeats: reported once
        assert got.states.get(timeout=TIMEOUT) is ScaleState.STABLE
        assert got.weights.get(timeout=TIMEOUT) == 352
        assert scale.wait_stable_weight(TIMEOUT) == 352

        simulator.send_raw(b"ST,NT,-  0.120kg\r\n")
        assert got.states.get(timeout=TIMEOUT) is ScaleState.NEGATIVE
        assert scale.stable_weight() is None
        simulator.overload()
        assert got.states.get(timeout=TIMEOUT) is ScaleState.OVERLOAD
        assert scale.stable_weight() is None

        simulator.stable(1500)
        assert got.weights.get(timeout=TIMEOUT) == 1500
        assert scale.stable_weight() == 1500
    finally:
        scale.stop()
    assert got.weights.empty()  # no weight for the negative, overload or repeated lines
    assert got.errors.empty()


def test_grams_unit_and_bad_lines(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    got = Collected()
    scale = got.scale(pty_pair.a, stale_after=None)
    scale.start()
    try:
        simulator = ScaleSimulator(far_end, unit="g")
        simulator.send_raw(b"ST,GS,+  0.35\x8f2kg\r\n")  # line noise
        simulator.stable(120)
        reason, raw = got.errors.get(timeout=TIMEOUT)
        assert "non-ASCII" in reason
        assert raw == b"ST,GS,+  0.35\x8f2kg\r"
        assert got.weights.get(timeout=TIMEOUT) == 120
    finally:
        scale.stop()


def test_stale_weight_is_withdrawn() -> None:
    """A scale that stops talking must not leave its last weight on the till."""
    now = [100.0]
    scale = SerialScale("loop://", stale_after=1.0, clock=lambda: now[0])
    scale._line(b"ST,GS,+  0.352kg")  # drive the parser directly: no port needed
    assert scale.stable_weight() == 352
    now[0] = 101.0
    assert scale.stable_weight() == 352
    now[0] = 101.5
    assert scale.stable_weight() is None


def test_missing_port_is_a_clear_error(tmp_path) -> None:
    scale = SerialScale(str(tmp_path / "ttyScale"))
    with pytest.raises(DeviceUnavailableError, match="scale port"):
        scale.start()
