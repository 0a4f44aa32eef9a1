"""The tender screen's steps: total, choose a tender, take amounts and slip numbers,
quick cash, and the commit that is sent again with the same sale id until the server
answers (never a second sale). A mixin of TillPresenter: it uses the presenter's state
and its one error path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clients.kivy_pos.client.errors import Offline, ServerError
from clients.kivy_pos.till.amounts import parse_yuan, yuan
from clients.kivy_pos.till.panel import Panel
from clients.kivy_pos.till.tender import Tender, TenderKind, cash_total_of
from clients.kivy_pos.till.view_model import Screen
from tillpoint.v1 import sales_pb2


@dataclass(frozen=True)
class PendingCommit:
    """A commit sent and not yet answered: sent again exactly as it was."""

    sale_id: str
    basket_id: str
    tender: Tender


class TenderMixin:
    client: Any
    texts: Any
    devices: Any
    screen: Screen
    panel: Panel | None
    message: str
    basket: sales_pb2.Basket | None
    basket_id: str
    tender: Tender | None
    tender_kind: TenderKind
    pending: PendingCommit | None
    sale_id: str
    last_sale: sales_pb2.Sale | None
    _awaiting_reference: tuple[TenderKind, int] | None
    _make_id: Callable[[], str]
    _show: Callable[..., None]
    _online: Callable[[], None]
    _next_sale: Callable[[], None]
    _device: Callable[[Callable[[], None]], None]
    _pay_foreign: Callable[[str], None]
    _count_cards: Callable[[], None]

    # ---- tender --------------------------------------------------------------

    def _start_tender(self) -> None:
        if self.screen is not Screen.SELL:
            return
        if self.basket is None or not self.basket.lines:
            self.message = self.texts("empty_basket")
            return
        basket = self.client.total_basket(self.basket_id)
        self._show(basket)
        self.screen = Screen.TENDER
        self.panel = None
        self.tender = Tender(basket.total.fen, cash_total=cash_total_of(basket))
        self.tender_kind = TenderKind.CASH
        self.sale_id = self._make_id()
        self._device(lambda: self.devices.show_total(basket.total.fen))

    def _choose_kind(self, name: str) -> None:
        if name == TenderKind.COUNT_CARD.name:  # paid by picking a card, not an amount
            self._count_cards()
        elif self.screen is Screen.TENDER and self.pending is None:
            self.tender_kind = TenderKind[name]

    def _enter_tender(self, text: str) -> None:
        if self.last_sale is not None:
            self._next_sale()
            return
        if self.pending is not None:  # the cashier asks to try again now
            self._commit()
            return
        assert self.tender is not None
        if self._awaiting_reference is not None:
            if not text:
                self.message = self.texts("need_reference")
                return
            kind, fen = self._awaiting_reference
            self._awaiting_reference = None
            self._pay(kind, fen, reference=text)
            return
        if self.tender_kind is TenderKind.FOREIGN_CASH:
            self._pay_foreign(text)
            return
        fen = parse_yuan(text) if text else self.tender.remaining
        if fen is None:
            self.message = self.texts("bad_amount")
            return
        self._pay(self.tender_kind, fen)

    def tender_figures(self) -> tuple[str, str, str, str]:
        """应付, 已付, 剩余 and 找零 as the tender screen shows them, in yuan text.

        Once the sale is committed they are the server's (its receipt and change: foreign
        cash at the yuan value it converted it to, 抹零 as it settled it); before, the
        till's own arithmetic, which follows the server's rules. With foreign cash sent
        and not yet answered (an outage) the till cannot know them: it shows none.
        """
        tender = self.tender
        if self.last_sale is not None and self.screen is Screen.TENDER:
            receipt = self.last_sale.receipt
            paid = sum(p.tendered.fen for p in receipt.payments)
            return yuan(receipt.total.fen), yuan(paid), yuan(0), yuan(self.last_sale.change.fen)
        if tender is None:
            return yuan(0), yuan(0), yuan(0), yuan(0)
        if tender.unconverted:
            unknown = self.texts("unknown_amount")
            return yuan(tender.due), unknown, unknown, unknown
        return yuan(tender.due), yuan(tender.paid), yuan(tender.remaining), yuan(tender.change)

    def quick_amounts(self) -> tuple[int, ...]:
        """Cash amounts a customer likely hands over: exact, then round notes above.
        No amounts once nothing more can be paid on this sale: it is paid in full, committed,
        or its commit is in doubt (sent and unanswered), like every other tender."""
        tender = self.tender
        if tender is None or self.last_sale is not None or self.pending is not None:
            return ()
        if tender.unconverted or tender.remaining == 0:
            return ()
        due = tender.remaining
        amounts = [due]
        for step in (1_000, 5_000, 10_000):
            rounded = -(-due // step) * step
            if rounded not in amounts:
                amounts.append(rounded)
        return tuple(amounts)

    def _quick(self, index: int) -> None:
        amounts = self.quick_amounts()
        if 0 <= index < len(amounts):
            self._pay(TenderKind.CASH, amounts[index])

    def _pay(self, kind: TenderKind, fen: int, reference: str = "") -> None:
        if self.screen is not Screen.TENDER or self.tender is None or self.pending is not None:
            return
        if self.last_sale is not None:  # this sale is done: nothing more is paid on it
            return
        has_member = bool(self.basket is not None and self.basket.member.member_id)
        if kind.needs_reference and not reference:
            self.tender.check(kind, fen, has_member=has_member)
            self._awaiting_reference = (kind, fen)  # the next Enter brings the slip number
            return
        self.tender = self.tender.add(kind, fen, has_member=has_member, reference=reference)
        self._send_if_complete()

    def _send_if_complete(self) -> None:
        if self.tender is not None and self.tender.complete:
            self.pending = PendingCommit(self.sale_id, self.basket_id, self.tender)
            self._commit()

    def _commit(self) -> None:
        pending = self.pending
        assert pending is not None
        try:
            sale = self.client.commit_sale(
                pending.sale_id, pending.basket_id, pending.tender.to_proto()
            )
        except Offline:
            raise
        except ServerError:
            # Refused (e.g. not enough points): nothing was sold; take the last
            # tender off so the cashier can choose another.
            self.pending = None
            self.tender = pending.tender.without_last()
            raise
        self._online()
        self.pending = None
        # Foreign cash now has the yuan value the server gave it: the payments read it.
        self.tender = pending.tender.converted(sale.receipt)
        self.last_sale = sale  # the done panel shows the receipt number and the change
        # The sale is committed: a printer or display fault now loses nothing.
        self._device(lambda: self.devices.print_receipt(sale.receipt, open_drawer=sale.open_drawer))
        self._device(lambda: self.devices.show_change(sale.change.fen))

    def _escape_tender(self) -> None:
        if self.last_sale is not None:
            self._next_sale()
        elif self.pending is not None:
            return  # a commit in doubt cannot be taken back: it is retried
        elif self._awaiting_reference is not None:
            self._awaiting_reference = None
        elif self.tender is not None and self.tender.payments:
            self.tender = self.tender.without_last()
        else:
            self._show(self.client.back_out_total(self.basket_id))
            self.screen = Screen.SELL
            self.tender = None
