"""tillpoint.v1.StockService: decode, call store_server.stock, encode."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

import grpc

from store_server.clock import Clock
from store_server.db import stock_repo
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, UnitOfWork, unit_of_work
from store_server.domain.errors import InvalidArgument, NotFound
from store_server.interceptor import principal_of
from store_server.services import stock_convert as cv
from store_server.services.convert import ts
from store_server.stock import documents, replenishment
from store_server.stock.lines import products_by_id
from tillpoint.v1 import stock_pb2, stock_pb2_grpc

T = TypeVar("T")
MAX_IDS = 1000


def _check_lines(lines: object, field: str = "lines") -> None:
    if len(lines) > cv.MAX_LINES:  # type: ignore[arg-type]
        raise InvalidArgument(field, f"at most {cv.MAX_LINES} lines per document")


class StockService(stock_pb2_grpc.StockServiceServicer):
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def _uow(self, context: grpc.ServicerContext) -> AbstractContextManager[UnitOfWork]:
        who = principal_of(context)
        return unit_of_work(self._db, Actor(who.operator_id, who.device_id), self._clock.now())

    def _write(self, context: grpc.ServicerContext, work: Callable[[UnitOfWork], T]) -> T:
        with self._uow(context) as uow:
            return work(uow)

    def GetStock(self, request, context: grpc.ServicerContext):
        if not request.product_ids or len(request.product_ids) > MAX_IDS:
            raise InvalidArgument("product_ids", f"1 to {MAX_IDS} product ids")
        with self._db.read() as conn:
            levels = replenishment.stock_levels(conn, list(request.product_ids))
        return stock_pb2.GetStockResponse(levels=[cv.level(lv) for lv in levels])

    def ListMovements(self, request, context: grpc.ServicerContext):
        limit = request.limit or 100
        if not 0 < limit <= 1000:
            raise InvalidArgument("limit", "1 to 1000")
        with self._db.read() as conn:
            if request.product_id not in products_by_id(conn, [request.product_id]):
                raise NotFound(f"no product {request.product_id}", reason="UNKNOWN_PRODUCT")
            rows = stock_repo.movements_of(conn, request.product_id, limit)
        return stock_pb2.ListMovementsResponse(
            movements=[
                stock_pb2.Movement(
                    seq=seq,
                    product_id=request.product_id,
                    quantity_milli=qty,
                    kind=kind,
                    source_id=source,
                    created_at=ts(at),
                )
                for seq, qty, kind, source, at in rows
            ]
        )

    def ReceiveDelivery(self, request, context: grpc.ServicerContext):
        _check_lines(request.lines)
        return cv.document(
            self._write(
                context,
                lambda uow: documents.receive(
                    uow,
                    delivery_id=request.delivery_id,
                    supplier_id=request.supplier_id,
                    reference=request.reference,
                    lines=cv.line_inputs(request.lines),
                    po_id=request.po_id,
                ),
            )
        )

    def SendTransfer(self, request, context: grpc.ServicerContext):
        _check_lines(request.lines)
        return cv.document(
            self._write(
                context,
                lambda uow: documents.send_transfer(
                    uow,
                    transfer_id=request.transfer_id,
                    to_store_id=request.to_store_id,
                    reference=request.reference,
                    lines=cv.line_inputs(request.lines),
                ),
            )
        )

    def ReceiveTransfer(self, request, context: grpc.ServicerContext):
        _check_lines(request.lines)
        return cv.document(
            self._write(
                context,
                lambda uow: documents.receive_transfer(
                    uow,
                    transfer_id=request.transfer_id,
                    from_store_id=request.from_store_id,
                    lines=cv.line_inputs(request.lines),
                ),
            )
        )

    def AdjustStock(self, request, context: grpc.ServicerContext):
        _check_lines(request.lines)
        return cv.document(
            self._write(
                context,
                lambda uow: documents.adjust(
                    uow,
                    adjustment_id=request.adjustment_id,
                    reason=request.reason,
                    lines=cv.line_inputs(request.lines),
                ),
            )
        )

    def SplitPack(self, request, context: grpc.ServicerContext):
        return cv.document(
            self._write(
                context,
                lambda uow: documents.split_pack(
                    uow,
                    split_id=request.split_id,
                    case_product_id=request.case_product_id,
                    unit_product_id=request.unit_product_id,
                    cases_milli=request.cases_milli,
                    units_per_case=request.units_per_case,
                    assemble=request.assemble,
                ),
            )
        )

    def UpsertSupplier(self, request, context: grpc.ServicerContext):
        s = request.supplier
        self._write(
            context,
            lambda uow: replenishment.upsert_supplier(uow, s.supplier_id, s.name, s.lead_days),
        )
        return stock_pb2.Supplier(
            supplier_id=s.supplier_id.strip(), name=s.name.strip(), lead_days=s.lead_days
        )

    def SetStockRule(self, request, context: grpc.ServicerContext):
        r = request.rule
        self._write(
            context,
            lambda uow: replenishment.set_rule(
                uow,
                product_id=r.product_id,
                supplier_id=r.supplier_id,
                min_milli=r.min_milli,
                max_milli=r.max_milli,
                pack_milli=r.pack_milli,
                lead_days=r.lead_days or None,
            ),
        )
        return r

    def ListLowStock(self, request, context: grpc.ServicerContext):
        with self._db.read() as conn:
            levels = replenishment.low_stock(conn)
        return stock_pb2.ListLowStockResponse(levels=[cv.level(lv) for lv in levels])

    def SuggestReplenishment(self, request, context: grpc.ServicerContext):
        window = request.window_days or replenishment.DEFAULT_WINDOW_DAYS
        with self._db.read() as conn:
            drafts = replenishment.suggestions(conn, self._clock.now(), window)
            levels = (
                {
                    lv.product_id: lv
                    for lv in replenishment.stock_levels(
                        conn, [s.product_id for ss in drafts.values() for s in ss]
                    )
                }
                if drafts
                else {}
            )
            names = replenishment.supplier_names(conn)
        return stock_pb2.SuggestReplenishmentResponse(
            drafts=[
                stock_pb2.PurchaseOrder(
                    supplier_id=sup,
                    supplier_name=names.get(sup, ""),
                    status="draft",
                    lines=[
                        stock_pb2.OrderLine(
                            product_id=s.product_id,
                            sku=levels[s.product_id].sku,
                            name=levels[s.product_id].name,
                            quantity_milli=s.quantity_milli,
                            on_hand_milli=levels[s.product_id].on_hand_milli,
                            on_order_milli=levels[s.product_id].on_order_milli,
                            daily_sales_milli=s.daily_sales_milli,
                        )
                        for s in lines
                    ],
                )
                for sup, lines in sorted(drafts.items())
            ]
        )

    def PlacePurchaseOrder(self, request, context: grpc.ServicerContext):
        _check_lines(request.lines)
        po = self._write(
            context,
            lambda uow: replenishment.place_order(
                uow,
                po_id=request.po_id,
                supplier_id=request.supplier_id,
                lines=cv.line_inputs(request.lines),
            ),
        )
        with self._db.read() as conn:
            status, lines = replenishment.order_of(conn, po)
        return stock_pb2.PurchaseOrder(
            po_id=po,
            supplier_id=request.supplier_id,
            status=status,
            lines=[stock_pb2.OrderLine(product_id=p, quantity_milli=q) for p, q in lines],
        )
