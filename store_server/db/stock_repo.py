"""Stock movements and the cached on-hand they sum to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store_server.db.sales_models import StockLevel, StockMovement


def record(
    conn: Connection, moves: Sequence[tuple[int, int]], *, kind: str, source_id: str, at: datetime
) -> None:
    """Append (product_id, signed quantity in thousandths) movements and update on-hand."""
    if not moves:
        return
    conn.execute(
        insert(StockMovement),
        [
            {
                "product_id": pid,
                "quantity_milli": qty,
                "kind": kind,
                "source_id": source_id,
                "created_at": at,
            }
            for pid, qty in moves
        ],
    )
    delta: dict[int, int] = defaultdict(int)
    for pid, qty in moves:
        delta[pid] += qty
    stmt = sqlite_insert(StockLevel)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[StockLevel.product_id],
            set_={"on_hand_milli": StockLevel.on_hand_milli + stmt.excluded.on_hand_milli},
        ),
        [{"product_id": pid, "on_hand_milli": qty} for pid, qty in delta.items()],
    )


def on_hand(conn: Connection, product_id: int) -> int:
    value = conn.execute(
        select(StockLevel.on_hand_milli).where(StockLevel.product_id == product_id)
    ).scalar()
    return int(value or 0)


def movement_sum(conn: Connection, product_id: int) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.sum(StockMovement.quantity_milli), 0)).where(
                StockMovement.product_id == product_id
            )
        ).scalar_one()
    )
