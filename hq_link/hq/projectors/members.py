"""Members and their ledger entries from every store (一卡通), and the feed
the stores pull them from.

A store's member rows ("member", "member_card", "member_tier",
"points_entry", "stored_value_entry"; count cards and their uses travel in
the feed only) become HQ's member master and ledger
projection, and each is numbered with a revision of the one-card feed, in
the batch's transaction (see onecard.tables.counter for why in commit order).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, update

from hq_link.hq.onecard import tables as t
from hq_link.hq.projectors import Insert, ProjectionError, integer

FEED_KINDS = frozenset(
    {
        "member",
        "member_card",
        "member_tier",
        "points_entry",
        "stored_value_entry",
        "count_card",  # 计次卡: sold at one store, used at any
        "count_card_use",
    }
)
_LEDGERS = {"points_entry": "P", "stored_value_entry": "V"}


def _int(payload: dict, name: str) -> int:
    return integer(payload.get(name, 0), name)


def _text(payload: dict, name: str, size: int) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > size:
        raise ProjectionError(f"{name} {value!r}: 1-{size} characters")
    return value


def _time(text: object, default: datetime) -> datetime:
    if not isinstance(text, str):
        return default
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ProjectionError(f"time {text!r} is not ISO-8601") from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def entry_row(store_id: str, row: Any) -> dict[str, object]:
    """An hq_member_entries row from a ledger change row of `store_id`."""
    p = row.payload
    entry_id = _text(p, "entry_id", 40)
    if entry_id != row.row.key:
        raise ProjectionError(f"entry {entry_id} under key {row.row.key}")
    # Ids are store id + sequence: a store writes only its own entries.
    if p.get("store_id") != store_id or not entry_id.startswith(f"{store_id}-"):
        raise ProjectionError(f"entry {entry_id} of store {p.get('store_id')!r} sent by {store_id}")
    ledger = _LEDGERS[row.row.kind]
    offline_day = p.get("offline_day")
    return {
        "store_id": store_id,
        "entry_id": entry_id,
        "ledger": ledger,
        "member_id": _text(p, "member_id", 13),
        "kind": _text(p, "kind", 16),
        "points": _int(p, "points") if ledger == "P" else 0,
        "paid_fen": _int(p, "paid_fen") if ledger == "V" else 0,
        "bonus_fen": _int(p, "bonus_fen") if ledger == "V" else 0,
        "source_kind": str(p.get("source_kind", ""))[:16],
        "source_id": str(p.get("source_id", ""))[:64],
        "offline_day": str(offline_day)[:10] if offline_day else None,
        "created_at": _time(p.get("created_at"), row.at),
        "seq": row.row.seq,
    }


def _member_row(store_id: str, row: Any) -> dict[str, object]:
    p = row.payload
    member_id = _text(p, "member_id", 13)
    # A store registers its own members only (their numbers carry its code).
    if p.get("home_store", store_id) != store_id:
        raise ProjectionError(f"member {member_id} of {p.get('home_store')!r} sent by {store_id}")
    return {
        "member_id": member_id,
        "home_store": store_id,
        "card_no": _text(p, "card_no", 32),
        "phone": _text(p, "phone", 16),
        "name": str(p.get("name", ""))[:40],
        "tier": str(p.get("tier", ""))[:16],
        "status": str(p.get("status") or "active")[:16],
        "registered_at": _time(p.get("created_at"), row.at),
        "updated_at": row.at,
    }


def _take_revisions(conn: Connection, insert: Insert, n: int) -> int:
    """Reserve n revisions; returns the last. Locks the counter until commit."""
    conn.execute(
        insert(t.counter).values(id=1, rev=0).on_conflict_do_nothing(index_elements=["id"])
    )
    return int(
        conn.execute(
            update(t.counter)
            .where(t.counter.c.id == 1)
            .values(rev=t.counter.c.rev + n)
            .returning(t.counter.c.rev)
        ).scalar_one()
    )


def project(conn: Connection, insert: Insert, store_id: str, rows: Sequence[Any]) -> None:
    mine = [r for r in rows if r.row.kind in FEED_KINDS]
    if not mine:
        return
    entries = [entry_row(store_id, r) for r in mine if r.row.kind in _LEDGERS]
    for r in mine:
        kind = r.row.kind
        if kind == "member":
            conn.execute(
                insert(t.members)
                .values(**_member_row(store_id, r))
                .on_conflict_do_nothing(index_elements=["member_id"])
            )
        elif kind == "member_card":
            member_id = _text(r.payload, "member_id", 13)
            values: dict[str, object] = {"updated_at": r.at}
            if r.payload.get("status") == "active":
                values["card_no"] = r.row.key[:32]
            conn.execute(update(t.members).where(t.members.c.member_id == member_id).values(values))
        elif kind == "member_tier":
            tier = _text(r.payload, "tier", 16)
            conn.execute(
                update(t.members)
                .where(t.members.c.member_id == r.row.key)
                .values(tier=tier, updated_at=r.at)
            )
    insert.rows(t.entries, entries)
    last = _take_revisions(conn, insert, len(mine))
    first = last - len(mine) + 1
    # Revisions just reserved under the counter's lock: no other batch has them.
    insert.rows(
        t.feed,
        [
            {"rev": rev, "store_id": store_id, "seq": r.row.seq}
            for rev, r in zip(range(first, last + 1), mine, strict=True)
        ],
    )
