"""The one pricing function: (basket lines, member, store, time) -> priced lines.

Every discount is an Adjustment with a name the receipt prints, so the till
and the receipt can explain each fen. The promotions issue adds its rules
here; this first version knows the store price, the member price, a
supervisor's price override and gift lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store_server.domain.money import line_amount


@dataclass(frozen=True, slots=True)
class LineInput:
    """One basket line as the pricing function needs it (no ORM, no proto).

    quantity_milli counts scan units (packs) in thousandths: 2 cases = 2000,
    352 g of a weighed item = 352. unit_price_fen is per scan unit (per case
    for a case barcode, per kg for weighed items).
    """

    line_id: str
    product_id: int
    quantity_milli: int
    unit_price_fen: int
    member_unit_price_fen: int | None = None  # only for unit barcodes and weighed items
    fixed_amount_fen: int | None = None  # a price-embedded scale label: pay what it says
    override_unit_price_fen: int | None = None  # a supervisor's price
    gift: bool = False
    tax_rate_bp: int = 0


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A named change to a line's amount; negative is a discount."""

    code: str  # MEMBER_PRICE, PRICE_OVERRIDE, GIFT; later promotion ids
    name: str  # what the receipt prints
    amount_fen: int


@dataclass(frozen=True, slots=True)
class PricedLine:
    line_id: str
    base_amount_fen: int  # quantity x shelf price, rounded half up
    adjustments: tuple[Adjustment, ...]
    net_amount_fen: int  # what the customer pays for the line; never below zero
    tax_rate_bp: int

    @property
    def discount_fen(self) -> int:
        return self.base_amount_fen - self.net_amount_fen


@dataclass(frozen=True, slots=True)
class PricedBasket:
    lines: tuple[PricedLine, ...]

    @property
    def subtotal_fen(self) -> int:
        return sum(line.base_amount_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(line.discount_fen for line in self.lines)

    @property
    def total_fen(self) -> int:
        return sum(line.net_amount_fen for line in self.lines)

    def line(self, line_id: str) -> PricedLine:
        return next(line for line in self.lines if line.line_id == line_id)


@dataclass(frozen=True, slots=True)
class MemberContext:
    member_id: str


def price_basket(
    lines: Sequence[LineInput], *, member: MemberContext | None, store_id: str, at: datetime
) -> PricedBasket:
    """Price every line. Pure: same input, same output, whatever the order of lines.

    `store_id` and `at` are unused until promotions (store-specific, time
    windows) arrive, and are in the signature so callers already pass them.
    """
    return PricedBasket(tuple(_price_line(line, member) for line in lines))


def _price_line(line: LineInput, member: MemberContext | None) -> PricedLine:
    if line.fixed_amount_fen is not None:
        base = line.fixed_amount_fen
    else:
        base = line_amount(line.unit_price_fen, line.quantity_milli)
    adjustments: list[Adjustment] = []
    net = base
    if line.override_unit_price_fen is not None:
        overridden = line_amount(line.override_unit_price_fen, line.quantity_milli)
        adjustments.append(Adjustment("PRICE_OVERRIDE", "改价", overridden - base))
        net = overridden
    elif (
        member is not None
        and line.member_unit_price_fen is not None
        and line.fixed_amount_fen is None
        and line.member_unit_price_fen < line.unit_price_fen
    ):
        member_amount = line_amount(line.member_unit_price_fen, line.quantity_milli)
        adjustments.append(Adjustment("MEMBER_PRICE", "会员价", member_amount - base))
        net = member_amount
    if line.gift and net > 0:
        adjustments.append(Adjustment("GIFT", "赠送", -net))
        net = 0
    return PricedLine(
        line_id=line.line_id,
        base_amount_fen=base,
        adjustments=tuple(adjustments),
        net_amount_fen=max(net, 0),
        tax_rate_bp=line.tax_rate_bp,
    )
