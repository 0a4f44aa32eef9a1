"""Variance of a stocktake: computed live while it runs, frozen and posted at the end.

Posting writes one `stocktake` movement per product whose count differs from
the books, the frozen variance rows, the change log and the audit entry, all in
one transaction (a 100,000-product store posts in a few seconds: the rows go
in through plain executemany, see db.fast).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, update

from store_server.db import fast, stock_repo
from store_server.db.stock_models import StocktakeSession
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import FailedPrecondition
from store_server.domain.stock.variance import CountTotal, Variance, cost_of, recounts, variances
from store_server.stock import sessions
from store_server.stock.sessions import SessionView

Progress = Callable[[str, int, int], None]
CHUNK = 5000
_VARIANCE_INSERT = (
    "INSERT INTO stocktake_variances (session_id, product_id, counted_milli, expected_milli, "
    "variance_milli, unit_cost_fen) VALUES (?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class ReportLine:
    product_id: int
    sku: str
    name: str
    category: str
    counted_milli: int
    expected_milli: int
    variance_milli: int
    variance_cost_fen: int


@dataclass(frozen=True, slots=True)
class PostResult:
    session_id: str
    products_counted: int
    products_adjusted: int
    variance_milli: int
    variance_cost_fen: int


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def count_totals(conn: Connection, session_id: str) -> list[CountTotal]:
    rows = fast.execute(
        conn,
        "SELECT product_id, sum(quantity_milli), max(seen_seq) FROM stocktake_counts "
        "WHERE session_id = ? AND superseded = 0 GROUP BY product_id",
        (session_id,),
    )
    return [CountTotal(pid, int(q), int(s)) for pid, q, s in rows]


def compute(conn: Connection, view: SessionView) -> list[Variance]:
    """The variance of every counted product (and every uncounted one, if counted as zero)."""
    if view.status == "posted":
        rows = fast.execute(
            conn,
            "SELECT product_id, counted_milli, expected_milli FROM stocktake_variances "
            "WHERE session_id = ? ORDER BY product_id",
            (view.session_id,),
        )
        return [Variance(p, c, e) for p, c, e in rows]
    uncounted: list[int] = []
    if view.uncounted_zero:
        scope = sessions.scope_products(conn, view)
        if scope is None:
            uncounted = [p for (p,) in fast.execute(conn, "SELECT id FROM products")]
        else:
            uncounted = list(scope)
    return variances(
        count_totals(conn, view.session_id),
        stock_repo.levels(conn),
        stock_repo.moves_after(conn, view.snapshot_seq),
        uncounted=uncounted,
    )


def recount_list(conn: Connection, session_id: str) -> list[tuple[int, str, str, list[str]]]:
    """(product id, sku, name, zones counted) whose variance is over the threshold."""
    view = sessions.get(conn, session_id)
    ids = recounts(compute(conn, view), view.recount_threshold_milli)
    if not ids:
        return []
    info = {p: (sku, name) for p, sku, name, _, _ in _product_info(conn)}
    zones: dict[int, set[str]] = {}
    for pid, zone in fast.execute(
        conn,
        "SELECT DISTINCT product_id, zone FROM stocktake_counts "
        "WHERE session_id = ? AND superseded = 0",
        (view.session_id,),
    ):
        zones.setdefault(pid, set()).add(zone)
    return [(p, *info[p], sorted(zones.get(p, ()))) for p in ids]


def _product_info(conn: Connection) -> list[tuple[int, str, str, str, int]]:
    return fast.execute(
        conn,
        "SELECT p.id, p.sku, p.name, c.name, coalesce(p.cost_fen, 0) FROM products p "
        "JOIN categories c ON c.id = p.category_id",
    )


def report(
    conn: Connection, session_id: str, *, nonzero_only: bool
) -> tuple[list[ReportLine], dict[str, tuple[int, int, int]]]:
    """Lines per product, and per category (variance qty, cost fen, products)."""
    view = sessions.get(conn, session_id)
    rows = compute(conn, view)
    info = {p: (sku, name, cat, cost) for p, sku, name, cat, cost in _product_info(conn)}
    costs = dict(
        fast.execute(
            conn,
            "SELECT product_id, unit_cost_fen FROM stocktake_variances WHERE session_id = ?",
            (view.session_id,),
        )
    )
    lines: list[ReportLine] = []
    categories: dict[str, tuple[int, int, int]] = {}
    for v in rows:
        sku, name, cat, cost = info[v.product_id]
        value = cost_of(v.variance_milli, costs.get(v.product_id, cost))
        qty, fen, n = categories.get(cat, (0, 0, 0))
        categories[cat] = (qty + v.variance_milli, fen + value, n + 1)
        if nonzero_only and not v.variance_milli:
            continue
        lines.append(
            ReportLine(
                v.product_id,
                sku,
                name,
                cat,
                v.counted_milli,
                v.expected_milli,
                v.variance_milli,
                value,
            )
        )
    return lines, categories


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def post(uow: UnitOfWork, session_id: str, progress: Progress = _no_progress) -> PostResult:
    """Write the variances as adjustment movements; posting again returns the first result."""
    conn = uow.conn
    view = sessions.get(conn, session_id)
    if view.status == "cancelled":
        raise FailedPrecondition(
            f"stocktake {view.name} was cancelled", reason="STOCKTAKE_CANCELLED"
        )
    if view.status == "posted":
        return _result(conn, view)
    progress("computing variances", 0, 1)
    rows = compute(conn, view)
    progress("computing variances", 1, 1)
    costs = {p: cost for p, _, _, _, cost in _product_info(conn)}
    raw = conn.connection.driver_connection
    total = len(rows)
    done = 0
    for part in _chunks(rows):
        raw.executemany(
            _VARIANCE_INSERT,
            [
                (
                    view.session_id,
                    v.product_id,
                    v.counted_milli,
                    v.expected_milli,
                    v.variance_milli,
                    costs.get(v.product_id, 0),
                )
                for v in part
            ],
        )
        changed = [v for v in part if v.variance_milli]
        stock_repo.record(
            conn,
            [(v.product_id, v.variance_milli) for v in changed],
            kind="stocktake",
            source_id=view.session_id,
            at=uow.now,
        )
        uow.change(
            "stocktake.variance",
            f"{view.session_id}:{done}",
            {"lines": [[v.product_id, v.counted_milli, v.expected_milli] for v in changed]},
        )
        done += len(part)
        progress("posting", done, total)
    conn.execute(
        update(StocktakeSession)
        .where(StocktakeSession.session_id == view.session_id)
        .values(status="posted", posted_by=uow.actor.operator_id, posted_at=uow.now)
    )
    result = _result(conn, sessions.get(conn, view.session_id))
    detail = {
        "products_counted": result.products_counted,
        "products_adjusted": result.products_adjusted,
        "variance_milli": result.variance_milli,
        "variance_cost_fen": result.variance_cost_fen,
    }
    uow.audit("stocktake.post", view.session_id, detail=detail)
    uow.change("stocktake.post", view.session_id, detail)
    return result


def _result(conn: Connection, view: SessionView) -> PostResult:
    rows = fast.execute(
        conn,
        "SELECT variance_milli, unit_cost_fen FROM stocktake_variances WHERE session_id = ?",
        (view.session_id,),
    )
    return PostResult(
        session_id=view.session_id,
        products_counted=len(rows),
        products_adjusted=sum(1 for v, _ in rows if v),
        variance_milli=sum(v for v, _ in rows),
        variance_cost_fen=sum(cost_of(v, c) for v, c in rows),
    )
