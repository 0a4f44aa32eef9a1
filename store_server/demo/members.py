"""The demo store's members: one of each tier, with points and stored value to spend."""

from __future__ import annotations

import uuid

from store_server.clock import Clock
from store_server.config import Config
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.members.points import lot_expiry
from store_server.members import ledger, records
from store_server.members.book import MemberBook
from store_server.members.ledger import Source
from store_server.members.registry import Members, Registration

DEMO_MEMBER_PIN = "246810"
# phone, name, tier, birthday, stored value paid + bonus (fen), points
DEMO_MEMBERS = (
    ("13800138000", "张三", "normal", "1990-01-15", (0, 0), 0),
    ("13900139000", "李四", "silver", "1985-06-02", (20_000, 2_000), 1_200),
    ("13700137000", "王五", "gold", "1978-11-20", (100_000, 16_000), 8_800),
)
_NAMESPACE = uuid.UUID("6f1c2b1e-1d2a-4c59-9a55-3f0d7d1e7a10")


def create_demo_members(db: Database, config: Config, *, clock: Clock) -> None:
    """Idempotent: members already there are left as they are."""
    members = Members(db, config, clock, MemberBook(db, config))
    actor = Actor.system("storectl-demo")
    today = clock.now().astimezone(config.zone).date()
    for phone, name, tier, birthday, (paid, bonus), points in DEMO_MEMBERS:
        with db.read() as conn:
            if records.by_phone(conn, phone) is not None:
                continue
        m = members.register(
            actor,
            Registration(
                registration_id=str(uuid.uuid5(_NAMESPACE, phone)),
                phone=phone,
                name=name,
                birthday=birthday,
                pin=DEMO_MEMBER_PIN,
                tier=tier,
            ),
        )
        with unit_of_work(db, actor, clock.now()) as uow:
            source = Source("demo", m.member_id)
            if paid:
                ledger.stored_value_entry(
                    uow, config.store_id, m.member_id, "topup", paid, bonus, source
                )
            if points:
                ledger.earn(
                    uow,
                    config.store_id,
                    m.member_id,
                    points,
                    source,
                    today=today,
                    expires_on=lot_expiry(today, config.members.points),
                )


def members_text(db: Database) -> str:
    lines = [f"Demo members (card number / phone, member PIN {DEMO_MEMBER_PIN}):"]
    with db.read() as conn:
        for phone, name, *_ in DEMO_MEMBERS:
            m = records.by_phone(conn, phone)
            if m is not None:
                lines.append(f"  {m.card_no}  {phone}  {name}  {m.tier}")
    return "\n".join(lines)
