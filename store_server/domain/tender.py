"""Tender: how a sale is paid, what change is due, and cash rounding (抹零).

Kinds of payment behave differently:
- cash and foreign cash may exceed what is due; the difference is change,
  always paid in yuan;
- card, mobile payment, stored value, points and count cards pay an exact
  amount: paying more than is due is a typing error, refused;
- a gift voucher (礼券) pays its face value and gives no change: what it
  exceeds the amount due by is forfeited, and the receipt says so.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from store_server.domain.errors import FailedPrecondition, InvalidArgument
from store_server.domain.money import MAX_FEN, div_round_half_up


class TenderKind(enum.StrEnum):
    CASH = "cash"
    BANK_CARD = "bank_card"
    MOBILE = "mobile"
    FOREIGN_CASH = "foreign_cash"
    GIFT_VOUCHER = "gift_voucher"
    STORED_VALUE = "stored_value"
    POINTS = "points"
    COUNT_CARD = "count_card"


CASH_LIKE = frozenset({TenderKind.CASH, TenderKind.FOREIGN_CASH})
# Paid from the basket's member's balances (domain.members); they earn no change.
MEMBER_TENDERS = frozenset({TenderKind.STORED_VALUE, TenderKind.POINTS, TenderKind.COUNT_CARD})
EXACT = frozenset({TenderKind.BANK_CARD, TenderKind.MOBILE}) | MEMBER_TENDERS
NEEDS_REFERENCE = frozenset(
    {TenderKind.BANK_CARD, TenderKind.MOBILE, TenderKind.GIFT_VOUCHER, TenderKind.COUNT_CARD}
)

TENDER_NAMES = {
    TenderKind.CASH: "现金",
    TenderKind.BANK_CARD: "银行卡",
    TenderKind.MOBILE: "移动支付",
    TenderKind.FOREIGN_CASH: "外币现金",
    TenderKind.GIFT_VOUCHER: "礼券",
    TenderKind.STORED_VALUE: "储值卡",
    TenderKind.POINTS: "积分抵现",
    TenderKind.COUNT_CARD: "计次卡",
}


class CashRounding(enum.StrEnum):
    """抹零: the cash total drops the fen (JIAO) or the jiao and fen (YUAN)."""

    NONE = "none"
    JIAO = "jiao"
    YUAN = "yuan"


_ROUNDING_UNIT = {CashRounding.NONE: 1, CashRounding.JIAO: 10, CashRounding.YUAN: 100}


def rounding_adjustment(total_fen: int, mode: CashRounding) -> int:
    """The (negative or zero) rounding line: 抹零 always favours the customer."""
    unit = _ROUNDING_UNIT[mode]
    return -(total_fen % unit) if total_fen > 0 else 0


@dataclass(frozen=True, slots=True)
class Currency:
    code: str  # ISO 4217, e.g. USD
    # Fen per one minor unit of the currency, in millionths: USD at 7.1234
    # yuan means 1 cent = 7.1234 fen -> 7_123_400.
    rate_micro: int


@dataclass(frozen=True, slots=True)
class PaymentInput:
    kind: TenderKind
    amount_fen: int = 0  # yuan-denominated kinds
    currency: str = ""  # foreign cash only
    foreign_amount_minor: int = 0  # foreign cash only, e.g. US cents
    reference: str = ""
    uses: int = 0  # count card only


@dataclass(frozen=True, slots=True)
class AppliedPayment:
    kind: TenderKind
    tendered_fen: int  # what was handed over, in fen
    applied_fen: int  # what of it pays the sale
    currency: str
    foreign_amount_minor: int
    rate_micro: int
    reference: str
    uses: int = 0  # count card only


@dataclass(frozen=True, slots=True)
class TenderResult:
    payments: tuple[AppliedPayment, ...]
    rounding_fen: int  # <= 0
    payable_fen: int  # total after rounding
    change_fen: int  # cash back, in yuan
    forfeited_fen: int  # voucher value beyond what was due


def settle(
    total_fen: int,
    payments: Sequence[PaymentInput],
    *,
    rounding: CashRounding,
    currencies: dict[str, Currency],
) -> TenderResult:
    """Check the payments against the total and work out change; raise if they do not fit."""
    if not payments:
        raise InvalidArgument("payments", "at least one payment is needed")
    tendered = [_tendered_fen(i, p, currencies) for i, p in enumerate(payments)]
    has_cash = any(p.kind in CASH_LIKE for p in payments)
    rounding_fen = rounding_adjustment(total_fen, rounding) if has_cash else 0
    payable = total_fen + rounding_fen

    exact = sum(t for p, t in zip(payments, tendered, strict=True) if p.kind in EXACT)
    if exact > payable:
        index = max(i for i, p in enumerate(payments) if p.kind in EXACT)
        raise InvalidArgument(
            f"payments[{index}].amount",
            f"exact payments (card, mobile, member) of {exact} fen exceed the amount due "
            f"({payable} fen)",
            reason="OVERPAID_NON_CASH",
        )
    vouchers = sum(
        t for p, t in zip(payments, tendered, strict=True) if p.kind is TenderKind.GIFT_VOUCHER
    )
    voucher_applied = min(vouchers, payable - exact)
    cash = sum(t for p, t in zip(payments, tendered, strict=True) if p.kind in CASH_LIKE)
    remaining = payable - exact - voucher_applied
    if cash < remaining:
        raise FailedPrecondition(f"underpaid: {remaining - cash} fen still due", reason="UNDERPAID")
    change = cash - remaining

    applied: list[AppliedPayment] = []
    voucher_left, cash_left = voucher_applied, remaining
    for p, t in zip(payments, tendered, strict=True):
        if p.kind in EXACT:
            used = t
        elif p.kind is TenderKind.GIFT_VOUCHER:
            used = min(t, voucher_left)
            voucher_left -= used
        else:
            used = min(t, cash_left)
            cash_left -= used
        rate = currencies[p.currency].rate_micro if p.kind is TenderKind.FOREIGN_CASH else 0
        applied.append(
            AppliedPayment(
                kind=p.kind,
                tendered_fen=t,
                applied_fen=used,
                currency=p.currency,
                foreign_amount_minor=p.foreign_amount_minor,
                rate_micro=rate,
                reference=p.reference,
                uses=p.uses,
            )
        )
    return TenderResult(
        payments=tuple(applied),
        rounding_fen=rounding_fen,
        payable_fen=payable,
        change_fen=change,
        forfeited_fen=vouchers - voucher_applied,
    )


def _tendered_fen(index: int, p: PaymentInput, currencies: dict[str, Currency]) -> int:
    field = f"payments[{index}]"
    if p.kind is TenderKind.FOREIGN_CASH:
        if p.amount_fen:
            raise InvalidArgument(f"{field}.amount", "foreign cash is given in its own currency")
        currency = currencies.get(p.currency)
        if currency is None:
            raise InvalidArgument(f"{field}.currency", f"no exchange rate for {p.currency!r}")
        if not 0 < p.foreign_amount_minor <= MAX_FEN:
            raise InvalidArgument(f"{field}.foreign_amount", "must be a positive amount")
        # Rounded half up to the fen; change is then given in yuan.
        return div_round_half_up(p.foreign_amount_minor * currency.rate_micro, 1_000_000)
    if p.currency or p.foreign_amount_minor:
        raise InvalidArgument(f"{field}.currency", "only foreign cash has a currency")
    if not 0 < p.amount_fen <= MAX_FEN:
        raise InvalidArgument(f"{field}.amount", "must be a positive amount in fen")
    if p.kind in NEEDS_REFERENCE and not p.reference.strip():
        raise InvalidArgument(
            f"{field}.reference", "card, mobile and voucher payments need their reference number"
        )
    if len(p.reference) > 64:
        raise InvalidArgument(f"{field}.reference", "at most 64 characters")
    return p.amount_fen
