"""What a shelf label says, worked out from a catalog Product: no drawing here.

All money is integer fen. The unit price (单价, required on Chinese shelf labels) is per
500 g (斤) for goods sold by weight or mass and per 100 ml for liquids, rounded half up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from clients.printing.amounts import div_round_half_up, format_fen
from tillpoint.v1 import catalog_pb2

Dimension = Literal["mass", "volume"]
Symbology = Literal["ean13", "ean8", "upca", "code128"]

# Units a name may carry, in thousandths of a gram or a millilitre, so "1.5L" and
# "0.25kg" stay exact integers.
_UNITS: dict[str, tuple[Dimension, int]] = {
    "kg": ("mass", 1_000_000),
    "千克": ("mass", 1_000_000),
    "公斤": ("mass", 1_000_000),
    "g": ("mass", 1_000),
    "克": ("mass", 1_000),
    "斤": ("mass", 500_000),
    "ml": ("volume", 1_000),
    "毫升": ("volume", 1_000),
    "l": ("volume", 1_000_000),
    "升": ("volume", 1_000_000),
}
# Longest alternatives first so "kg" is not read as "g" and "毫升" not as "升".
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_SPEC_RE = re.compile(
    rf"(?<![0-9.])(\d{{1,6}}(?:\.\d{{1,3}})?)\s*({_UNIT_RE})"
    rf"(?:\s*[x×*X]\s*(\d{{1,3}}))?(?![a-z])",
    re.IGNORECASE,
)
# The price basis a weighed product's unit names; the proto says weighed prices are per kg.
_WEIGHED_UNITS = {"kg": 1_000_000, "千克": 1_000_000, "公斤": 1_000_000, "斤": 500_000}

# The quantity one unit price quotes, in thousandths of a gram or millilitre.
_UNIT_PRICE_BASIS: dict[Dimension, tuple[int, str]] = {
    "mass": (500_000, "斤"),  # 斤 = 500 g, what Chinese shoppers compare by
    "volume": (100_000, "100ml"),
}


@dataclass(frozen=True)
class Spec:
    """A pack size read from a product name: "500ml×6" is 6 x 500 ml = 3,000 ml."""

    text: str
    dimension: Dimension
    total_milli: int  # thousandths of a gram or millilitre in the whole pack


@dataclass(frozen=True)
class LabelBarcode:
    symbology: Symbology
    data: str


@dataclass(frozen=True)
class Label:
    sku: str
    name: str
    spec: str  # "" when the name carries no pack size
    price_fen: int
    price_unit: str  # what the price buys: "罐", "kg"
    member_price_fen: int | None  # None when there is no member price
    unit_price_fen: int | None  # None when the pack size is unknown
    unit_price_basis: str  # "斤" or "100ml"; "" without a unit price
    barcode: LabelBarcode | None
    weighed: bool
    promotion: str | None = None

    @property
    def price_text(self) -> str:
        return format_fen(self.price_fen)

    @property
    def member_price_text(self) -> str | None:
        return None if self.member_price_fen is None else format_fen(self.member_price_fen)

    @property
    def unit_price_text(self) -> str | None:
        """The unit price as printed, e.g. "0.91元/100ml" or "6.40元/斤"."""
        if self.unit_price_fen is None:
            return None
        return f"{format_fen(self.unit_price_fen)}元/{self.unit_price_basis}"


def _milli(number: str) -> int:
    """Thousandths of a decimal number without floats: "1.25" -> 1250."""
    whole, _, frac = number.partition(".")
    return int(whole) * 1000 + int(frac.ljust(3, "0"))


def parse_spec(name: str) -> Spec | None:
    """The last pack size in a name ("可口可乐 330ml" -> 330 ml), or None."""
    matches = list(_SPEC_RE.finditer(name))
    if not matches:
        return None
    # The size usually ends the name; a brand number earlier ("7up") is not a size.
    match = matches[-1]
    number, unit, count = match.group(1), match.group(2), match.group(3)
    dimension, milli_per_unit = _UNITS[unit.lower()]
    each = _milli(number) * milli_per_unit // 1000
    packs = int(count) if count else 1
    if each <= 0 or packs <= 0:
        return None
    text = f"{number}{unit}" + (f"×{packs}" if count else "")
    return Spec(text=text, dimension=dimension, total_milli=each * packs)


def unit_price(price_fen: int, spec: Spec) -> tuple[int, str]:
    """(fen per basis, basis text): 300 fen for 330 ml -> (91, "100ml")."""
    basis_milli, basis_text = _UNIT_PRICE_BASIS[spec.dimension]
    return div_round_half_up(price_fen * basis_milli, spec.total_milli), basis_text


def _symbology(code: str) -> Symbology:
    if code.isascii() and code.isdigit():
        if len(code) == 13:
            return "ean13"
        if len(code) == 8:
            return "ean8"
        if len(code) == 12:
            return "upca"
    return "code128"  # internal codes: Code 128 encodes any ASCII


def pick_barcode(product: catalog_pb2.Product) -> LabelBarcode | None:
    """The code a shopper scans for one unit: the PLU for weighed goods (the scale prints
    the real EAN-13 with the weight), else the first pack-factor-1 barcode, preferring
    EAN-13 since every till scanner reads it."""
    if product.weighed:
        return LabelBarcode("code128", product.plu) if product.plu else None
    singles = [b.code for b in product.barcodes if b.pack_factor in (0, 1) and b.code]
    if not singles:
        return None
    best = next((c for c in singles if _symbology(c) == "ean13"), singles[0])
    return LabelBarcode(_symbology(best), best)


def _weighed_spec(product: catalog_pb2.Product) -> Spec:
    """Weighed prices are per kg (or per the 斤 the unit names), whatever the name says."""
    basis = _WEIGHED_UNITS.get(product.unit.strip().lower(), 1_000_000)
    return Spec(text="散称", dimension="mass", total_milli=basis)


def label_from_product(product: catalog_pb2.Product, *, promotion: str | None = None) -> Label:
    """The label for ``product`` as it sells now."""
    name = product.name.strip()
    spec = _weighed_spec(product) if product.weighed else parse_spec(name)
    price = product.retail_price.fen
    per_basis, basis = unit_price(price, spec) if spec is not None else (None, "")
    member = product.member_price.fen
    return Label(
        sku=product.sku,
        name=name,
        spec=spec.text if spec is not None else "",
        price_fen=price,
        price_unit=product.unit or ("kg" if product.weighed else "件"),
        # A member price at or above retail is no offer; the label would mislead.
        member_price_fen=member if 0 < member < price else None,
        unit_price_fen=per_basis,
        unit_price_basis=basis,
        barcode=pick_barcode(product),
        weighed=product.weighed,
        promotion=promotion or None,
    )
