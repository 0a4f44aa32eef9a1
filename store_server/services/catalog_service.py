"""tillpoint.v1.CatalogService."""

from __future__ import annotations

import grpc
from sqlalchemy import insert, select

from store_server.catalog_search import CatalogSearch
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import catalog_repo
from store_server.db.database import Database
from store_server.db.models import PriceChange
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain import catalog as rules
from store_server.domain.barcodes import normalize_code, parse_scale_label, validate_gtin
from store_server.domain.errors import InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.money import check_fen
from store_server.interceptor import principal_of
from store_server.prices import PriceScheduler, apply_due_in
from store_server.services import convert
from tillpoint.v1 import catalog_pb2, catalog_pb2_grpc, common_pb2

MAX_QUERY = 40
DEFAULT_CHUNK = 500
MAX_CHUNK = 2000


class CatalogService(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, db: Database, config: Config, clock: Clock, prices: PriceScheduler) -> None:
        self._db = db
        self._cfg = config
        self._clock = clock
        self._prices = prices
        self._search = CatalogSearch()

    def _current(self) -> None:
        self._prices.ensure_current(self._clock.now())

    def Lookup(self, request: catalog_pb2.LookupRequest, context: grpc.ServicerContext):
        code = normalize_code(request.code)
        self._current()
        kind = request.kind
        if kind == catalog_pb2.CODE_KIND_AUTO:
            kind = (
                catalog_pb2.CODE_KIND_PLU
                if code.isdigit() and len(code) <= 5
                else catalog_pb2.CODE_KIND_BARCODE
            )
        store = self._cfg.store_id
        with self._db.read() as conn:
            if kind == catalog_pb2.CODE_KIND_PLU:
                product = catalog_repo.find_by_plu(conn, store, code)
                if product is None:
                    raise NotFound(f"no product with PLU {code}", reason="UNKNOWN_PLU")
                result = rules.price_plu(product, code)
            else:
                label = parse_scale_label(code, self._cfg.scale_layouts)
                if label is not None:
                    product = catalog_repo.find_by_plu(conn, store, label.plu)
                    if product is None:
                        raise NotFound(
                            f"scale label {code}: no product with PLU {label.plu}",
                            reason="UNKNOWN_PLU",
                        )
                    result = rules.price_scale_label(product, code, label)
                else:
                    if code.isdigit() and len(code) in (8, 12, 13):
                        validate_gtin(code)
                    found = catalog_repo.find_by_barcode(conn, store, code)
                    if found is None:
                        raise NotFound(f"unknown barcode {code}", reason="UNKNOWN_BARCODE")
                    result = rules.price_barcode(*found)
        return catalog_pb2.LookupResponse(
            product=convert.product(result.product),
            code=result.code,
            quantity=common_pb2.Quantity(milli=result.quantity_milli),
            amount=convert.money(result.amount_fen),
            pack_factor=result.pack_factor,
            variable_measure=result.variable_measure,
        )

    def Search(self, request: catalog_pb2.SearchRequest, context: grpc.ServicerContext):
        query = request.query.strip()
        if not query:
            raise InvalidArgument("query", "type at least one character")
        if len(query) > MAX_QUERY or not query.isprintable():
            raise InvalidArgument("query", f"at most {MAX_QUERY} printable characters")
        offset, limit = convert.page_bounds(request.page)
        self._current()
        with self._db.read() as conn:
            products, total = self._search.search(
                conn,
                self._cfg.store_id,
                query,
                offset=offset,
                limit=limit,
                include_inactive=request.include_inactive,
            )
        return catalog_pb2.SearchResponse(
            products=[convert.product(p) for p in products],
            page=convert.next_page(offset, limit, total),
        )

    def GetProduct(self, request: catalog_pb2.GetProductRequest, context: grpc.ServicerContext):
        if request.product_id < 0:
            raise InvalidArgument("product_id", "must not be negative")
        if not request.product_id and not request.sku:
            raise InvalidArgument("product_id", "give a product id or a SKU")
        self._current()
        with self._db.read() as conn:
            product = catalog_repo.get_product(
                conn,
                self._cfg.store_id,
                product_id=request.product_id or None,
                sku=request.sku or None,
            )
        if product is None:
            raise NotFound("no such product", reason="UNKNOWN_PRODUCT")
        return convert.product(product)

    def StreamCatalog(
        self, request: catalog_pb2.StreamCatalogRequest, context: grpc.ServicerContext
    ):
        if request.since_revision < 0:
            raise InvalidArgument("since_revision", "must not be negative")
        if request.chunk_size < 0:
            raise InvalidArgument("chunk_size", "must not be negative")
        chunk = min(request.chunk_size or DEFAULT_CHUNK, MAX_CHUNK)
        self._current()
        # One read transaction: the stream is one consistent snapshot, and the
        # revision sent last is the one that snapshot was at.
        with self._db.read() as conn:
            revision = catalog_repo.catalog_revision(conn)
            total = catalog_repo.count_changed(conn, request.since_revision)
            for products in catalog_repo.iter_changed(
                conn, self._cfg.store_id, request.since_revision, chunk
            ):
                if not context.is_active():
                    return
                message = catalog_pb2.CatalogChunk(total_count=total)
                convert.add_product_rows(message, products)
                yield message
        yield catalog_pb2.CatalogChunk(revision=revision, last=True, total_count=total)

    def SchedulePriceChange(
        self, request: catalog_pb2.SchedulePriceChangeRequest, context: grpc.ServicerContext
    ):
        principal = principal_of(context)
        change_id = check_uuid(request.change_id, "change_id")
        retail = check_fen(request.retail_price.fen, field="retail_price", allow_zero=False)
        member = check_fen(request.member_price.fen, field="member_price") or None
        if member is not None and member > retail:
            raise InvalidArgument("member_price", "is above the retail price")
        now = self._clock.now()
        effective = (
            convert.from_ts(request.effective_at, field="effective_at")
            if request.HasField("effective_at")
            else now
        )
        actor = Actor(principal.operator_id, principal.device_id)
        with unit_of_work(self._db, actor, now) as uow:
            existing = uow.conn.execute(
                select(PriceChange).where(PriceChange.change_id == change_id)
            ).first()
            if existing is None:
                if (
                    catalog_repo.get_product(
                        uow.conn, self._cfg.store_id, product_id=request.product_id
                    )
                    is None
                ):
                    raise NotFound(f"no product {request.product_id}", reason="UNKNOWN_PRODUCT")
                uow.conn.execute(
                    insert(PriceChange).values(
                        change_id=change_id,
                        product_id=request.product_id,
                        store_id=self._cfg.store_id,
                        retail_price_fen=retail,
                        member_price_fen=member,
                        effective_at=effective,
                        created_by=principal.operator_id,
                        created_at=now,
                    )
                )
                uow.change(
                    "price_change.scheduled",
                    change_id,
                    {
                        "product_id": request.product_id,
                        "retail_price_fen": retail,
                        "member_price_fen": member,
                        "effective_at": effective.isoformat(),
                    },
                )
                apply_due_in(uow)
                uow.after_commit(lambda: self._prices.note_scheduled(effective))
            row = uow.conn.execute(
                select(PriceChange).where(PriceChange.change_id == change_id)
            ).one()
        return catalog_pb2.PriceChange(
            change_id=row.change_id,
            product_id=row.product_id,
            retail_price=convert.money(row.retail_price_fen),
            member_price=convert.money(row.member_price_fen),
            effective_at=convert.ts(row.effective_at),
            applied=row.applied_at is not None,
        )

    def ListLabelJobs(
        self, request: catalog_pb2.ListLabelJobsRequest, context: grpc.ServicerContext
    ):
        offset, limit = convert.page_bounds(request.page)
        self._current()
        with self._db.read() as conn:
            rows, total = catalog_repo.pending_label_jobs(conn, offset=offset, limit=limit)
            products = {
                p.id: p
                for p in catalog_repo.products_by_ids(
                    conn, self._cfg.store_id, sorted({r.product_id for r in rows})
                )
            }
        return catalog_pb2.ListLabelJobsResponse(
            jobs=[
                catalog_pb2.LabelJob(
                    job_id=r.id,
                    product=convert.product(products[r.product_id]),
                    reason=r.reason,
                    created_at=convert.ts(r.created_at),
                )
                for r in rows
            ],
            page=convert.next_page(offset, limit, total),
        )

    def CompleteLabelJobs(
        self, request: catalog_pb2.CompleteLabelJobsRequest, context: grpc.ServicerContext
    ):
        if not request.job_ids or len(request.job_ids) > 1000:
            raise InvalidArgument("job_ids", "1 to 1,000 job ids")
        principal = principal_of(context)
        with unit_of_work(
            self._db, Actor(principal.operator_id, principal.device_id), self._clock.now()
        ) as uow:
            done = catalog_repo.complete_label_jobs(uow.conn, request.job_ids, uow.now)
        return catalog_pb2.CompleteLabelJobsResponse(completed=done)
