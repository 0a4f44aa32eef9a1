"""Reconcile stores' business days: HQ's sums against the stores' day closes and Z reports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from hq_link.hq.reconcile import queries
from hq_link.hq.reconcile.compare import (
    STATUS_TITLES,
    Check,
    Status,
    compare,
    store_figures,
    sum_z,
)
from store_server.reports.table import Column, Kind, Table

DAY_CLOSE = "日结"
Z = "Z"


def _info(store_id: str, day: str, source: str, name: str, status: Status) -> Check:
    return Check(store_id, day, source, name, None, None, False, status)


def reconcile_day(conn: Connection, store_id: str, day: str) -> list[Check]:
    """Every check of one store's business day (see compare.compare)."""
    checks: list[Check] = []
    quarantined = queries.quarantined(conn, store_id)
    if quarantined:
        checks.append(
            Check(store_id, day, "HQ", "quarantined_rows", quarantined, 0, False, Status.MISMATCH)
        )
    close = queries.day_close(conn, store_id, day)
    hq = queries.hq_day(conn, store_id, day)
    if close is None or not close.closed:
        name = "day_close (未日结)" if close is None else "day_close (已反结账 reopened)"
        checks.append(_info(store_id, day, DAY_CLOSE, name, Status.MISSING))
        front = queries.latest_change_at(conn, store_id)
        if front is None or front < queries.day_end_utc(day):
            at = front.isoformat(timespec="seconds") if front else "nothing"
            checks.append(
                _info(store_id, day, "HQ", f"replication (HQ has changes up to {at})", Status.LAG)
            )
        # Without the store's figures HQ's own are still worth showing.
        checks += compare(store_id, day, DAY_CLOSE, hq, {})
        checks = [
            c if c.store is not None or c.status is not Status.MISMATCH else _as_missing(c)
            for c in checks
        ]
    else:
        payload = {"figures": close.figures or {}, "ledger": close.ledger or {}}
        checks += compare(store_id, day, DAY_CLOSE, hq, store_figures(payload, ledger=True))
    shift_rows = queries.shifts_of_day(conn, store_id, day)
    for s in shift_rows:
        if s.z is None:
            checks.append(_info(store_id, day, Z, f"shift {s.shift_id} (无Z报表)", Status.MISSING))
    if shift_rows:
        hq_sales = queries.hq_day(conn, store_id, day, ledger=False)
        zs = [s.z for s in shift_rows if s.z is not None]
        checks += compare(store_id, day, Z, hq_sales, sum_z(zs))
    return checks


def _as_missing(c: Check) -> Check:
    return Check(c.store_id, c.day, c.source, c.name, c.hq, c.store, c.money, Status.MISSING)


def reconcile(conn: Connection, days: Sequence[str], stores: Sequence[str] = ()) -> list[Check]:
    """Every check of every store (all HQ knows, or `stores`) and day."""
    chosen = list(stores) or queries.known_stores(conn)
    return [c for s in chosen for d in days for c in reconcile_day(conn, s, d)]


def failed(checks: Sequence[Check]) -> list[Check]:
    return [c for c in checks if c.status is not Status.OK]


def as_table(checks: Sequence[Check], *, only_problems: bool = False) -> Table:
    shown = failed(checks) if only_problems else list(checks)
    columns = tuple(
        Column(k, t, Kind.TEXT)
        for k, t in (
            ("store_id", "门店"),
            ("day", "营业日"),
            ("source", "来源"),
            ("check", "项目"),
            ("hq", "总部"),
            ("store", "门店上报"),
            ("status", "结果"),
        )
    )
    rows = tuple(
        (
            c.store_id,
            c.day,
            c.source,
            c.name,
            c.value_text(c.hq),
            c.value_text(c.store),
            STATUS_TITLES[c.status],
        )
        for c in shown
    )
    bad = len(failed(checks))
    notes = (
        f"{len(checks)} 项, {bad} 项不符/缺失 ({len(checks)} checks, {bad} not ok)",
        "金额单位: 元; 门店上报 = the store's day close (日结) or its Z reports summed (Z)",
    )
    return Table("reconcile", "对账 (总部 vs 门店日结/Z报表)", columns, rows, notes=notes)
