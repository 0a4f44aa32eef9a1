"""Proto <-> stock values, for the stock and stocktake servicers."""

from __future__ import annotations

from collections.abc import Iterable

from store_server.services.convert import ts
from store_server.stock.counts import BatchResult, CountIn
from store_server.stock.documents import DocumentView
from store_server.stock.lines import LineInput
from store_server.stock.replenishment import Level
from store_server.stock.sessions import SessionView
from tillpoint.v1 import stock_pb2

MAX_LINES = 1000


def line_inputs(lines: Iterable[stock_pb2.StockLineInput]) -> list[LineInput]:
    return [LineInput(ln.product_id, ln.code, ln.quantity_milli, ln.unit_cost_fen) for ln in lines]


def document(d: DocumentView) -> stock_pb2.StockDocument:
    return stock_pb2.StockDocument(
        doc_id=d.doc_id,
        kind=d.kind,
        status=d.status,
        supplier_id=d.supplier_id,
        other_store_id=d.other_store_id,
        reference=d.reference,
        reason=d.reason,
        created_at=ts(d.created_at),
        lines=[
            stock_pb2.StockDocumentLine(
                product_id=ln.product_id,
                quantity_milli=ln.quantity_milli,
                unit_cost_fen=ln.unit_cost_fen or 0,
            )
            for ln in d.lines
        ],
    )


def level(lv: Level) -> stock_pb2.StockLevel:
    return stock_pb2.StockLevel(
        product_id=lv.product_id,
        sku=lv.sku,
        name=lv.name,
        on_hand_milli=lv.on_hand_milli,
        on_order_milli=lv.on_order_milli,
        min_milli=lv.min_milli,
        max_milli=lv.max_milli,
    )


def session(v: SessionView) -> stock_pb2.StocktakeSession:
    return stock_pb2.StocktakeSession(
        session_id=v.session_id,
        name=v.name,
        status=v.status,
        categories=v.categories,
        zones=v.zones,
        uncounted_zero=v.uncounted_zero,
        opened_at=ts(v.opened_at),
        counts=v.counts,
    )


def counts(batch: stock_pb2.CountBatch) -> list[CountIn]:
    # The hot path of a stocktake: plain attribute reads, no per-field helpers.
    return [
        CountIn(
            c.count_id,
            c.zone,
            c.product_id,
            c.code,
            c.quantity_milli,
            c.counter_id,
            c.replaces_count_id,
            c.recount,
        )
        for c in batch.counts
    ]


def batch_result(r: BatchResult) -> stock_pb2.CountBatchResult:
    return stock_pb2.CountBatchResult(
        accepted=r.accepted,
        duplicates=r.duplicates,
        rejected=[
            stock_pb2.RejectedCount(
                count_id=x.count_id, index=x.index, reason=x.reason, message=x.message
            )
            for x in r.rejected
        ],
    )
