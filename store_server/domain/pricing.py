"""The one pricing function: (basket lines, member, store, time, promotions) -> priced lines.

Every discount is an Adjustment with a name the receipt prints, so the till
and the receipt can explain each fen. First the line's own price (store
price, member price, a supervisor's override, a gift), then the promotions
(domain.promotions.engine) and the member's tier or discount-card percentage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from store_server.domain.money import MILLI, line_amount
from store_server.domain.promotions.catalog_index import PromotionSet
from store_server.domain.promotions.engine import LineState, Prepared, apply_prepared
from store_server.domain.promotions.model import PercentOff, Promotion


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
    category: str = ""
    weighed: bool = False
    pack_factor: int = 1  # a case is not one unit of the product for item rules


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


# Every pricing builds a PricedLine per line and an Adjustment per discount.
# A frozen dataclass's __init__ sets each field through object.__setattr__,
# which made building them a fifth of pricing a scanned basket; these set the
# slots directly (about three times faster) and give the same values.
_new = object.__new__


def _slot_setters(
    cls: type, names: tuple[str, ...]
) -> tuple[Callable[[object, object], None], ...]:
    if names != tuple(f.name for f in fields(cls)):  # a field added: the builders must follow
        raise TypeError(f"{cls.__name__} has fields the fast builder does not set")
    return tuple(cls.__dict__[name].__set__ for name in names)


_SET_LINE = _slot_setters(
    PricedLine, ("line_id", "base_amount_fen", "adjustments", "net_amount_fen", "tax_rate_bp")
)
_SET_ADJUSTMENT = _slot_setters(Adjustment, ("code", "name", "amount_fen"))


def _priced_line(
    line_id: str, base: int, adjustments: tuple[Adjustment, ...], net: int, tax_rate_bp: int
) -> PricedLine:
    """PricedLine(line_id, base, adjustments, net, tax_rate_bp), built faster."""
    out = _new(PricedLine)
    set_id, set_base, set_adjustments, set_net, set_tax = _SET_LINE
    set_id(out, line_id)
    set_base(out, base)
    set_adjustments(out, adjustments)
    set_net(out, net)
    set_tax(out, tax_rate_bp)
    return out


def _promotion_adjustment(promo_id: str, name: str, amount: int) -> Adjustment:
    """Adjustment(f"PROMO:{promo_id}", name, -amount), built faster or kept.

    A basket priced scan after scan gives its lines mostly the same discounts
    again (nine in ten, measured on the sales bench's baskets): the value is
    kept and shared, as frozen values can be.
    """
    key = (promo_id, name, amount)
    out = _PROMOTION_ADJUSTMENTS.get(key)
    if out is None:
        out = _new(Adjustment)
        set_code, set_name, set_amount = _SET_ADJUSTMENT
        set_code(out, f"PROMO:{promo_id}")
        set_name(out, name)
        set_amount(out, -amount)
        if len(_PROMOTION_ADJUSTMENTS) >= _KEPT_MAX:
            _PROMOTION_ADJUSTMENTS.clear()  # rare: dropping all is cheaper than tracking use
        _PROMOTION_ADJUSTMENTS[key] = out
    return out


_PROMOTION_ADJUSTMENTS: dict[tuple[str, str, int], Adjustment] = {}
_KEPT_MAX = 50_000


@dataclass(frozen=True, slots=True)
class MemberContext:
    member_id: str
    tier_discount_bp: int = 0  # the tier's percentage off (9500 would be wrong: 500 = 5%)
    card_discount_bp: int = 0  # a discount card's percentage off
    coupons: tuple[Promotion, ...] = ()  # the member's coupons applied to this basket


def price_basket(
    lines: Sequence[LineInput],
    *,
    member: MemberContext | None,
    store_id: str,
    at: datetime,
    promotions: Sequence[Promotion] | PromotionSet = (),
) -> PricedBasket:
    """Price every line. Pure: same input, same output, whatever the order of lines.

    The answer lists the lines in the order given.
    """
    # Each line's own price as (base, adjustments, net) in fen: a PricedLine is
    # built once, after the promotions.
    if member is None:
        kept = [_plain_line(line) for line in lines]
        own = [k[1] for k in kept]
    else:
        kept = None
        own = [_own_price(line, member) for line in lines]
    # Work in an order that does not depend on the scan order.
    order = sorted(range(len(lines)), key=lambda i: lines[i].line_id)
    near: dict[str, list[int]] | None = None
    if isinstance(promotions, PromotionSet):
        rules, near = promotions.for_basket(
            [(lines[i].product_id, lines[i].category) for i in order]
        )
    else:
        rules = [Prepared(promo) for promo in promotions]
    if member is not None:
        extra = [Prepared(promo) for promo in _member_promotions(member)]
        if near is not None and any(prep.promo_id in near for prep in extra):
            near = None  # one id, two promotions: find every promotion's lines the slow way
        rules.extend(extra)
    if not rules:
        return PricedBasket(
            tuple(
                [
                    _priced_line(line.line_id, base, adjustments, net, line.tax_rate_bp)
                    for line, (base, adjustments, net) in zip(lines, own, strict=True)
                ]
            )
        )
    done = apply_prepared(
        [_state(lines[i], own[i][2]) for i in order]
        if kept is None
        else [LineState(*kept[i][2], {}) for i in order],
        rules,
        store_id=store_id,
        at=at,
        member=member is not None,
        near=near,
    )
    out: list[PricedLine] = [None] * len(lines)  # type: ignore[list-item]
    for i, state in zip(order, done, strict=True):
        out[i] = _priced(lines[i], own[i], state)
    return PricedBasket(tuple(out))


def _member_promotions(member: MemberContext | None) -> list[Promotion]:
    """A member's tier discount and discount card (the better of the two) and coupons."""
    if member is None:
        return []
    out = list(member.coupons)
    if member.tier_discount_bp:
        out.append(
            Promotion(
                "member-tier",
                "会员折扣",
                PercentOff(member.tier_discount_bp),
                group="\x01member",
                members_only=True,
            )
        )
    if member.card_discount_bp:
        out.append(
            Promotion(
                "member-card",
                "折扣卡",
                PercentOff(member.card_discount_bp),
                group="\x01member",
                members_only=True,
            )
        )
    return out


def _state(line: LineInput, net_fen: int) -> LineState:
    return LineState(*_state_fields(line, net_fen), {})


def _state_fields(line: LineInput, net_fen: int) -> tuple[str, int, str, int, int, bool, bool, int]:
    """A line's LineState before any promotion, but its discounts."""
    promotable = not line.gift and line.override_unit_price_fen is None
    whole = line.quantity_milli % MILLI == 0 and not line.weighed and line.pack_factor == 1
    countable = promotable and whole and line.fixed_amount_fen is None
    units = line.quantity_milli // MILLI if countable else 0
    unit_price = net_fen // units if units else 0
    return (
        line.line_id,
        line.product_id,
        line.category,
        unit_price,
        net_fen,
        countable,
        promotable,
        units,
    )


# id(LineInput) -> (the line, its own price without a member, its state's
# fields). A basket priced scan after scan hands in the same LineInput objects
# (baskets keeps them), so each line's own part is worked out once. The entry
# holds the line, so its id cannot be reused while it lives, and `is` proves
# the entry is this line's. More lines than a store's open baskets hold; past
# that the memo starts again.
_PlainLine = tuple[LineInput, tuple[int, tuple[Adjustment, ...], int], tuple]
_PLAIN_LINES: dict[int, _PlainLine] = {}
_PLAIN_LINES_MAX = 10_000


def _plain_line(line: LineInput) -> _PlainLine:
    found = _PLAIN_LINES.get(id(line))
    if found is None or found[0] is not line:
        own = _own_price(line, None)
        found = (line, own, _state_fields(line, own[2]))
        if len(_PLAIN_LINES) >= _PLAIN_LINES_MAX:
            _PLAIN_LINES.clear()
        _PLAIN_LINES[id(line)] = found
    return found


def _priced(
    line: LineInput, own: tuple[int, tuple[Adjustment, ...], int], state: LineState
) -> PricedLine:
    base, adjustments, net = own
    discounts = state.discounts
    if discounts:
        net = state.net_fen
        if len(discounts) == 1:
            ((promo_id, (name, amount)),) = discounts.items()
            adjustments += (_promotion_adjustment(promo_id, name, amount),)
        else:
            adjustments += tuple(
                [
                    _promotion_adjustment(promo_id, name, amount)
                    for promo_id, (name, amount) in sorted(discounts.items())
                ]
            )
    return _priced_line(line.line_id, base, adjustments, net, line.tax_rate_bp)


def _own_price(
    line: LineInput, member: MemberContext | None
) -> tuple[int, tuple[Adjustment, ...], int]:
    """A line's own price as (base, adjustments, net), fen, before any promotion."""
    if (
        line.fixed_amount_fen is None
        and line.override_unit_price_fen is None
        and not line.gift
        and (member is None or line.member_unit_price_fen is None)
    ):
        # The common line: shelf price times quantity, nothing to explain.
        amount = line.unit_price_fen * line.quantity_milli
        if amount >= 0:  # line_amount's rounding half up, in one division
            base = (2 * amount + MILLI) // (2 * MILLI)
            return base, (), base
        base = line_amount(line.unit_price_fen, line.quantity_milli)
        return base, (), max(base, 0)
    priced = _price_line(line, member)
    return priced.base_amount_fen, priced.adjustments, priced.net_amount_fen


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
