"""The till's state machine: key presses and taps in, a TillView out. No Kivy here.

Every input is one method (type_text, backspace, enter, escape, action); each
ends by telling the listeners, which redraw from view(). Errors are shown in
the server's words; an unreachable server raises the offline banner and keeps
everything on screen. A sale's id is made once when tender starts and is
sent again, unchanged, until the server answers: a retried commit can never
sell twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from clients.kivy_pos.client.errors import Offline, ServerError
from clients.kivy_pos.till.amounts import parse_quantity, parse_yuan, yuan
from clients.kivy_pos.till.tender import Tender, TenderKind, TenderRefused
from clients.kivy_pos.till.texts import Texts
from clients.kivy_pos.till.view_model import Screen, TillView, line_rows, member_badge
from tillpoint.v1 import members_pb2, sales_pb2


class Client(Protocol):
    """The calls of clients.kivy_pos.client.StoreClient that the till uses."""

    operator: object

    def reachable(self, timeout: float) -> bool: ...
    def login(self, operator_id: str, pin: str) -> object: ...
    def current_shift(self) -> object | None: ...
    def open_shift(self, shift_id: str, float_fen: int) -> object: ...
    def create_basket(self, basket_id: str) -> sales_pb2.Basket: ...
    def add_item(
        self, basket_id: str, line_id: str, *, code: str = "", quantity_milli: int = 0
    ) -> sales_pb2.Basket: ...
    def set_quantity(self, basket_id: str, line_id: str, milli: int) -> sales_pb2.Basket: ...
    def void_line(self, basket_id: str, line_id: str) -> sales_pb2.Basket: ...
    def total_basket(self, basket_id: str) -> sales_pb2.Basket: ...
    def back_out_total(self, basket_id: str) -> sales_pb2.Basket: ...
    def attach_member(
        self, basket_id: str, credential: members_pb2.MemberCredential
    ) -> sales_pb2.Basket: ...
    def commit_sale(
        self, sale_id: str, basket_id: str, payments: list[sales_pb2.Payment]
    ) -> sales_pb2.Sale: ...


class Step(Enum):
    """Where the login screen is, and what the sell screen's entry box means."""

    OPERATOR = "operator"
    PIN = "pin"
    FLOAT = "float"
    SCAN = "scan"
    MEMBER = "member"
    QUANTITY = "quantity"


PROMPTS = {
    Step.OPERATOR: "operator_prompt",
    Step.PIN: "pin_prompt",
    Step.FLOAT: "float_prompt",
    Step.SCAN: "scan_prompt",
    Step.MEMBER: "member_prompt",
    Step.QUANTITY: "qty_prompt",
}


@dataclass(frozen=True)
class PendingCommit:
    """A commit sent and not yet answered: sent again exactly as it was."""

    sale_id: str
    basket_id: str
    tender: Tender


def new_id() -> str:
    return str(uuid.uuid4())


def parse_credential(text: str) -> members_pb2.MemberCredential:
    """'13800138000*246810' is phone + PIN; anything else is a card number."""
    phone, sep, pin = text.partition("*")
    if sep:
        return members_pb2.MemberCredential(phone=phone.strip(), pin=pin.strip())
    return members_pb2.MemberCredential(card_no=text.strip())


class TillPresenter:
    def __init__(
        self,
        client: Client,
        *,
        texts: Texts | None = None,
        make_id: Callable[[], str] = new_id,
    ) -> None:
        self.client = client
        self.texts = texts or Texts()
        self._make_id = make_id
        self._listeners: list[Callable[[], None]] = []
        self.screen = Screen.LOGIN
        self.step = Step.OPERATOR
        self.entry = ""
        self.message = ""
        self.offline = False
        self.operator_id = ""
        self.operator_name = ""
        self._shift_id = ""
        self.basket_id = ""
        self.basket: sales_pb2.Basket | None = None
        self.selected = -1
        self._pending_scan: tuple[str, str] | None = None  # (text, line_id)
        self.tender_kind = TenderKind.CASH
        self.tender: Tender | None = None
        self.pending: PendingCommit | None = None
        self.sale_id = ""
        self.last_sale: sales_pb2.Sale | None = None
        self._awaiting_reference: tuple[TenderKind, int] | None = None

    # ---- listeners and the view --------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def view(self) -> TillView:
        t = self.texts
        b = self.basket
        tender = self.tender
        banner = ""
        if self.offline:
            banner = t("offline_commit") if self.pending else t("offline")
        done = ""
        if self.last_sale is not None and self.screen is Screen.TENDER:
            done = t("sale_done", receipt_no=self.last_sale.receipt_no)
        return TillView(
            screen=self.screen,
            operator=f"{self.operator_id} {self.operator_name}".strip(),
            prompt=self._prompt(done),
            entry="●" * len(self.entry) if self.step is Step.PIN else self.entry,
            message=self.message,
            banner=banner,
            lines=line_rows(b, self.selected),
            item_count=str(b.item_count) if b else "0",
            subtotal=yuan(b.subtotal.fen) if b else "0.00",
            discount=yuan(b.discount.fen) if b else "0.00",
            total=yuan(b.total.fen) if b else "0.00",
            member=member_badge(b, t),
            due=yuan(tender.due) if tender else "0.00",
            paid=yuan(tender.paid) if tender else "0.00",
            remaining=yuan(tender.remaining) if tender else "0.00",
            change=yuan(self._change()),
            tender_kind=t(self.tender_kind.text_key),
            payments=tuple(f"{t(p.kind.text_key)} ¥{yuan(p.fen)}" for p in tender.payments)
            if tender
            else (),
            done=done,
            quick=tuple((f"quick:{fen}", yuan(fen)) for fen in self.quick_amounts()),
        )

    def _prompt(self, done: str) -> str:
        t = self.texts
        if self.screen is not Screen.TENDER:
            return t(PROMPTS[self.step])
        if done:
            return t("next_sale")
        if self._awaiting_reference is not None:
            kind, fen = self._awaiting_reference
            return t("reference_prompt", kind=t(kind.text_key), amount=yuan(fen))
        return t("tender_prompt")

    def _change(self) -> int:
        if self.last_sale is not None and self.screen is Screen.TENDER:
            return self.last_sale.change.fen
        return self.tender.change if self.tender else 0

    # ---- inputs --------------------------------------------------------------

    def type_text(self, text: str) -> None:
        if self.last_sale is not None and self.screen is Screen.TENDER:
            self._next_sale()
        self.entry += text
        self._changed()

    def backspace(self) -> None:
        self.entry = self.entry[:-1]
        self._changed()

    def enter(self) -> None:
        text, self.entry = self.entry.strip(), ""
        self.message = ""
        handler = {
            Screen.LOGIN: self._enter_login,
            Screen.SELL: self._enter_sell,
            Screen.TENDER: self._enter_tender,
        }[self.screen]
        self._guarded(lambda: handler(text), keep=text)

    def escape(self) -> None:
        self.message = ""
        if self.entry:
            self.entry = ""
        elif self.screen is Screen.LOGIN and self.step is Step.PIN:
            self.step = Step.OPERATOR
        elif self.screen is Screen.SELL and self.step in (Step.MEMBER, Step.QUANTITY):
            self.step = Step.SCAN
        elif self.screen is Screen.TENDER:
            self._guarded(self._escape_tender)
            return
        self._changed()

    def action(self, name: str) -> None:
        """A function key or a button: 'member', 'quantity', 'void', 'up', 'down',
        'total', 'tender:CASH' (a TenderKind name), 'quick:<fen>'."""
        self.message = ""
        verb, _, arg = name.partition(":")
        handlers: dict[str, Callable[[], None]] = {
            "member": lambda: self._set_step(Step.MEMBER),
            "quantity": lambda: self._set_step(Step.QUANTITY),
            "void": self._void_selected,
            "up": lambda: self._move(-1),
            "down": lambda: self._move(1),
            "total": self._start_tender,
            "tender": lambda: self._choose_kind(arg),
            "quick": lambda: self._pay(TenderKind.CASH, int(arg)),
            "quick_index": lambda: self._quick(int(arg)),
        }
        if verb in handlers:
            self._guarded(handlers[verb])
        else:
            self._changed()

    def retry(self) -> None:
        """Called on a timer while offline: send the unanswered commit again, or
        take the banner down once the server can be reached."""
        if self.pending is not None:
            self._guarded(self._commit)
        elif self.offline and self.client.reachable(timeout=0.05):
            self._online()
            self._changed()

    # ---- the one error path --------------------------------------------------

    def _guarded(self, work: Callable[[], None], keep: str = "") -> None:
        try:
            work()
        except Offline:
            self.offline = True
            if self.pending is None:  # a scan stays in the box, to be sent again
                self.entry = keep
                self.message = self.texts("offline")
            else:  # the commit is kept and retried: the banner says so
                self.entry = ""
                self.message = ""
        except ServerError as err:
            self.offline = False
            self.message = self.texts.reason(err.reason, err.message, err.field)
        except TenderRefused as refused:
            self.message = self.texts(str(refused.args[0]))
        self._changed()

    def _online(self) -> None:
        self.offline = False
        if self.message == self.texts("offline"):
            self.message = ""

    # ---- login and shift -----------------------------------------------------

    def _enter_login(self, text: str) -> None:
        if self.step is Step.OPERATOR:
            if not text:
                self.message = self.texts("login_needed")
                return
            self.operator_id = text
            self.step = Step.PIN
        elif self.step is Step.PIN:
            try:
                operator = self.client.login(self.operator_id, text)
            except Offline:
                raise
            except ServerError:
                self.step = Step.OPERATOR  # wrong id or PIN: both are typed again
                raise
            self._online()
            self.operator_name = getattr(operator, "name", "")
            if self.client.current_shift() is None:
                self.step = Step.FLOAT
                self._shift_id = self._make_id()
                return
            self._enter_selling()
        elif self.step is Step.FLOAT:
            fen = parse_yuan(text or "0")
            if fen is None:
                self.message = self.texts("bad_amount")
                return
            self.client.open_shift(self._shift_id, fen)
            self._online()
            self._enter_selling()
            self.message = self.texts("shift_opened", amount=yuan(fen))

    def _enter_selling(self) -> None:
        self.screen = Screen.SELL
        self.step = Step.SCAN
        self.message = self.texts("welcome", name=self.operator_name)

    # ---- selling -------------------------------------------------------------

    def _set_step(self, step: Step) -> None:
        if self.screen is Screen.SELL:
            self.step = step

    def _move(self, delta: int) -> None:
        if self.basket is not None and self.basket.lines:
            self.selected = max(0, min(len(self.basket.lines) - 1, self.selected + delta))

    def _show(self, basket: sales_pb2.Basket, *, select_last: bool = False) -> None:
        self._online()
        self.basket = basket
        if select_last or self.selected >= len(basket.lines):
            self.selected = len(basket.lines) - 1

    def _ensure_basket(self) -> None:
        if not self.basket_id:
            self.basket_id = self._make_id()
        if self.basket is None:  # CreateBasket is idempotent on the id: safe to resend
            self._show(self.client.create_basket(self.basket_id))

    def _enter_sell(self, text: str) -> None:
        if self.step is Step.MEMBER:
            if text:
                self._ensure_basket()
                self._show(self.client.attach_member(self.basket_id, parse_credential(text)))
            self.step = Step.SCAN
        elif self.step is Step.QUANTITY:
            self._set_quantity(text)
        elif text:
            self._scan(text)
        elif self.basket is not None and self.basket.lines:
            self._start_tender()

    def _scan(self, text: str) -> None:
        count, sep, code = text.partition("*")
        milli = 0
        if sep:
            parsed = parse_quantity(count)
            if parsed is None or parsed == 0:
                self.message = self.texts("bad_quantity")
                return
            milli = parsed
        else:
            code = text
        # The same text sent again after an outage keeps its line id: one line, not two.
        if self._pending_scan is not None and self._pending_scan[0] == text:
            line_id = self._pending_scan[1]
        else:
            line_id = self._make_id()
        self._pending_scan = (text, line_id)
        self._ensure_basket()
        basket = self.client.add_item(
            self.basket_id, line_id, code=code.strip(), quantity_milli=milli
        )
        self._pending_scan = None
        self.last_sale = None
        self._show(basket, select_last=True)

    def _selected_line(self) -> sales_pb2.BasketLine | None:
        if self.basket is None or not 0 <= self.selected < len(self.basket.lines):
            return None
        return self.basket.lines[self.selected]

    def _set_quantity(self, text: str) -> None:
        self.step = Step.SCAN
        line = self._selected_line()
        milli = parse_quantity(text)
        if line is None:
            self.message = self.texts("no_line")
        elif milli is None or milli == 0:
            self.message = self.texts("bad_quantity")
        else:
            self._show(self.client.set_quantity(self.basket_id, line.line_id, milli))

    def _void_selected(self) -> None:
        line = self._selected_line()
        if self.screen is not Screen.SELL or line is None:
            self.message = self.texts("no_line")
            return
        self._show(self.client.void_line(self.basket_id, line.line_id))
        self.message = self.texts("line_voided", name=line.name)

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
        self.tender = Tender(basket.total.fen)
        self.tender_kind = TenderKind.CASH
        self.sale_id = self._make_id()

    def _choose_kind(self, name: str) -> None:
        if self.screen is Screen.TENDER and self.pending is None:
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
        fen = parse_yuan(text) if text else self.tender.remaining
        if fen is None:
            self.message = self.texts("bad_amount")
            return
        self._pay(self.tender_kind, fen)

    def quick_amounts(self) -> tuple[int, ...]:
        """Cash amounts a customer likely hands over: exact, then round notes above."""
        if self.tender is None or self.tender.remaining == 0:
            return ()
        due = self.tender.remaining
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
        if self.tender.complete:
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
        self.last_sale = sale  # the done panel shows the receipt number and the change

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

    def _next_sale(self) -> None:
        self.screen = Screen.SELL
        self.step = Step.SCAN
        self.basket_id = ""
        self.basket = None
        self.selected = -1
        self.tender = None
        self.sale_id = ""
        self._awaiting_reference = None
        self.message = ""
