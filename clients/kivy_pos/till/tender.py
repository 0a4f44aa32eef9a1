"""Tender arithmetic of one sale: what is due, what was paid, the change (all in fen)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tillpoint.v1 import sales_pb2


class TenderKind(Enum):
    """The tenders the till takes, with their proto kind and text key."""

    CASH = (sales_pb2.TENDER_KIND_CASH, "cash")
    BANK_CARD = (sales_pb2.TENDER_KIND_BANK_CARD, "bank_card")
    MOBILE = (sales_pb2.TENDER_KIND_MOBILE, "mobile")
    STORED_VALUE = (sales_pb2.TENDER_KIND_STORED_VALUE, "stored_value")
    POINTS = (sales_pb2.TENDER_KIND_POINTS, "points")

    @property
    def proto(self) -> int:
        return self.value[0]

    @property
    def text_key(self) -> str:
        return self.value[1]

    @property
    def needs_reference(self) -> bool:
        """A card slip or mobile payment number is recorded with the payment."""
        return self in (TenderKind.BANK_CARD, TenderKind.MOBILE)

    @property
    def needs_member(self) -> bool:
        return self in (TenderKind.STORED_VALUE, TenderKind.POINTS)


@dataclass(frozen=True)
class Tendered:
    kind: TenderKind
    fen: int
    reference: str = ""


class TenderRefused(ValueError):
    """A tender the till refuses before asking the server; args[0] is a text key."""


@dataclass(frozen=True)
class Tender:
    """The payments taken so far against an amount due. Immutable: add returns a new one."""

    due: int
    payments: tuple[Tendered, ...] = ()

    @property
    def paid(self) -> int:
        return sum(p.fen for p in self.payments)

    @property
    def remaining(self) -> int:
        return max(self.due - self.paid, 0)

    @property
    def change(self) -> int:
        """Change is given in cash only, so it is what cash paid beyond the due amount."""
        return max(self.paid - self.due, 0)

    @property
    def complete(self) -> bool:
        return self.paid >= self.due

    def check(self, kind: TenderKind, fen: int, *, has_member: bool) -> None:
        """Raise TenderRefused when this payment cannot be taken."""
        if fen <= 0:
            raise TenderRefused("bad_amount")
        if kind.needs_member and not has_member:
            raise TenderRefused("need_member")
        if kind is not TenderKind.CASH and fen > self.remaining:
            raise TenderRefused("over_non_cash")

    def add(self, kind: TenderKind, fen: int, *, has_member: bool, reference: str = "") -> Tender:
        self.check(kind, fen, has_member=has_member)
        if kind.needs_reference and not reference:
            raise TenderRefused("need_reference")
        return Tender(self.due, (*self.payments, Tendered(kind, fen, reference)))

    def without_last(self) -> Tender:
        return Tender(self.due, self.payments[:-1])

    def to_proto(self) -> list[sales_pb2.Payment]:
        return [
            sales_pb2.Payment(kind=p.kind.proto, amount={"fen": p.fen}, reference=p.reference)
            for p in self.payments
        ]
