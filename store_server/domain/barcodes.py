"""Barcodes: GTIN check digits and variable-measure scale labels.

A scanned code is one of
- a GTIN: EAN-13, EAN-8 or UPC-A, whose check digit must be right (a misread
  that slips past the scanner must not sell the wrong product);
- a variable-measure EAN-13 printed by a store scale: prefix 2x, then the PLU,
  then the weight or the price, then the check digit, in a layout the store
  configures (each brand of scale prints its own);
- an internal code: anything else the store assigned (letters, other lengths).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from stdnum import ean

from store_server.domain.errors import InvalidArgument

GTIN_LENGTHS = (8, 12, 13)


class ValueKind(enum.StrEnum):
    WEIGHT = "weight"  # the value is grams (thousandths of a kg)
    PRICE = "price"  # the value is the label's price in fen


@dataclass(frozen=True, slots=True)
class VariableMeasureLayout:
    """One scale label layout, e.g. prefix "22", 5-digit PLU, 5-digit weight in grams.

    prefix + PLU digits + value digits + 1 check digit must make 13.
    """

    prefix: str
    plu_digits: int
    value_kind: ValueKind
    value_digits: int

    def __post_init__(self) -> None:
        if not (self.prefix.isdigit() and self.prefix.startswith("2")):
            raise ValueError(f"variable-measure prefix {self.prefix!r} must be digits starting 2")
        if len(self.prefix) + self.plu_digits + self.value_digits + 1 != 13:
            raise ValueError(f"layout with prefix {self.prefix!r} does not add up to 13 digits")


@dataclass(frozen=True, slots=True)
class ScaleLabel:
    """What a variable-measure code says: a PLU and a weight (g) or a price (fen)."""

    plu: str
    value_kind: ValueKind
    value: int


# The common Chinese scale default (大华/顶尖 style): 2 + flag, 5-digit PLU, 5-digit value.
DEFAULT_LAYOUTS = (
    VariableMeasureLayout("21", 5, ValueKind.WEIGHT, 5),
    VariableMeasureLayout("22", 5, ValueKind.PRICE, 5),
)


def ean_check_digit(body: str) -> str:
    """The check digit to append to `body` (7, 11 or 12 digits)."""
    return ean.calc_check_digit(body)


def is_gtin(code: str) -> bool:
    return code.isdigit() and len(code) in GTIN_LENGTHS


def validate_gtin(code: str, *, field: str = "code") -> str:
    """Return the code if its check digit is right; raise InvalidArgument otherwise."""
    if not is_gtin(code):
        raise InvalidArgument(field, f"{code!r} is not an EAN-13, EAN-8 or UPC-A code")
    if not (code.isascii() and gtin_check_digit_right(code)):
        raise InvalidArgument(field, f"bad check digit in {code}", reason="BAD_CHECK_DIGIT")
    return code


def gtin_check_digit_right(code: str) -> bool:
    """stdnum's ean.is_valid for 8, 12 or 13 ASCII digits: the same sum (weights
    3, 1, 3, ... from the right) in a few C-level steps, as every scan checks one."""
    body = code[-2::-1]  # without the check digit, rightmost first
    total = 3 * sum(map(int, body[0::2])) + sum(map(int, body[1::2]))
    return (10 - total) % 10 == int(code[-1])


def normalize_code(code: str, *, field: str = "code") -> str:
    """Strip what scanners add and refuse what no barcode can be."""
    code = code.strip()
    if not code:
        raise InvalidArgument(field, "is empty")
    if len(code) > 48 or not code.isprintable() or not code.isascii():
        raise InvalidArgument(field, "is not a barcode (printable ASCII, at most 48 characters)")
    return code


def parse_scale_label(code: str, layouts: tuple[VariableMeasureLayout, ...]) -> ScaleLabel | None:
    """A ScaleLabel if `code` is a valid 13-digit code in one of `layouts`, else None.

    The check digit is verified first, so a misread label is an error rather
    than a wrong weight.
    """
    if len(code) != 13 or not code.isdigit() or code[0] != "2":
        return None
    for layout in layouts:
        if code.startswith(layout.prefix):
            validate_gtin(code)
            start = len(layout.prefix)
            plu = code[start : start + layout.plu_digits].lstrip("0") or "0"
            value_start = start + layout.plu_digits
            value = int(code[value_start : value_start + layout.value_digits])
            return ScaleLabel(plu=plu, value_kind=layout.value_kind, value=value)
    return None


def make_scale_label(layout: VariableMeasureLayout, plu: str, value: int) -> str:
    """Build the code a scale would print (for demos, tests and the label printer)."""
    body = layout.prefix + plu.zfill(layout.plu_digits) + str(value).zfill(layout.value_digits)
    if len(body) != 12:
        raise ValueError("PLU or value too long for the layout")
    return body + ean_check_digit(body)
