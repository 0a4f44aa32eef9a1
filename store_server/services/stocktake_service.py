"""tillpoint.v1.StocktakeService: sessions, handheld counts, variance, posting.

Count batches are written through the group committer: batches that arrive
together from several handhelds share one transaction and one fsync, and a
batch is acknowledged only once it is on disk (a handheld may then drop it
from its queue). A stream hands its batches to one worker of its own, so it
reads the next batch while the last one commits, and its batches stay in
order (a correction never overtakes the count it corrects).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import grpc

from store_server.clock import Clock
from store_server.db.database import Database
from store_server.db.group_commit import GroupCommitter
from store_server.db.unit_of_work import Actor, UnitOfWork, unit_of_work
from store_server.domain.errors import InvalidArgument
from store_server.interceptor import principal_of
from store_server.services import stock_convert as cv
from store_server.stock import counts, sessions, variances
from tillpoint.v1 import stock_pb2, stock_pb2_grpc

PAGE = 2000
IN_FLIGHT = 2  # batches of one stream committing while the next is read


def _check_session_id(session_id: str) -> None:
    if not session_id:
        raise InvalidArgument("session_id", "name the stocktake")


class StocktakeService(stock_pb2_grpc.StocktakeServiceServicer):
    def __init__(self, db: Database, clock: Clock, committer: GroupCommitter) -> None:
        self._db = db
        self._clock = clock
        self._committer = committer

    def _actor(self, context: grpc.ServicerContext) -> Actor:
        who = principal_of(context)
        return Actor(who.operator_id, who.device_id)

    def _uow(self, context: grpc.ServicerContext):
        return unit_of_work(self._db, self._actor(context), self._clock.now())

    def OpenSession(self, request, context: grpc.ServicerContext):
        with self._uow(context) as uow:
            view = sessions.open_session(
                uow,
                session_id=request.session_id,
                name=request.name,
                categories=list(request.categories),
                zones=list(request.zones),
                uncounted_zero=request.uncounted_zero,
                recount_threshold_milli=request.recount_threshold_milli,
            )
        return cv.session(view)

    def ListSessions(self, request, context: grpc.ServicerContext):
        with self._db.read() as conn:
            views = [
                sessions.get(conn, v.session_id, with_counts=True)
                for v in sessions.listing(conn, include_closed=request.include_closed)
            ]
        return stock_pb2.ListSessionsResponse(sessions=[cv.session(v) for v in views])

    def _commit_batch(self, actor: Actor, batch: stock_pb2.CountBatch) -> counts.BatchResult:
        _check_session_id(batch.session_id)
        if len(batch.counts) > counts.MAX_BATCH:
            raise InvalidArgument("counts", f"at most {counts.MAX_BATCH} counts per batch")
        items = cv.counts(batch)
        session_id = batch.session_id

        def work(uow: UnitOfWork) -> counts.BatchResult:
            return counts.ingest(
                uow,
                session_id,
                items,
                device_id=actor.device_id,
                operator_id=actor.operator_id,
            )

        return self._committer.run(actor, self._clock.now(), work)

    def SendCounts(self, request, context: grpc.ServicerContext):
        return cv.batch_result(self._commit_batch(self._actor(context), request))

    def StreamCounts(self, request_iterator, context: grpc.ServicerContext):
        actor = self._actor(context)
        total = counts.BatchResult()
        pending: deque[Future[counts.BatchResult]] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="counts") as worker:
            try:
                for batch in request_iterator:
                    pending.append(worker.submit(self._commit_batch, actor, batch))
                    while len(pending) > IN_FLIGHT:
                        total.add(pending.popleft().result())
                while pending:
                    total.add(pending.popleft().result())
            finally:
                for f in pending:
                    f.cancel()
        return cv.batch_result(total)

    def ListRecounts(self, request, context: grpc.ServicerContext):
        _check_session_id(request.session_id)
        with self._db.read() as conn:
            items = variances.recount_list(conn, request.session_id)
        # Blind counting: which products, never how many.
        return stock_pb2.ListRecountsResponse(
            items=[
                stock_pb2.RecountItem(product_id=p, sku=sku, name=name, zones=zones)
                for p, sku, name, zones in items
            ]
        )

    def CloseSession(self, request, context: grpc.ServicerContext):
        _check_session_id(request.session_id)
        with self._uow(context) as uow:
            view = sessions.close(uow, request.session_id)
        return cv.session(view)

    def VarianceReport(self, request, context: grpc.ServicerContext) -> Iterator:
        _check_session_id(request.session_id)
        with self._db.read() as conn:
            lines, categories = variances.report(
                conn, request.session_id, nonzero_only=request.nonzero_only
            )
        pages = [lines[i : i + PAGE] for i in range(0, len(lines), PAGE)] or [[]]
        for part in pages[:-1]:
            yield stock_pb2.VarianceReportPage(lines=[_line(x) for x in part])
        yield stock_pb2.VarianceReportPage(
            lines=[_line(x) for x in pages[-1]],
            categories=[
                stock_pb2.CategoryVariance(
                    category=cat, variance_milli=q, variance_cost_fen=fen, products=n
                )
                for cat, (q, fen, n) in sorted(categories.items())
            ],
            total_variance_cost_fen=sum(fen for _, fen, _ in categories.values()),
            last=True,
        )

    def PostSession(self, request, context: grpc.ServicerContext):
        _check_session_id(request.session_id)
        with self._uow(context) as uow:
            r = variances.post(uow, request.session_id)
        return stock_pb2.PostSessionResponse(
            session_id=r.session_id,
            products_counted=r.products_counted,
            products_adjusted=r.products_adjusted,
            variance_milli=r.variance_milli,
            variance_cost_fen=r.variance_cost_fen,
        )


def _line(x: variances.ReportLine) -> stock_pb2.VarianceLine:
    return stock_pb2.VarianceLine(
        product_id=x.product_id,
        sku=x.sku,
        name=x.name,
        category=x.category,
        counted_milli=x.counted_milli,
        expected_milli=x.expected_milli,
        variance_milli=x.variance_milli,
        variance_cost_fen=x.variance_cost_fen,
    )
