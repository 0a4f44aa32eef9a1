"""Applying other stores' member changes that came down from HQ (一卡通).

Members registered elsewhere, their cards and tiers, and every ledger entry
other stores wrote, so a member can identify and spend at any store and the
balance is the same everywhere: balances are sums of immutable entries with
chain-unique ids, so applying an entry twice changes nothing and entries of
different stores never conflict.

These rows came from HQ: they are written here WITHOUT the change log
(no `uow.change`), or they would travel up again and be counted twice.
Plain DB-API on the store's sqlite3 connection, inside the caller's
transaction (the agent applies a page and its cursor in one).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from store_server.db.fast import db_value
from store_server.domain.members.points import PointsRules, lot_expiry

log = logging.getLogger(__name__)

PULLED_REV_KEY = "onecard.pulled_rev"
# The chain's default zone, for the date of an entry that does not carry it.
CHAIN_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class ForeignChange:
    rev: int
    store_id: str  # the store that made it
    kind: str
    key: str
    payload_json: str


@dataclass(frozen=True, slots=True)
class Applied:
    """What one page did: counts per kind, and what was skipped with why."""

    applied: dict[str, int]
    skipped: list[str]


def pulled_rev(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM store_meta WHERE key = ?", (PULLED_REV_KEY,)).fetchone()
    return int(row[0]) if row else 0


def _set_pulled_rev(conn: sqlite3.Connection, rev: int) -> None:
    conn.execute(
        "INSERT INTO store_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (PULLED_REV_KEY, str(rev)),
    )


def _time(text: object) -> object:
    """A payload time (str(datetime) or ISO-8601) as the store keeps UtcDateTime."""
    if not isinstance(text, str) or not text:
        return None
    at = datetime.fromisoformat(text)
    return db_value(at.replace(tzinfo=UTC) if at.tzinfo is None else at)


def _exists(conn: sqlite3.Connection, sql: str, key: str) -> bool:
    return conn.execute(sql, (key,)).fetchone() is not None


def _member(conn: sqlite3.Connection, p: dict) -> str:
    member_id = p["member_id"]
    if _exists(conn, "SELECT 1 FROM members WHERE member_id = ?", member_id):
        return ""
    # Registered at two stores with one phone while they could not see each
    # other: the first one here keeps it; HQ has both (reported, not merged).
    if _exists(conn, "SELECT 1 FROM members WHERE phone = ?", p["phone"]):
        return f"member {member_id}: phone already belongs to another member here"
    if _exists(conn, "SELECT 1 FROM member_cards WHERE card_no = ?", p["card_no"]):
        return f"member {member_id}: card {p['card_no']} already taken here"
    created = _time(p.get("created_at")) or db_value(datetime.now(UTC))
    conn.execute(
        "INSERT INTO members (member_id, card_no, registration_id, phone, name, birthday, tier,"
        " status, pin_hash, failed_pins, locked_until, card_discount_bp, home_store, created_at,"
        " points, points_earned_total, spend_total_fen, sv_paid_fen, sv_bonus_fen,"
        " birthday_coupon_year) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, ?,"
        " 0, 0, 0, 0, 0, 0)",
        (
            member_id,
            p["card_no"],
            p["phone"],
            p.get("name", ""),
            p.get("birthday"),
            p.get("tier", ""),
            p.get("status") or "active",
            p.get("pin_hash"),
            int(p.get("card_discount_bp") or 0),
            p["home_store"],
            created,
        ),
    )
    conn.execute(
        "INSERT INTO member_cards (card_no, member_id, status, issued_at, ended_at)"
        " VALUES (?, ?, 'active', ?, NULL)",
        (p["card_no"], member_id, created),
    )
    return ""


def _card(conn: sqlite3.Connection, card_no: str, p: dict, at: object) -> str:
    member_id = p["member_id"]
    if p.get("status") == "lost":  # 挂失: refused here too, at once
        conn.execute(
            "UPDATE member_cards SET status = 'lost', ended_at = ?"
            " WHERE card_no = ? AND status = 'active'",
            (at, card_no),
        )
        return ""
    if _exists(conn, "SELECT 1 FROM member_cards WHERE card_no = ?", card_no):
        return ""  # applied before
    if not _exists(conn, "SELECT 1 FROM members WHERE member_id = ?", member_id):
        return f"card {card_no}: member {member_id} is not here"
    conn.execute(
        "UPDATE member_cards SET status = 'replaced', ended_at = ?"
        " WHERE member_id = ? AND status = 'active'",
        (at, member_id),
    )
    conn.execute(
        "INSERT INTO member_cards (card_no, member_id, status, issued_at, ended_at)"
        " VALUES (?, ?, 'active', ?, NULL)",
        (card_no, member_id, at),
    )
    conn.execute("UPDATE members SET card_no = ? WHERE member_id = ?", (card_no, member_id))
    return ""


def _balances(conn: sqlite3.Connection, member_id: str, **moves: int) -> None:
    conn.execute(
        "UPDATE members SET points = points + ?, points_earned_total = points_earned_total + ?,"
        " sv_paid_fen = sv_paid_fen + ?, sv_bonus_fen = sv_bonus_fen + ? WHERE member_id = ?",
        (
            moves.get("points", 0),
            moves.get("earned", 0),
            moves.get("paid", 0),
            moves.get("bonus", 0),
            member_id,
        ),
    )


def _common(p: dict) -> tuple:
    return (
        p["member_id"],
        p["kind"],
        p.get("source_kind", ""),
        p.get("source_id", ""),
        p["store_id"],
        p.get("operator_id", ""),
        p.get("device_id", ""),
        _time(p.get("created_at")),
    )


def _points(conn: sqlite3.Connection, entry_id: str, p: dict) -> str:
    if _exists(conn, "SELECT 1 FROM points_entries WHERE entry_id = ?", entry_id):
        return ""
    points = int(p["points"])
    lot_id = p.get("lot_id")
    conn.execute(
        "INSERT INTO points_entries (entry_id, points, lot_id, member_id, kind, source_kind,"
        " source_id, store_id, operator_id, device_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, points, lot_id, *_common(p)),
    )
    member_id = p["member_id"]
    _balances(conn, member_id, points=points, earned=points if p["kind"] == "earn" else 0)
    if points > 0 and lot_id == entry_id:
        # Earned elsewhere: a lot of its own here too, so points spent here take
        # the soonest-expiring lots as they do at home. Its own store expires it.
        earned_on, expires_on = _lot_dates(p)
        conn.execute(
            "INSERT OR IGNORE INTO points_lots (lot_id, member_id, earned_on, expires_on,"
            " earned, remaining) VALUES (?, ?, ?, ?, ?, ?)",
            (entry_id, member_id, earned_on, expires_on, points, points),
        )
    elif points < 0:
        _take_lots(conn, member_id, -points, lot_id)
    return ""


def _lot_dates(p: dict) -> tuple[str, str]:
    """(earned_on, expires_on) of a lot earned elsewhere; entries written before
    they carried the dates get the chain's default rule from the entry's date."""
    if p.get("expires_on"):
        return p.get("earned_on") or p["expires_on"], p["expires_on"]
    created = datetime.fromisoformat(p["created_at"])
    earned_on = created.astimezone(CHAIN_ZONE).date() if created.tzinfo else created.date()
    return earned_on.isoformat(), lot_expiry(earned_on, PointsRules()).isoformat()


def _take_lots(conn: sqlite3.Connection, member_id: str, points: int, lot_id: str | None) -> None:
    """Mirror what the other store took from the member's lots, as near as known.

    An expiry names its lot; a redemption took the soonest-expiring lots, which
    is what this takes too (never below zero: what it cannot find is already gone).
    """
    if lot_id:
        lots = conn.execute(
            "SELECT lot_id, remaining FROM points_lots WHERE lot_id = ? AND remaining > 0",
            (lot_id,),
        ).fetchall()
    else:
        lots = conn.execute(
            "SELECT lot_id, remaining FROM points_lots WHERE member_id = ? AND remaining > 0"
            " ORDER BY expires_on, lot_id",
            (member_id,),
        ).fetchall()
    left = points
    for lid, remaining in lots:
        take = min(int(remaining), left)
        conn.execute(
            "UPDATE points_lots SET remaining = remaining - ? WHERE lot_id = ?", (take, lid)
        )
        left -= take
        if not left:
            break


def _stored_value(conn: sqlite3.Connection, entry_id: str, p: dict) -> str:
    if _exists(conn, "SELECT 1 FROM stored_value_entries WHERE entry_id = ?", entry_id):
        return ""
    paid, bonus = int(p["paid_fen"]), int(p["bonus_fen"])
    conn.execute(
        "INSERT INTO stored_value_entries (entry_id, paid_fen, bonus_fen, offline_day, member_id,"
        " kind, source_kind, source_id, store_id, operator_id, device_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry_id, paid, bonus, p.get("offline_day"), *_common(p)),
    )
    _balances(conn, p["member_id"], paid=paid, bonus=bonus)
    return ""


def _count_card(conn: sqlite3.Connection, card_id: str, p: dict) -> str:
    if _exists(conn, "SELECT 1 FROM count_cards WHERE card_id = ?", card_id):
        return ""
    # The selling store's product id means nothing here: its SKU names the product.
    product = conn.execute("SELECT id FROM products WHERE sku = ?", (p.get("sku", ""),)).fetchone()
    if product is None:
        return f"count card {card_id}: no product with SKU {p.get('sku')!r} here"
    conn.execute(
        "INSERT INTO count_cards (card_id, member_id, product_id, name, total_uses, remaining,"
        " expires_on, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            card_id,
            p["member_id"],
            product[0],
            p.get("name", ""),
            int(p["total_uses"]),
            int(p["total_uses"]),  # the uses taken elsewhere come as their own changes
            p.get("expires_on"),
            _time(p.get("created_at")),
        ),
    )
    return ""


def _count_card_use(conn: sqlite3.Connection, key: str, p: dict, at: object) -> str:
    source_id, card_id = p.get("source_id"), p.get("card_id")
    if not source_id or not card_id:
        source_id, _, card_id = key.rpartition(":")
    done = conn.execute(
        "SELECT 1 FROM count_card_uses WHERE source_id = ? AND card_id = ?", (source_id, card_id)
    ).fetchone()
    if done is not None:
        return ""
    if not _exists(conn, "SELECT 1 FROM count_cards WHERE card_id = ?", card_id):
        return f"count card {card_id} is not here"
    uses = int(p["uses"])
    conn.execute(
        "INSERT INTO count_card_uses (source_id, card_id, uses, created_at) VALUES (?, ?, ?, ?)",
        (source_id, card_id, uses, at),
    )
    # May go below zero if the card was used at two stores that could not see
    # each other: the sum of uses is the truth, as for stored value.
    conn.execute(
        "UPDATE count_cards SET remaining = remaining + ? WHERE card_id = ?", (uses, card_id)
    )
    return ""


def apply_changes(
    conn: sqlite3.Connection,
    own_store: str,
    changes: list[ForeignChange],
    next_rev: int,
    at: datetime,
) -> Applied:
    """Apply one page and move the cursor to `next_rev`, in the caller's transaction.

    The store's own changes (it has them) and kinds this store does not know
    are passed over; a change that cannot apply here is skipped with its
    reason (logged), never stopping the pull.
    """
    counts: Counter[str] = Counter()
    skipped: list[str] = []
    when = db_value(at)
    for ch in changes:
        if ch.store_id == own_store:
            continue
        try:
            p = json.loads(ch.payload_json)
            if ch.kind == "member":
                why = _member(conn, p)
            elif ch.kind == "member_card":
                why = _card(conn, ch.key, p, when)
            elif ch.kind == "member_tier":
                conn.execute("UPDATE members SET tier = ? WHERE member_id = ?", (p["tier"], ch.key))
                why = ""
            elif ch.kind == "points_entry":
                why = _points(conn, ch.key, p)
            elif ch.kind == "stored_value_entry":
                why = _stored_value(conn, ch.key, p)
            elif ch.kind == "count_card":
                why = _count_card(conn, ch.key, p)
            elif ch.kind == "count_card_use":
                why = _count_card_use(conn, ch.key, p, when)
            else:
                why = f"unknown kind {ch.kind!r}"
        except (KeyError, TypeError, ValueError) as exc:
            why = f"unreadable: {exc!r}"
        if why:
            skipped.append(f"rev {ch.rev} ({ch.store_id} {ch.kind} {ch.key}): {why}")
        else:
            counts[ch.kind] += 1
    for line in skipped:
        log.warning("one card: skipped %s", line)
    if next_rev > pulled_rev(conn):
        _set_pulled_rev(conn, next_rev)
    return Applied(applied=dict(counts), skipped=skipped)
