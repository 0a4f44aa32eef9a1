"""Barcode bars drawn dot for dot on a 1-bit label.

python-barcode encodes (modules as "1"/"0"); we draw the bars ourselves with a whole number
of printer dots per module, because its ImageWriter sizes modules in millimetres and the
rounding at 203 dpi gives uneven bars that scanners misread.
"""

from __future__ import annotations

from dataclasses import dataclass

import barcode
from PIL import Image, ImageDraw

from clients.label_printer.fonts import load_font
from clients.label_printer.label_data import LabelBarcode

# Quiet zones in modules (GS1: EAN-13 11 left / 7 right, EAN-8 and UPC-A 7 / 9; Code 128 10).
_QUIET = {"ean13": (11, 7), "ean8": (7, 7), "upca": (9, 9), "code128": (10, 10)}
# Guard bars run longer than data bars on EAN/UPC, as on every retail pack.
_GUARDS = {
    "ean13": ((0, 3), (45, 50), (92, 95)),
    "upca": ((0, 3), (45, 50), (92, 95)),
    "ean8": ((0, 3), (31, 36), (64, 67)),
}
_PYBARCODE_NAME = {"ean13": "ean13", "ean8": "ean8", "upca": "upca", "code128": "code128"}


class BarcodeDataError(ValueError):
    """The code cannot be printed as the symbology it claims (e.g. a wrong check digit)."""


@dataclass(frozen=True)
class Modules:
    pattern: str  # "1" = bar, "0" = space, one character per module
    quiet_left: int
    quiet_right: int

    @property
    def total(self) -> int:
        return self.quiet_left + len(self.pattern) + self.quiet_right


def encode(code: LabelBarcode) -> Modules:
    try:
        symbol = barcode.get(_PYBARCODE_NAME[code.symbology], code.data)
    except Exception as exc:  # python-barcode raises several unrelated types
        raise BarcodeDataError(f"{code.symbology} cannot encode {code.data!r}: {exc}") from exc
    if code.symbology != "code128" and symbol.get_fullcode() != code.data:
        # python-barcode silently replaces a wrong check digit; the label would then carry
        # a code the till does not know.
        raise BarcodeDataError(f"{code.data} has a wrong {code.symbology} check digit")
    quiet_left, quiet_right = _QUIET[code.symbology]
    return Modules("".join(symbol.build()), quiet_left, quiet_right)


def module_width(code: LabelBarcode, max_width: int, *, most: int = 4) -> int:
    """The widest whole number of dots per module that fits ``max_width`` with quiet zones."""
    width = min(most, max_width // encode(code).total)
    if width < 1:
        raise BarcodeDataError(f"{code.data} does not fit in {max_width} dots")
    return width


def draw_barcode(
    image: Image.Image,
    code: LabelBarcode,
    *,
    left: int,
    top: int,
    module: int,
    bar_height: int,
    font_path: str,
    text_size: int = 20,
) -> tuple[int, int]:
    """Draws the bars and the human-readable code under them; returns (width, height)."""
    modules = encode(code)
    draw = ImageDraw.Draw(image)
    guard_extra = text_size // 2 if code.symbology in _GUARDS else 0
    guards = _GUARDS.get(code.symbology, ())
    x0 = left + modules.quiet_left * module
    for index, bit in enumerate(modules.pattern):
        if bit != "1":
            continue
        long_bar = any(start <= index < end for start, end in guards)
        x = x0 + index * module
        bottom = top + bar_height + (guard_extra if long_bar else 0)
        draw.rectangle((x, top, x + module - 1, bottom - 1), fill=0)
    font = load_font(font_path, text_size)
    text_top = top + bar_height + 2
    for text, start, end in _text_groups(code, len(modules.pattern)):
        text_width = int(draw.textlength(text, font=font))
        if start < 0:  # the leading digit sits in the quiet zone, right-aligned to the bars
            text_x = x0 - text_width - module
        elif start >= len(modules.pattern):  # UPC-A's trailing digit, in the right quiet zone
            text_x = x0 + start * module + module
        else:
            text_x = x0 + (start + end) * module // 2 - text_width // 2
        draw.text((text_x, text_top), text, font=font, fill=0)
    return modules.total * module, bar_height + 2 + text_size


def _text_groups(code: LabelBarcode, length: int) -> list[tuple[str, int, int]]:
    """(digits, first module, end module) for each run of human-readable digits, placed
    between the guard bars as printed on packs."""
    data = code.data
    if code.symbology == "ean13":
        return [(data[0], -1, -1), (data[1:7], 3, 45), (data[7:], 50, 92)]
    if code.symbology == "ean8":
        return [(data[:4], 3, 31), (data[4:], 36, 64)]
    if code.symbology == "upca":
        return [(data[0], -1, -1), (data[1:6], 10, 45), (data[6:11], 50, 85), (data[11], 95, 95)]
    return [(data, 0, length)]
