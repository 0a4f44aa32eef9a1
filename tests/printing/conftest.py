"""A socat pty pair that a test can kill and start again on the same link paths.

Same approach as tests/devices/conftest.py: socat makes two linked ptys; the printer
(a python-escpos "file" printer) writes to one link and the test reads the other. Killing
socat is the printer being unplugged: the links vanish and writes fail with EIO.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from tests.support.socat import SocatLink


class PrinterLink(SocatLink):
    """socat between ``printer_path`` (the printer's device) and ``far_path`` (the test's)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "printer", "far", what="the printing tests")
        self.printer_path, self.far_path = self.a, self.b

    def open_far_end(self) -> serial.Serial:
        return serial.Serial(self.far_path, baudrate=9600, timeout=0.1)


@pytest.fixture
def socat_link(tmp_path: Path) -> Iterator[PrinterLink]:
    link = PrinterLink(tmp_path)
    link.start()
    try:
        yield link
    finally:
        link.kill()
