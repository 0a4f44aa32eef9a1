"""The till's back-office keys: the functions menu, cash in/out with a reason, the X
report, shift close with a blind count, reprint, the no-sale drawer, the language and
the key help. A mixin of TillPresenter: it uses the presenter's state and error path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clients.kivy_pos.till.amounts import parse_yuan, yuan
from clients.kivy_pos.till.help import help_rows
from clients.kivy_pos.till.panel import Ask, Panel
from clients.kivy_pos.till.texts import Texts
from tillpoint.v1 import sales_pb2

# The functions menu (F11), in order: typing the number picks the row.
MENU: tuple[tuple[str, str], ...] = (
    ("cash_in", "menu_cash_in"),
    ("cash_out", "menu_cash_out"),
    ("x_report", "menu_x_report"),
    ("close_shift", "menu_close_shift"),
    ("reprint", "menu_reprint"),
    ("no_sale", "menu_no_sale"),
    ("lang", "menu_lang"),
)


def report_rows(report: sales_pb2.ShiftReport, t: Texts) -> tuple[str, ...]:
    """An X or Z report as lines; over/short only on a Z (the count was blind)."""
    rows = [
        t("rep_shift", operator=report.shift.operator_id, day=report.shift.business_day),
        t("rep_float", amount=yuan(report.shift.float.fen)),
        t("rep_sales", count=report.sales_count, amount=yuan(report.sales_total.fen)),
        t("rep_returns", count=report.returns_count, amount=yuan(report.returns_total.fen)),
        t("rep_discounts", amount=yuan(report.discounts_total.fen)),
        *(f"  {x.name}  {x.count} 笔  ¥{yuan(x.amount.fen)}" for x in report.tenders),
        t("rep_cash_in_out", cash_in=yuan(report.cash_in.fen), cash_out=yuan(report.cash_out.fen)),
        t("rep_no_sale", count=report.no_sale_count),
        t("rep_expected", amount=yuan(report.expected_cash.fen)),
    ]
    if report.final:
        rows.append(t("rep_counted", amount=yuan(report.counted_cash.fen)))
        rows.append(over_short_text(report.over_short.fen, t))
    return tuple(rows)


def over_short_text(fen: int, t: Texts) -> str:
    if fen > 0:
        return t("rep_over", amount=yuan(fen))
    if fen < 0:
        return t("rep_short", amount=yuan(-fen))
    return t("rep_even")


class OfficeMixin:
    client: Any
    texts: Texts
    devices: Any
    panel: Panel | None
    ask: Ask | None
    message: str
    screen: Any
    last_sale: sales_pb2.Sale | None
    _make_id: Callable[[], str]
    _device: Callable[[Callable[[], None]], None]
    _supervised: Callable[..., None]

    def _menu(self) -> None:
        t = self.texts
        self.panel = Panel(
            kind="menu",
            title=t("menu_title"),
            rows=tuple(f"{i + 1}. {t(key)}" for i, (_action, key) in enumerate(MENU)),
            pick=lambda i: self._menu_pick(i),
            footer=t("menu_footer"),
        )

    def _menu_pick(self, index: int) -> None:
        if not 0 <= index < len(MENU):
            self.message = self.texts("no_line")
            return
        self.panel = None
        self._office_actions()[MENU[index][0]]()

    def _office_actions(self) -> dict[str, Callable[[], None]]:
        return {
            "cash_in": lambda: self._cash(sales_pb2.CASH_MOVEMENT_KIND_IN),
            "cash_out": lambda: self._cash(sales_pb2.CASH_MOVEMENT_KIND_OUT),
            "x_report": self._x_report,
            "close_shift": self._close_shift,
            "reprint": self._reprint,
            "no_sale": self._no_sale,
            "lang": self._switch_language,
            "help": self._help,
            "menu": self._menu,
        }

    # ---- cash in and out -------------------------------------------------------

    def _cash(self, kind: int) -> None:
        t = self.texts
        word = t("cash_in") if kind == sales_pb2.CASH_MOVEMENT_KIND_IN else t("cash_out")

        def amount(text: str) -> None:
            fen = parse_yuan(text)
            if fen is None or fen == 0:
                self.message = t("bad_amount")
                return
            movement_id = self._make_id()  # made once: a resend records it once

            def reason(text: str) -> None:
                if not text:
                    self.message = t("need_reason")
                    return
                answer = self.client.cash_movement(movement_id, kind, fen, text)
                if answer.open_drawer:
                    self._device(self.devices.open_drawer)
                self.message = t("cash_done", what=word, amount=yuan(fen), reason=text)

            self.ask = Ask(t("reason_prompt", what=word, amount=yuan(fen)), reason, title=word)

        self.ask = Ask(t("cash_amount_prompt", what=word), amount, title=word)

    # ---- reports and shift close -------------------------------------------------

    def _x_report(self) -> None:
        report = self.client.x_report()
        self.panel = Panel(
            kind="report",
            title=self.texts("x_title"),
            rows=report_rows(report, self.texts),
            footer=self.texts("report_footer"),
        )

    def _close_shift(self) -> None:
        t = self.texts

        def counted(text: str) -> None:
            fen = parse_yuan(text)
            if fen is None:
                self.message = t("bad_amount")
                return
            report = self.client.close_shift(fen)
            self.panel = Panel(
                kind="report",
                title=t("z_title"),
                rows=report_rows(report, t),
                confirm=self._log_out,
                footer=t("z_footer"),
            )
            self.message = over_short_text(report.over_short.fen, t)

        # Blind: the expected cash is shown only after the count was given.
        self.ask = Ask(t("blind_count_prompt"), counted, title=t("menu_close_shift"))

    def _log_out(self) -> None:
        self.panel = None
        try:
            self.client.logout()
        finally:
            self._to_login()  # type: ignore[attr-defined]

    # ---- reprint and the drawer ------------------------------------------------------

    def _reprint(self) -> None:
        t = self.texts
        last = self.last_sale.receipt_no if self.last_sale is not None else ""

        def answer(text: str) -> None:
            receipt_no = text or last
            if not receipt_no:
                self.message = t("need_receipt_no")
                return
            receipt = self.client.get_receipt(receipt_no)  # marked as a copy by the server
            self._device(lambda: self.devices.print_receipt(receipt, open_drawer=False))
            self.message = t("reprinted", receipt_no=receipt_no)

        self.ask = Ask(t("reprint_prompt", last=last or "-"), answer, title=t("menu_reprint"))

    def _no_sale(self) -> None:
        t = self.texts
        movement_id = self._make_id()

        def reason(text: str) -> None:
            if not text:
                self.message = t("need_reason")
                return

            def open_it(sup: sales_pb2.Override | None) -> None:
                answer = self.client.no_sale(movement_id, text, supervisor=sup)
                if answer.open_drawer:
                    self._device(self.devices.open_drawer)
                self.message = t("drawer_opened")

            self._supervised(t("menu_no_sale"), open_it)

        self.ask = Ask(t("no_sale_prompt"), reason, title=t("menu_no_sale"))

    # ---- language and help -------------------------------------------------------------

    def _switch_language(self) -> None:
        self.texts = Texts("zh" if self.texts.language == "en" else "en")
        self.message = self.texts("lang_switched")

    def _help(self) -> None:
        self.panel = Panel(
            kind="help",
            title=self.texts("help_title"),
            rows=help_rows(self.texts),
            footer=self.texts("report_footer"),
        )
