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
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Protocol

from clients.kivy_pos.client.errors import Offline, ServerError
from clients.kivy_pos.till.amounts import parse_quantity, parse_yuan, yuan
from clients.kivy_pos.till.office import OfficeMixin
from clients.kivy_pos.till.panel import Ask, Panel
from clients.kivy_pos.till.peripherals import NoDevices, Peripherals
from clients.kivy_pos.till.returns_desk import ReturnsMixin
from clients.kivy_pos.till.sell_extras import SellExtrasMixin, is_search_text
from clients.kivy_pos.till.tender import Tender, Tendered, TenderKind, TenderRefused
from clients.kivy_pos.till.tender_desk import PendingCommit, TenderMixin
from clients.kivy_pos.till.tender_extras import TenderExtrasMixin, foreign_text
from clients.kivy_pos.till.texts import Texts
from clients.kivy_pos.till.view_model import Screen, TillView, line_rows, member_badge
from tillpoint.v1 import catalog_pb2, members_pb2, sales_pb2


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
    def search(self, query: str, limit: int = 20) -> Sequence[catalog_pb2.Product]: ...
    def hold_basket(self, basket_id: str) -> sales_pb2.Basket: ...
    def resume_basket(self, basket_id: str) -> sales_pb2.Basket: ...
    def held_baskets(self) -> Sequence[sales_pb2.Basket]: ...
    def list_coupons(self, member_id: str) -> Sequence[members_pb2.MemberCoupon]: ...
    def identify_member(self, credential: members_pb2.MemberCredential) -> members_pb2.Member: ...
    def apply_coupon(self, basket_id: str, coupon_id: str) -> sales_pb2.Basket: ...
    def remove_coupon(self, basket_id: str, coupon_id: str) -> sales_pb2.Basket: ...
    def override_price(
        self,
        basket_id: str,
        line_id: str,
        unit_price_fen: int,
        reason: str = "",
        supervisor: sales_pb2.Override | None = None,
    ) -> sales_pb2.Basket: ...
    def gift_line(
        self, basket_id: str, line_id: str, supervisor: sales_pb2.Override | None = None
    ) -> sales_pb2.Basket: ...
    def cash_movement(
        self, movement_id: str, kind: int, fen: int, reason: str
    ) -> sales_pb2.CashMovementResponse: ...
    def no_sale(
        self, movement_id: str, reason: str, supervisor: sales_pb2.Override | None = None
    ) -> sales_pb2.CashMovementResponse: ...
    def x_report(self) -> sales_pb2.ShiftReport: ...
    def close_shift(self, counted_fen: int) -> sales_pb2.ShiftReport: ...
    def logout(self) -> None: ...
    def get_receipt(self, receipt_no: str) -> sales_pb2.Receipt: ...
    def return_items(
        self,
        return_id: str,
        receipt_no: str,
        lines: Iterable[sales_pb2.ReturnLineRequest],
        *,
        reason: str = "",
        supervisor: sales_pb2.Override | None = None,
    ) -> sales_pb2.ReturnResponse: ...


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


def new_id() -> str:
    return str(uuid.uuid4())


QR_PREFIX = "TPM1."  # the member app's QR code (store_server/domain/members/qr.py)


def parse_credential(text: str) -> members_pb2.MemberCredential:
    """'13800138000*246810' is phone + PIN; 'TPM1.…' a member QR; else a card number."""
    if text.startswith(QR_PREFIX):
        return members_pb2.MemberCredential(qr_payload=text.strip())
    phone, sep, pin = text.partition("*")
    if sep:
        return members_pb2.MemberCredential(phone=phone.strip(), pin=pin.strip())
    return members_pb2.MemberCredential(card_no=text.strip())


class TillPresenter(SellExtrasMixin, OfficeMixin, ReturnsMixin, TenderMixin, TenderExtrasMixin):
    def __init__(
        self,
        client: Client,
        *,
        texts: Texts | None = None,
        make_id: Callable[[], str] = new_id,
        devices: Peripherals | None = None,
    ) -> None:
        self.client = client
        self.texts = texts or Texts()
        self.devices: Peripherals = devices or NoDevices()
        self.panel: Panel | None = None
        self.ask: Ask | None = None
        self.search_results: tuple[catalog_pb2.Product, ...] = ()
        self.member_coupons = -1  # the attached member's usable coupons; -1: not known
        self.last_return: sales_pb2.ReturnResponse | None = None
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
        self.foreign_currency = "USD"  # F7 on the tender screen moves on to the next
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
            if self.last_sale.receipt.forfeited.fen:
                done += t("forfeited", amount=yuan(self.last_sale.receipt.forfeited.fen))
        due, paid, remaining, change = self.tender_figures()
        return TillView(
            screen=self.screen,
            operator=f"{self.operator_id} {self.operator_name}".strip(),
            prompt=self._prompt(done),
            entry="●" * len(self.entry) if self._secret() else self.entry,
            message=self.message,
            banner=banner,
            lines=line_rows(b, self.selected),
            item_count=str(b.item_count) if b else "0",
            subtotal=yuan(b.subtotal.fen) if b else "0.00",
            discount=yuan(b.discount.fen) if b else "0.00",
            total=yuan(b.total.fen) if b else "0.00",
            member=member_badge(b, t, self.member_coupons),
            due=due,
            paid=paid,
            remaining=remaining,
            change=change,
            tender_kind=self._kind_text(),
            payments=tuple(self._payment_text(p) for p in tender.payments) if tender else (),
            done=done,
            quick=tuple((f"quick:{fen}", yuan(fen)) for fen in self.quick_amounts()),
            panel_kind=self.panel.kind if self.panel else "",
            panel_title=self.panel.title if self.panel else "",
            panel_rows=self._panel_rows(),
            panel_selected=self.panel.selected if self.panel else -1,
            panel_footer=self.panel.footer if self.panel else "",
            dialog=self.ask.title if self.ask else "",
            labels=t.labels(),
        )

    def _kind_text(self) -> str:
        text = self.texts(self.tender_kind.text_key)
        if self.tender_kind is TenderKind.FOREIGN_CASH:
            return f"{text} {self.foreign_currency}"
        return text

    def _payment_text(self, p: Tendered) -> str:
        name = self.texts(p.kind.text_key)
        if p.kind is TenderKind.FOREIGN_CASH:
            if p.fen:  # converted by the server: its yuan value too
                return self.texts(
                    "foreign_paid", name=name, foreign=foreign_text(p), amount=yuan(p.fen)
                )
            return f"{name} {foreign_text(p)}"
        if p.kind is TenderKind.COUNT_CARD:
            return self.texts("count_card_paid", name=name, amount=yuan(p.fen), uses=p.uses)
        return f"{name} ¥{yuan(p.fen)}"

    def _panel_rows(self) -> tuple[str, ...]:
        if self.panel is None:
            return ()
        if self.panel.kind != "return":
            return self.panel.rows
        return tuple(
            ("☑ " if i in self.panel.marked else "☐ ") + row
            for i, row in enumerate(self.panel.rows)
        )

    def _secret(self) -> bool:
        return self.step is Step.PIN if self.ask is None else self.ask.secret

    def _prompt(self, done: str) -> str:
        t = self.texts
        if self.ask is not None:
            return self.ask.prompt
        if self.screen is not Screen.TENDER:
            return t(PROMPTS[self.step])
        if done:
            return t("next_sale")
        if self._awaiting_reference is not None:
            kind, fen = self._awaiting_reference
            key = "voucher_prompt" if kind is TenderKind.GIFT_VOUCHER else "reference_prompt"
            return t(key, kind=t(kind.text_key), amount=yuan(fen))
        if self.tender_kind is TenderKind.FOREIGN_CASH:
            return t("foreign_prompt", currency=self.foreign_currency)
        return t("tender_prompt")

    # ---- inputs --------------------------------------------------------------

    def type_text(self, text: str) -> None:
        if self.last_sale is not None and self.screen is Screen.TENDER:
            self._next_sale()
        scanning = self.screen is Screen.SELL and self.ask is None and self.step is Step.SCAN
        if scanning and not self.entry and text in ("+", "-") and self.panel is None:
            self.message = ""
            self._guarded(lambda: self._bump(1 if text == "+" else -1))
            return
        self.entry += text
        if scanning and (is_search_text(self.entry) or self._searching()):
            keep = self.entry
            self._guarded(self._search_as_you_type, keep=keep)
            return
        self._changed()

    def _searching(self) -> bool:
        return self.panel is not None and self.panel.kind == "search"

    def backspace(self) -> None:
        self.entry = self.entry[:-1]
        if self._searching() and self.ask is None:
            keep = self.entry
            self._guarded(self._search_as_you_type, keep=keep)
            return
        self._changed()

    def enter(self) -> None:
        text, self.entry = self.entry.strip(), ""
        self.message = ""
        if self.ask is not None:
            ask, self.ask = self.ask, None
            self._guarded(lambda: ask.answer(text), keep="" if ask.secret else text)
            return
        if self.panel is not None and self._panel_enter(text):
            return
        handler = {
            Screen.LOGIN: self._enter_login,
            Screen.SELL: self._enter_sell,
            Screen.TENDER: self._enter_tender,
        }[self.screen]
        self._guarded(lambda: handler(text), keep=text)

    def escape(self) -> None:
        self.message = ""
        if self.ask is not None:
            self.ask = None
            self.entry = ""
        elif self.panel is not None:
            self.panel = None
            self.entry = ""
        elif self.entry:
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
        'total', 'tender:CASH' (a TenderKind name), 'quick:<fen>', 'help', 'search',
        'hold', 'held', 'price', 'gift', 'return', 'menu', 'pick:<row>', 'lang',
        'cash_in', 'cash_out', 'x_report', 'close_shift', 'reprint', 'no_sale',
        'foreign' (foreign cash; again: the next currency), 'coupons' (the member's),
        'count_card' (the member's count cards)."""
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
            "foreign": self._choose_foreign,
            "coupons": self._coupons,
            "count_card": self._count_cards,
            "pick": lambda: self._pick(int(arg)),
            **self._extra_actions(),
        }
        if self.ask is not None and verb not in ("pick", "help", "lang"):
            self.ask = None  # a function key leaves the question unanswered
            self.entry = ""
        if verb in handlers:
            self._guarded(handlers[verb])
        else:
            self._changed()

    def _extra_actions(self) -> dict[str, Callable[[], None]]:
        sell_only: dict[str, Callable[[], None]] = {
            "search": self._start_search,
            "hold": self._hold,
            "held": self._held_list,
            "price": self._price_override,
            "gift": self._gift,
            "return": self._start_return,
            **self._office_actions(),
        }
        anywhere = ("help", "lang")
        return {
            verb: (work if self.screen is Screen.SELL or verb in anywhere else self._not_here)
            for verb, work in sell_only.items()
        }

    def _not_here(self) -> None:
        self.message = self.texts("not_here")

    def _pick(self, index: int) -> None:
        """A row of the open panel tapped."""
        if self.panel is None:
            return
        if self.panel.kind == "search":
            self._pick_product(index, "")
        elif self.panel.pick is not None:
            self.panel.pick(index)

    def _panel_enter(self, text: str) -> bool:
        """Enter while a panel is open; False when the text is for the scan box instead."""
        panel = self.panel
        assert panel is not None
        if panel.kind == "search":
            if text and not is_search_text(text):
                self.panel = None  # digits: a scan after all
                return False
            self._guarded(lambda: self._pick_product(panel.selected, text))
            return True
        if text and not text.isdigit() and panel.typed is not None and panel.typed(text):
            self._changed()
        elif text.isdigit() and panel.pick is not None:
            self._guarded(lambda: panel.pick(int(text) - 1))  # type: ignore[misc]
        elif text:
            self.message = self.texts("pick_by_number")
            self._changed()
        elif panel.confirm is not None:
            self._guarded(panel.confirm)
        elif panel.pick is not None:
            self._guarded(lambda: panel.pick(panel.selected))  # type: ignore[misc]
        else:
            self.panel = None  # a report or the help: Enter closes it
            self._changed()
        return True

    def _to_login(self) -> None:
        self._next_sale()
        self.screen = Screen.LOGIN
        self.step = Step.OPERATOR
        self.operator_id = self.operator_name = ""
        self.last_sale = None

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
            self.panel = None

    def _move(self, delta: int) -> None:
        if self.panel is not None:
            self.panel.move(delta)
        elif self.basket is not None and self.basket.lines:
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
            self.step = Step.SCAN
            if text:
                self._attach_member(text)
        elif self.step is Step.QUANTITY:
            self._set_quantity(text)
        elif text.startswith(QR_PREFIX):  # a member's QR code scanned into the scan box
            self._attach_member(text)
        elif text:
            self._scan(text)
        elif self.basket is not None and self.basket.lines:
            self._start_tender()

    def _attach_member(self, text: str) -> None:
        self._ensure_basket()
        self._show(self.client.attach_member(self.basket_id, parse_credential(text)))
        assert self.basket is not None
        coupons = self.client.list_coupons(self.basket.member.member_id)
        self.member_coupons = sum(1 for c in coupons if c.status == "issued")

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
        line = basket.lines[-1] if basket.lines else None
        if line is not None:
            self._device(lambda: self.devices.show_item(line.name, line.net_amount.fen))

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

    def _device(self, work: Callable[[], None]) -> None:
        """Run a device call; its failure is said in words and never undoes a sale."""
        try:
            work()
        except Exception as exc:  # any driver's fault: the cashier must hear of it
            self.message = self.texts("device_fault", error=str(exc)[:80])

    def _next_sale(self) -> None:
        self.screen = Screen.SELL
        self.step = Step.SCAN
        self.member_coupons = -1
        self.panel = None
        self.ask = None
        self.basket_id = ""
        self.basket = None
        self.selected = -1
        self.tender = None
        self.sale_id = ""
        self._awaiting_reference = None
        self.message = ""
