"""Tender arithmetic of one sale: what is due, what was paid, the change (all in fen).

It follows the server's rules (store_server/domain/tender.py): cash may exceed what
is due and the excess is change; card, mobile and member tenders pay exactly; a gift
voucher (礼券) pays its face value and what it exceeds the due amount by is forfeited,
never given back. Foreign cash is converted by the server at the HQ rate, which the
till does not know (no call tells it the rates): a foreign cash payment is taken last
and sends the sale, and the server says the change (in yuan) or that more is due; its
answer's receipt gives each foreign payment's yuan value (Tender.converted), and from
then on the till counts it as cash like the server. A member's count card (计次卡)
pays by uses: what that many units of its product cost in this basket, after their
discounts, worked out here as the server does (store_server/members/sale_effects.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from tillpoint.v1 import sales_pb2


class TenderKind(Enum):
    """The tenders the till takes, with their proto kind and text key."""

    CASH = (sales_pb2.TENDER_KIND_CASH, "cash")
    BANK_CARD = (sales_pb2.TENDER_KIND_BANK_CARD, "bank_card")
    MOBILE = (sales_pb2.TENDER_KIND_MOBILE, "mobile")
    STORED_VALUE = (sales_pb2.TENDER_KIND_STORED_VALUE, "stored_value")
    POINTS = (sales_pb2.TENDER_KIND_POINTS, "points")
    GIFT_VOUCHER = (sales_pb2.TENDER_KIND_GIFT_VOUCHER, "gift_voucher")
    FOREIGN_CASH = (sales_pb2.TENDER_KIND_FOREIGN_CASH, "foreign_cash")
    COUNT_CARD = (sales_pb2.TENDER_KIND_COUNT_CARD, "count_card")

    @property
    def proto(self) -> int:
        return self.value[0]

    @property
    def text_key(self) -> str:
        return self.value[1]

    @property
    def needs_reference(self) -> bool:
        """A card slip, mobile payment or voucher number is recorded with the payment."""
        return self in (TenderKind.BANK_CARD, TenderKind.MOBILE, TenderKind.GIFT_VOUCHER)

    @property
    def needs_member(self) -> bool:
        return self in (TenderKind.STORED_VALUE, TenderKind.POINTS, TenderKind.COUNT_CARD)

    @property
    def exact(self) -> bool:
        """Pays exactly what it says: more than is due is a typing error."""
        return self in (
            TenderKind.BANK_CARD,
            TenderKind.MOBILE,
            TenderKind.STORED_VALUE,
            TenderKind.POINTS,
            TenderKind.COUNT_CARD,
        )


# Foreign currencies the till offers (ISO code, decimal places of its minor unit).
# The rates are set at HQ and applied by the server; a code without a rate is refused there.
FOREIGN_CURRENCIES: tuple[tuple[str, int], ...] = (("USD", 2), ("HKD", 2), ("EUR", 2), ("JPY", 0))


@dataclass(frozen=True)
class Tendered:
    kind: TenderKind
    # Foreign cash: 0 until the server has converted it (its yuan value, half up to
    # the fen, is the server's to work out); then what the server's receipt says.
    fen: int
    reference: str = ""
    currency: str = ""  # foreign cash only, e.g. USD
    foreign_minor: int = 0  # foreign cash only, in the currency's minor unit (US cents)
    uses: int = 0  # count card only (its card id is the reference)
    product_id: int = 0  # count card only: the product whose units it pays


class TenderRefused(ValueError):
    """A tender the till refuses before asking the server; args[0] is a text key."""


@dataclass(frozen=True)
class Tender:
    """The payments taken so far against an amount due. Immutable: add returns a new one."""

    total: int
    payments: tuple[Tendered, ...] = ()
    # The total when cash is among the payments (after 抹零, from the server's
    # basket); None: the store does not round.
    cash_total: int | None = None

    @property
    def due(self) -> int:
        """What the payments must cover: with cash among them, the rounded total,
        as the server settles it (the rounding applies to the whole sale)."""
        if self.cash_total is not None and any(
            p.kind in (TenderKind.CASH, TenderKind.FOREIGN_CASH) for p in self.payments
        ):
            return self.cash_total
        return self.total

    def _sum(self, *kinds: TenderKind) -> int:
        return sum(p.fen for p in self.payments if p.kind in kinds)

    @property
    def paid(self) -> int:
        return sum(p.fen for p in self.payments)

    @property
    def _exact(self) -> int:
        return sum(p.fen for p in self.payments if p.kind.exact)

    @property
    def _voucher_applied(self) -> int:
        return min(self._sum(TenderKind.GIFT_VOUCHER), max(self.due - self._exact, 0))

    @property
    def forfeited(self) -> int:
        """Voucher value beyond what was due: kept by the store, no change given."""
        return self._sum(TenderKind.GIFT_VOUCHER) - self._voucher_applied

    @property
    def _cash(self) -> int:
        """Cash and converted foreign cash: both may exceed what is due (change)."""
        return self._sum(TenderKind.CASH, TenderKind.FOREIGN_CASH)

    @property
    def remaining(self) -> int:
        """Meaningless while foreign cash is unconverted (see `unconverted`)."""
        covered = self._exact + self._voucher_applied + self._cash
        return max(self.due - covered, 0)

    @property
    def change(self) -> int:
        """Change is given in cash (yuan) only: what cash paid beyond the rest of the due
        amount."""
        cash_due = max(self.due - self._exact - self._voucher_applied, 0)
        return max(self._cash - cash_due, 0)

    @property
    def has_foreign(self) -> bool:
        return any(p.kind is TenderKind.FOREIGN_CASH for p in self.payments)

    @property
    def unconverted(self) -> bool:
        """Foreign cash taken whose yuan value the server has not said yet: paid,
        remaining and change are not known here until it answers."""
        return any(p.kind is TenderKind.FOREIGN_CASH and not p.fen for p in self.payments)

    def converted(self, receipt: sales_pb2.Receipt) -> Tender:
        """The payments with foreign cash at the yuan value the server's receipt gives it.
        The receipt lists our payments in our order; an answer that does not match them
        (not ours) changes nothing."""
        if len(receipt.payments) != len(self.payments):
            return self
        payments = []
        for mine, theirs in zip(self.payments, receipt.payments, strict=True):
            if theirs.kind != mine.kind.text_key:
                return self
            if mine.kind is TenderKind.FOREIGN_CASH:
                if (theirs.currency, theirs.foreign_amount_minor) != (
                    mine.currency,
                    mine.foreign_minor,
                ):
                    return self
                payments.append(replace(mine, fen=theirs.tendered.fen))
            else:
                payments.append(mine)
        return replace(self, payments=tuple(payments))

    @property
    def complete(self) -> bool:
        """Enough to send: everything is covered, or foreign cash was taken (the server
        converts it and answers with the change or with what is still due)."""
        return self.remaining == 0 or self.has_foreign

    def check(self, kind: TenderKind, fen: int, *, has_member: bool) -> None:
        """Raise TenderRefused when this payment cannot be taken."""
        if fen <= 0:
            raise TenderRefused("bad_amount")
        if kind.needs_member and not has_member:
            raise TenderRefused("need_member")
        if kind.exact and fen > self.remaining:
            raise TenderRefused("over_non_cash")

    def add(self, kind: TenderKind, fen: int, *, has_member: bool, reference: str = "") -> Tender:
        if kind in (TenderKind.FOREIGN_CASH, TenderKind.COUNT_CARD):
            raise TenderRefused("bad_amount")  # they come through add_foreign/add_count_card
        self.check(kind, fen, has_member=has_member)
        if kind.needs_reference and not reference:
            raise TenderRefused("need_reference")
        return replace(self, payments=(*self.payments, Tendered(kind, fen, reference)))

    def add_foreign(self, currency: str, minor: int) -> Tender:
        """Foreign cash of `minor` units of `currency` (e.g. 2000 US cents)."""
        if minor <= 0:
            raise TenderRefused("bad_amount")
        paid = Tendered(TenderKind.FOREIGN_CASH, 0, currency=currency, foreign_minor=minor)
        return replace(self, payments=(*self.payments, paid))

    def add_count_card(
        self, card_id: str, product_id: int, uses: int, fen: int, *, has_member: bool
    ) -> Tender:
        """`uses` uses of the member's count card `card_id`, paying `fen` (count_card_cover)."""
        if uses <= 0:
            raise TenderRefused("count_card_none")
        self.check(TenderKind.COUNT_CARD, fen, has_member=has_member)
        paid = Tendered(
            TenderKind.COUNT_CARD, fen, reference=card_id, uses=uses, product_id=product_id
        )
        return replace(self, payments=(*self.payments, paid))

    def uses_taken(self, product_id: int) -> int:
        """Units of a product already paid by count cards in this tender."""
        return sum(
            p.uses
            for p in self.payments
            if p.kind is TenderKind.COUNT_CARD and p.product_id == product_id
        )

    def with_due(self, due: int, cash_total: int | None = None) -> Tender:
        """The same payments against a new amount due (a coupon applied or taken off)."""
        return replace(self, total=due, cash_total=cash_total)

    def without_last(self) -> Tender:
        return replace(self, payments=self.payments[:-1])

    def to_proto(self) -> list[sales_pb2.Payment]:
        return [_payment(p) for p in self.payments]


def cash_total_of(basket: sales_pb2.Basket) -> int | None:
    """The basket's total when paid in cash (after 抹零); None when it is the total."""
    if not basket.HasField("cash_total") or basket.cash_total.fen == basket.total.fen:
        return None
    return basket.cash_total.fen


def _share(amount: int, part: int, whole: int) -> int:
    """amount x part / whole, rounded half up (store_server.domain.allocation.share)."""
    if whole <= 0:
        return 0
    return (2 * amount * part + whole) // (2 * whole)


def count_card_units(basket: sales_pb2.Basket, product_id: int) -> int:
    """Whole units of the product a count card can pay in this basket: single units,
    not gifts (a case barcode's line is not a count card's unit)."""
    return sum(
        line.quantity.milli // 1000
        for line in basket.lines
        if line.product_id == product_id and not line.gift and line.pack_factor == 1
    )


def count_card_cover(basket: sales_pb2.Basket, product_id: int, skip: int, uses: int) -> int:
    """What `uses` units of the product cost in this basket after their discounts, the
    first `skip` units being paid by earlier count cards; as the server prices it."""
    need, amount = uses, 0
    for line in basket.lines:
        if line.product_id != product_id or line.gift or line.pack_factor != 1:
            continue
        units = line.quantity.milli // 1000
        usable = max(units - skip, 0)
        skip = max(skip - units, 0)
        take = min(usable, need)
        if take:
            done = units - usable
            net = line.net_amount.fen
            amount += _share(net, done + take, units) - _share(net, done, units)
            need -= take
        if not need:
            break
    return amount


def _payment(p: Tendered) -> sales_pb2.Payment:
    if p.kind is TenderKind.COUNT_CARD:
        return sales_pb2.Payment(kind=p.kind.proto, reference=p.reference, uses=p.uses)
    if p.kind is TenderKind.FOREIGN_CASH:
        return sales_pb2.Payment(
            kind=p.kind.proto, currency=p.currency, foreign_amount_minor=p.foreign_minor
        )
    return sales_pb2.Payment(kind=p.kind.proto, amount={"fen": p.fen}, reference=p.reference)
