"""The store a soak sells in: the demo catalog, one cashier per till, one clerk
per handheld, and members of each till's own with stored value and points.

Built fresh for every run (about ten seconds), so every figure and every
reconciliation starts from a known, empty sales history.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

from soak.settings import REPO
from store_server.clock import SystemClock
from store_server.config import Config, load_config
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.demo.members import create_demo_members
from store_server.demo.setup import create_demo
from store_server.domain.barcodes import make_scale_label
from store_server.domain.members.points import lot_expiry
from store_server.members import ledger
from store_server.members.book import MemberBook
from store_server.members.ledger import Source
from store_server.members.registry import Members, Registration
from store_server.operators import upsert_operator

CONFIG = REPO / "config" / "store.demo.toml"
CASHIER_PIN = "1111"
CLERK_PIN = "4444"
ADMIN = ("1003", "3333")  # demo admin: opens the stocktake
MEMBERS_PER_TILL = 4
MEMBER_STORED_VALUE_FEN = 50_000  # 500 yuan paid ...
MEMBER_BONUS_FEN = 5_000  # ... + 50 bonus
MEMBER_POINTS = 5_000


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    product_id: int
    pack_factor: int


@dataclass(frozen=True, slots=True)
class SoakStore:
    """What the simulated devices need to know about the store they work in."""

    db_path: Path
    config: Config
    cashiers: tuple[str, ...]  # operator ids, one per till
    clerks: tuple[str, ...]  # operator ids, one per handheld
    member_cards: tuple[tuple[str, ...], ...]  # per till: its members' card numbers
    unit_codes: tuple[Code, ...]
    case_codes: tuple[Code, ...]
    weighed_plus: tuple[str, ...]

    def scale_label(self, plu: str, grams: int) -> str:
        """The code a store scale prints for `grams` of the product with this PLU."""
        return make_scale_label(self.config.scale_layouts[0], plu, grams)


def build_store(directory: Path, *, tills: int, handhelds: int) -> SoakStore:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "store.db"
    for leftover in directory.glob("store.db*"):
        leftover.unlink()
    config = replace(load_config(CONFIG, env={}), database=path)
    clock = SystemClock()
    # NORMAL: building the fixture needs no fsync per row; the server opens it with FULL.
    db = Database(path, synchronous="NORMAL")
    try:
        create_demo(db, config, clock=clock)
        create_demo_members(db, config, clock=clock)
        actor = Actor.system("soak-setup")
        cashiers = tuple(f"{2001 + n}" for n in range(tills))
        clerks = tuple(f"{4101 + n}" for n in range(handhelds))
        with unit_of_work(db, actor, clock.now()) as uow:
            for n, oid in enumerate(cashiers, 1):
                upsert_operator(
                    uow,
                    operator_id=oid,
                    name=f"收银员 {n:02d}",
                    role="cashier",
                    pin=CASHIER_PIN,
                    store_id=config.store_id,
                )
            for n, oid in enumerate(clerks, 1):
                upsert_operator(
                    uow,
                    operator_id=oid,
                    name=f"理货员 {n:02d}",
                    role="stock_clerk",
                    pin=CLERK_PIN,
                    store_id=config.store_id,
                )
        cards = _members(db, config, clock, tills * MEMBERS_PER_TILL)
        member_cards = tuple(
            tuple(cards[t * MEMBERS_PER_TILL : (t + 1) * MEMBERS_PER_TILL]) for t in range(tills)
        )
    finally:
        db.dispose()
    unit, case, plus = _catalog(path)
    return SoakStore(
        db_path=path,
        config=config,
        cashiers=cashiers,
        clerks=clerks,
        member_cards=member_cards,
        unit_codes=unit,
        case_codes=case,
        weighed_plus=plus,
    )


def _members(db: Database, config: Config, clock: SystemClock, count: int) -> list[str]:
    """`count` members with stored value and points; their card numbers."""
    members = Members(db, config, clock, MemberBook(db, config))
    actor = Actor.system("soak-setup")
    today = clock.now().astimezone(config.zone).date()
    cards = []
    for n in range(count):
        m = members.register(
            actor,
            Registration(
                registration_id=str(uuid.uuid4()), phone=f"150{n:08d}", name=f"顾客{n:03d}"
            ),
        )
        with unit_of_work(db, actor, clock.now()) as uow:
            source = Source("soak-setup", m.member_id)
            ledger.stored_value_entry(
                uow,
                config.store_id,
                m.member_id,
                "topup",
                MEMBER_STORED_VALUE_FEN,
                MEMBER_BONUS_FEN,
                source,
            )
            ledger.earn(
                uow,
                config.store_id,
                m.member_id,
                MEMBER_POINTS,
                source,
                today=today,
                expires_on=lot_expiry(today, config.members.points),
            )
        cards.append(m.card_no)
    return cards


def _catalog(path: Path) -> tuple[tuple[Code, ...], tuple[Code, ...], tuple[str, ...]]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT b.code, b.product_id, b.pack_factor FROM barcodes b "
            "JOIN products p ON p.id = b.product_id "
            "WHERE p.status = 'active' AND p.weighed = 0 ORDER BY b.code"
        ).fetchall()
        plus = conn.execute(
            "SELECT plu FROM products WHERE weighed = 1 AND status = 'active' AND plu IS NOT NULL "
            "ORDER BY plu"
        ).fetchall()
    finally:
        conn.close()
    codes = [Code(code, pid, pack) for code, pid, pack in rows]
    return (
        tuple(c for c in codes if c.pack_factor == 1),
        tuple(c for c in codes if c.pack_factor > 1),
        tuple(p for (p,) in plus),
    )
