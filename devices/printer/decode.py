"""A small ESC/POS decoder for tests and previews: bytes back into receipt events.

Events: ``("text", line)`` per printed line (LF; text still pending before a barcode, QR,
cut, feed or the end of the stream is flushed as a line too), ``("cut",)``,
``("drawer", pin)``, ``("barcode", kind, data)``, ``("qr", data)``.

Text inside ``FS &`` ... ``FS .`` (1C 26 ... 1C 2E) is decoded as GB18030; outside it as
code page 437, the printer's power-on default. Styling (bold, size, alignment, fonts,
code pages), feeds and raster images are skipped; with ``styled=True`` a text event also
carries the bold (ESC E) and double-size (GS !) state it printed in:
``("text", line, bold, double)``, for a preview drawn from the bytes. An unknown command raises
EscPosDecodeError: silently dropping it could hide a bug in the bytes we send.
"""

from __future__ import annotations

Event = tuple[str | int, ...]

# Commands skipped as styling: command byte -> number of parameter bytes.
_ESC_FIXED = {
    b"@": 0,
    b"!": 1,
    b"E": 1,
    b"-": 1,
    b"M": 1,
    b"a": 1,
    b"t": 1,
    b"{": 1,
    b"G": 1,
    b"2": 0,
    b"3": 1,
    b"R": 1,
    b" ": 1,
    b"$": 2,
    b"=": 1,
    b"r": 1,
    b"V": 1,
    b"c": 2,
}
_GS_FIXED = {b"!": 1, b"B": 1, b"h": 1, b"w": 1, b"f": 1, b"H": 1, b"b": 1, b"L": 2, b"W": 2}
_FS_FIXED = {b"!": 1, b"W": 1, b"-": 1, b"C": 1, b"S": 2}

_BARCODE_A = ["UPC-A", "UPC-E", "EAN13", "EAN8", "CODE39", "ITF", "NW7"]
_BARCODE_B = [
    *_BARCODE_A,
    "CODE93",
    "CODE128",
    "GS1-128",
    "GS1 DATABAR OMNIDIRECTIONAL",
    "GS1 DATABAR TRUNCATED",
    "GS1 DATABAR LIMITED",
    "GS1 DATABAR EXPANDED",
]


class EscPosDecodeError(ValueError):
    pass


class _Decoder:
    def __init__(self, data: bytes, styled: bool = False) -> None:
        self.data = data
        self.styled = styled
        self.bold = False
        self.double = False
        self.pos = 0
        self.events: list[Event] = []
        self.line = bytearray()  # raw bytes of the current line, decoded per region
        self.text = ""
        self.chinese = False
        self.qr_data = ""

    def take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise EscPosDecodeError(f"truncated command at byte {self.pos}")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def close_run(self) -> None:
        # GB18030 lead/trail bytes are >= 0x30/0x81, so control codes never split a char.
        codec = "gb18030" if self.chinese else "cp437"
        self.text += self.line.decode(codec, errors="replace")
        self.line.clear()

    def flush(self, always: bool = False) -> None:
        self.close_run()
        if self.text or always:
            if self.styled:
                self.events.append(("text", self.text, self.bold, self.double))
            else:
                self.events.append(("text", self.text))
        self.text = ""

    def emit(self, event: Event) -> None:
        self.flush()
        self.events.append(event)

    def run(self) -> list[Event]:
        while self.pos < len(self.data):
            byte = self.take(1)
            if byte == b"\n":
                self.flush(always=True)
            elif byte == b"\t":
                self.line += byte
            elif byte == b"\r":
                pass
            elif byte == b"\x1b":
                self.esc(self.take(1))
            elif byte == b"\x1d":
                self.gs(self.take(1))
            elif byte == b"\x1c":
                self.fs(self.take(1))
            elif byte[0] < 0x20:
                raise EscPosDecodeError(f"unknown control byte {byte!r} at {self.pos - 1}")
            else:
                self.line += byte
        self.flush()
        return self.events

    def esc(self, cmd: bytes) -> None:
        if cmd == b"p":
            pin_byte, _on, _off = self.take(3)
            pins = {0: 2, 0x30: 2, 1: 5, 0x31: 5}
            if pin_byte not in pins:
                raise EscPosDecodeError(f"bad drawer pin byte {pin_byte}")
            self.emit(("drawer", pins[pin_byte]))
        elif cmd in (b"d", b"J"):  # print and feed
            self.take(1)
            self.flush()
        elif cmd == b"@":
            self.bold = self.double = False
        elif cmd == b"E":
            self.bold = bool(self.take(1)[0] & 1)
        elif cmd in _ESC_FIXED:
            self.take(_ESC_FIXED[cmd])
        else:
            raise EscPosDecodeError(f"unknown command ESC {cmd!r} at {self.pos - 2}")

    def gs(self, cmd: bytes) -> None:
        if cmd == b"V":
            mode = self.take(1)[0]
            if mode in (65, 66):
                self.take(1)  # feed amount before the cut
            self.emit(("cut",))
        elif cmd == b"k":
            self.barcode(self.take(1)[0])
        elif cmd == b"!":
            self.double = self.take(1)[0] != 0
        elif cmd == b"(":
            fn = self.take(1)
            size = int.from_bytes(self.take(2), "little")
            body = self.take(size)
            if fn == b"k":
                self.symbol(body)
        elif cmd == b"v":  # GS v 0 m xL xH yL yH: raster image
            _zero, _m = self.take(2)
            width = int.from_bytes(self.take(2), "little")
            height = int.from_bytes(self.take(2), "little")
            self.flush()
            self.take(width * height)
        elif cmd in _GS_FIXED:
            self.take(_GS_FIXED[cmd])
        else:
            raise EscPosDecodeError(f"unknown command GS {cmd!r} at {self.pos - 2}")

    def fs(self, cmd: bytes) -> None:
        if cmd in (b"&", b"."):
            self.close_run()
            self.chinese = cmd == b"&"
        elif cmd in _FS_FIXED:
            self.take(_FS_FIXED[cmd])
        else:
            raise EscPosDecodeError(f"unknown command FS {cmd!r} at {self.pos - 2}")

    def barcode(self, kind: int) -> None:
        if kind < len(_BARCODE_A):  # function A: data ends with NUL
            end = self.data.find(b"\x00", self.pos)
            if end < 0:
                raise EscPosDecodeError("barcode data without NUL terminator")
            data = self.take(end - self.pos)
            self.take(1)
            name = _BARCODE_A[kind]
        elif 65 <= kind < 65 + len(_BARCODE_B):  # function B: length byte, then data
            data = self.take(self.take(1)[0])
            name = _BARCODE_B[kind - 65]
        else:
            raise EscPosDecodeError(f"unknown barcode type {kind}")
        text = data.decode("ascii", errors="replace")
        if name in ("CODE128", "GS1-128") and text[:2] in ("{A", "{B"):
            text = text[2:].replace("{{", "{")
        self.emit(("barcode", name, text))

    def symbol(self, body: bytes) -> None:
        cn, fn = body[:1], body[1:2]
        if cn != b"1":  # only QR (cn 49) is decoded; PDF417 etc. are skipped
            return
        if fn == b"P":  # store data: m '0' then the data
            self.qr_data = body[3:].decode("utf-8", errors="replace")
        elif fn == b"Q":
            self.emit(("qr", self.qr_data))


def decode(data: bytes, *, styled: bool = False) -> list[Event]:
    """Events printed by ``data`` (see the module docstring)."""
    return _Decoder(bytes(data), styled).run()
