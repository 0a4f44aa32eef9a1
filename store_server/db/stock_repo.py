"""Stock movements and the cached on-hand they sum to."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from store_server.db import fast
from store_server.db.sales_models import StockLevel, StockMovement

_INSERT_MOVE = fast.insert_sql(
    StockMovement.__table__, ("product_id", "quantity_milli", "kind", "source_id", "created_at")
)
_UPSERT = (
    "INSERT INTO stock_levels (product_id, on_hand_milli) VALUES (?, ?) "
    "ON CONFLICT (product_id) DO UPDATE SET on_hand_milli = on_hand_milli + excluded.on_hand_milli"
)


@dataclass(frozen=True, slots=True)
class MoveRows:
    """A document's stock movements and on-hand changes, as SQLite stores them."""

    movements: list[tuple[int, int, str, str, object]]  # product, qty, kind, source, at
    levels: list[tuple[int, int]]  # product, change of on-hand (thousandths)


def move_rows(
    moves: Sequence[tuple[int, int]], *, kind: str, source_id: str, at: datetime
) -> MoveRows:
    """The rows `record` writes, worked out without the database (a commit
    does this before it holds the writer)."""
    stamp = fast.db_value(at)
    delta: dict[int, int] = defaultdict(int)
    for pid, qty in moves:
        delta[pid] += qty
    return MoveRows([(pid, qty, kind, source_id, stamp) for pid, qty in moves], list(delta.items()))


def write_moves(conn: Connection, rows: MoveRows) -> None:
    """Append the movements and update on-hand, in the caller's transaction."""
    raw = conn.connection.driver_connection
    fast.insert_values(raw, _INSERT_MOVE, rows.movements)
    fast.insert_values(raw, _UPSERT, rows.levels)


def record(
    conn: Connection, moves: Sequence[tuple[int, int]], *, kind: str, source_id: str, at: datetime
) -> None:
    """Append (product_id, signed quantity in thousandths) movements and update on-hand.

    Plain DB-API writes (see db.fast): every sale passes here.
    """
    if moves:
        write_moves(conn, move_rows(moves, kind=kind, source_id=source_id, at=at))


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


def last_seq(conn: Connection) -> int:
    """The sequence number of the last movement: a stocktake's snapshot point."""
    rows = fast.execute(conn, "SELECT max(id) FROM stock_movements")
    return int(rows[0][0] or 0)


def moves_after(conn: Connection, seq: int) -> list[tuple[int, int, int]]:
    """(seq, product_id, quantity_milli) of every movement after `seq`, in order."""
    return fast.execute(
        conn,
        "SELECT id, product_id, quantity_milli FROM stock_movements WHERE id > ? ORDER BY id",
        (seq,),
    )


def levels(conn: Connection) -> dict[int, int]:
    """The cached on-hand of every product that has one."""
    return dict(fast.execute(conn, "SELECT product_id, on_hand_milli FROM stock_levels"))


def summed_levels(conn: Connection) -> dict[int, int]:
    """On-hand as the sum of the movements (what the cache must equal)."""
    return dict(
        fast.execute(
            conn, "SELECT product_id, sum(quantity_milli) FROM stock_movements GROUP BY product_id"
        )
    )


def mismatches(conn: Connection) -> list[tuple[int, int, int]]:
    """(product_id, cached, summed) wherever the cache and the movements disagree."""
    cached, summed = levels(conn), summed_levels(conn)
    return [
        (pid, cached.get(pid, 0), summed.get(pid, 0))
        for pid in sorted(cached.keys() | summed.keys())
        if cached.get(pid, 0) != summed.get(pid, 0)
    ]


def rebuild(conn: Connection) -> int:
    """Recompute the whole on-hand cache from the movements; returns the products cached."""
    fast.execute(conn, "DELETE FROM stock_levels")
    fast.execute(
        conn,
        "INSERT INTO stock_levels (product_id, on_hand_milli) "
        "SELECT product_id, sum(quantity_milli) FROM stock_movements GROUP BY product_id",
    )
    return int(fast.execute(conn, "SELECT count(*) FROM stock_levels")[0][0])


def sold_since(conn: Connection, since: datetime) -> dict[int, int]:
    """Units sold net of returns per product since `since` (positive thousandths)."""
    rows = fast.execute(
        conn,
        "SELECT product_id, -sum(quantity_milli) FROM stock_movements "
        "WHERE kind IN ('sale', 'return') AND created_at >= ? GROUP BY product_id",
        (since,),
    )
    return {pid: int(q) for pid, q in rows}


def movements_of(
    conn: Connection, product_id: int, limit: int
) -> list[tuple[int, int, str, str, datetime]]:
    """(seq, quantity_milli, kind, source_id, created_at) of one product, newest first."""
    rows = conn.execute(
        select(
            StockMovement.id,
            StockMovement.quantity_milli,
            StockMovement.kind,
            StockMovement.source_id,
            StockMovement.created_at,
        )
        .where(StockMovement.product_id == product_id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]
