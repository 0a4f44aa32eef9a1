"""2x20 VFD customer (pole) display on a serial port, Epson ESC/POS display command set.

Bytes used (Epson DM-D series and the many Chinese clones that emulate it):

- ``ESC @``  (1B 40)        initialize: clear screen, modes back to default
- ``US MD1`` (1F 01)        overwrite mode (no scrolling when a line is written)
- ``CLR``    (0C)           clear screen, cursor to upper left
- ``HOM``    (0B)           cursor to upper left (line 1, column 1)
- ``US $ x y`` (1F 24 x y)  cursor to column x (1-20), line y (1-2)
- ``FS &``   (1C 26)        Chinese models only: 2-byte GB characters on (``cjk=True``)

Every update rewrites both lines completely (HOM, 20 columns, US $ 1 2, 20 columns)
instead of clearing first: no flicker, and no stale characters are ever left behind.
"""

from __future__ import annotations

from typing import Protocol

import serial

from devices.display.layout import WIDTH, fit, label_amount
from devices.errors import DeviceUnavailableError

ESC_INIT = b"\x1b\x40"
OVERWRITE_MODE = b"\x1f\x01"
CLEAR = b"\x0c"
HOME = b"\x0b"
CHINESE_ON = b"\x1c\x26"


def cursor_to(column: int, line: int) -> bytes:
    """US $ x y; column 1-20, line 1-2."""
    return b"\x1f\x24" + bytes((column, line))


def frame(line1: bytes, line2: bytes) -> bytes:
    """Bytes that show two already-fitted 20-column lines."""
    if len(line1) != WIDTH or len(line2) != WIDTH:
        raise ValueError("each line must be exactly 20 bytes")
    return HOME + line1 + cursor_to(1, 2) + line2


class BytePort(Protocol):
    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class PoleDisplay:
    """Shows item, total, change and thanks. The port opens lazily on the first write.

    ``show_*`` amounts are integer fen. Names are transliterated to ASCII ('?' for what
    cannot be) unless ``cjk=True`` (a Chinese model with a GB font).
    """

    def __init__(self, port_url: str, baudrate: int = 9600, cjk: bool = False) -> None:
        self.port_url = port_url
        self.baudrate = baudrate
        self.cjk = cjk
        self._port: BytePort | None = None

    def init_bytes(self) -> bytes:
        return ESC_INIT + OVERWRITE_MODE + (CHINESE_ON if self.cjk else b"") + CLEAR

    def show_lines(self, line1: str, line2: str, align2: str = "left") -> None:
        self.write(frame(fit(line1, self.cjk), fit(line2, self.cjk, align=align2)))

    def show_item(self, name: str, price_fen: int) -> None:
        """Line 1 the item name (ASCII or pinyin), line 2 its price right-aligned."""
        self.write(frame(fit(name, self.cjk), label_amount("PRICE", price_fen)))

    def show_total(self, total_fen: int) -> None:
        self.write(frame(fit("TOTAL", self.cjk), label_amount("", total_fen)))

    def show_change(self, change_fen: int) -> None:
        self.write(frame(fit("CHANGE", self.cjk), label_amount("", change_fen)))

    def thank_you(self) -> None:
        second = "谢谢惠顾" if self.cjk else "PLEASE COME AGAIN"
        self.write(frame(fit("THANK YOU", align="center"), fit(second, self.cjk, "center")))

    def clear(self) -> None:
        self.write(CLEAR)

    def write(self, data: bytes) -> None:
        """The one place bytes leave: opens (and initializes) the display on first use."""
        port = self._port or self._open()
        port.write(data)
        port.flush()

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None

    def _open(self) -> BytePort:
        try:
            port = serial.serial_for_url(self.port_url, baudrate=self.baudrate, timeout=1)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceUnavailableError(
                f"customer display port {self.port_url!r} cannot be opened: {exc}"
            ) from exc
        port.write(self.init_bytes())
        self._port = port
        return port
