"""Reading and writing baskets (Core statements, built once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update

from store_server.db import fast
from store_server.db.member_models import BasketCoupon, MemberCoupon
from store_server.db.models import Category, Product
from store_server.db.sales_models import BasketLineRow, BasketRow


@dataclass(frozen=True, slots=True)
class StoredLine:
    line_id: str
    seq: int
    product_id: int
    sku: str
    name: str
    unit: str
    weighed: bool
    tax_rate_bp: int
    code: str
    pack_factor: int
    quantity_milli: int
    unit_price_fen: int
    member_unit_price_fen: int | None
    fixed_amount_fen: int | None
    override_unit_price_fen: int | None
    override_by: str | None
    gift: bool
    category: str


@dataclass(frozen=True, slots=True)
class StoredBasket:
    basket_id: str
    device_id: str
    operator_id: str
    status: str
    totalled: bool
    member_id: str | None
    sale_id: str | None
    created_at: datetime
    held_at: datetime | None
    lines: tuple[StoredLine, ...]
    # (coupon id, its definition) of the member's coupons applied to this basket.
    coupons: tuple[tuple[str, str], ...] = ()


_BASKET = select(BasketRow).where(BasketRow.basket_id == bindparam("basket_id"))
_LINES = (
    select(
        BasketLineRow.line_id,
        BasketLineRow.seq,
        BasketLineRow.product_id,
        Product.sku,
        Product.name,
        Product.unit,
        Product.weighed,
        Product.tax_rate_bp,
        BasketLineRow.code,
        BasketLineRow.pack_factor,
        BasketLineRow.quantity_milli,
        BasketLineRow.unit_price_fen,
        BasketLineRow.member_unit_price_fen,
        BasketLineRow.fixed_amount_fen,
        BasketLineRow.override_unit_price_fen,
        BasketLineRow.override_by,
        BasketLineRow.gift,
        Category.name,
    )
    .join(Product, Product.id == BasketLineRow.product_id)
    .join(Category, Category.id == Product.category_id)
    .where(BasketLineRow.basket_id == bindparam("basket_id"), BasketLineRow.voided.is_(False))
    .order_by(BasketLineRow.seq)
)
_COUPONS = (
    select(BasketCoupon.coupon_id, MemberCoupon.definition)
    .join(MemberCoupon, MemberCoupon.coupon_id == BasketCoupon.coupon_id)
    .where(BasketCoupon.basket_id == bindparam("basket_id"))
    .order_by(BasketCoupon.coupon_id)
)
_LINE_OWNER = select(BasketLineRow.basket_id, BasketLineRow.voided).where(
    BasketLineRow.line_id == bindparam("line_id")
)


def load(conn: Connection, basket_id: str) -> StoredBasket | None:
    row = conn.execute(_BASKET, {"basket_id": basket_id}).first()
    if row is None:
        return None
    lines = tuple(StoredLine(*r) for r in conn.execute(_LINES, {"basket_id": basket_id}))
    coupons = (
        tuple((r[0], r[1]) for r in conn.execute(_COUPONS, {"basket_id": basket_id}))
        if row.member_id
        else ()
    )
    return StoredBasket(
        basket_id=row.basket_id,
        device_id=row.device_id,
        operator_id=row.operator_id,
        status=row.status,
        totalled=row.totalled,
        member_id=row.member_id,
        sale_id=row.sale_id,
        created_at=row.created_at,
        held_at=row.held_at,
        lines=lines,
        coupons=coupons,
    )


def line_owner(conn: Connection, line_id: str) -> tuple[str, bool] | None:
    row = conn.execute(_LINE_OWNER, {"line_id": line_id}).first()
    return (row.basket_id, row.voided) if row else None


# Core tables, not the mapped classes: an ORM-enabled insert costs about a
# millisecond of Python per call on this path (measured), a Core one a tenth.
_BASKETS = BasketRow.__table__
_LINES_T = BasketLineRow.__table__


def create(
    conn: Connection, *, basket_id: str, device_id: str, operator_id: str, now: datetime
) -> None:
    conn.execute(
        _BASKETS.insert(),
        {
            "basket_id": basket_id,
            "device_id": device_id,
            "operator_id": operator_id,
            "status": "open",
            "totalled": False,
            "created_at": now,
        },
    )


def add_line(
    conn: Connection,
    basket_id: str,
    seq: int,
    *,
    line_id: str,
    product_id: int,
    code: str,
    pack_factor: int,
    quantity_milli: int,
    unit_price_fen: int,
    member_unit_price_fen: int | None,
    fixed_amount_fen: int | None,
) -> None:
    """One scanned line: one plain DB-API statement, its SQL made once (every
    scan runs it; the generic fast.insert_rows cost ~13 µs more of Python)."""
    conn.connection.driver_connection.execute(
        _ADD_LINE,
        (
            line_id,
            basket_id,
            seq,
            product_id,
            code,
            pack_factor,
            quantity_milli,
            unit_price_fen,
            member_unit_price_fen,
            fixed_amount_fen,
            False,
            False,
        ),
    )


# The override columns start empty (NULL).
_ADD_LINE = fast.insert_sql(
    _LINES_T,
    (
        "line_id",
        "basket_id",
        "seq",
        "product_id",
        "code",
        "pack_factor",
        "quantity_milli",
        "unit_price_fen",
        "member_unit_price_fen",
        "fixed_amount_fen",
        "gift",
        "voided",
    ),
)


def update_line(conn: Connection, line_id: str, **values: object) -> None:
    conn.execute(_LINES_T.update().where(_LINES_T.c.line_id == line_id).values(**values))


def update_basket(conn: Connection, basket_id: str, **values: object) -> None:
    conn.execute(_BASKETS.update().where(_BASKETS.c.basket_id == basket_id).values(**values))


def void_all_lines(conn: Connection, basket_id: str) -> None:
    conn.execute(
        update(BasketLineRow).where(BasketLineRow.basket_id == basket_id).values(voided=True)
    )


def held_for_device(conn: Connection, device_id: str) -> list[str]:
    return list(
        conn.execute(
            select(BasketRow.basket_id)
            .where(BasketRow.device_id == device_id, BasketRow.status == "held")
            .order_by(BasketRow.held_at)
        ).scalars()
    )


def add_coupon(conn: Connection, basket_id: str, coupon_id: str) -> None:
    conn.execute(
        BasketCoupon.__table__.insert().prefix_with("OR IGNORE"),
        {"basket_id": basket_id, "coupon_id": coupon_id},
    )


def remove_coupons(conn: Connection, basket_id: str, coupon_id: str | None = None) -> None:
    """Take one coupon (or, with None, all) off the basket."""
    where = BasketCoupon.basket_id == basket_id
    if coupon_id is not None:
        where = where & (BasketCoupon.coupon_id == coupon_id)
    conn.execute(BasketCoupon.__table__.delete().where(where))
