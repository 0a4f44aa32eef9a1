"""HQ's master-data writes: each one a transaction that changes the current
state and appends its revisions to the change history, together.

Inputs are checked with the store's own rules (catalog import, promotion codec,
PIN format, currency rate) before anything is written, so whatever HQ sends a
store is something the store accepts. Errors are the store's domain errors
(InvalidArgument naming the field, NotFound, AlreadyExists).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from hq_link.hq.masterdata import revisions, tables
from store_server.currencies import rate_micro
from store_server.domain.catalog_import import ProductDraft
from store_server.domain.errors import AlreadyExists, InvalidArgument, NotFound
from store_server.domain.permissions import Role
from store_server.domain.pins import check_pin_format, hash_pin
from store_server.domain.pinyin import initials
from store_server.domain.promotions.codec import from_dict, to_dict
from store_server.hq_apply.payloads import Entity, map_product_refs, product_payload, skus_of

Progress = Callable[[int, int], None]
_CHUNK = 1000


def _record(
    conn: Connection,
    revision: int,
    entity: Entity,
    key: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    store_id: str | None = None,
    deleted: bool = False,
) -> dict[str, Any]:
    return {
        "revision": revision,
        "entity": entity.value,
        "key": key,
        "store_id": store_id,
        "payload": payload,
        "deleted": deleted,
        "at": now,
    }


def _append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(tables.changes), rows)


def _one(
    conn: Connection,
    entity: Entity,
    key: str,
    payload: dict[str, Any],
    now: datetime,
    *,
    store_id: str | None = None,
    deleted: bool = False,
) -> int:
    (revision,) = revisions.take(conn)
    _append(
        conn,
        [_record(conn, revision, entity, key, payload, now, store_id=store_id, deleted=deleted)],
    )
    return revision


def _check_store(store_id: str | None, field: str = "store") -> None:
    if store_id is not None and not (1 <= len(store_id) <= 16 and store_id.isprintable()):
        raise InvalidArgument(field, "a store id of 1-16 characters")


def _check_fen(value: int | None, field: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**10:
        raise InvalidArgument(field, "a price in fen, more than 0")


class MasterData:
    """Master-data writes against HQ's database (PostgreSQL, or SQLite for a demo)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- products ---------------------------------------------------------

    def upsert_products(
        self, drafts: Sequence[ProductDraft], now: datetime, progress: Progress | None = None
    ) -> tuple[int, int]:
        """Insert or replace products by SKU (with their barcodes), one revision
        each, all in one transaction; returns (inserted, updated)."""
        if not drafts:
            return 0, 0
        skus = [d.sku for d in drafts]
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            self._fold_due(conn, now)
            p, b = tables.products.c, tables.barcodes.c
            existing: set[str] = set()
            owners: dict[str, str] = {}
            plus: dict[str, str] = {}
            codes = [code for d in drafts for code, _, _ in d.barcodes]
            for part in _chunks(skus):
                existing |= set(conn.execute(select(p.sku).where(p.sku.in_(part))).scalars())
            for part in _chunks(codes):
                owners |= dict(conn.execute(select(b.code, b.sku).where(b.code.in_(part))).all())
            plu_list = [d.plu for d in drafts if d.plu]
            for part in _chunks(plu_list):
                plus |= dict(conn.execute(select(p.plu, p.sku).where(p.plu.in_(part))).all())
            mine = set(skus)
            for d in drafts:
                for code, _, _ in d.barcodes:
                    if owners.get(code, d.sku) != d.sku and owners[code] not in mine:
                        raise AlreadyExists(
                            f"barcode {code} belongs to {owners[code]}", field="barcode"
                        )
                if d.plu and plus.get(d.plu, d.sku) != d.sku and plus[d.plu] not in mine:
                    raise AlreadyExists(f"PLU {d.plu} belongs to {plus[d.plu]}", field="plu")
            numbers = revisions.take(conn, len(drafts))
            # Every old row goes first: a PLU or barcode may move between two
            # products of the file, whatever chunks they fall in.
            for part_skus in _chunks(skus):
                conn.execute(delete(tables.barcodes).where(b.sku.in_(part_skus)))
                conn.execute(delete(tables.products).where(p.sku.in_(part_skus)))
            done = 0
            for start in range(0, len(drafts), _CHUNK):
                part = list(drafts[start : start + _CHUNK])
                rows, codes_rows, changes = [], [], []
                for d, revision in zip(part, numbers[start : start + _CHUNK], strict=True):
                    payload = product_payload(d)
                    payload["pinyin"] = d.pinyin or initials(d.name)
                    row = {k: v for k, v in payload.items() if k != "barcodes"}
                    rows.append({**row, "revision": revision})
                    codes_rows += [
                        {"code": c, "sku": d.sku, "pack_factor": f, "price_fen": pr}
                        for c, f, pr in d.barcodes
                    ]
                    changes.append(_record(conn, revision, Entity.PRODUCT, d.sku, payload, now))
                conn.execute(insert(tables.products), rows)
                if codes_rows:
                    conn.execute(insert(tables.barcodes), codes_rows)
                _append(conn, changes)
                done += len(part)
                if progress:
                    progress(done, len(drafts))
        inserted = sum(1 for s in skus if s not in existing)
        return inserted, len(skus) - inserted

    # -- prices -----------------------------------------------------------

    def set_price(
        self,
        *,
        sku: str,
        retail_fen: int,
        member_fen: int | None,
        store_id: str | None,
        effective_at: datetime | None,
        now: datetime,
        change_id: str | None = None,
    ) -> tuple[str, int]:
        """Schedule a price (now when effective_at is None) for every store or
        one; returns (change id, revision). A replayed change id changes nothing.

        The change goes to the stores as a scheduled price change, which each
        store applies at its time and prints a shelf label for.
        """
        _check_fen(retail_fen, "price_fen")
        _check_fen(member_fen, "member_fen", optional=True)
        if member_fen is not None and member_fen > retail_fen:
            raise InvalidArgument("member_fen", "is above the retail price")
        _check_store(store_id)
        change_id = change_id or str(uuid.uuid4())
        effective = effective_at or now
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            pc = tables.price_changes.c
            known = conn.execute(select(pc.revision).where(pc.change_id == change_id)).scalar()
            if known is not None:
                return change_id, int(known)
            if (
                conn.execute(
                    select(tables.products.c.sku).where(tables.products.c.sku == sku)
                ).first()
                is None
            ):
                raise NotFound(f"no product {sku}", reason="UNKNOWN_PRODUCT", field="product")
            payload = {
                "change_id": change_id,
                "sku": sku,
                "store_id": store_id,
                "retail_price_fen": retail_fen,
                "member_price_fen": member_fen,
                "effective_at": effective.isoformat(),
            }
            revision = _one(conn, Entity.PRICE_CHANGE, change_id, payload, now, store_id=store_id)
            conn.execute(
                insert(tables.price_changes).values(
                    change_id=change_id,
                    sku=sku,
                    store_id=store_id,
                    retail_price_fen=retail_fen,
                    member_price_fen=member_fen,
                    effective_at=effective,
                    revision=revision,
                )
            )
            self._fold_due(conn, now)
        return change_id, revision

    def fold_due(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            return self._fold_due(conn, now)

    def _fold_due(self, conn: Connection, now: datetime) -> int:
        """Move due price changes into HQ's product and store-price rows, so a
        later product change or snapshot carries the price in effect."""
        pc = tables.price_changes.c
        due = conn.execute(
            select(tables.price_changes)
            .where(pc.folded_at.is_(None), pc.effective_at <= now)
            .order_by(pc.effective_at, pc.revision)
        ).all()
        for ch in due:
            if ch.store_id is None:
                p = tables.products.c
                revision = revisions.take(conn)[0]
                conn.execute(
                    update(tables.products)
                    .where(p.sku == ch.sku)
                    .values(
                        retail_price_fen=ch.retail_price_fen,
                        member_price_fen=ch.member_price_fen,
                        revision=revision,
                    )
                )
                self._product_change(conn, ch.sku, revision, now)
            else:
                self._put_store_price(
                    conn, ch.store_id, ch.sku, ch.retail_price_fen, ch.member_price_fen, now
                )
            conn.execute(
                update(tables.price_changes)
                .where(pc.change_id == ch.change_id)
                .values(folded_at=now)
            )
        return len(due)

    def _product_change(self, conn: Connection, sku: str, revision: int, now: datetime) -> None:
        row = conn.execute(select(tables.products).where(tables.products.c.sku == sku)).one()
        codes = conn.execute(
            select(
                tables.barcodes.c.code, tables.barcodes.c.pack_factor, tables.barcodes.c.price_fen
            )
            .where(tables.barcodes.c.sku == sku)
            .order_by(tables.barcodes.c.pack_factor, tables.barcodes.c.code)
        ).all()
        payload = product_row_payload(row._mapping, [tuple(c) for c in codes])
        _append(conn, [_record(conn, revision, Entity.PRODUCT, sku, payload, now)])

    def _put_store_price(
        self,
        conn: Connection,
        store_id: str,
        sku: str,
        retail: int,
        member: int | None,
        now: datetime,
        *,
        deleted: bool = False,
    ) -> int:
        payload = {
            "store_id": store_id,
            "sku": sku,
            "retail_price_fen": retail,
            "member_price_fen": member,
        }
        revision = _one(
            conn,
            Entity.STORE_PRICE,
            f"{store_id}:{sku}",
            payload,
            now,
            store_id=store_id,
            deleted=deleted,
        )
        sp = tables.store_prices.c
        values = {
            "retail_price_fen": retail,
            "member_price_fen": member,
            "deleted": deleted,
            "revision": revision,
        }
        done = conn.execute(
            update(tables.store_prices)
            .where(sp.store_id == store_id, sp.sku == sku)
            .values(**values)
        )
        if not done.rowcount:
            conn.execute(insert(tables.store_prices).values(store_id=store_id, sku=sku, **values))
        return revision

    def remove_store_price(self, store_id: str, sku: str, now: datetime) -> int | None:
        """The store goes back to HQ's price; None when it had no price of its own."""
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            sp = tables.store_prices.c
            row = conn.execute(
                select(tables.store_prices).where(
                    sp.store_id == store_id, sp.sku == sku, sp.deleted.is_(False)
                )
            ).first()
            if row is None:
                return None
            return self._put_store_price(
                conn, store_id, sku, row.retail_price_fen, row.member_price_fen, now, deleted=True
            )

    # -- promotions -------------------------------------------------------

    def create_promotion(self, data: dict[str, Any], now: datetime) -> tuple[str, bool]:
        """Add a promotion (the storectl JSON; products may be named by SKU);
        returns (promo id, created). The same definition again changes nothing."""
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            definition = self._checked_definition(conn, data)
            promo_id = definition["promo_id"]
            text = json.dumps(definition, ensure_ascii=False, sort_keys=True)
            pr = tables.promotions.c
            old = conn.execute(select(tables.promotions).where(pr.promo_id == promo_id)).first()
            if old is not None:
                if old.definition == text and old.status == "active":
                    return promo_id, False
                raise AlreadyExists(
                    f"promotion {promo_id} exists with another definition", field="promo_id"
                )
            stores = sorted(definition.get("stores") or [])
            revision = self._promotion_changes(conn, promo_id, text, stores, [], "active", now)
            conn.execute(
                insert(tables.promotions).values(
                    promo_id=promo_id,
                    definition=text,
                    stores=stores,
                    status="active",
                    revision=revision,
                )
            )
        return promo_id, True

    def end_promotion(self, promo_id: str, now: datetime) -> bool:
        """End a promotion at every store it runs in; False when it had ended."""
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            pr = tables.promotions.c
            old = conn.execute(select(tables.promotions).where(pr.promo_id == promo_id)).first()
            if old is None:
                raise NotFound(f"no promotion {promo_id}", reason="UNKNOWN_PROMOTION")
            if old.status == "ended":
                return False
            stores = list(old.stores or [])
            revision = self._promotion_changes(
                conn, promo_id, old.definition, stores, stores, "ended", now
            )
            conn.execute(
                update(tables.promotions)
                .where(pr.promo_id == promo_id)
                .values(status="ended", revision=revision)
            )
        return True

    def _checked_definition(self, conn: Connection, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise InvalidArgument("definition", "a JSON object")
        numbered: list[object] = []
        map_product_refs(data, lambda r: numbered.append(r) if not isinstance(r, str) else r)
        if numbered:
            # A store's product ids mean nothing at HQ or in another store.
            raise InvalidArgument("scope.product_ids", "name products by SKU (text) at HQ")
        skus = sorted(skus_of(data))
        p = tables.products.c
        known = set()
        for part in _chunks(skus):
            known |= set(conn.execute(select(p.sku).where(p.sku.in_(part))).scalars())
        missing = [s for s in skus if s not in known]
        if missing:
            raise InvalidArgument("scope.product_ids", f"no product {', '.join(missing[:5])}")
        # Check the definition as a store will read it, with stand-in product ids.
        ids = {sku: i for i, sku in enumerate(skus, start=1)}
        promo = from_dict(map_product_refs(data, lambda r: ids.get(r, r)))
        canonical = to_dict(promo)
        back = {i: sku for sku, i in ids.items()}
        return map_product_refs(canonical, lambda r: back.get(r, r))

    def _promotion_changes(
        self,
        conn: Connection,
        promo_id: str,
        definition: str,
        stores: list[str],
        old_stores: list[str],
        status: str,
        now: datetime,
    ) -> int:
        """One change per store it concerns (or one for every store)."""
        payload = {"definition": definition, "status": status}
        targets: Iterable[str | None] = sorted(set(stores) | set(old_stores)) or [None]
        revision = 0
        for store in targets:
            revision = _one(conn, Entity.PROMOTION, promo_id, payload, now, store_id=store)
        return revision

    # -- tiers, operators, currencies -------------------------------------

    def set_tier(
        self,
        *,
        code: str,
        name: str,
        rank: int,
        discount_bp: int,
        points_multiplier_bp: int,
        min_spend_fen: int,
        min_points: int,
        now: datetime,
    ) -> int:
        if not code or len(code) > 16 or not code.isascii():
            raise InvalidArgument("code", "1-16 ASCII characters")
        if not name or len(name) > 20:
            raise InvalidArgument("name", "1-20 characters")
        if not 0 <= discount_bp <= 10_000:
            raise InvalidArgument("discount_bp", "0 to 10,000 (basis points)")
        if not 0 <= points_multiplier_bp <= 100_000:
            raise InvalidArgument("points_multiplier_bp", "0 to 100,000 (10,000 = 1x)")
        if rank < 0 or min_spend_fen < 0 or min_points < 0:
            raise InvalidArgument("rank", "rank and thresholds are 0 or more")
        row = {
            "code": code,
            "name": name,
            "rank": rank,
            "discount_bp": discount_bp,
            "points_multiplier_bp": points_multiplier_bp,
            "min_spend_fen": min_spend_fen,
            "min_points": min_points,
        }
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            revision = _one(conn, Entity.TIER, code, row, now)
            self._replace(
                conn, tables.tiers, tables.tiers.c.code == code, {**row, "revision": revision}
            )
        return revision

    def upsert_operator(
        self,
        *,
        operator_id: str,
        name: str,
        role: str,
        pin: str,
        store_id: str | None,
        active: bool,
        now: datetime,
    ) -> int:
        """The PIN is hashed here; stores receive the hash (never the PIN)."""
        if not (operator_id.isascii() and operator_id.isdigit()) or not 1 <= len(operator_id) <= 16:
            raise InvalidArgument("operator_id", "1-16 digits")
        if not name or len(name) > 40:
            raise InvalidArgument("name", "1-40 characters")
        try:
            Role(role)
        except ValueError as exc:
            raise InvalidArgument("role", f"one of {', '.join(r.value for r in Role)}") from exc
        check_pin_format(pin)
        _check_store(store_id)
        row = {
            "operator_id": operator_id,
            "name": name,
            "role": role,
            "store_id": store_id,
            "pin_hash": hash_pin(pin),
            "active": active,
        }
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            revision = _one(conn, Entity.OPERATOR, operator_id, row, now, store_id=store_id)
            self._replace(
                conn,
                tables.operators,
                tables.operators.c.operator_id == operator_id,
                {**row, "revision": revision},
            )
        return revision

    def set_currency(
        self, *, code: str, name: str, rate: str, minor_units: int, now: datetime
    ) -> int:
        code = code.strip().upper()
        if not (len(code) == 3 and code.isascii() and code.isalpha()) or code == "CNY":
            raise InvalidArgument("code", "a three-letter ISO code other than CNY")
        rate_micro(rate, minor_units)  # the store's own check: a rate every store accepts
        row = {"code": code, "name": name or code, "rate": rate.strip(), "minor_units": minor_units}
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            revision = _one(conn, Entity.CURRENCY, code, row, now)
            self._replace(
                conn,
                tables.currencies,
                tables.currencies.c.code == code,
                {**row, "revision": revision},
            )
        return revision

    @staticmethod
    def _replace(conn: Connection, table: Any, where: Any, row: dict[str, Any]) -> None:
        if not conn.execute(update(table).where(where).values(**row)).rowcount:
            conn.execute(insert(table).values(**row))

    # -- history ----------------------------------------------------------

    def prune_history(self, keep: int) -> int:
        """Drop history older than the newest `keep` revisions; stores behind
        it get a snapshot. Returns the new floor."""
        with self.engine.begin() as conn:
            revisions.lock_for_writing(conn)
            newest = revisions.latest(conn)
            floor = max(newest - keep + 1, 1)
            conn.execute(delete(tables.changes).where(tables.changes.c.revision < floor))
            self._replace(
                conn,
                tables.meta,
                tables.meta.c.key == "history_floor",
                {"key": "history_floor", "value": floor},
            )
        return floor


def product_row_payload(row: Any, codes: Sequence[tuple[str, int, int | None]]) -> dict[str, Any]:
    """A product change's payload from an hq_md_products row and its barcodes."""
    return {
        "sku": row["sku"],
        "name": row["name"],
        "pinyin": row["pinyin"],
        "category": row["category"],
        "unit": row["unit"],
        "weighed": bool(row["weighed"]),
        "plu": row["plu"],
        "tax_rate_bp": row["tax_rate_bp"],
        "retail_price_fen": row["retail_price_fen"],
        "member_price_fen": row["member_price_fen"],
        "cost_fen": row["cost_fen"],
        "status": row["status"],
        "barcodes": [list(c) for c in codes],
    }


def _chunks(items: Sequence[Any], size: int = 500) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
