"""Apply HQ's master data to the store database: a page of changes, or a
whole snapshot, each in ONE transaction together with the store's revision.

The writes go through the store's own code paths (catalog_repo, the price
scheduler's apply_due_in, promotions, currencies), so the store server picks
them up as it does storectl's changes: catalog and promotion revisions move,
due price changes apply and queue shelf labels. HQ wins on master data.

Nothing applied here goes to the store's change log: it came from HQ, and the
agent would otherwise ship HQ its own data back (HqUnitOfWork.change).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from store_server import promotions
from store_server.currencies import set_currency
from store_server.db import catalog_repo
from store_server.db.database import Database
from store_server.db.masterdata_models import HqMemberTier, MasterDataState
from store_server.db.models import Barcode, Operator, PriceChange, Product, StorePrice
from store_server.db.promotion_models import PromotionRow
from store_server.db.unit_of_work import Actor, UnitOfWork
from store_server.domain.catalog_import import ProductDraft
from store_server.domain.errors import DomainError
from store_server.domain.promotions.codec import from_dict, to_dict
from store_server.hq_apply.payloads import (
    SNAPSHOT_ORDER,
    Entity,
    PayloadError,
    draft_from_payload,
    resolve_skus,
)
from store_server.prices import apply_due_in

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
HQ_ACTOR = Actor.system("hq-link")


@dataclass(frozen=True, slots=True)
class IncomingChange:
    revision: int
    entity: str
    key: str
    store_id: str
    payload: dict[str, Any]
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Applied:
    revision: int
    changes: int  # changes applied (0: the page was applied before)


class ApplyError(Exception):
    """A page or snapshot the store cannot apply; nothing of it was written."""

    def __init__(self, change: IncomingChange | None, why: str) -> None:
        where = f"revision {change.revision} ({change.entity} {change.key})" if change else "page"
        self.message = f"{where}: {why}"
        super().__init__(self.message)


class HqUnitOfWork(UnitOfWork):
    """A unit of work for master data that came from HQ: audited at the
    store, but never written to the change log (HQ already has it)."""

    def change(self, kind: str, key: str, payload: dict[str, object]) -> None:
        return None


@contextmanager
def hq_unit_of_work(db: Database, now: datetime) -> Iterator[HqUnitOfWork]:
    with db.write() as conn:
        yield HqUnitOfWork(conn=conn, actor=HQ_ACTOR, now=now)


def current_revision(db: Database) -> int:
    """The HQ revision this store has applied (0: none yet)."""
    with db.read() as conn:
        value = conn.execute(
            select(MasterDataState.revision).where(MasterDataState.id == 1)
        ).scalar()
    return int(value or 0)


def _set_state(uow: UnitOfWork, revision: int, latest: int, *, snapshot: bool = False) -> None:
    values: dict[str, Any] = {
        "revision": revision,
        "applied_at": uow.now,
        "latest_revision": max(latest, revision),
    }
    if snapshot:
        values["snapshot_revision"] = revision
    done = uow.conn.execute(update(MasterDataState).where(MasterDataState.id == 1).values(**values))
    if not done.rowcount:
        uow.conn.execute(
            insert(MasterDataState).values(
                id=1,
                snapshot_revision=revision if snapshot else 0,
                **{k: v for k, v in values.items() if k != "snapshot_revision"},
            )
        )


@dataclass
class _Applier:
    """Applies changes in order inside one HqUnitOfWork."""

    uow: HqUnitOfWork
    store_id: str
    zone: str
    _products: dict[str, ProductDraft] = field(default_factory=dict)
    _price_changes: int = 0

    # Consecutive product changes are written together (one catalog revision,
    # as an import): a snapshot of 100,000 products is one upsert, not 100,000.
    def apply(self, change: IncomingChange) -> None:
        entity = change.entity
        if entity == Entity.PRODUCT:
            draft = draft_from_payload(change.payload)
            self._products.pop(draft.sku, None)  # the later state wins, in order
            self._products[draft.sku] = draft
            return
        self.flush()
        handler = _HANDLERS.get(entity)
        if handler is None:
            raise PayloadError(f"unknown entity {entity!r} (a newer HQ?)")
        handler(self, change)

    def flush(self) -> None:
        if not self._products:
            return
        drafts = list(self._products.values())
        self._products.clear()
        conn = self.uow.conn
        skus = {d.sku for d in drafts}
        codes = [c for d in drafts for c, _, _ in d.barcodes]
        plus = [d.plu for d in drafts if d.plu]
        # HQ wins: a barcode or PLU HQ gives to one product leaves whichever
        # store product held it.
        for part in _chunks(codes):
            held = conn.execute(
                select(Barcode.code, Product.sku)
                .join(Product, Product.id == Barcode.product_id)
                .where(Barcode.code.in_(part))
            ).all()
            taken = [code for code, sku in held if sku not in skus]
            if taken:
                conn.execute(delete(Barcode).where(Barcode.code.in_(taken)))
        for part in _chunks(plus):
            held = conn.execute(select(Product.id, Product.sku).where(Product.plu.in_(part))).all()
            taken = [pid for pid, sku in held if sku not in skus]
            if taken:
                conn.execute(update(Product).where(Product.id.in_(taken)).values(plu=None))
        catalog_repo.upsert_products(self.uow, drafts)

    def product_id(self, sku: str) -> int:
        pid = self.uow.conn.execute(select(Product.id).where(Product.sku == sku)).scalar()
        if pid is None:
            raise PayloadError(f"no product {sku} at the store")
        return int(pid)

    def store_price(self, change: IncomingChange) -> None:
        p = change.payload
        pid = self.product_id(str(p["sku"]))
        store = str(p.get("store_id") or self.store_id)
        if change.deleted:
            self.uow.conn.execute(
                delete(StorePrice).where(StorePrice.product_id == pid, StorePrice.store_id == store)
            )
            revision = self.uow.next_value(catalog_repo.CATALOG_REVISION)
            self.uow.conn.execute(
                update(Product)
                .where(Product.id == pid)
                .values(revision=revision, updated_at=self.uow.now)
            )
            return
        catalog_repo.set_price(
            self.uow,
            product_id=pid,
            store_id=store,
            retail_fen=_fen(p, "retail_price_fen"),
            member_fen=_fen(p, "member_price_fen", optional=True),
            now=self.uow.now,
        )

    def price_change(self, change: IncomingChange) -> None:
        p = change.payload
        change_id = str(p["change_id"])
        conn = self.uow.conn
        if conn.execute(
            select(PriceChange.change_id).where(PriceChange.change_id == change_id)
        ).first():
            return  # HQ's change ids are immutable: already here
        try:
            effective = datetime.fromisoformat(str(p["effective_at"]))
        except ValueError as exc:
            raise PayloadError(f"effective_at: {exc}") from exc
        if effective.tzinfo is None:
            raise PayloadError("effective_at has no time zone")
        conn.execute(
            insert(PriceChange).values(
                change_id=change_id,
                product_id=self.product_id(str(p["sku"])),
                store_id=p.get("store_id") or None,
                retail_price_fen=_fen(p, "retail_price_fen"),
                member_price_fen=_fen(p, "member_price_fen", optional=True),
                effective_at=effective,
                created_by="hq",
                created_at=self.uow.now,
            )
        )
        self._price_changes += 1

    def promotion(self, change: IncomingChange) -> None:
        p = change.payload
        status = str(p.get("status", "active"))
        try:
            hq_definition = json.loads(str(p["definition"]))
        except ValueError as exc:
            raise PayloadError(f"definition: {exc}") from exc
        promo_id = change.key
        row = self.uow.conn.execute(
            select(PromotionRow.status, PromotionRow.definition).where(
                PromotionRow.promo_id == promo_id
            )
        ).first()
        if status == "ended":
            if row is not None and row.status != "ended":
                promotions.end(self.uow, promo_id)
            return
        ids = self._ids_of(hq_definition)
        data = resolve_skus(hq_definition, ids)
        if row is None:
            promotions.create(self.uow, data, zone=self.zone)
            return
        promo = from_dict(data, zone=self.zone)
        definition = json.dumps(to_dict(promo), ensure_ascii=False, sort_keys=True)
        if row.status == "active" and row.definition == definition:
            return
        # HQ wins: its definition replaces the store's, and it runs again.
        self.uow.conn.execute(
            update(PromotionRow)
            .where(PromotionRow.promo_id == promo_id)
            .values(
                name=promo.name,
                definition=definition,
                group_name=promo.group,
                priority=promo.priority,
                members_only=promo.members_only,
                status="active",
                ended_at=None,
            )
        )
        self.uow.next_value(promotions.REVISION)
        self.uow.audit("promotion.replace", promo_id, detail={"name": promo.name, "by": "hq"})

    def _ids_of(self, definition: dict[str, Any]) -> dict[str, int]:
        from store_server.hq_apply.payloads import skus_of

        skus = sorted(skus_of(definition))
        if not skus:
            return {}
        return {
            r.sku: r.id
            for r in self.uow.conn.execute(
                select(Product.sku, Product.id).where(Product.sku.in_(skus))
            )
        }

    def tier(self, change: IncomingChange) -> None:
        p = change.payload
        values = {
            "name": str(p["name"]),
            "rank": int(p["rank"]),
            "discount_bp": int(p["discount_bp"]),
            "points_multiplier_bp": int(p["points_multiplier_bp"]),
            "min_spend_fen": int(p["min_spend_fen"]),
            "min_points": int(p["min_points"]),
            "revision": change.revision,
        }
        conn = self.uow.conn
        if change.deleted:
            conn.execute(delete(HqMemberTier).where(HqMemberTier.code == change.key))
        elif not conn.execute(
            update(HqMemberTier).where(HqMemberTier.code == change.key).values(**values)
        ).rowcount:
            conn.execute(insert(HqMemberTier).values(code=change.key, **values))

    def operator(self, change: IncomingChange) -> None:
        p = change.payload
        operator_id = str(p["operator_id"])
        conn = self.uow.conn
        old = conn.execute(
            select(Operator.pin_hash).where(Operator.operator_id == operator_id)
        ).first()
        values: dict[str, Any] = {
            "name": str(p["name"]),
            "role": str(p["role"]),
            "store_id": str(p.get("store_id") or self.store_id),
            "pin_hash": str(p["pin_hash"]),
            "active": bool(p.get("active", True)),
        }
        if old is None:
            conn.execute(
                insert(Operator).values(
                    operator_id=operator_id,
                    created_at=self.uow.now,
                    failed_pin_count=0,
                    **values,
                )
            )
        else:
            if old.pin_hash != values["pin_hash"]:  # a new PIN clears a lock-out
                values |= {"failed_pin_count": 0, "locked_until": None}
            conn.execute(
                update(Operator).where(Operator.operator_id == operator_id).values(**values)
            )
        # As storectl's upsert: the audit never carries the PIN or its hash.
        self.uow.audit(
            "operator.upsert",
            operator_id,
            detail={"role": values["role"], "created": old is None, "by": "hq"},
        )

    def currency(self, change: IncomingChange) -> None:
        p = change.payload
        set_currency(
            self.uow, str(p["code"]), str(p["name"]), str(p["rate"]), int(p["minor_units"])
        )

    def finish(self) -> None:
        self.flush()
        if self._price_changes:
            # Those already due apply now, with their shelf-label jobs.
            apply_due_in(self.uow)


_HANDLERS: dict[str, Callable[[_Applier, IncomingChange], None]] = {
    Entity.STORE_PRICE: _Applier.store_price,
    Entity.PRICE_CHANGE: _Applier.price_change,
    Entity.PROMOTION: _Applier.promotion,
    Entity.TIER: _Applier.tier,
    Entity.OPERATOR: _Applier.operator,
    Entity.CURRENCY: _Applier.currency,
}


def _fen(payload: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = payload.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PayloadError(f"{key}: {value!r} is not an amount in fen")
    return value


def _chunks(items: Sequence[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _run(applier: _Applier, changes: Sequence[IncomingChange], progress: Progress | None) -> None:
    for i, change in enumerate(changes, start=1):
        try:
            applier.apply(change)
        except (PayloadError, DomainError, KeyError, TypeError, ValueError) as exc:
            raise ApplyError(change, getattr(exc, "message", None) or repr(exc)) from exc
        if progress and (i % 5000 == 0 or i == len(changes)):
            progress(i, len(changes))
    try:
        applier.finish()
    except (PayloadError, DomainError, KeyError, TypeError, ValueError) as exc:
        raise ApplyError(None, getattr(exc, "message", None) or repr(exc)) from exc


def apply_page(
    db: Database,
    changes: Sequence[IncomingChange],
    *,
    reached: int,
    latest: int,
    store_id: str,
    zone: str,
    now: datetime,
) -> Applied:
    """Apply one pulled page and move the store to `reached`, all or nothing.

    Changes at or below the store's revision are skipped, so a page pulled
    twice changes nothing the second time.
    """
    with hq_unit_of_work(db, now) as uow:
        have = (
            uow.conn.execute(
                select(MasterDataState.revision).where(MasterDataState.id == 1)
            ).scalar()
            or 0
        )
        fresh = [c for c in changes if c.revision > have]
        if reached <= have:
            return Applied(revision=int(have), changes=0)
        _run(_Applier(uow, store_id, zone), fresh, None)
        _set_state(uow, reached, latest)
    return Applied(revision=reached, changes=len(fresh))


def apply_snapshot(
    db: Database,
    items: Sequence[IncomingChange],
    *,
    revision: int,
    store_id: str,
    zone: str,
    now: datetime,
    progress: Progress | None = None,
) -> Applied:
    """Replace the store's HQ master data with a snapshot at `revision`, in one
    transaction: what HQ no longer has is ended (products inactive, promotions
    ended, store prices and pending price changes removed). Local operators and
    currencies HQ does not name are kept."""
    order = {e.value: i for i, e in enumerate(SNAPSHOT_ORDER)}
    ordered = sorted(items, key=lambda c: order.get(c.entity, len(order)))
    with hq_unit_of_work(db, now) as uow:
        applier = _Applier(uow, store_id, zone)
        _run(applier, ordered, progress)
        _retire_missing(uow, ordered, store_id)
        _set_state(uow, revision, revision, snapshot=True)
    return Applied(revision=revision, changes=len(items))


def _retire_missing(uow: UnitOfWork, items: Sequence[IncomingChange], store_id: str) -> None:
    conn = uow.conn
    keys: dict[str, set[str]] = {}
    for item in items:
        keys.setdefault(item.entity, set()).add(item.key)
    skus = keys.get(Entity.PRODUCT, set())
    gone = [
        r.id
        for r in conn.execute(select(Product.id, Product.sku).where(Product.status == "active"))
        if r.sku not in skus
    ]
    if gone:
        revision = uow.next_value(catalog_repo.CATALOG_REVISION)
        for part in _chunks(gone):
            conn.execute(
                update(Product)
                .where(Product.id.in_(part))
                .values(status="inactive", revision=revision, updated_at=uow.now)
            )
    priced = {k.split(":", 1)[1] for k in keys.get(Entity.STORE_PRICE, set())}
    stale = [
        r.product_id
        for r in conn.execute(
            select(StorePrice.product_id, Product.sku)
            .join(Product, Product.id == StorePrice.product_id)
            .where(StorePrice.store_id == store_id)
        )
        if r.sku not in priced
    ]
    for part in _chunks(stale):
        conn.execute(
            delete(StorePrice).where(
                StorePrice.store_id == store_id, StorePrice.product_id.in_(part)
            )
        )
    if stale:
        revision = uow.next_value(catalog_repo.CATALOG_REVISION)
        for part in _chunks(stale):
            conn.execute(
                update(Product)
                .where(Product.id.in_(part))
                .values(revision=revision, updated_at=uow.now)
            )
    pending = keys.get(Entity.PRICE_CHANGE, set())
    for (change_id,) in conn.execute(
        select(PriceChange.change_id).where(PriceChange.applied_at.is_(None))
    ).all():
        if change_id not in pending:
            conn.execute(delete(PriceChange).where(PriceChange.change_id == change_id))
    running = keys.get(Entity.PROMOTION, set())
    for (promo_id,) in conn.execute(
        select(PromotionRow.promo_id).where(PromotionRow.status == "active")
    ).all():
        if promo_id not in running:
            promotions.end(uow, promo_id)
    conn.execute(delete(HqMemberTier).where(HqMemberTier.code.not_in(keys.get(Entity.TIER, set()))))
