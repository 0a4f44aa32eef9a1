"""storectl member ...: members from a shell (registration, history, points expiry).

Writes go through the same code as MemberService, as operator `storectl`.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from store_server.clock import SystemClock
from store_server.config import Config
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.dates import parse_date
from store_server.domain.errors import NotFound
from store_server.domain.members.identity import mask_phone
from store_server.domain.money import format_yuan
from store_server.members import gifts, queries, records
from store_server.members.book import MemberBook
from store_server.members.credentials import Credential
from store_server.members.records import MemberRow
from store_server.members.registry import Members, Registration

ACTOR = Actor.system("storectl")


def _members(cfg: Config, db: Database) -> Members:
    migrate.upgrade(db)
    return Members(db, cfg, SystemClock(), MemberBook(db, cfg))


def _credential(db: Database, text: str) -> Credential:
    """A member number (13 digits starting with 8), a mobile number or a card number.

    storectl is staff at the store server: a phone finds the member without a PIN.
    """
    text = text.strip()
    if len(text) == 13 and text.isdigit() and text.startswith("8"):
        return Credential(member_id=text)
    if len(text) == 11 and text.isdigit() and text.startswith("1"):
        with db.read() as conn:
            found = records.by_phone(conn, text)
        if found is None:
            raise NotFound("no member with this phone", reason="UNKNOWN_MEMBER")
        return Credential(member_id=found.member_id)
    return Credential(card_no=text)


def _show(m: MemberRow, members: Members) -> None:
    print(
        f"{m.member_id}  card {m.card_no}  {mask_phone(m.phone)}  {m.name}  "
        f"{members.tier_name(m)}  {m.status}\n"
        f"  points {m.points:,}  stored value {format_yuan(m.stored_value_fen)} "
        f"(paid {format_yuan(m.sv_paid_fen)}, bonus {format_yuan(m.sv_bonus_fen)})"
    )


def cmd_register(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    members = _members(cfg, db)
    m = members.register(
        ACTOR,
        Registration(
            registration_id=str(uuid.uuid4()),
            phone=args.phone,
            name=args.name,
            birthday=args.birthday or "",
            card_no=args.card or "",
            pin=args.pin or "",
            tier=args.tier or "",
        ),
    )
    _show(m, members)
    return 0


def cmd_show(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    members = _members(cfg, db)
    _show(members.identify(ACTOR, _credential(db, args.member)), members)
    return 0


def cmd_history(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    members = _members(cfg, db)
    m = members.identify(ACTOR, _credential(db, args.member))
    _show(m, members)
    with db.read() as conn:
        purchases, entries = queries.history(conn, m.member_id, args.limit)
    print("purchases:")
    for p in purchases:
        print(
            f"  {p.at:%Y-%m-%d %H:%M}  {p.receipt_no}  {p.store_id}  "
            f"{format_yuan(p.total_fen):>10}  +{p.points_earned} points"
        )
    print("ledger:")
    for e in entries:
        amount = (
            f"{e.points:+,} points"
            if e.ledger == "points"
            else f"{format_yuan(e.paid_fen)} paid {format_yuan(e.bonus_fen)} bonus"
        )
        print(
            f"  {e.at:%Y-%m-%d %H:%M}  {e.entry_id}  {e.kind:<9} {amount}  "
            f"{e.source_kind}:{e.source_id}"
        )
    return 0


def cmd_expire(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    members = _members(cfg, db)
    today = parse_date(args.today, "today") or members.today()

    def progress(done: int, total: int) -> None:
        print(f"  expiring lots: {done:,}/{total:,}", file=sys.stderr, flush=True)

    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        lots, points, touched = queries.expire_points(uow, cfg, today, progress=progress)
    print(f"expired {points:,} points in {lots:,} lots of {len(touched):,} members ({today})")
    return 0


def cmd_expiring(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    members = _members(cfg, db)
    before = parse_date(args.before, "before")
    assert before is not None
    with db.read() as conn:
        items = queries.expiring(conn, members.today(), before, args.limit)
    for i in items:
        print(f"{i.member_id}  {i.masked_phone}  {i.points:>8,}  last day {i.expires_on}")
    return 0


def cmd_gift(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    _members(cfg, db)
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        gifts.set_gift(uow, args.product_id, args.points)
    print(f"product {args.product_id}: {args.points} points" if args.points else "removed")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `member` to storectl."""
    member = sub.add_parser("member", help="members: register, history, points").add_subparsers(
        dest="member_cmd", required=True
    )
    reg = member.add_parser("register", help="register a member")
    reg.add_argument("--phone", required=True)
    reg.add_argument("--name", required=True)
    reg.add_argument("--birthday", help="YYYY-MM-DD")
    reg.add_argument("--card", help="the physical card number (default: the member number)")
    reg.add_argument("--pin", help="member PIN, 4-8 digits")
    reg.add_argument("--tier")
    reg.set_defaults(fn=cmd_register)
    show = member.add_parser("show", help="a member by member or card number")
    show.add_argument("member")
    show.set_defaults(fn=cmd_show)
    hist = member.add_parser("history", help="a member's purchases and ledger entries")
    hist.add_argument("member")
    hist.add_argument("--limit", type=int, default=50)
    hist.set_defaults(fn=cmd_history)
    exp = member.add_parser("expire-points", help="expire every lot past its last day")
    exp.add_argument("--today", help="YYYY-MM-DD (default: today)")
    exp.set_defaults(fn=cmd_expire)
    soon = member.add_parser("expiring", help="members whose points expire soon (reminders)")
    soon.add_argument("--before", required=True, help="YYYY-MM-DD")
    soon.add_argument("--limit", type=int, default=500)
    soon.set_defaults(fn=cmd_expiring)
    gift = member.add_parser("gift", help="put a product in the points gift catalog")
    gift.add_argument("product_id", type=int)
    gift.add_argument("points", type=int, help="its price in points (0 removes it)")
    gift.set_defaults(fn=cmd_gift)
