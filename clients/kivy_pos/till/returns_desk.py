"""Returns at the till: by receipt number (the receipt's barcode scanned), the lines
ticked on a list and refunded to the original tenders; or without a receipt, item by
code, which needs a supervisor. A mixin of TillPresenter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clients.kivy_pos.till.amounts import parse_quantity, quantity_text, yuan
from clients.kivy_pos.till.panel import Ask, Panel
from tillpoint.v1 import common_pb2, sales_pb2


def _qty(line: sales_pb2.ReceiptLine, milli: int) -> str:
    return quantity_text(milli, weighed=line.unit == "kg", unit=line.unit)


def receipt_line_row(line: sales_pb2.ReceiptLine) -> str:
    qty = _qty(line, line.quantity.milli)
    return f"{line.line_no}. {line.name}  ×{qty}  ¥{yuan(line.net_amount.fen)}"


class ReturnsMixin:
    client: Any
    texts: Any
    devices: Any
    panel: Panel | None
    ask: Ask | None
    message: str
    last_return: sales_pb2.ReturnResponse | None
    _make_id: Callable[[], str]
    _device: Callable[[Callable[[], None]], None]
    _supervised: Callable[..., None]

    def _start_return(self) -> None:
        t = self.texts
        self.ask = Ask(t("return_prompt"), self._return_receipt, title=t("return_title"))

    def _return_receipt(self, text: str) -> None:
        t = self.texts
        if not text:  # no receipt: the item's code, then a supervisor
            self.ask = Ask(t("return_code_prompt"), self._return_without, title=t("return_title"))
            return
        receipt = self.client.get_receipt(text)
        return_id = self._make_id()  # one id for this return: a resend refunds once
        panel = Panel(
            kind="return",
            title=t("return_lines_title", receipt_no=receipt.receipt_no),
            rows=tuple(receipt_line_row(line) for line in receipt.lines),
            footer=t("return_footer"),
        )

        partial: dict[int, int] = {}  # row -> thousandths to return, when not all

        def show_row(index: int) -> None:
            line = receipt.lines[index]
            row = receipt_line_row(line)
            if index in partial:
                row += t("return_partial", qty=_qty(line, partial[index]))
            rows = list(panel.rows)
            rows[index] = row
            panel.rows = tuple(rows)

        def toggle(index: int) -> None:
            if 0 <= index < len(receipt.lines):
                panel.marked ^= {index}
                panel.selected = index
                if partial.pop(index, None) is not None:
                    show_row(index)

        def typed(text: str) -> bool:
            """'2*1': return 1 of line 2 ('3*0.25' for 0.25 kg of a weighed line 3)."""
            number, sep, qty = text.partition("*")
            if not sep or not number.strip().isdigit():
                return False
            index, milli = int(number) - 1, parse_quantity(qty)
            if not 0 <= index < len(receipt.lines) or milli is None:
                self.message = t("return_bad_qty")
                return True
            if not 0 < milli <= receipt.lines[index].quantity.milli:
                self.message = t("return_bad_qty")
                return True
            if milli < receipt.lines[index].quantity.milli:
                partial[index] = milli
            else:
                partial.pop(index, None)
            panel.marked.add(index)
            panel.selected = index
            show_row(index)
            return True

        def confirm() -> None:
            if not panel.marked:
                self.message = t("return_none_marked")
                return
            lines = [
                sales_pb2.ReturnLineRequest(
                    line_no=receipt.lines[i].line_no,
                    quantity=common_pb2.Quantity(
                        milli=partial.get(i, receipt.lines[i].quantity.milli)
                    ),
                )
                for i in sorted(panel.marked)
            ]
            self.panel = None
            self._refund(self.client.return_items(return_id, receipt.receipt_no, lines))

        panel.pick = toggle
        panel.confirm = confirm
        panel.typed = typed
        self.panel = panel

    def _return_without(self, code: str) -> None:
        if not code:
            self.message = self.texts("return_none_marked")
            return
        return_id = self._make_id()
        line = sales_pb2.ReturnLineRequest(code=code, quantity=common_pb2.Quantity(milli=1000))
        self._supervised(
            self.texts("return_without"),
            lambda sup: self._refund(
                self.client.return_items(return_id, "", [line], reason="no receipt", supervisor=sup)
            ),
        )

    def _refund(self, answer: sales_pb2.ReturnResponse) -> None:
        self.last_return = answer
        self._device(
            lambda: self.devices.print_receipt(answer.receipt, open_drawer=answer.open_drawer)
        )
        self.message = self.texts(
            "refunded", amount=yuan(answer.refund.fen), receipt_no=answer.receipt_no
        )
