"""Member auth: who the member at the till is, by card, QR code or phone + PIN.

A member PIN is checked outside the write transaction (scrypt takes tens of
ms and must not hold the store's one writer); wrong PINs are counted in a
transaction of their own, so the count survives the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store_server.config import Config
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.errors import (
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unauthenticated,
)
from store_server.domain.members.identity import (
    check_card_number,
    check_member_number,
    check_phone,
)
from store_server.domain.members.qr import verify_qr
from store_server.domain.pins import LockState, check_pin_format, verify_pin
from store_server.members import records
from store_server.members.records import MemberRow


@dataclass(frozen=True, slots=True)
class Credential:
    card_no: str = ""
    qr_payload: str = ""
    phone: str = ""
    pin: str = ""
    member_id: str = ""  # staff only: never enough to spend the member's money

    @property
    def method(self) -> str:
        given = [
            name
            for name, value in (
                ("card", self.card_no),
                ("qr", self.qr_payload),
                ("phone", self.phone),
                ("member_id", self.member_id),
            )
            if value
        ]
        if len(given) != 1:
            raise InvalidArgument(
                "member", "name the member one way: card_no, qr_payload, phone + pin or member_id"
            )
        return given[0]


def resolve(
    db: Database,
    config: Config,
    cred: Credential,
    now: datetime,
    *,
    field: str = "member",
    allow_member_id: bool = False,
    need_pin: bool = False,
) -> MemberRow:
    """The active member the credential names, or a clear refusal."""
    method = cred.method
    if need_pin and method != "phone":
        raise InvalidArgument(f"{field}.pin", "this needs the member's phone and PIN")
    if method == "member_id" and not allow_member_id:
        raise InvalidArgument(f"{field}.member_id", "a card, QR code or phone + PIN is needed")
    with db.read() as conn:
        if method == "card":
            member = records.by_card(
                conn, check_card_number(cred.card_no, field=f"{field}.card_no")
            )
        elif method == "qr":
            number = verify_qr(
                config.members.qr_secret, cred.qr_payload, now=now, field=f"{field}.qr_payload"
            )
            member = records.require(conn, number)
        elif method == "member_id":
            member = records.require(
                conn, check_member_number(cred.member_id, field=f"{field}.member_id")
            )
        else:
            phone = check_phone(cred.phone, field=f"{field}.phone")
            check_pin_format(cred.pin, field=f"{field}.pin")
            member = records.by_phone(conn, phone)
    if method == "phone":
        member = _check_member_pin(db, config, member, cred.pin, now)
    assert member is not None
    check_active(member)
    return member


def check_active(member: MemberRow) -> None:
    if member.status != "active":
        raise FailedPrecondition(
            f"member {member.member_id} is {member.status}", reason="MEMBER_INACTIVE"
        )


def _check_member_pin(
    db: Database, config: Config, member: MemberRow | None, pin: str, now: datetime
) -> MemberRow:
    if member is None or member.pin_hash is None:
        # The same answer as a wrong PIN: a guesser learns nothing of who is a member.
        raise Unauthenticated("wrong phone number or member PIN", reason="BAD_MEMBER_PIN")
    pin_ok = verify_pin(pin, member.pin_hash)
    with unit_of_work(db, Actor.system("member-auth"), now) as uow:
        fresh = records.require(uow.conn, member.member_id)
        state = LockState(fresh.failed_pins, fresh.locked_until)
        locked = state.is_locked(now)
        if not locked:
            if not pin_ok:
                state = state.after_failure(now, config.members.pin_lockout)
            elif state.failed_count:
                state = LockState.cleared()
            if (state.failed_count, state.locked_until) != (fresh.failed_pins, fresh.locked_until):
                records.update_member(
                    uow.conn,
                    member.member_id,
                    failed_pins=state.failed_count,
                    locked_until=state.locked_until,
                )
            if not pin_ok and state.locked_until is not None and state.is_locked(now):
                uow.audit("member.locked", f"member:{member.member_id}")
    if locked or (not pin_ok and state.is_locked(now)):
        raise ResourceExhausted(
            "too many wrong member PINs: the card is locked for a while",
            reason="MEMBER_PIN_LOCKED",
            retry_after=state.locked_until,
        )
    if not pin_ok:
        raise Unauthenticated("wrong phone number or member PIN", reason="BAD_MEMBER_PIN")
    return fresh
