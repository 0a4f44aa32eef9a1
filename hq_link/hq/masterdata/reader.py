"""What a store pulls: pages of the change history, or a snapshot of the
current state, each restricted to what concerns that store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select

from hq_link.hq.masterdata import revisions, tables
from hq_link.hq.masterdata.writer import product_row_payload
from store_server.hq_apply.payloads import Entity, page_end, snapshot_required


@dataclass(frozen=True, slots=True)
class Change:
    revision: int
    entity: str
    key: str
    store_id: str  # "" = every store
    payload: dict[str, Any]
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[Change]
    revision: int  # where the store stands after applying this page
    has_more: bool
    latest: int


class SnapshotRequired(Exception):
    def __init__(self, since: int, latest: int, floor: int) -> None:
        self.message = (
            f"revision {since} is outside HQ's change history "
            f"(kept from {max(floor, 1)} to {latest}): read a snapshot"
        )
        super().__init__(self.message)


def _for_store(column: Any, store_id: str) -> Any:
    return or_(column.is_(None), column == store_id)


def pull(conn: Connection, store_id: str, since: int, page_size: int, max_behind: int) -> Page:
    latest = revisions.latest(conn)
    floor = revisions.floor(conn)
    if snapshot_required(since, latest=latest, floor=floor, max_behind=max_behind):
        raise SnapshotRequired(since, latest, floor)
    c = tables.changes.c
    rows = conn.execute(
        select(c.revision, c.entity, c.key, c.store_id, c.payload, c.deleted)
        .where(c.revision > since, c.revision <= latest, _for_store(c.store_id, store_id))
        .order_by(c.revision)
        .limit(page_size)
    ).all()
    reached, more = page_end([r.revision for r in rows], page_size, latest, since)
    return Page(
        changes=[
            Change(r.revision, r.entity, r.key, r.store_id or "", r.payload, bool(r.deleted))
            for r in rows
        ],
        revision=reached,
        has_more=more,
        latest=latest,
    )


def snapshot(conn: Connection, store_id: str) -> tuple[int, list[Change]]:
    """(revision, every item) of a store's master data; call inside one
    repeatable-read transaction so all of it is at that revision."""
    revision = revisions.latest(conn)
    items: list[Change] = []
    p, b = tables.products.c, tables.barcodes.c
    codes: dict[str, list[tuple[str, int, int | None]]] = {}
    for r in conn.execute(
        select(b.sku, b.code, b.pack_factor, b.price_fen).order_by(b.sku, b.pack_factor, b.code)
    ):
        codes.setdefault(r.sku, []).append((r.code, r.pack_factor, r.price_fen))
    for r in conn.execute(select(tables.products).order_by(p.sku)):
        payload = product_row_payload(r._mapping, codes.get(r.sku, []))
        items.append(Change(r.revision, Entity.PRODUCT, r.sku, "", payload))
    sp = tables.store_prices.c
    for r in conn.execute(
        select(tables.store_prices)
        .where(sp.store_id == store_id, sp.deleted.is_(False))
        .order_by(sp.sku)
    ):
        payload = {
            "store_id": r.store_id,
            "sku": r.sku,
            "retail_price_fen": r.retail_price_fen,
            "member_price_fen": r.member_price_fen,
        }
        items.append(
            Change(r.revision, Entity.STORE_PRICE, f"{store_id}:{r.sku}", store_id, payload)
        )
    pc = tables.price_changes.c
    # Folded changes are in the product and store-price rows already.
    for r in conn.execute(
        select(tables.price_changes)
        .where(pc.folded_at.is_(None), _for_store(pc.store_id, store_id))
        .order_by(pc.effective_at, pc.revision)
    ):
        payload = {
            "change_id": r.change_id,
            "sku": r.sku,
            "store_id": r.store_id,
            "retail_price_fen": r.retail_price_fen,
            "member_price_fen": r.member_price_fen,
            "effective_at": r.effective_at.isoformat(),
        }
        items.append(
            Change(r.revision, Entity.PRICE_CHANGE, r.change_id, r.store_id or "", payload)
        )
    pr = tables.promotions.c
    for r in conn.execute(
        select(tables.promotions).where(pr.status == "active").order_by(pr.promo_id)
    ):
        stores = list(r.stores or [])
        if stores and store_id not in stores:
            continue
        payload = {"definition": r.definition, "status": r.status}
        items.append(
            Change(r.revision, Entity.PROMOTION, r.promo_id, store_id if stores else "", payload)
        )
    t = tables.tiers.c
    for r in conn.execute(select(tables.tiers).order_by(t.rank, t.code)):
        row = {k: v for k, v in r._mapping.items() if k != "revision"}
        items.append(Change(r.revision, Entity.TIER, r.code, "", row))
    o = tables.operators.c
    for r in conn.execute(
        select(tables.operators).where(_for_store(o.store_id, store_id)).order_by(o.operator_id)
    ):
        row = {k: v for k, v in r._mapping.items() if k != "revision"}
        items.append(Change(r.revision, Entity.OPERATOR, r.operator_id, r.store_id or "", row))
    cu = tables.currencies.c
    for r in conn.execute(select(tables.currencies).order_by(cu.code)):
        row = {k: v for k, v in r._mapping.items() if k != "revision"}
        items.append(Change(r.revision, Entity.CURRENCY, r.code, "", row))
    return revision, items


def read_snapshot(engine: Engine, store_id: str) -> tuple[int, list[Change]]:
    """The snapshot in one consistent read (REPEATABLE READ on PostgreSQL)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return snapshot(conn, store_id)


def pages(items: list[Change], page_size: int) -> Iterator[list[Change]]:
    for start in range(0, len(items), page_size):
        yield items[start : start + page_size]
    if not items:
        yield []


def history_size(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(tables.changes)).scalar_one())
