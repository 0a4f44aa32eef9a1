"""Pseudo-terminal pairs from socat, so the serial drivers run against real ttys."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

READY_TEXT = "starting data transfer loop"
STARTUP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class PtyPair:
    """Two linked ttys: bytes written to one come out of the other."""

    a: str
    b: str


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    socat = shutil.which("socat")
    if socat is None:
        pytest.fail(
            "socat is missing: the serial device tests need it (apt-get install socat)",
            pytrace=False,
        )
    a, b = tmp_path / "ttyA", tmp_path / "ttyB"
    log_path = tmp_path / "socat.log"
    # stderr goes to a file, not a pipe: nobody reads it after start-up and a full pipe
    # would stall socat.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while READY_TEXT not in log_path.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"socat did not start:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.01)
        yield PtyPair(str(a), str(b))
    finally:
        process.terminate()
        process.wait(timeout=5)


@pytest.fixture
def far_end(pty_pair: PtyPair) -> Iterator[serial.Serial]:
    """The test's own end (b) of the pair, opened with pyserial; the driver gets a."""
    port = serial.Serial(pty_pair.b, baudrate=9600, timeout=0.1)
    yield port
    port.close()


def read_until(port: serial.Serial, done: Callable[[bytes], bool], timeout: float = 5.0) -> bytes:
    """Read from ``port`` until ``done(received)`` is true; fail after ``timeout`` s."""
    received = b""
    deadline = time.monotonic() + timeout
    while not done(received):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; received so far {received!r}")
        received += port.read(max(1, port.in_waiting))
    return received


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` s (a hang guard, not a check)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
