"""Pseudo-terminal pairs from socat, so the serial drivers run against real ttys."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

from tests.support.socat import SocatLink


@dataclass(frozen=True)
class PtyPair:
    """Two linked ttys: bytes written to one come out of the other."""

    a: str
    b: str


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[PtyPair]:
    link = SocatLink(tmp_path)
    link.start()
    try:
        yield PtyPair(link.a, link.b)
    finally:
        link.kill()


@pytest.fixture
def far_end(pty_pair: PtyPair) -> Iterator[serial.Serial]:
    """The test's own end (b) of the pair, opened with pyserial; the driver gets a."""
    port = serial.Serial(pty_pair.b, baudrate=9600, timeout=0.1)
    yield port
    port.close()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` s (a hang guard, not a check)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
