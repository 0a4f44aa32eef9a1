"""Selling beyond the scan: search as you type, +/- quantity, weights, hold and resume,
price override and gift lines (with a supervisor's override when the cashier lacks the
permission). A mixin of TillPresenter: it uses the presenter's state and error path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from clients.kivy_pos.client.errors import ServerError
from clients.kivy_pos.till.amounts import parse_quantity, parse_yuan, yuan
from clients.kivy_pos.till.panel import Ask, Panel
from tillpoint.v1 import catalog_pb2, sales_pb2

STORE_TZ = ZoneInfo("Asia/Shanghai")  # held baskets show the store's wall-clock time
SEARCH_LIMIT = 20


def is_search_text(text: str) -> bool:
    """Letters (pinyin initials, a name) mean search; digits are a scan or a PLU.

    A wedge scanner types digits only, so a scan never sets off a search.
    """
    query = text.partition("*")[2] if "*" in text else text
    return any(not (ch.isdigit() or ch in ". ") for ch in query)


def split_quantity(text: str) -> tuple[str, int | None]:
    """'3*kkkl' -> ('kkkl', 3000); 'kkkl' -> ('kkkl', 0); a bad count -> (query, None)."""
    count, sep, rest = text.partition("*")
    if not sep:
        return text.strip(), 0
    return rest.strip(), parse_quantity(count)


def product_row(product: catalog_pb2.Product) -> str:
    per = "/kg" if product.weighed else ""
    return f"{product.name}  {product.pinyin}  ¥{yuan(product.retail_price.fen)}{per}"


def held_row(number: int, basket: sales_pb2.Basket) -> str:
    at = basket.held_at if basket.HasField("held_at") else basket.created_at
    clock = datetime.fromtimestamp(at.seconds, tz=STORE_TZ).strftime("%H:%M")
    return f"{number}. {clock}  {basket.item_count} 件  ¥{yuan(basket.total.fen)}"


class SellExtrasMixin:
    client: Any
    texts: Any
    panel: Panel | None
    ask: Ask | None
    entry: str
    message: str
    basket: sales_pb2.Basket | None
    basket_id: str
    search_results: tuple[catalog_pb2.Product, ...]
    member_coupons: int
    selected: int
    _show: Callable[..., None]
    _ensure_basket: Callable[[], None]
    _selected_line: Callable[[], sales_pb2.BasketLine | None]
    _make_id: Callable[[], str]
    _device: Callable[[Callable[[], None]], None]

    # ---- search as you type ----------------------------------------------------

    def _search_as_you_type(self) -> None:
        query, _milli = split_quantity(self.entry)
        if not query or not is_search_text(self.entry):
            if self.panel is not None and self.panel.kind == "search":
                self.panel = None
            return
        products = tuple(self.client.search(query, limit=SEARCH_LIMIT))
        self.search_results = products
        t = self.texts
        self.panel = Panel(
            kind="search",
            title=t("search_title", query=query, count=len(products)),
            rows=tuple(product_row(p) for p in products),
            pick=self._pick_product,
            footer=t("search_footer") if products else t("search_none"),
        )

    def _start_search(self) -> None:
        """F5: the result list opens at once; every key typed narrows it."""
        self.panel = Panel(
            kind="search",
            title=self.texts("search_title", query="", count=0),
            rows=(),
            pick=self._pick_product,
            footer=self.texts("search_footer"),
        )

    def _pick_product(self, index: int, text: str = "") -> None:
        if not 0 <= index < len(self.search_results):
            self.message = self.texts("no_line")
            return
        _query, milli = split_quantity(text)
        if milli is None or (text and "*" in text and milli == 0):
            self.message = self.texts("bad_quantity")
            return
        product = self.search_results[index]
        self.panel = None
        self.entry = ""
        if product.weighed and not milli:
            self.ask = Ask(
                self.texts("weight_prompt", name=product.name),
                lambda answer: self._add_weighed(product, answer),
            )
            return
        self._add_product(product, milli)

    def _add_weighed(self, product: catalog_pb2.Product, text: str) -> None:
        milli = parse_quantity(text)
        if milli is None or milli == 0:
            self.message = self.texts("bad_quantity")
            return
        self._add_product(product, milli)

    def _add_product(self, product: catalog_pb2.Product, milli: int) -> None:
        self._ensure_basket()
        basket = self.client.add_item(
            self.basket_id, self._make_id(), product_id=product.product_id, quantity_milli=milli
        )
        self._show(basket, select_last=True)
        line = basket.lines[-1]
        self._device(lambda: self.devices.show_item(line.name, line.net_amount.fen))  # type: ignore[attr-defined]

    # ---- quantity keys ---------------------------------------------------------------

    def _bump(self, units: int) -> None:
        """'+' and '-': one scan unit more or less on the selected line."""
        line = self._selected_line()
        if line is None:
            self.message = self.texts("no_line")
            return
        if line.weighed:
            self.message = self.texts("weighed_bump")
            return
        milli = line.quantity.milli + units * 1000
        if milli < 1000:
            self.message = self.texts("bump_below_one")
            return
        self._show(self.client.set_quantity(self.basket_id, line.line_id, milli))

    # ---- hold and resume -----------------------------------------------------------

    def _hold(self) -> None:
        if self.basket is None or not self.basket.lines:
            self.message = self.texts("empty_basket")
            return
        held = self.client.hold_basket(self.basket_id)
        self._clear_basket_view()
        self.message = self.texts("held", total=yuan(held.total.fen), items=held.item_count)

    def _clear_basket_view(self) -> None:
        self.basket_id = ""
        self.basket = None
        self.selected = -1
        self.member_coupons = -1

    def _held_list(self) -> None:
        baskets = tuple(self.client.held_baskets())
        if not baskets:
            self.message = self.texts("none_held")
            return
        self.panel = Panel(
            kind="held",
            title=self.texts("held_title", count=len(baskets)),
            rows=tuple(held_row(i + 1, b) for i, b in enumerate(baskets)),
            pick=lambda i: self._resume(baskets[i].basket_id if 0 <= i < len(baskets) else ""),
            footer=self.texts("held_footer"),
        )

    def _resume(self, basket_id: str) -> None:
        if not basket_id:
            self.message = self.texts("no_line")
            return
        self.panel = None
        if self.basket is not None and self.basket.lines:
            self._hold()  # the basket on screen is held, not lost
        basket = self.client.resume_basket(basket_id)
        self.basket_id = basket_id
        self._show(basket, select_last=True)
        self.message = self.texts("resumed", total=yuan(basket.total.fen))

    # ---- price override and gift lines (supervisor) ---------------------------------

    def _supervised(self, what: str, work: Callable[[sales_pb2.Override | None], None]) -> None:
        """Try work as the cashier; when the server asks for a supervisor, ask for
        a second operator's id and PIN and send work again with them."""
        try:
            work(None)
        except ServerError as err:
            # The interceptor says MISSING_PERMISSION, a servicer NEEDS_OVERRIDE: for
            # an action that takes an override, both mean "ask a supervisor".
            if err.reason not in ("NEEDS_OVERRIDE", "MISSING_PERMISSION"):
                raise
            t = self.texts
            title = t("override_title", what=what)

            def got_id(operator_id: str) -> None:
                if not operator_id:
                    self.message = t("login_needed")
                    return
                self.ask = Ask(
                    t("override_pin", operator=operator_id),
                    lambda pin: work(sales_pb2.Override(operator_id=operator_id, pin=pin)),
                    secret=True,
                    title=title,
                )

            self.ask = Ask(t("override_id"), got_id, title=title)
            self.message = t("needs_supervisor")

    def _price_override(self) -> None:
        line = self._selected_line()
        if line is None:
            self.message = self.texts("no_line")
            return

        def answer(text: str) -> None:
            fen = parse_yuan(text)
            if fen is None:
                self.message = self.texts("bad_amount")
                return
            self._supervised(
                self.texts("price_override"),
                lambda sup: self._show(
                    self.client.override_price(
                        self.basket_id, line.line_id, fen, "till", supervisor=sup
                    )
                ),
            )

        self.ask = Ask(self.texts("price_prompt", name=line.name), answer)

    def _gift(self) -> None:
        line = self._selected_line()
        if line is None:
            self.message = self.texts("no_line")
            return
        self._supervised(
            self.texts("gift_line"),
            lambda sup: self._show(
                self.client.gift_line(self.basket_id, line.line_id, supervisor=sup)
            ),
        )
