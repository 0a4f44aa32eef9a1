from __future__ import annotations

import queue

import pytest
import serial

from devices.errors import DeviceUnavailableError
from devices.scanner.serial_scanner import NoisyLine, NoisyLineError, SerialScanner, check_code
from devices.scanner.simulator import ScannerSimulator
from tests.devices.conftest import PtyPair, wait_for

TIMEOUT = 5.0


class Collected:
    def __init__(self) -> None:
        self.codes: queue.Queue[str] = queue.Queue()
        self.errors: queue.Queue[NoisyLine] = queue.Queue()

    def scanner(self, port_url: str, **options: object) -> SerialScanner:
        return SerialScanner(port_url, on_code=self.codes.put, on_error=self.errors.put, **options)


def test_check_code_accepts_printable_ascii_up_to_48() -> None:
    assert check_code(b"6901234567892") == "6901234567892"
    assert check_code(b"A" * 48) == "A" * 48
    assert check_code(b"]C1012345", prefix=b"]C1") == "012345"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", "empty code"),
        (b"69012\x0034", "non-printable byte 0x00 at position 5"),
        (b"6901\xff", "non-printable byte 0xff at position 4"),
        (b"A" * 49, "code of 49 characters (at most 48)"),
    ],
)
def test_check_code_rejects_noise(line: bytes, reason: str) -> None:
    with pytest.raises(NoisyLineError) as caught:
        check_code(line)
    assert caught.value.reason == reason


def test_codes_arrive_over_a_real_pty(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    got = Collected()
    scanner = got.scanner(pty_pair.a)
    scanner.start()
    try:
        simulator = ScannerSimulator(far_end)
        simulator.scan("6901234567892")
        # Two codes in one write and one code split over two writes.
        simulator.send_raw(b"4891028164456\r12345")
        simulator.send_raw(b"678\r")
        assert got.codes.get(timeout=TIMEOUT) == "6901234567892"
        assert got.codes.get(timeout=TIMEOUT) == "4891028164456"
        assert got.codes.get(timeout=TIMEOUT) == "12345678"
    finally:
        scanner.stop()
    assert got.errors.empty()


def test_prefix_suffix_and_crlf_are_stripped(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    got = Collected()
    framing = {"prefix": b"\x02", "suffix": b"\x03", "terminator": b"\r\n"}
    scanner = got.scanner(pty_pair.a, **framing)
    scanner.start()
    try:
        ScannerSimulator(far_end, **framing).scan("R0001-000123")
        assert got.codes.get(timeout=TIMEOUT) == "R0001-000123"
    finally:
        scanner.stop()


def test_noisy_lines_are_reported_not_passed_on(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    got = Collected()
    scanner = got.scanner(pty_pair.a)
    scanner.start()
    try:
        simulator = ScannerSimulator(far_end)
        simulator.send_raw(b"69\x0701234\r")
        simulator.send_raw(b"9" * 60 + b"\r")
        simulator.scan("6901234567892")
        first = got.errors.get(timeout=TIMEOUT)
        assert first == NoisyLine("non-printable byte 0x07 at position 2", b"69\x0701234")
        second = got.errors.get(timeout=TIMEOUT)
        assert second.reason == "line longer than 48 bytes"
        # The good scan after the noise still arrives, and only it.
        assert got.codes.get(timeout=TIMEOUT) == "6901234567892"
    finally:
        scanner.stop()
    assert got.codes.empty()
    assert got.errors.empty()


def test_partial_line_at_close_is_reported(pty_pair: PtyPair, far_end: serial.Serial) -> None:
    got = Collected()
    scanner = got.scanner(pty_pair.a)
    scanner.start()
    simulator = ScannerSimulator(far_end)
    simulator.scan("1234")
    assert got.codes.get(timeout=TIMEOUT) == "1234"
    simulator.send_raw(b"690123")  # the cable is pulled mid-scan
    # Close only once the half line has reached the driver (a marker scan would complete
    # the line, so wait on the pending byte count instead).
    wait_for(lambda: scanner.pending_bytes == 6)
    scanner.stop()
    assert got.errors.get(timeout=TIMEOUT) == NoisyLine(
        "partial line left when the port closed", b"690123"
    )
    assert got.codes.empty()


def test_missing_port_is_a_clear_error(tmp_path) -> None:
    got = Collected()
    scanner = got.scanner(str(tmp_path / "no-such-tty"))
    with pytest.raises(DeviceUnavailableError, match=r"scanner port .*no-such-tty"):
        scanner.start()
    assert not scanner.running
