"""Tender screen extras: foreign cash in its own currency, the attached member's
coupons applied or taken off before paying, and the member's count cards (计次卡)
paying the units of their product. A mixin of TillPresenter, like TenderMixin; gift
vouchers need nothing here (a TenderKind with a reference number).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from clients.kivy_pos.till.amounts import parse_minor, yuan
from clients.kivy_pos.till.panel import Panel
from clients.kivy_pos.till.tender import (
    FOREIGN_CURRENCIES,
    Tender,
    Tendered,
    TenderKind,
    cash_total_of,
    count_card_cover,
    count_card_units,
)
from clients.kivy_pos.till.view_model import Screen
from tillpoint.v1 import members_pb2, sales_pb2

_PLACES = dict(FOREIGN_CURRENCIES)


def parse_foreign(text: str, default_currency: str) -> tuple[str, int] | None:
    """'20.50' -> (default, 2050) for USD; 'HKD100' or 'HKD 100' -> ('HKD', 10000);
    'JPY1000' -> ('JPY', 1000). None: an unknown code or too many decimals."""
    text = text.strip().upper()
    currency = default_currency
    if text[:3].isalpha():
        currency, text = text[:3], text[3:]
    if currency not in _PLACES:
        return None
    minor = parse_minor(text, _PLACES[currency])
    return None if minor is None else (currency, minor)


def foreign_text(p: Tendered) -> str:
    """A foreign cash payment as the cashier reads it: 'USD 20.50'."""
    places = _PLACES.get(p.currency, 2)
    if places == 0:
        return f"{p.currency} {p.foreign_minor}"
    whole, part = divmod(p.foreign_minor, 10**places)
    return f"{p.currency} {whole}.{part:0{places}d}"


def usable(coupons: Sequence[members_pb2.MemberCoupon]) -> tuple[members_pb2.MemberCoupon, ...]:
    return tuple(c for c in coupons if c.status == "issued")


class TenderExtrasMixin:
    client: Any
    texts: Any
    screen: Screen
    panel: Panel | None
    message: str
    basket: sales_pb2.Basket | None
    basket_id: str
    tender: Tender | None
    tender_kind: TenderKind
    foreign_currency: str
    member_coupons: int
    pending: object | None
    last_sale: sales_pb2.Sale | None
    _show: Callable[..., None]
    _send_if_complete: Callable[[], None]

    # ---- foreign cash ------------------------------------------------------------

    def _choose_foreign(self) -> None:
        """F7: foreign cash; pressed again, the next currency (USD, HKD, EUR, JPY)."""
        if self.screen is not Screen.TENDER or self.pending is not None:
            return
        if self.tender_kind is TenderKind.FOREIGN_CASH:
            codes = [code for code, _places in FOREIGN_CURRENCIES]
            index = codes.index(self.foreign_currency) if self.foreign_currency in codes else -1
            self.foreign_currency = codes[(index + 1) % len(codes)]
        self.tender_kind = TenderKind.FOREIGN_CASH

    def _pay_foreign(self, text: str) -> None:
        """Foreign cash is taken last: the sale is sent and the server converts it."""
        if self.tender is None or self.last_sale is not None or self.pending is not None:
            return
        parsed = parse_foreign(text, self.foreign_currency) if text else None
        if parsed is None:
            self.message = self.texts("bad_foreign", currency=self.foreign_currency)
            return
        currency, minor = parsed
        self.foreign_currency = currency
        self.tender = self.tender.add_foreign(currency, minor)
        self._send_if_complete()

    # ---- member coupons -------------------------------------------------------------

    def _coupons(self) -> None:
        """F8 on the tender screen: the member's usable coupons; a pick puts one on the
        basket or takes it off again, and the amount due follows."""
        if self.screen is not Screen.TENDER or self.pending is not None:
            return
        if self.last_sale is not None or self.tender is None:
            return
        if self.tender.payments:  # the due amount may not move under payments taken
            self.message = self.texts("coupons_before_pay")
            return
        member_id = self.basket.member.member_id if self.basket is not None else ""
        if not member_id:
            self.message = self.texts("need_member_coupons")
            return
        coupons = usable(self.client.list_coupons(member_id))
        if not coupons:
            self.message = self.texts("no_coupons")
            return
        self._coupon_panel(coupons, selected=0)

    def _coupon_panel(self, coupons: tuple[members_pb2.MemberCoupon, ...], selected: int) -> None:
        on = set(self.basket.coupon_ids) if self.basket is not None else set()
        rows = tuple(
            ("☑ " if c.coupon_id in on else "☐ ")
            + self.texts("coupon_row", no=i + 1, name=c.name or c.campaign, until=c.valid_until)
            for i, c in enumerate(coupons)
        )
        self.panel = Panel(
            kind="coupons",
            title=self.texts("coupons_title", count=len(coupons)),
            rows=rows,
            pick=lambda index: self._toggle_coupon(coupons, index),
            selected=selected,
            footer=self.texts("coupons_footer"),
        )

    def _toggle_coupon(self, coupons: tuple[members_pb2.MemberCoupon, ...], index: int) -> None:
        if not 0 <= index < len(coupons) or self.basket is None or self.tender is None:
            return
        if self.pending is not None or self.last_sale is not None or self.tender.payments:
            return
        coupon_id = coupons[index].coupon_id
        if coupon_id in self.basket.coupon_ids:
            basket = self.client.remove_coupon(self.basket_id, coupon_id)
        else:
            basket = self.client.apply_coupon(self.basket_id, coupon_id)
        self._show(basket)
        self.tender = self.tender.with_due(basket.total.fen, cash_total_of(basket))
        self._coupon_panel(coupons, selected=index)
        if coupon_id in basket.coupon_ids:
            self.message = self.texts("coupon_applied", total=yuan(basket.total.fen))
        else:
            self.message = self.texts("coupon_removed", total=yuan(basket.total.fen))

    # ---- member count cards -----------------------------------------------------------

    def _count_cards(self) -> None:
        """End on the tender screen: the member's count cards that can pay something in
        this basket; a pick pays as many uses as the card has left and the basket needs."""
        if self.screen is not Screen.TENDER or self.pending is not None:
            return
        if self.last_sale is not None or self.tender is None or self.basket is None:
            return
        member_id = self.basket.member.member_id
        if not member_id:
            self.message = self.texts("need_member_count_card")
            return
        member = self.client.identify_member(members_pb2.MemberCredential(member_id=member_id))
        options = self._count_card_options(member.count_cards)
        if not options:
            self.message = self.texts("no_count_cards")
            return
        t = self.texts
        rows = tuple(
            t(
                "count_card_row",
                no=i + 1,
                name=card.name,
                remaining=card.remaining,
                total=card.total_uses,
                uses=uses,
                amount=yuan(fen),
                until=t("count_card_until", date=card.expires_on) if card.expires_on else "",
            )
            for i, (card, uses, fen) in enumerate(options)
        )
        self.panel = Panel(
            kind="count_cards",
            title=t("count_cards_title", count=len(options)),
            rows=rows,
            pick=lambda index: self._pay_count_card(options, index),
            footer=t("count_cards_footer"),
        )

    def _count_card_options(
        self, cards: Sequence[members_pb2.CountCard]
    ) -> tuple[tuple[members_pb2.CountCard, int, int], ...]:
        """(card, uses, fen) for each card with uses left and units of its product still
        unpaid here; whether it has expired is the server's to say (its clock, not ours)."""
        assert self.basket is not None and self.tender is not None
        options = []
        for card in cards:
            taken = self.tender.uses_taken(card.product_id)
            uses = min(card.remaining, count_card_units(self.basket, card.product_id) - taken)
            if uses > 0:
                fen = count_card_cover(self.basket, card.product_id, taken, uses)
                options.append((card, uses, fen))
        return tuple(options)

    def _pay_count_card(
        self, options: tuple[tuple[members_pb2.CountCard, int, int], ...], index: int
    ) -> None:
        if not 0 <= index < len(options) or self.tender is None or self.last_sale is not None:
            return
        if self.pending is not None:
            return
        card, uses, fen = options[index]
        self.panel = None
        self.tender = self.tender.add_count_card(
            card.card_id, card.product_id, uses, fen, has_member=True
        )
        self._send_if_complete()
