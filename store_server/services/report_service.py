"""tillpoint.v1.ReportService: decode, check the scope, run store_server.reports, encode."""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from store_server.clock import Clock
from store_server.config import Config
from store_server.db.database import Database
from store_server.domain.business_day import business_day
from store_server.interceptor import principal_of
from store_server.reports import catalog
from store_server.reports.access import resolve_scope
from store_server.reports.scope import ReportScope
from store_server.reports.table import Kind, Table
from tillpoint.v1 import reports_pb2, reports_pb2_grpc

_KINDS = {
    Kind.TEXT: reports_pb2.COLUMN_KIND_TEXT,
    Kind.COUNT: reports_pb2.COLUMN_KIND_COUNT,
    Kind.MONEY: reports_pb2.COLUMN_KIND_MONEY_FEN,
    Kind.QTY: reports_pb2.COLUMN_KIND_QUANTITY_MILLI,
    Kind.BP: reports_pb2.COLUMN_KIND_BASIS_POINTS,
    Kind.DAYS: reports_pb2.COLUMN_KIND_DAYS,
}


def table_message(table: Table) -> reports_pb2.ReportTable:
    def cell(value: object) -> reports_pb2.ReportCell:
        if value is None:
            return reports_pb2.ReportCell()
        if isinstance(value, str):
            return reports_pb2.ReportCell(text=value)
        return reports_pb2.ReportCell(number=int(value))  # type: ignore[call-overload]

    return reports_pb2.ReportTable(
        name=table.name,
        title=table.title,
        columns=[
            reports_pb2.ReportColumn(key=c.key, title=c.title, kind=_KINDS[c.kind])
            for c in table.columns
        ],
        rows=[reports_pb2.ReportRow(cells=[cell(v) for v in row]) for row in table.rows],
        notes=list(table.notes),
    )


class ReportService(reports_pb2_grpc.ReportServiceServicer):
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self._db = db
        self._cfg = config
        self._clock = clock

    def ListReports(self, request, context: grpc.ServicerContext):
        return reports_pb2.ListReportsResponse(
            reports=[
                reports_pb2.ReportInfo(name=s.name, title=s.title, cashier=s.cashier)
                for s in catalog.REPORTS.values()
            ]
        )

    def _prepare(self, request, context) -> tuple[list[str], ReportScope, catalog.Options]:
        kinds = list(request.kinds) or ["summary"]
        now = self._clock.now()
        options = catalog.with_period(
            catalog.Options(
                limit=request.limit or 20,
                compare_last_year=not request.no_last_year,
                session_id=request.session_id,
                now=now,
            ),
            request.period,
        )
        with self._db.read() as conn:
            scope = resolve_scope(
                conn,
                self._cfg,
                principal_of(context),
                kinds=kinds,
                today=business_day(now, self._cfg.zone, self._cfg.business_day_cutover_hour),
                store_id=request.store_id,
                date_from=request.date_from,
                date_to=request.date_to,
                shift_id=request.shift_id,
            )
        return kinds, scope, options

    def _result(self, scope: ReportScope, tables: list[Table]) -> reports_pb2.ReportResult:
        return reports_pb2.ReportResult(
            store_id=scope.store_id,
            date_from=scope.first.isoformat(),
            date_to=scope.last.isoformat(),
            shift_id=scope.shift_id or "",
            tables=[table_message(t) for t in tables],
        )

    def RunReport(self, request, context: grpc.ServicerContext):
        kinds, scope, options = self._prepare(request, context)
        with self._db.read() as conn:
            tables = catalog.run(conn, self._cfg, kinds, scope, options)
        return self._result(scope, tables)

    def StreamReport(self, request, context: grpc.ServicerContext) -> Iterator:
        """A progress event before each report, then its tables, then "done"."""
        kinds, scope, options = self._prepare(request, context)
        with self._db.read() as conn:  # one snapshot for every report of the request
            for done, kind in enumerate(kinds):
                yield reports_pb2.ReportEvent(
                    progress=reports_pb2.ReportProgress(stage=kind, done=done, total=len(kinds))
                )
                for t in catalog.run(conn, self._cfg, [kind], scope, options):
                    yield reports_pb2.ReportEvent(table=table_message(t))
        yield reports_pb2.ReportEvent(
            progress=reports_pb2.ReportProgress(stage="done", done=len(kinds), total=len(kinds))
        )
