"""Sales and returns as HQ reports on them: one row per receipt, its payments and lines.

Projected from the "sale" and "return" change rows (the structured receipt the
store froze at commit). Returns keep the receipt's signs: negative totals and
negative payments. Nothing here needs the catalog, so HQ can sum receipts of
stores whose products it has never seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from hq_link.hq.projectors import Insert, ProjectionError, integer
from hq_link.hq.tables import metadata

_TIME = DateTime(timezone=True)

receipts = Table(
    "hq_receipts",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("doc_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),  # sale or return
    Column("receipt_no", String(40), nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("at", _TIME, nullable=False),
    Column("operator_id", String(16), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("shift_id", String(64), nullable=False),  # "" when the payload has none (returns)
    Column("member_id", String(16), nullable=False),  # "" without a member
    Column("tier_name", String(40), nullable=False),
    Column("discount_fen", BigInteger, nullable=False),
    Column("rounding_fen", BigInteger, nullable=False),
    Column("total_fen", BigInteger, nullable=False),  # negative on a return
    Column("change_fen", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    PrimaryKeyConstraint("store_id", "doc_id"),
)

payments = Table(
    "hq_receipt_payments",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("doc_id", String(64), nullable=False),
    Column("n", Integer, nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("doc_kind", String(8), nullable=False),
    Column("kind", String(24), nullable=False),  # cash, bank_card, mobile, stored_value, ...
    Column("applied_fen", BigInteger, nullable=False),  # negative: refunded by a return
    PrimaryKeyConstraint("store_id", "doc_id", "n"),
)

lines = Table(
    "hq_receipt_lines",
    metadata,
    Column("store_id", String(16), nullable=False),
    Column("doc_id", String(64), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("business_day", String(10), nullable=False),
    Column("sku", String(40), nullable=False),
    Column("name", String(120), nullable=False),
    Column("units_milli", BigInteger, nullable=False),  # quantity x pack factor; negative: returned
    Column("net_fen", BigInteger, nullable=False),  # negative on a return
    PrimaryKeyConstraint("store_id", "doc_id", "line_no"),
)

_KINDS = frozenset({"sale", "return"})


def _receipt(payload: dict) -> dict:
    receipt = payload.get("receipt")
    if isinstance(receipt, str):
        receipt = msgspec.json.decode(receipt)
    if not isinstance(receipt, dict):
        raise ProjectionError("receipt missing")
    return receipt


def receipt_of(ch: Any) -> dict:
    """The receipt of a sale or return row: as ingest parsed it, else from the payload."""
    receipt = getattr(ch, "receipt", None)
    return receipt if isinstance(receipt, dict) else _receipt(ch.payload)


def rows_of(
    store_id: str,
    doc_id: str,
    kind: str,
    seq: int,
    at: Any,
    payload: dict,
    receipt: dict | None = None,
) -> tuple:
    """(receipt row, payment rows, line rows) of one sale or return change row
    (`receipt`: the payload's receipt, when the caller parsed it already)."""
    try:
        r = receipt if receipt is not None else _receipt(payload)
        day = str(r["business_day"])[:10]
        member = r.get("member") or {}
        head = {
            "store_id": store_id,
            "doc_id": doc_id[:64],
            "kind": kind,
            "receipt_no": str(r["receipt_no"])[:40],
            "business_day": day,
            "at": at,
            "operator_id": str(r.get("operator_id", ""))[:16],
            "device_id": str(r.get("device_id", ""))[:64],
            "shift_id": str(payload.get("shift_id") or "")[:64],
            "member_id": str(member.get("member_id", ""))[:16],
            "tier_name": str(member.get("tier_name", ""))[:40],
            "discount_fen": integer(r.get("discount_fen", 0), "discount_fen"),
            "rounding_fen": integer(r.get("rounding_fen", 0), "rounding_fen"),
            "total_fen": integer(r["total_fen"], "total_fen"),
            "change_fen": integer(r.get("change_fen", 0), "change_fen"),
            "seq": seq,
        }
        pays = [
            {
                "store_id": store_id,
                "doc_id": head["doc_id"],
                "n": n,
                "business_day": day,
                "doc_kind": kind,
                "kind": str(p["kind"])[:24],
                "applied_fen": integer(p["applied_fen"], "applied_fen"),
            }
            for n, p in enumerate(r.get("payments", []), start=1)
        ]
        sign = -1 if kind == "return" else 1
        doc = head["doc_id"]
        items = []
        # The hot loop of a catch-up (every line of every receipt): integers are
        # checked in one go, and only a line that fails is checked field by field.
        for n, ln in enumerate(r.get("lines", []), start=1):
            no = ln.get("line_no", n)
            quantity = ln["quantity_milli"]
            pack = ln.get("pack_factor", 1)
            net = ln["net_amount_fen"]
            if not (type(no) is type(quantity) is type(pack) is type(net) is int):
                no = integer(no, "line_no")
                quantity = integer(quantity, "quantity_milli")
                pack = integer(pack, "pack_factor")
                net = integer(net, "net_amount_fen")
            items.append(
                {
                    "store_id": store_id,
                    "doc_id": doc,
                    "line_no": no,
                    "business_day": day,
                    "sku": str(ln.get("sku", ""))[:40],
                    "name": str(ln.get("name", ""))[:120],
                    "units_milli": sign * quantity * pack,
                    "net_fen": net,
                }
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ProjectionError):
            raise
        raise ProjectionError(f"{kind} receipt unreadable: {exc!r}") from exc
    return head, pays, items


def project(conn: Connection, insert: Insert, store_id: str, rows: Sequence[Any]) -> None:
    heads, pays, items = [], [], []
    for ch in rows:
        if ch.row.kind not in _KINDS:
            continue
        # Ingest builds them before the transaction (ingest._with_receipt_rows).
        built = getattr(ch, "receipt_rows", None)
        h, p, i = built or rows_of(
            store_id,
            ch.row.key,
            ch.row.kind,
            ch.row.seq,
            ch.at,
            ch.payload,
            getattr(ch, "receipt", None),
        )
        heads.append(h)
        pays += p
        items += i
    # Each table once for the whole batch.
    insert.rows(receipts, heads)
    insert.rows(payments, pays)
    insert.rows(lines, items)
