"""A scripted handheld counter and stock office: stock and stocktake calls on a real server."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.operators import upsert_operator
from tests.support.server import DEADLINE, RunningStore
from tillpoint.v1 import stock_pb2, stock_pb2_grpc

CLERK = ("1004", "4444")


def new_id() -> str:
    return str(uuid.uuid4())


def add_clerk(store: RunningStore, operator_id: str = CLERK[0], pin: str = CLERK[1]) -> None:
    """A stock clerk (the fixture store has none)."""
    with unit_of_work(store.db, Actor.system("test"), store.clock.now()) as uow:
        upsert_operator(
            uow,
            operator_id=operator_id,
            name="理货员 小赵",
            role="stock_clerk",
            pin=pin,
            store_id="S01",
        )


def count(
    product_id: int = 0,
    quantity_milli: int = 1000,
    *,
    code: str = "",
    zone: str = "A1",
    count_id: str | None = None,
    **extra: object,
) -> stock_pb2.Count:
    return stock_pb2.Count(
        count_id=count_id or new_id(),
        zone=zone,
        product_id=product_id,
        code=code,
        quantity_milli=quantity_milli,
        **extra,  # type: ignore[arg-type]
    )


@dataclass
class Handheld:
    store: RunningStore
    device_id: str = "hh-01"
    operator: tuple[str, str] = CLERK
    md: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.md = self.store.login(*self.operator, device_id=self.device_id)

    @property
    def stock(self) -> stock_pb2_grpc.StockServiceStub:
        return stock_pb2_grpc.StockServiceStub(self.store.channel)

    @property
    def stocktake(self) -> stock_pb2_grpc.StocktakeServiceStub:
        return stock_pb2_grpc.StocktakeServiceStub(self.store.channel)

    def call(self, name: str, request: object) -> object:
        service = self.stock if hasattr(self.stock, name) else self.stocktake
        return getattr(service, name)(request, metadata=self.md, timeout=DEADLINE)

    def send(
        self, session_id: str, counts: Iterable[stock_pb2.Count]
    ) -> stock_pb2.CountBatchResult:
        return self.call(
            "SendCounts", stock_pb2.CountBatch(session_id=session_id, counts=list(counts))
        )

    def stream(
        self, session_id: str, batches: Iterable[Iterable[stock_pb2.Count]]
    ) -> stock_pb2.CountBatchResult:
        requests = (stock_pb2.CountBatch(session_id=session_id, counts=list(b)) for b in batches)
        return self.stocktake.StreamCounts(requests, metadata=self.md, timeout=60)

    def report(
        self, session_id: str, nonzero_only: bool = False
    ) -> list[stock_pb2.VarianceReportPage]:
        return list(
            self.stocktake.VarianceReport(
                stock_pb2.VarianceReportRequest(session_id=session_id, nonzero_only=nonzero_only),
                metadata=self.md,
                timeout=60,
            )
        )
