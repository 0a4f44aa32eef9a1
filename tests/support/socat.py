"""socat pseudo-terminal pairs: serial devices and printers tested against real ttys."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import serial

READY_TEXT = "starting data transfer loop"
STARTUP_TIMEOUT_S = 10.0


def socat_binary(what: str) -> str:
    """socat's path; fails (never skips) the test when it is missing."""
    socat = shutil.which("socat")
    if socat is None:
        pytest.fail(
            f"socat is missing: {what} need it (apt-get install socat; `make test` installs it)",
            pytrace=False,
        )
    return socat


class SocatLink:
    """Two linked ptys at ``a`` and ``b``; kill() is a cable pulled, start() plugs it back."""

    def __init__(
        self,
        directory: Path,
        a_name: str = "ttyA",
        b_name: str = "ttyB",
        *,
        what: str = "the serial device tests",
    ) -> None:
        self._socat = socat_binary(what)
        self._dir = directory
        self.a = str(directory / a_name)
        self.b = str(directory / b_name)
        self._process: subprocess.Popen[bytes] | None = None
        self._starts = 0

    def start(self) -> None:
        assert self._process is None, "socat is already running"
        self._starts += 1
        log_path = self._dir / f"socat-{self._starts}.log"  # a fresh log per start
        # stderr to a file, not a pipe: nobody reads it after start-up and a full pipe
        # would stall socat.
        with log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self._socat,
                    "-d",
                    "-d",
                    f"pty,raw,echo=0,link={self.a}",
                    f"pty,raw,echo=0,link={self.b}",
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
        """Both ptys close and socat removes the links."""
        if self._process is None:
            return
        self._process.terminate()
        self._process.wait(timeout=5)
        self._process = None


def read_until(port: serial.Serial, done: Callable[[bytes], bool], timeout: float = 5.0) -> bytes:
    """Read from ``port`` until ``done(received)``; a hang guard, not a timing check."""
    received = b""
    deadline = time.monotonic() + timeout
    while not done(received):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; received so far {received!r}")
        received += port.read(max(1, port.in_waiting))
    return received
