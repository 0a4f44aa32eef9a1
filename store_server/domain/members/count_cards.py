"""Count cards (计次卡): N uses of a product or service, with an expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from store_server.domain.errors import FailedPrecondition


@dataclass(frozen=True, slots=True)
class CountCard:
    card_id: str
    product_id: int
    remaining: int
    expires_on: date | None


def check_use(card: CountCard, uses: int, *, today: date) -> None:
    if card.expires_on is not None and today > card.expires_on:
        raise FailedPrecondition(
            f"count card expired on {card.expires_on}", reason="COUNT_CARD_EXPIRED"
        )
    if uses > card.remaining:
        raise FailedPrecondition(
            f"count card has {card.remaining} uses left, {uses} asked",
            reason="COUNT_CARD_EXHAUSTED",
        )
