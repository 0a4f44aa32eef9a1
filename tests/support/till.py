"""A scripted till: what a cashier does, as gRPC calls on a real server."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import common_pb2, sales_pb2, sales_pb2_grpc


def new_id() -> str:
    return str(uuid.uuid4())


def cash(fen: int) -> sales_pb2.Payment:
    return sales_pb2.Payment(kind=sales_pb2.TENDER_KIND_CASH, amount=common_pb2.Money(fen=fen))


def card(fen: int, ref: str = "C-0001") -> sales_pb2.Payment:
    return sales_pb2.Payment(
        kind=sales_pb2.TENDER_KIND_BANK_CARD, amount=common_pb2.Money(fen=fen), reference=ref
    )


def foreign(currency: str, minor: int) -> sales_pb2.Payment:
    return sales_pb2.Payment(
        kind=sales_pb2.TENDER_KIND_FOREIGN_CASH, currency=currency, foreign_amount_minor=minor
    )


def supervisor(operator_id: str = "1002", pin: str = "2222") -> sales_pb2.Override:
    return sales_pb2.Override(operator_id=operator_id, pin=pin)


@dataclass
class Till:
    store: RunningStore
    device_id: str = "till-01"
    operator: tuple[str, str] = ("1001", "1111")
    md: list[tuple[str, str]] = field(default_factory=list)
    basket_id: str = ""

    def __post_init__(self) -> None:
        self.md = self.store.login(*self.operator, device_id=self.device_id)

    @property
    def sales(self) -> sales_pb2_grpc.SalesServiceStub:
        return sales_pb2_grpc.SalesServiceStub(self.store.channel)

    def call(self, name: str, request: object) -> object:
        return getattr(self.sales, name)(request, metadata=self.md, timeout=DEADLINE)

    def open_shift(self, float_fen: int = 50_000) -> sales_pb2.Shift:
        return self.call(
            "OpenShift",
            sales_pb2.OpenShiftRequest(shift_id=new_id(), float=common_pb2.Money(fen=float_fen)),
        )

    def new_basket(self) -> str:
        self.basket_id = new_id()
        self.call("CreateBasket", sales_pb2.CreateBasketRequest(basket_id=self.basket_id))
        return self.basket_id

    def scan(
        self, code: str, quantity_milli: int = 0, line_id: str | None = None
    ) -> sales_pb2.Basket:
        if not self.basket_id:
            self.new_basket()
        return self.call(
            "AddItem",
            sales_pb2.AddItemRequest(
                basket_id=self.basket_id,
                line_id=line_id or new_id(),
                code=code,
                quantity_milli=quantity_milli,
            ),
        )

    def commit(self, *payments: sales_pb2.Payment, sale_id: str | None = None) -> sales_pb2.Sale:
        sale = self.call(
            "CommitSale",
            sales_pb2.CommitSaleRequest(
                sale_id=sale_id or new_id(), basket_id=self.basket_id, payments=payments
            ),
        )
        self.basket_id = ""
        return sale

    def sell(self, *codes: str, pay: sales_pb2.Payment | None = None) -> sales_pb2.Sale:
        self.new_basket()
        basket = None
        for code in codes:
            basket = self.scan(code)
        return self.commit(pay or cash(basket.total.fen))
