"""Who may see which report: the store's own reports, or a cashier's own shift.

The interceptor admits any logged-in operator to ReportService (its rule has
no fixed permission, since what is allowed depends on the request); this
module decides, and refuses with PERMISSION_DENIED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection

from store_server.auth import Principal
from store_server.config import Config
from store_server.db import shift_repo
from store_server.domain.dates import parse_date
from store_server.domain.errors import FailedPrecondition, NotFound, PermissionDenied
from store_server.domain.permissions import Permission
from store_server.reports.catalog import spec_of
from store_server.reports.scope import ReportScope


def resolve_scope(
    conn: Connection,
    cfg: Config,
    who: Principal,
    *,
    kinds: Sequence[str],
    today: date,
    store_id: str = "",
    date_from: str = "",
    date_to: str = "",
    shift_id: str = "",
) -> ReportScope:
    """The scope `who` may see for this request, or PermissionDenied / NotFound."""
    for kind in kinds:
        spec_of(kind)  # an unknown report name is INVALID_ARGUMENT, before anything else
    if (store_id and store_id != cfg.store_id) or who.store_id != cfg.store_id:
        raise PermissionDenied(
            f"this store server reports on store {cfg.store_id} only", reason="OTHER_STORE"
        )
    if who.can(Permission.REPORTS_OWN_STORE):
        if shift_id and shift_repo.get(conn, shift_id) is None:
            raise NotFound(f"no shift {shift_id}", reason="UNKNOWN_SHIFT")
        chosen = shift_id or None
    elif who.can(Permission.SELL):
        refused = [k for k in kinds if not spec_of(k).cashier]
        if refused:
            raise PermissionDenied(
                f"{', '.join(refused)} needs reports_own_store", reason="PERMISSION"
            )
        shift = (
            shift_repo.get(conn, shift_id)
            if shift_id
            else shift_repo.open_for_device(conn, who.device_id)
        )
        if shift is None:
            if shift_id:
                raise PermissionDenied(
                    "a cashier sees only their own shift", reason="NOT_OWN_SHIFT"
                )
            raise FailedPrecondition("no open shift on this till", reason="NO_SHIFT")
        if shift.operator_id != who.operator_id:
            raise PermissionDenied("a cashier sees only their own shift", reason="NOT_OWN_SHIFT")
        chosen = shift.shift_id
    else:
        raise PermissionDenied("reports need reports_own_store", reason="PERMISSION")
    last = parse_date(date_to, "date_to") or today
    first = parse_date(date_from, "date_from") or last
    return ReportScope(
        cfg.store_id, first, last, cfg.zone, cfg.business_day_cutover_hour, shift_id=chosen
    )
