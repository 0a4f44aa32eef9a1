"""Catalog queries (Core statements: these are the till's hot paths) and writes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from sqlalchemy import (
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)

from store_server.db.models import Barcode, Category, Counter, LabelJob, Product, StorePrice
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.catalog import BarcodeInfo, ProductInfo
from store_server.domain.catalog_import import ProductDraft
from store_server.domain.pinyin import initials

CATALOG_REVISION = "catalog_revision"


# Statements are built once: building a SQLAlchemy expression costs more than
# running it, and these are the till's hot paths (every scan is a lookup).
_PRODUCTS: Select = (
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
        # A store price beats HQ's.
        func.coalesce(StorePrice.retail_price_fen, Product.retail_price_fen).label("retail"),
        func.coalesce(StorePrice.member_price_fen, Product.member_price_fen).label("member"),
        Product.status,
        Product.revision,
    )
    .join(Category, Category.id == Product.category_id)
    .outerjoin(
        StorePrice,
        and_(StorePrice.product_id == Product.id, StorePrice.store_id == bindparam("store_id")),
    )
)
_BY_ID = _PRODUCTS.where(Product.id == bindparam("product_id"))
_BY_SKU = _PRODUCTS.where(Product.sku == bindparam("sku"))
_BY_PLU = _PRODUCTS.where(Product.plu == bindparam("plu"))
_BY_BARCODE = (
    _PRODUCTS.add_columns(Barcode.code.label("bc_code"), Barcode.pack_factor, Barcode.price_fen)
    .join(Barcode, Barcode.product_id == Product.id)
    .where(Barcode.code == bindparam("code"))
)
_BARCODES_OF = (
    select(Barcode.product_id, Barcode.code, Barcode.pack_factor, Barcode.price_fen)
    .where(Barcode.product_id.in_(bindparam("ids", expanding=True)))
    .order_by(Barcode.product_id, Barcode.pack_factor, Barcode.code)
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
    if product_ids:
        for r in conn.execute(_BARCODES_OF, {"ids": list(product_ids)}):
            out[r.product_id].append(BarcodeInfo(r.code, r.pack_factor, r.price_fen))
    return out


def _with_barcodes(conn: Connection, rows: Sequence[Row]) -> list[ProductInfo]:
    codes = _barcodes_of(conn, [r.id for r in rows])
    return [_to_info(r, codes[r.id]) for r in rows]


def _one(conn: Connection, stmt: Select, params: dict[str, object]) -> ProductInfo | None:
    row = conn.execute(stmt, params).first()
    return _with_barcodes(conn, [row])[0] if row else None


def get_product(
    conn: Connection, store_id: str, *, product_id: int | None = None, sku: str | None = None
) -> ProductInfo | None:
    if product_id:
        return _one(conn, _BY_ID, {"store_id": store_id, "product_id": product_id})
    return _one(conn, _BY_SKU, {"store_id": store_id, "sku": sku})


def find_by_barcode(
    conn: Connection, store_id: str, code: str
) -> tuple[ProductInfo, BarcodeInfo] | None:
    row = conn.execute(_BY_BARCODE, {"store_id": store_id, "code": code}).first()
    if row is None:
        return None
    product = _with_barcodes(conn, [row])[0]
    return product, BarcodeInfo(row.bc_code, row.pack_factor, row.price_fen)


def scan_barcode(
    conn: Connection, store_id: str, code: str
) -> tuple[ProductInfo, BarcodeInfo] | None:
    """find_by_barcode for the scan path: without the product's other barcodes,
    by one plain DB-API query (see db.fast; this runs on every scan)."""
    rows = conn.connection.driver_connection.execute(_SCAN, (store_id, code)).fetchall()
    if not rows:
        return None
    pack, price, *p = rows[0]
    product = ProductInfo(
        id=p[0],
        sku=p[1],
        name=p[2],
        pinyin=p[3],
        category=p[4],
        unit=p[5],
        weighed=bool(p[6]),
        plu=p[7],
        tax_rate_bp=p[8],
        retail_price_fen=p[9],
        member_price_fen=p[10],
        status=p[11],
        revision=p[12],
    )
    return product, BarcodeInfo(code, pack, price)


_BY_IDS = _PRODUCTS.where(Product.id.in_(bindparam("ids", expanding=True)))
_INDEX_ROWS = "SELECT id, name, pinyin, status = 'active' FROM products WHERE revision > ?"


def products_by_ids(conn: Connection, store_id: str, ids: Sequence[int]) -> list[ProductInfo]:
    """The products of `ids`, in that order."""
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(_BY_IDS, {"store_id": store_id, "ids": list(ids)})}
    return _with_barcodes(conn, [rows[i] for i in ids if i in rows])


def index_rows(conn: Connection, since_revision: int) -> list[tuple]:
    """(id, name, pinyin, active) of the products changed since a revision."""
    return conn.connection.driver_connection.execute(_INDEX_ROWS, (since_revision,)).fetchall()


def find_by_plu(conn: Connection, store_id: str, plu: str) -> ProductInfo | None:
    return _one(conn, _BY_PLU, {"store_id": store_id, "plu": plu})


def catalog_revision(conn: Connection) -> int:
    value = conn.execute(select(Counter.value).where(Counter.name == CATALOG_REVISION)).scalar()
    return int(value or 0)


# The stream's two cursors walk products and barcodes in the same
# (revision, id) order and are merged, so the whole catalog goes out with two
# queries and flat memory. Raw SQL and plain tuples: at 100,000 products the
# per-row cost of Row objects and dataclasses is most of the time.
_PRODUCT_SQL = """
SELECT p.id, p.sku, p.name, p.pinyin, c.name, p.unit, p.weighed, p.plu, p.tax_rate_bp,
       coalesce(sp.retail_price_fen, p.retail_price_fen),
       coalesce(sp.member_price_fen, p.member_price_fen), p.status, p.revision
FROM products p
JOIN categories c ON c.id = p.category_id
LEFT JOIN store_prices sp ON sp.product_id = p.id AND sp.store_id = ?
"""
_STREAM_PRODUCTS = _PRODUCT_SQL + "WHERE p.revision > ? ORDER BY p.revision, p.id"
# A scan into a basket: the product and the scanned barcode, one plain query.
_SCAN = (
    _PRODUCT_SQL.replace("SELECT ", "SELECT b.pack_factor, b.price_fen, ", 1)
    + "JOIN barcodes b ON b.product_id = p.id WHERE b.code = ?"
)
_STREAM_BARCODES = """
SELECT b.product_id, b.code, b.pack_factor, b.price_fen
FROM products p JOIN barcodes b ON b.product_id = p.id
WHERE p.revision > ?
ORDER BY p.revision, p.id, b.pack_factor, b.code
"""

ProductTuple = tuple  # the columns of _STREAM_PRODUCTS, in order
BarcodeTuple = tuple  # (code, pack_factor, price_fen)


def iter_changed(
    conn: Connection, store_id: str, since_revision: int, chunk_size: int
) -> Iterator[list[tuple[ProductTuple, list[BarcodeTuple]]]]:
    """Products with revision > since, in (revision, id) order, chunk by chunk."""
    # The DB-API connection under `conn`, inside the same read transaction.
    raw = conn.connection.driver_connection
    products = raw.execute(_STREAM_PRODUCTS, (store_id, since_revision))
    barcodes = raw.execute(_STREAM_BARCODES, (since_revision,))
    pending = barcodes.fetchone()
    while True:
        rows = products.fetchmany(chunk_size)
        if not rows:
            return
        chunk = []
        for row in rows:
            codes = []
            while pending is not None and pending[0] == row[0]:
                codes.append((pending[1], pending[2], pending[3]))
                pending = barcodes.fetchone()
            chunk.append((row, codes))
        yield chunk


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


def pending_label_jobs(conn: Connection, *, offset: int, limit: int) -> tuple[list[Row], int]:
    """Unprinted label jobs, oldest first: (id, product_id, reason, created_at)."""
    pending = LabelJob.printed_at.is_(None)
    total = conn.execute(select(func.count()).select_from(LabelJob).where(pending)).scalar_one()
    rows = conn.execute(
        select(LabelJob.id, LabelJob.product_id, LabelJob.reason, LabelJob.created_at)
        .where(pending)
        .order_by(LabelJob.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return rows, total


def complete_label_jobs(conn: Connection, job_ids: Sequence[int], at: datetime) -> int:
    """Mark jobs printed; returns how many were not printed before."""
    done = conn.execute(
        update(LabelJob)
        .where(LabelJob.id.in_(list(job_ids)), LabelJob.printed_at.is_(None))
        .values(printed_at=at)
    )
    return done.rowcount
