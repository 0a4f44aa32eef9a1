"""tillpoint.hq.v1.HqReportService: authenticate the HQ user, limit the stores, run, encode."""

from __future__ import annotations

from datetime import date

import grpc
from sqlalchemy import Engine

from hq_link.hq.reconcile import run as reconcile
from hq_link.hq.reports import catalog, users
from hq_link.hq.reports.scope import HqScope
from store_server.domain.dates import parse_date
from store_server.domain.errors import (
    DomainError,
    InvalidArgument,
    PermissionDenied,
    Unauthenticated,
)
from store_server.reports.sales import Period
from store_server.services.report_service import table_message
from tillpoint.hq.v1 import reports_pb2, reports_pb2_grpc
from tillpoint.v1 import reports_pb2 as store_reports_pb2

SERVICE = reports_pb2.DESCRIPTOR.services_by_name["HqReportService"].full_name
_CODES = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
}


def _abort(context: grpc.ServicerContext, exc: DomainError) -> None:
    code = next(
        (c for t, c in _CODES.items() if isinstance(exc, t)), grpc.StatusCode.FAILED_PRECONDITION
    )
    context.abort(code, exc.message)


def _bearer(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == "authorization" and value.startswith("Bearer "):
            return value.removeprefix("Bearer ").strip()
    return ""


def _day(text: str, field: str) -> date:
    day = parse_date(text, field)
    if day is None:
        raise InvalidArgument(field, "a business day as YYYY-MM-DD is required")
    return day


class HqReportService(reports_pb2_grpc.HqReportServiceServicer):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _user(self, context: grpc.ServicerContext) -> users.HqUser:
        token = _bearer(context)
        if token:
            with self._engine.connect() as conn:
                user = users.by_token(conn, token)
            if user is not None:
                return user
        raise Unauthenticated("an HQ user's token is required (hqctl user add)")

    def ListHqReports(self, request, context: grpc.ServicerContext):
        try:
            self._user(context)
        except DomainError as exc:
            _abort(context, exc)
        return reports_pb2.ListHqReportsResponse(
            reports=[
                store_reports_pb2.ReportInfo(name=s.name, title=s.title)
                for s in catalog.REPORTS.values()
            ],
            not_available=catalog.NOT_AT_HQ,
        )

    def RunHqReport(self, request, context: grpc.ServicerContext):
        try:
            user = self._user(context)
            stores = user.allowed(request.stores)
            last = _day(request.date_to, "date_to")
            first = parse_date(request.date_from, "date_from") or last
            scope = HqScope(stores, first, last)
            options = catalog.Options(
                period=request.period or Period.DAY,
                limit=request.limit or 20,
                compare_last_year=not request.no_last_year,
            )
            kinds = list(request.kinds) or ["summary"]
            with self._engine.connect() as conn:
                tables = catalog.run(conn, kinds, scope, options)
        except DomainError as exc:
            _abort(context, exc)
        return reports_pb2.HqReportResult(
            stores=list(scope.stores),
            date_from=first.isoformat(),
            date_to=last.isoformat(),
            tables=[table_message(t) for t in tables],
        )

    def Reconcile(self, request, context: grpc.ServicerContext):
        try:
            user = self._user(context)
            stores = user.allowed(request.stores)
            day = _day(request.date, "date").isoformat()
            with self._engine.connect() as conn:
                checks = reconcile.reconcile(conn, [day], stores)
        except DomainError as exc:
            _abort(context, exc)
        problems = reconcile.failed(checks)
        return reports_pb2.ReconcileResult(
            ok=not problems,
            problems=len(problems),
            table=table_message(reconcile.as_table(checks)),
        )


def add_to_server(server: grpc.Server, engine: Engine) -> str:
    """Register the servicer; returns its full name (for health and reflection)."""
    reports_pb2_grpc.add_HqReportServiceServicer_to_server(HqReportService(engine), server)
    return SERVICE
