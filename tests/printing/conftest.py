"""A socat pty pair that a test can kill and start again on the same link paths.

Same approach as tests/devices/conftest.py: socat makes two linked ptys; the printer
(a python-escpos "file" printer) writes to one link and the test reads the other. Killing
socat is the printer being unplugged: the links vanish and writes fail with EIO.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

READY_TEXT = "starting data transfer loop"
STARTUP_TIMEOUT_S = 10.0


class SocatLink:
    """socat between ``printer_path`` (the printer's device) and ``far_path`` (the test's)."""

    def __init__(self, socat: str, directory: Path) -> None:
        self._socat = socat
        self._dir = directory
        self.printer_path = str(directory / "printer")
        self.far_path = str(directory / "far")
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self) -> None:
        assert self._process is None, "socat is already running"
        self._starts += 1
        log_path = self._dir / f"socat-{self._starts}.log"  # a fresh log per start
        # stderr to a file, not a pipe: nobody reads it after start-up.
        with log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self._socat,
                    "-d",
                    "-d",
                    f"pty,raw,echo=0,link={self.printer_path}",
                    f"pty,raw,echo=0,link={self.far_path}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while READY_TEXT not in log_path.read_text(errors="replace"):
            if self._process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"socat did not start:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.01)

    def kill(self) -> None:
        """The printer is unplugged: both ptys close and socat removes the links."""
        if self._process is None:
            return
        self._process.terminate()
        self._process.wait(timeout=5)
        self._process = None

    def open_far_end(self) -> serial.Serial:
        return serial.Serial(self.far_path, baudrate=9600, timeout=0.1)


@pytest.fixture
def socat_link(tmp_path: Path) -> Iterator[SocatLink]:
    socat = shutil.which("socat")
    if socat is None:
        pytest.fail(
            "socat is missing: the printing tests need it (apt-get install socat)",
            pytrace=False,
        )
    link = SocatLink(socat, tmp_path)
    link.start()
    try:
        yield link
    finally:
        link.kill()


def read_until(port: serial.Serial, done: Callable[[bytes], bool], timeout: float = 5.0) -> bytes:
    """Read from ``port`` until ``done(received)``; a hang guard, not a timing check."""
    received = b""
    deadline = time.monotonic() + timeout
    while not done(received):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; received so far {received!r}")
        received += port.read(max(1, port.in_waiting))
    return received
