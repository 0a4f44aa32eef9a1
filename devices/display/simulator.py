"""Decodes pole-display bytes back into the two lines the display would show."""

from __future__ import annotations

from devices.display.layout import WIDTH

LINES = 2
_CONTINUATION = ""  # second column of a 2-byte character


class DisplaySimulator:
    """feed(bytes) any number of times (commands may be split); lines gives the screen.

    Understands the commands PoleDisplay sends (see pole_display.py) plus CR, LF, BS,
    HT, CAN (clear line) and FS . (leave Chinese mode); unknown bytes raise ValueError
    so a driver bug cannot hide behind a forgiving simulator.
    """

    def __init__(self) -> None:
        self._cells = [[" "] * WIDTH for _ in range(LINES)]
        self._row = 0
        self._col = 0
        self.cjk = False
        self._pending = b""

    @property
    def lines(self) -> tuple[str, str]:
        first, second = ("".join(row) for row in self._cells)
        return first, second

    def feed(self, data: bytes) -> None:
        buf = self._pending + data
        i = 0
        while i < len(buf):
            used = self._step(buf, i)
            if used == 0:  # incomplete command: wait for more bytes
                break
            i += used
        self._pending = buf[i:]

    def _step(self, buf: bytes, i: int) -> int:
        byte = buf[i]
        rest = len(buf) - i
        if byte == 0x1B:  # ESC
            if rest < 2:
                return 0
            if buf[i + 1] == 0x40:
                self._clear()
                self.cjk = False
                return 2
            raise ValueError(f"unknown ESC command {buf[i : i + 2]!r}")
        if byte == 0x1F:  # US
            if rest < 2:
                return 0
            sub = buf[i + 1]
            if sub in (0x01, 0x02, 0x03):  # display modes: only overwrite is drawn
                return 2
            if sub == 0x24:
                if rest < 4:
                    return 0
                self._col = min(max(buf[i + 2], 1), WIDTH) - 1
                self._row = min(max(buf[i + 3], 1), LINES) - 1
                return 4
            raise ValueError(f"unknown US command {buf[i : i + 2]!r}")
        if byte == 0x1C:  # FS
            if rest < 2:
                return 0
            if buf[i + 1] in (0x26, 0x2E):
                self.cjk = buf[i + 1] == 0x26
                return 2
            raise ValueError(f"unknown FS command {buf[i : i + 2]!r}")
        simple = {0x0C: self._clear, 0x0B: self._home, 0x0D: self._cr, 0x0A: self._lf}
        if byte in simple:
            simple[byte]()
            return 1
        if byte == 0x08:
            self._col = max(self._col - 1, 0)
            return 1
        if byte == 0x09:
            self._advance(1)
            return 1
        if byte == 0x18:
            self._cells[self._row] = [" "] * WIDTH
            self._col = 0
            return 1
        if 0x20 <= byte <= 0x7E:
            self._put(chr(byte), 1)
            return 1
        if self.cjk and byte >= 0x81:
            if rest < 2:
                return 0
            self._put(buf[i : i + 2].decode("gb18030", errors="replace"), 2)
            return 2
        raise ValueError(f"unexpected byte 0x{byte:02x}")

    def _put(self, char: str, columns: int) -> None:
        if self._col + columns > WIDTH:
            self._advance(WIDTH - self._col)
        row = self._cells[self._row]
        # Overwriting half of a 2-column character blanks its other half, as the glass would.
        if row[self._col] == _CONTINUATION and self._col > 0:
            row[self._col - 1] = " "
        after = self._col + columns
        if after < WIDTH and row[after] == _CONTINUATION:
            row[after] = " "
        row[self._col] = char
        if columns == 2:
            self._cells[self._row][self._col + 1] = _CONTINUATION
        self._advance(columns)

    def _advance(self, columns: int) -> None:
        # Overwrite mode: past the end of a line wraps to the next, the last wraps home.
        self._col += columns
        if self._col >= WIDTH:
            self._col = 0
            self._row = (self._row + 1) % LINES

    def _clear(self) -> None:
        self._cells = [[" "] * WIDTH for _ in range(LINES)]
        self._home()

    def _home(self) -> None:
        self._row, self._col = 0, 0

    def _cr(self) -> None:
        self._col = 0

    def _lf(self) -> None:
        self._row = min(self._row + 1, LINES - 1)
