"""Stocktake sessions (盘点单): open with a snapshot point, list, close.

A session covers the whole store, some categories (products) and/or some zones
(where counts may come from). Two sessions that could count the same product
may not run at once (each would post the other's shrinkage again), so only
sessions over disjoint categories overlap in time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from store_server.db import fast, stock_repo
from store_server.db.stock_models import StocktakeSession
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid

_SESSIONS = StocktakeSession.__table__
DEFAULT_THRESHOLD_MILLI = 1000
ACTIVE = ("open", "closed")  # not yet posted


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: str
    name: str
    status: str
    categories: tuple[str, ...]
    zones: tuple[str, ...]
    uncounted_zero: bool
    recount_threshold_milli: int
    snapshot_seq: int
    opened_at: datetime
    counts: int = 0


def _view(row: object, counts: int = 0) -> SessionView:
    scope = json.loads(row.scope)  # type: ignore[attr-defined]
    return SessionView(
        session_id=row.session_id,  # type: ignore[attr-defined]
        name=row.name,  # type: ignore[attr-defined]
        status=row.status,  # type: ignore[attr-defined]
        categories=tuple(scope["categories"]),
        zones=tuple(scope["zones"]),
        uncounted_zero=bool(row.uncounted_zero),  # type: ignore[attr-defined]
        recount_threshold_milli=row.recount_threshold_milli,  # type: ignore[attr-defined]
        snapshot_seq=row.snapshot_seq,  # type: ignore[attr-defined]
        opened_at=row.opened_at,  # type: ignore[attr-defined]
        counts=counts,
    )


def get(conn: Connection, session_id: str, *, with_counts: bool = False) -> SessionView:
    row = conn.execute(select(_SESSIONS).where(_SESSIONS.c.session_id == session_id)).first()
    if row is None:
        raise NotFound(f"no stocktake {session_id}", reason="UNKNOWN_STOCKTAKE")
    counts = 0
    if with_counts:
        counts = fast.execute(
            conn,
            "SELECT count(*) FROM stocktake_counts WHERE session_id = ? AND superseded = 0",
            (session_id,),
        )[0][0]
    return _view(row, counts)


def listing(conn: Connection, *, include_closed: bool) -> list[SessionView]:
    stmt = select(_SESSIONS).order_by(_SESSIONS.c.opened_at.desc())
    if not include_closed:
        stmt = stmt.where(_SESSIONS.c.status == "open")
    return [_view(r) for r in conn.execute(stmt)]


def _names(values: Sequence[str], field: str) -> tuple[str, ...]:
    out = sorted({v.strip() for v in values})
    for i, v in enumerate(out):
        if not v or len(v) > 60:
            raise InvalidArgument(f"{field}[{i}]", "1 to 60 characters")
    return tuple(out)


def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return not a or not b or bool(set(a) & set(b))


def open_session(
    uow: UnitOfWork,
    *,
    session_id: str,
    name: str,
    categories: Sequence[str] = (),
    zones: Sequence[str] = (),
    uncounted_zero: bool = False,
    recount_threshold_milli: int = 0,
) -> SessionView:
    """Open a stocktake; its snapshot point is the last stock movement committed now."""
    sid = check_uuid(session_id, "session_id")
    name = name.strip()
    if not name or len(name) > 60:
        raise InvalidArgument("name", "1 to 60 characters")
    if recount_threshold_milli < 0:
        raise InvalidArgument("recount_threshold_milli", "cannot be negative")
    cats, zs = _names(categories, "categories"), _names(zones, "zones")
    if uncounted_zero and zs:
        # A zone is where a count was made, not a property of a product: "everything
        # not counted in zone A3" would zero the rest of the store.
        raise InvalidArgument("uncounted_zero", "only for the whole store or categories")
    threshold = recount_threshold_milli or DEFAULT_THRESHOLD_MILLI
    existing = uow.conn.execute(select(_SESSIONS).where(_SESSIONS.c.session_id == sid)).first()
    if existing is not None:
        view = _view(existing)
        if (view.name, view.categories, view.zones, view.uncounted_zero) != (
            name,
            cats,
            zs,
            uncounted_zero,
        ):
            raise AlreadyExists(f"stocktake {sid} exists with other settings", field="session_id")
        return view
    known = {n for (n,) in fast.execute(uow.conn, "SELECT name FROM categories")}
    for i, c in enumerate(cats):
        if c not in known:
            raise InvalidArgument(f"categories[{i}]", f"no category {c}")
    for other in listing(uow.conn, include_closed=True):
        if other.status in ACTIVE and _overlaps(other.categories, cats):
            raise FailedPrecondition(
                f"stocktake {other.name} ({other.session_id}) covers the same products; "
                "post it first",
                reason="STOCKTAKE_OVERLAPS",
            )
    scope = json.dumps({"categories": list(cats), "zones": list(zs)}, ensure_ascii=False)
    snapshot = stock_repo.last_seq(uow.conn)
    fast.insert_rows(
        uow.conn,
        _SESSIONS,
        [
            {
                "session_id": sid,
                "name": name,
                "status": "open",
                "scope": scope,
                "uncounted_zero": uncounted_zero,
                "recount_threshold_milli": threshold,
                "snapshot_seq": snapshot,
                "opened_by": uow.actor.operator_id,
                "opened_at": uow.now,
            }
        ],
    )
    detail = {"name": name, "scope": scope, "snapshot_seq": snapshot}
    uow.audit("stocktake.open", sid, detail=detail)
    uow.change("stocktake.open", sid, detail)
    return get(uow.conn, sid)


def close(uow: UnitOfWork, session_id: str) -> SessionView:
    """No more counts; closing again changes nothing."""
    view = get(uow.conn, session_id)
    if view.status == "open":
        uow.conn.execute(
            update(StocktakeSession)
            .where(StocktakeSession.session_id == view.session_id)
            .values(status="closed", closed_at=uow.now)
        )
        uow.audit("stocktake.close", view.session_id)
        uow.change("stocktake.close", view.session_id, {"status": "closed"})
    return get(uow.conn, view.session_id, with_counts=True)


def scope_products(conn: Connection, view: SessionView) -> dict[int, str] | None:
    """product id -> category of the products in scope; None for the whole store."""
    if not view.categories:
        return None
    rows = fast.execute(
        conn,
        "SELECT p.id, c.name FROM products p JOIN categories c ON c.id = p.category_id "
        "WHERE c.name IN (SELECT value FROM json_each(?))",
        (json.dumps(list(view.categories)),),
    )
    return dict(rows)
