"""Catalog values and what one scan of a code costs."""

from __future__ import annotations

from dataclasses import dataclass

from store_server.domain.barcodes import ScaleLabel, ValueKind
from store_server.domain.errors import FailedPrecondition
from store_server.domain.money import MILLI, div_round_half_up, line_amount


@dataclass(frozen=True, slots=True)
class BarcodeInfo:
    code: str
    pack_factor: int
    price_fen: int | None  # the whole pack's own price; None: pack x unit price


@dataclass(frozen=True, slots=True)
class ProductInfo:
    """A product as this store sells it now (store price already resolved)."""

    id: int
    sku: str
    name: str
    pinyin: str
    category: str
    unit: str
    weighed: bool
    plu: str | None
    tax_rate_bp: int
    retail_price_fen: int  # per unit, or per kg when weighed
    member_price_fen: int | None
    status: str
    revision: int
    barcodes: tuple[BarcodeInfo, ...] = ()

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class ScanResult:
    product: ProductInfo
    code: str
    quantity_milli: int
    amount_fen: int
    pack_factor: int
    variable_measure: bool


def price_barcode(product: ProductInfo, barcode: BarcodeInfo) -> ScanResult:
    """A unit or pack barcode: its own price, else pack factor x retail."""
    amount = (
        barcode.price_fen
        if barcode.price_fen is not None
        else product.retail_price_fen * barcode.pack_factor
    )
    return ScanResult(
        product=product,
        code=barcode.code,
        quantity_milli=barcode.pack_factor * MILLI,
        amount_fen=amount,
        pack_factor=barcode.pack_factor,
        variable_measure=False,
    )


def price_plu(product: ProductInfo, plu: str) -> ScanResult:
    """A PLU typed at the till: one unit (a weighed item still needs its weight)."""
    return ScanResult(
        product=product,
        code=plu,
        quantity_milli=MILLI,
        amount_fen=product.retail_price_fen,
        pack_factor=1,
        variable_measure=False,
    )


def price_scale_label(product: ProductInfo, code: str, label: ScaleLabel) -> ScanResult:
    """A scale label: weight -> price rounded half up; price -> weight back-computed.

    With a price label the printed price is what the customer pays; the weight
    is derived only for stock, rounded to the gram.
    """
    if label.value_kind is ValueKind.WEIGHT:
        if not product.weighed:
            raise FailedPrecondition(
                f"label {code} gives a weight, but {product.name} is sold by the piece",
                reason="NOT_WEIGHED",
            )
        grams = label.value
        amount = line_amount(product.retail_price_fen, grams)
    else:
        amount = label.value
        grams = (
            div_round_half_up(amount * MILLI, product.retail_price_fen)
            if product.retail_price_fen > 0
            else 0
        )
    return ScanResult(
        product=product,
        code=code,
        quantity_milli=grams,
        amount_fen=amount,
        pack_factor=1,
        variable_measure=True,
    )
