"""Products named by id or barcode, resolved in one query per request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection

from store_server.db import fast
from store_server.domain.errors import InvalidArgument, NotFound


@dataclass(frozen=True, slots=True)
class LineInput:
    """What a caller sends: a product id or a code, a quantity in the scanned unit."""

    product_id: int
    code: str
    quantity_milli: int
    unit_cost_fen: int = 0


@dataclass(frozen=True, slots=True)
class ResolvedLine:
    product_id: int
    quantity_milli: int  # product units (a case of 24 scanned once: 24000)
    unit_cost_fen: int | None


class Known(NamedTuple):
    """A product as a count or a document needs it (a tuple: made per count)."""

    product_id: int
    category: str
    pack_factor: int


def products_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, Known]:
    rows = fast.execute(
        conn,
        "SELECT p.id, c.name FROM products p JOIN categories c ON c.id = p.category_id "
        "WHERE p.id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(ids))),),
    )
    return {pid: Known(pid, cat, 1) for pid, cat in rows}


def products_by_code(conn: Connection, codes: Sequence[str]) -> dict[str, Known]:
    rows = fast.execute(
        conn,
        "SELECT b.code, b.product_id, c.name, b.pack_factor FROM barcodes b "
        "JOIN products p ON p.id = b.product_id JOIN categories c ON c.id = p.category_id "
        "WHERE b.code IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(set(codes))),),
    )
    return {code: Known(pid, cat, pack) for code, pid, cat, pack in rows}


def resolve(
    conn: Connection, lines: Sequence[LineInput], *, signed: bool = False, field: str = "lines"
) -> list[ResolvedLine]:
    """Every line as product units; the whole request fails on the first bad line."""
    if not lines:
        raise InvalidArgument(field, "at least one line")
    by_id = products_by_id(conn, [ln.product_id for ln in lines if ln.product_id])
    by_code = products_by_code(conn, [ln.code for ln in lines if not ln.product_id])
    out = []
    for i, ln in enumerate(lines):
        where = f"{field}[{i}]"
        if ln.quantity_milli == 0 or (ln.quantity_milli < 0 and not signed):
            raise InvalidArgument(f"{where}.quantity_milli", "must be positive")
        if ln.unit_cost_fen < 0:
            raise InvalidArgument(f"{where}.unit_cost_fen", "cannot be negative")
        known = by_id.get(ln.product_id) if ln.product_id else by_code.get(ln.code)
        if known is None:
            if ln.product_id:
                raise NotFound(f"{where}: no product {ln.product_id}", reason="UNKNOWN_PRODUCT")
            if not ln.code:
                raise InvalidArgument(where, "name a product_id or a code")
            raise NotFound(f"{where}: unknown barcode {ln.code}", reason="UNKNOWN_BARCODE")
        out.append(
            ResolvedLine(
                known.product_id,
                ln.quantity_milli * known.pack_factor,
                ln.unit_cost_fen or None,
            )
        )
    return out
