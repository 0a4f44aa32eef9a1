"""Reading and writing baskets (Core statements, built once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from store_server.db.models import Product
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
    )
    .join(Product, Product.id == BasketLineRow.product_id)
    .where(BasketLineRow.basket_id == bindparam("basket_id"), BasketLineRow.voided.is_(False))
    .order_by(BasketLineRow.seq)
)
_LINE_OWNER = select(BasketLineRow.basket_id, BasketLineRow.voided).where(
    BasketLineRow.line_id == bindparam("line_id")
)
_NEXT_SEQ = select(func.coalesce(func.max(BasketLineRow.seq), 0) + 1).where(
    BasketLineRow.basket_id == bindparam("basket_id")
)


def load(conn: Connection, basket_id: str) -> StoredBasket | None:
    row = conn.execute(_BASKET, {"basket_id": basket_id}).first()
    if row is None:
        return None
    lines = tuple(StoredLine(*r) for r in conn.execute(_LINES, {"basket_id": basket_id}))
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
    )


def line_owner(conn: Connection, line_id: str) -> tuple[str, bool] | None:
    row = conn.execute(_LINE_OWNER, {"line_id": line_id}).first()
    return (row.basket_id, row.voided) if row else None


def create(
    conn: Connection, *, basket_id: str, device_id: str, operator_id: str, now: datetime
) -> None:
    conn.execute(
        insert(BasketRow).values(
            basket_id=basket_id,
            device_id=device_id,
            operator_id=operator_id,
            status="open",
            totalled=False,
            created_at=now,
        )
    )


def add_line(conn: Connection, basket_id: str, **values: object) -> None:
    seq = conn.execute(_NEXT_SEQ, {"basket_id": basket_id}).scalar_one()
    conn.execute(insert(BasketLineRow).values(basket_id=basket_id, seq=seq, **values))


def update_line(conn: Connection, line_id: str, **values: object) -> None:
    conn.execute(update(BasketLineRow).where(BasketLineRow.line_id == line_id).values(**values))


def update_basket(conn: Connection, basket_id: str, **values: object) -> None:
    conn.execute(update(BasketRow).where(BasketRow.basket_id == basket_id).values(**values))


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
