"""Receipt commands, each emitted through a python-escpos printer object.

Bytes (Epson ESC/POS, as implemented by the Chinese receipt printers we target):

- ``ESC @``            1B 40          initialize the printer
- ``FS &``             1C 26          Chinese character mode on: 2-byte GB codes print as
                                      hanzi. python-escpos has no GB18030 support, so the
                                      text goes out raw through ``printer._raw``.
- ``FS .``             1C 2E          Chinese character mode off (back to the code page)
- ``LF``               0A             print the line
- ``ESC E n``          1B 45 n        bold on (n=1) / off (n=0); applies to hanzi too
- ``GS ! n``           1D 21 n        size: 0x11 double width and height, 0x00 normal
- ``ESC a n``          1B 61 n        alignment 0 left, 1 centre
- ``GS k 73 n d..``    1D 6B 49 n d   CODE128 (function B), data prefixed ``{B`` (code
                                      set B), preceded by GS h/w/f/H for height, module
                                      width, HRI font and HRI position
- ``GS ( k ...``       1D 28 6B ...   native QR: model, module size, error level, store
                                      data (fn 80), print (fn 81)
- ``ESC d n`` ``GS V 0``  1B 64 n, 1D 56 00   feed n lines, then full cut
- ``ESC p m t1 t2``    1B 70 m t1 t2  drawer kick: m=0 pin 2, m=1 pin 5; on t1*2 ms,
                                      off t2*2 ms (python-escpos sends 50, 50 = 100 ms)
"""

from __future__ import annotations

from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos

FS_CHINESE_ON = b"\x1c\x26"
FS_CHINESE_OFF = b"\x1c\x2e"
ESC_INIT = b"\x1b\x40"
ALIGN_LEFT = b"\x1b\x61\x00"
DRAWER_PINS = (2, 5)


def initialize(printer: Escpos) -> None:
    printer._raw(ESC_INIT)


def text_line(printer: Escpos, text: str) -> None:
    """One line of Chinese (or any) text, encoded GB18030 inside FS & ... FS .

    GB18030 is ASCII-compatible, so mixed lines like '可口可乐 330ml  3.50' work; a
    character the encoding lacks would raise rather than print garbage.
    """
    if "\n" in text or "\r" in text:
        raise ValueError("one line at a time: no CR/LF inside text")
    printer._raw(FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF + b"\n")


def bold(printer: Escpos, on: bool) -> None:
    printer._raw(b"\x1b\x45" + (b"\x01" if on else b"\x00"))


def double_size(printer: Escpos, on: bool) -> None:
    printer._raw(b"\x1d\x21" + (b"\x11" if on else b"\x00"))


def _check_receipt_number(receipt_no: str) -> None:
    # '{' starts a code-set switch in CODE128 data; the rest of ASCII is fine, but a
    # receipt number with anything else is a bug upstream.
    if not receipt_no or not receipt_no.isascii() or not receipt_no.isprintable():
        raise ValueError(f"receipt number must be printable ASCII: {receipt_no!r}")
    if "{" in receipt_no:
        raise ValueError("receipt number must not contain '{'")


def receipt_barcode(printer: Escpos, receipt_no: str) -> None:
    """CODE128 of the receipt number (scanned at the returns desk), centred, text below.

    At the narrowest module ESC/POS allows (2 dots) a 17-character receipt number needs
    ~444 dots: it fits 80 mm paper (576 dots), not 58 mm (384), where layouts print
    only the QR code.
    """
    _check_receipt_number(receipt_no)
    printer.barcode(
        "{B" + receipt_no, "CODE128", height=64, width=2, function_type="B", align_ct=True
    )
    # python-escpos leaves the alignment centred after a barcode; later lines want left.
    printer._raw(ALIGN_LEFT)


def receipt_qr(printer: Escpos, data: str) -> None:
    """Native QR (printer-rendered: a few bytes instead of a raster image)."""
    if not data:
        raise ValueError("QR data must not be empty")
    # Level M survives a crumpled slip; size 6 is ~2 cm on an 80 mm printer.
    printer.qr(data, native=True, size=6, ec=QR_ECLEVEL_M)


def cut(printer: Escpos) -> None:
    """Feed the paper past the blade, then cut."""
    printer.cut(mode="FULL", feed=True)


def kick_drawer(printer: Escpos, pin: int = 2) -> None:
    """Open the cash drawer wired to the printer (pin 2 on most drawers, else pin 5)."""
    if pin not in DRAWER_PINS:
        raise ValueError(f"drawer pin must be 2 or 5, not {pin}")
    printer.cashdraw(pin)
