"""Stock movements and the cached on-hand they sum to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select

from store_server.db import fast
from store_server.db.sales_models import StockLevel, StockMovement

_MOVES = StockMovement.__table__
_UPSERT = (
    "INSERT INTO stock_levels (product_id, on_hand_milli) VALUES (?, ?) "
    "ON CONFLICT (product_id) DO UPDATE SET on_hand_milli = on_hand_milli + excluded.on_hand_milli"
)


def record(
    conn: Connection, moves: Sequence[tuple[int, int]], *, kind: str, source_id: str, at: datetime
) -> None:
    """Append (product_id, signed quantity in thousandths) movements and update on-hand.

    Plain DB-API writes (see db.fast): every sale passes here.
    """
    if not moves:
        return
    fast.insert_rows(
        conn,
        _MOVES,
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
    conn.connection.driver_connection.executemany(_UPSERT, list(delta.items()))


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
