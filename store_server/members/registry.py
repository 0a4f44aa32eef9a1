"""Registration, member auth, QR codes, card loss and replacement.

Personal data stays out of the audit log and the change log's audit view:
entries name the member number, and a phone only ever masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select

from store_server.auth import Principal
from store_server.clock import Clock
from store_server.config import Config
from store_server.db import fast
from store_server.db.database import Database
from store_server.db.member_models import Member, MemberCard, MemberPhoto
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.errors import AlreadyExists, InvalidArgument, PermissionDenied
from store_server.domain.ids import check_uuid
from store_server.domain.members.identity import (
    check_card_number,
    check_name,
    check_phone,
    check_photo,
    mask_phone,
    member_number,
    parse_birthday,
    store_code,
)
from store_server.domain.members.qr import sign_qr
from store_server.domain.members.tiers import tier_by_code
from store_server.domain.permissions import Permission
from store_server.domain.pins import check_pin_format, hash_pin
from store_server.members import records
from store_server.members.book import MemberBook
from store_server.members.coupons import issue_birthday_coupon
from store_server.members.credentials import Credential, resolve
from store_server.members.queries import CountCardView, count_cards
from store_server.members.records import MemberRow

_MEMBERS = Member.__table__
_CARDS = MemberCard.__table__


@dataclass(frozen=True, slots=True)
class Registration:
    registration_id: str
    phone: str
    name: str
    birthday: str = ""
    card_no: str = ""
    pin: str = ""
    photo: bytes = b""
    tier: str = ""
    card_discount_bp: int = 0


class Members:
    def __init__(self, db: Database, config: Config, clock: Clock, book: MemberBook) -> None:
        self._db = db
        self._cfg = config
        self._clock = clock
        self.book = book

    @property
    def config(self) -> Config:
        return self._cfg

    def uow(self, who: Principal | Actor, now: datetime | None = None):
        actor = who if isinstance(who, Actor) else Actor(who.operator_id, who.device_id)
        return unit_of_work(self._db, actor, now or self._clock.now())

    def read(self):
        return self._db.read()

    def today(self) -> date:
        return self._clock.now().astimezone(self._cfg.zone).date()

    # -- registration ---------------------------------------------------------

    def register(self, who: Principal | Actor, reg: Registration) -> MemberRow:
        """A new member (or, for a replayed registration id, the one it made)."""
        reg_id = check_uuid(reg.registration_id, "registration_id")
        now = self._clock.now()
        today = now.astimezone(self._cfg.zone).date()
        phone = check_phone(reg.phone)
        name = check_name(reg.name)
        birthday = parse_birthday(reg.birthday, today=today)
        card_no = check_card_number(reg.card_no) if reg.card_no else ""
        if reg.pin:
            check_pin_format(reg.pin)
        photo_type = (
            check_photo(reg.photo, max_bytes=self._cfg.members.photo_max_bytes) if reg.photo else ""
        )
        tiers = self._cfg.members.tiers
        tier = reg.tier or min(tiers, key=lambda t: t.rank).code
        if tier not in {t.code for t in tiers}:
            raise InvalidArgument("tier", f"unknown tier {tier!r}")
        if not 0 <= reg.card_discount_bp <= 5_000:
            raise InvalidArgument("card_discount_bp", "0 to 5000 (50%)")
        pin_hash = hash_pin(reg.pin) if reg.pin else None  # slow: outside the writer
        with self.uow(who, now) as uow:
            done = fast.execute(
                uow.conn, "SELECT member_id FROM members WHERE registration_id = ?", (reg_id,)
            )
            if done:
                return records.require(uow.conn, done[0][0])
            if records.by_phone(uow.conn, phone) is not None:
                raise AlreadyExists("a member with this phone exists", reason="PHONE_TAKEN")
            seq = uow.next_value("member-number")
            member_id = member_number(store_code(self._cfg.store_id), seq)
            card_no = card_no or member_id
            _check_card_free(uow.conn, card_no)
            uow.conn.execute(
                _MEMBERS.insert(),
                {
                    "member_id": member_id,
                    "registration_id": reg_id,
                    "card_no": card_no,
                    "phone": phone,
                    "name": name,
                    "birthday": birthday,
                    "tier": tier,
                    "status": "active",
                    "pin_hash": pin_hash,
                    "failed_pins": 0,
                    "card_discount_bp": reg.card_discount_bp,
                    "home_store": self._cfg.store_id,
                    "created_at": now,
                },
            )
            uow.conn.execute(
                _CARDS.insert(),
                {"card_no": card_no, "member_id": member_id, "status": "active", "issued_at": now},
            )
            if photo_type:
                uow.conn.execute(
                    MemberPhoto.__table__.insert(),
                    {"member_id": member_id, "content_type": photo_type, "data": reg.photo},
                )
            uow.audit(
                "member.register",
                f"member:{member_id}",
                detail={"phone": mask_phone(phone), "tier": tier},
            )
            # Replicated to HQ in full: HQ keeps the chain's member master, and
            # the other stores get it from HQ (一卡通), so the PIN's hash (scrypt,
            # never the PIN) travels too: phone + PIN works at every store.
            uow.change(
                "member",
                member_id,
                {
                    "member_id": member_id,
                    "card_no": card_no,
                    "phone": phone,
                    "name": name,
                    "birthday": birthday.isoformat() if birthday else None,
                    "tier": tier,
                    "home_store": self._cfg.store_id,
                    "pin_hash": pin_hash,
                    "card_discount_bp": reg.card_discount_bp,
                    "status": "active",
                    "created_at": now.isoformat(),
                },
            )
            return records.require(uow.conn, member_id)

    # -- member auth ------------------------------------------------------------

    def identify(
        self, who: Principal | Actor, cred: Credential, *, allow_member_id: bool = True
    ) -> MemberRow:
        now = self._clock.now()
        member = resolve(self._db, self._cfg, cred, now, allow_member_id=allow_member_id)
        return self._birthday(who, member, now)

    def for_spending(self, who: Principal | Actor, cred: Credential, *, field: str) -> MemberRow:
        """A member who may spend their balances: card, QR or phone + PIN, never a bare id."""
        now = self._clock.now()
        member = resolve(self._db, self._cfg, cred, now, field=field)
        return self._birthday(who, member, now)

    def _birthday(self, who: Principal | Actor, member: MemberRow, now: datetime) -> MemberRow:
        """In the birthday month, the first visit of the year brings the birthday coupon."""
        today = now.astimezone(self._cfg.zone).date()
        if (
            member.birthday is None
            or member.birthday.month != today.month
            or member.birthday_coupon_year >= today.year
        ):
            return member
        with self.uow(who, now) as uow:
            fresh = records.require(uow.conn, member.member_id)
            if fresh.birthday_coupon_year < today.year:
                issue_birthday_coupon(uow, self._cfg, fresh, today)
            return records.require(uow.conn, member.member_id)

    def issue_qr(self, cred: Credential) -> tuple[str, datetime]:
        now = self._clock.now()
        member = resolve(self._db, self._cfg, cred, now, need_pin=True)
        ttl = self._cfg.members.qr_ttl
        return sign_qr(self._cfg.members.qr_secret, member.member_id, now=now, ttl=ttl), now + ttl

    # -- card loss and replacement ------------------------------------------------

    def report_lost(self, who: Principal, cred: Credential) -> MemberRow:
        """挂失: by the member (phone + PIN) or by staff with member_manage (member id)."""
        now = self._clock.now()
        by_staff = bool(cred.member_id)
        if by_staff and not who.can(Permission.MEMBER_MANAGE):
            raise PermissionDenied(
                "reporting a card lost for a member needs member_manage",
                reason="MISSING_PERMISSION",
            )
        member = resolve(
            self._db, self._cfg, cred, now, allow_member_id=by_staff, need_pin=not by_staff
        )
        with self.uow(who, now) as uow:
            uow.conn.execute(
                _CARDS.update()
                .where(_CARDS.c.member_id == member.member_id, _CARDS.c.status == "active")
                .values(status="lost", ended_at=now)
            )
            uow.audit(
                "member.card_lost",
                f"member:{member.member_id}",
                detail={"by": "staff" if by_staff else "member"},
            )
            uow.change(
                "member_card", member.card_no, {"member_id": member.member_id, "status": "lost"}
            )
            uow.after_commit(lambda: self.book.forget(member.member_id))
            return records.require(uow.conn, member.member_id)

    def replace_card(self, who: Principal, member_id: str, new_card_no: str) -> MemberRow:
        """补卡: the new card takes over balances, history and tier (they are the member's)."""
        new_card_no = check_card_number(new_card_no, field="new_card_no")
        now = self._clock.now()
        with self.uow(who, now) as uow:
            member = records.require(uow.conn, member_id)
            old = member.card_no
            if new_card_no == old:
                raise InvalidArgument("new_card_no", "that is the member's current card")
            uow.conn.execute(
                _CARDS.update()
                .where(_CARDS.c.member_id == member_id, _CARDS.c.status == "active")
                .values(status="replaced", ended_at=now)
            )
            _check_card_free(uow.conn, new_card_no)
            uow.conn.execute(
                _CARDS.insert(),
                {
                    "card_no": new_card_no,
                    "member_id": member_id,
                    "status": "active",
                    "issued_at": now,
                },
            )
            records.update_member(uow.conn, member_id, card_no=new_card_no)
            uow.audit(
                "member.card_replaced",
                f"member:{member_id}",
                detail={"old_card": old[-4:], "new_card": new_card_no[-4:]},
            )
            uow.change(
                "member_card",
                new_card_no,
                {"member_id": member_id, "status": "active", "replaces": old},
            )
            uow.after_commit(lambda: self.book.forget(member_id))
            return records.require(uow.conn, member_id)

    # -- what a screen shows --------------------------------------------------------

    def screen_facts(self, member_id: str) -> tuple[int, bool, list[CountCardView]]:
        """(usable coupons, has a photo, count cards): what every member auth shows.

        One read transaction and plain DB-API (see records.py): each transaction
        costs ~0.13 ms of CPU, and this runs on every member auth (members_bench).
        """
        today = self.today().isoformat()
        with self._db.read() as conn:
            coupons = fast.execute(
                conn,
                "SELECT count(*) FROM member_coupons WHERE member_id = ?"
                " AND status = 'issued' AND valid_from <= ? AND valid_until >= ?",
                (member_id, today, today),
            )[0][0]
            photo = fast.execute(
                conn, "SELECT 1 FROM member_photos WHERE member_id = ?", (member_id,)
            )
            cards = count_cards(conn, member_id)
        return int(coupons), bool(photo), cards

    def tier_name(self, member: MemberRow) -> str:
        return tier_by_code(self._cfg.members.tiers, member.tier).name


def _check_card_free(conn: Connection, card_no: str) -> None:
    """A card number is never given out twice, not even a lost card's."""
    taken = conn.execute(select(MemberCard.card_no).where(MemberCard.card_no == card_no)).first()
    if taken is not None:
        raise AlreadyExists("this card number is taken", reason="CARD_TAKEN")
