"""Catalog queries (Core statements: these are the till's hot paths) and writes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, Select, and_, func, insert, or_, select, tuple_, update

from store_server.db.models import Barcode, Category, Counter, Product, StorePrice
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.catalog import BarcodeInfo, ProductInfo
from store_server.domain.catalog_import import ProductDraft
from store_server.domain.pinyin import initials

CATALOG_REVISION = "catalog_revision"


def _product_select(store_id: str) -> Select:
    """Products with this store's price resolved (a store price beats HQ's)."""
    return (
        select(
            Product.id,
            Product.sku,
            Product.name,
            Product.pinyin,
            Category.name.label("category"),
            Product.unit,
            Product.weighed,
            Product.plu,
            Product.tax_rate_bp,
            func.coalesce(StorePrice.retail_price_fen, Product.retail_price_fen).label("retail"),
            func.coalesce(StorePrice.member_price_fen, Product.member_price_fen).label("member"),
            Product.status,
            Product.revision,
        )
        .join(Category, Category.id == Product.category_id)
        .outerjoin(
            StorePrice,
            and_(StorePrice.product_id == Product.id, StorePrice.store_id == store_id),
        )
    )


def _to_info(row: Row, barcodes: Sequence[BarcodeInfo]) -> ProductInfo:
    return ProductInfo(
        id=row.id,
        sku=row.sku,
        name=row.name,
        pinyin=row.pinyin,
        category=row.category,
        unit=row.unit,
        weighed=bool(row.weighed),
        plu=row.plu,
        tax_rate_bp=row.tax_rate_bp,
        retail_price_fen=row.retail,
        member_price_fen=row.member,
        status=row.status,
        revision=row.revision,
        barcodes=tuple(barcodes),
    )


def _barcodes_of(conn: Connection, product_ids: Sequence[int]) -> dict[int, list[BarcodeInfo]]:
    out: dict[int, list[BarcodeInfo]] = {pid: [] for pid in product_ids}
    if not product_ids:
        return out
    rows = conn.execute(
        select(Barcode.product_id, Barcode.code, Barcode.pack_factor, Barcode.price_fen)
        .where(Barcode.product_id.in_(product_ids))
        .order_by(Barcode.product_id, Barcode.pack_factor, Barcode.code)
    )
    for r in rows:
        out[r.product_id].append(BarcodeInfo(r.code, r.pack_factor, r.price_fen))
    return out


def _with_barcodes(conn: Connection, rows: Sequence[Row]) -> list[ProductInfo]:
    codes = _barcodes_of(conn, [r.id for r in rows])
    return [_to_info(r, codes[r.id]) for r in rows]


def get_product(
    conn: Connection, store_id: str, *, product_id: int | None = None, sku: str | None = None
) -> ProductInfo | None:
    stmt = _product_select(store_id)
    stmt = stmt.where(Product.id == product_id) if product_id else stmt.where(Product.sku == sku)
    row = conn.execute(stmt).first()
    return _with_barcodes(conn, [row])[0] if row else None


def find_by_barcode(
    conn: Connection, store_id: str, code: str
) -> tuple[ProductInfo, BarcodeInfo] | None:
    row = conn.execute(
        _product_select(store_id)
        .add_columns(Barcode.code.label("bc_code"), Barcode.pack_factor, Barcode.price_fen)
        .join(Barcode, Barcode.product_id == Product.id)
        .where(Barcode.code == code)
    ).first()
    if row is None:
        return None
    product = _with_barcodes(conn, [row])[0]
    return product, BarcodeInfo(row.bc_code, row.pack_factor, row.price_fen)


def find_by_plu(conn: Connection, store_id: str, plu: str) -> ProductInfo | None:
    row = conn.execute(_product_select(store_id).where(Product.plu == plu)).first()
    return _with_barcodes(conn, [row])[0] if row else None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    conn: Connection, store_id: str, query: str, *, offset: int, limit: int, include_inactive: bool
) -> tuple[list[ProductInfo], int]:
    """Name substring or pinyin initials; initials that start the name rank first."""
    pattern = f"%{_like_escape(query)}%"
    condition = or_(
        Product.name.like(pattern, escape="\\"),
        Product.pinyin.like(f"%{_like_escape(query.upper())}%", escape="\\"),
        Product.sku == query,
    )
    if not include_inactive:
        condition = and_(condition, Product.status == "active")
    total = conn.execute(select(func.count()).select_from(Product).where(condition)).scalar_one()
    starts = Product.pinyin.like(f"{_like_escape(query.upper())}%", escape="\\")
    rows = conn.execute(
        _product_select(store_id)
        .where(condition)
        .order_by(starts.desc(), Product.name, Product.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return _with_barcodes(conn, rows), total


def catalog_revision(conn: Connection) -> int:
    value = conn.execute(select(Counter.value).where(Counter.name == CATALOG_REVISION)).scalar()
    return int(value or 0)


def iter_changed(
    conn: Connection, store_id: str, since_revision: int, chunk_size: int
) -> Iterator[list[ProductInfo]]:
    """Products with revision > since, in (revision, id) order, chunk by chunk.

    Keyset paging keeps memory flat for a 100,000-SKU catalog.
    """
    # (since, +inf): nothing of revision `since` itself is sent again.
    key = (since_revision, 2**62)
    while True:
        rows = conn.execute(
            _product_select(store_id)
            .where(tuple_(Product.revision, Product.id) > tuple_(*key))
            .order_by(Product.revision, Product.id)
            .limit(chunk_size)
        ).all()
        if not rows:
            return
        yield _with_barcodes(conn, rows)
        key = (rows[-1].revision, rows[-1].id)


def count_changed(conn: Connection, since_revision: int) -> int:
    return conn.execute(
        select(func.count()).select_from(Product).where(Product.revision > since_revision)
    ).scalar_one()


def existing_codes(conn: Connection, codes: Sequence[str]) -> dict[str, str]:
    """barcode -> SKU of the product that has it, for the codes that exist."""
    out: dict[str, str] = {}
    for start in range(0, len(codes), 500):
        part = codes[start : start + 500]
        for r in conn.execute(
            select(Barcode.code, Product.sku)
            .join(Product, Product.id == Barcode.product_id)
            .where(Barcode.code.in_(part))
        ):
            out[r.code] = r.sku
    return out


def existing_plus(conn: Connection) -> dict[str, str]:
    return {
        r.plu: r.sku
        for r in conn.execute(select(Product.plu, Product.sku).where(Product.plu.is_not(None)))
    }


def upsert_products(uow: UnitOfWork, drafts: Sequence[ProductDraft]) -> tuple[int, int]:
    """Insert or update by SKU in the caller's transaction; returns (inserted, updated).

    One import is one catalog revision: tills that sync see it whole or not at all.
    """
    conn = uow.conn
    revision = uow.next_value(CATALOG_REVISION)
    categories = {r.name: r.id for r in conn.execute(select(Category.id, Category.name))}
    for name in sorted({d.category for d in drafts} - categories.keys()):
        categories[name] = conn.execute(insert(Category).values(name=name)).inserted_primary_key[0]
    ids = {r.sku: r.id for r in conn.execute(select(Product.id, Product.sku))}
    inserted = updated = 0
    new_rows, changed_rows = [], []
    for d in drafts:
        values = {
            "sku": d.sku,
            "name": d.name,
            "pinyin": d.pinyin or initials(d.name),
            "category_id": categories[d.category],
            "unit": d.unit,
            "weighed": d.weighed,
            "plu": d.plu,
            "tax_rate_bp": d.tax_rate_bp,
            "retail_price_fen": d.retail_price_fen,
            "member_price_fen": d.member_price_fen,
            "cost_fen": d.cost_fen,
            "status": d.status,
            "revision": revision,
            "updated_at": uow.now,
        }
        (changed_rows if d.sku in ids else new_rows).append(values)
    if new_rows:
        conn.execute(insert(Product), new_rows)
        inserted = len(new_rows)
    for values in changed_rows:
        conn.execute(update(Product).where(Product.sku == values["sku"]).values(**values))
        updated += 1
    ids = {r.sku: r.id for r in conn.execute(select(Product.id, Product.sku))}
    touched = [ids[d.sku] for d in drafts]
    for start in range(0, len(touched), 500):
        conn.execute(
            Barcode.__table__.delete().where(Barcode.product_id.in_(touched[start : start + 500]))
        )
    barcode_rows = [
        {"code": code, "product_id": ids[d.sku], "pack_factor": pack, "price_fen": price}
        for d in drafts
        for code, pack, price in d.barcodes
    ]
    if barcode_rows:
        conn.execute(insert(Barcode), barcode_rows)
    uow.change(
        "catalog.import",
        f"revision:{revision}",
        {
            "revision": revision,
            "inserted": inserted,
            "updated": updated,
            "skus": [d.sku for d in drafts][:1000],
        },
    )
    return inserted, updated


def set_price(
    uow: UnitOfWork,
    *,
    product_id: int,
    store_id: str | None,
    retail_fen: int,
    member_fen: int | None,
    now: datetime,
) -> int:
    """Apply a price now (HQ price when store_id is None); returns the new revision."""
    revision = uow.next_value(CATALOG_REVISION)
    conn = uow.conn
    if store_id is None:
        conn.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(
                retail_price_fen=retail_fen,
                member_price_fen=member_fen,
                revision=revision,
                updated_at=now,
            )
        )
    else:
        exists = conn.execute(
            select(StorePrice.product_id).where(
                StorePrice.product_id == product_id, StorePrice.store_id == store_id
            )
        ).first()
        values = {"retail_price_fen": retail_fen, "member_price_fen": member_fen}
        if exists:
            conn.execute(
                update(StorePrice)
                .where(StorePrice.product_id == product_id, StorePrice.store_id == store_id)
                .values(**values)
            )
        else:
            conn.execute(
                insert(StorePrice).values(product_id=product_id, store_id=store_id, **values)
            )
        conn.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(revision=revision, updated_at=now)
        )
    return revision
