"""HQ user accounts for the read side: HQ staff see every store, owners their own.

A user is identified by a bearer token that `hqctl user add` prints once;
HQ stores only its SHA-256. A token is 32 random bytes, so a fast hash is
enough (nothing to brute-force, unlike a PIN) and lookups stay one indexed
read per call.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Connection, DateTime, String, Table, select, update

from hq_link.hq.tables import metadata
from store_server.domain.errors import InvalidArgument, PermissionDenied

users = Table(
    "hq_users",
    metadata,
    Column("user_id", String(32), primary_key=True),
    Column("role", String(8), nullable=False),  # hq or owner
    Column("stores", String(2000), nullable=False),  # "S01,S02" for an owner; "" for hq
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class Role(enum.StrEnum):
    HQ = "hq"
    OWNER = "owner"


@dataclass(frozen=True, slots=True)
class HqUser:
    user_id: str
    role: Role
    stores: tuple[str, ...]

    def allowed(self, requested: Sequence[str]) -> tuple[str, ...]:
        """The stores a request may cover: () for HQ's whole chain.

        An owner naming a store outside the account is refused; naming none
        means all of theirs.
        """
        wanted = tuple(dict.fromkeys(s.strip() for s in requested if s.strip()))
        if self.role is Role.HQ:
            return wanted
        foreign = [s for s in wanted if s not in self.stores]
        if foreign:
            raise PermissionDenied(
                f"user {self.user_id} may see stores {','.join(self.stores)} only, "
                f"not {','.join(foreign)}",
                reason="OTHER_STORE",
                field="stores",
            )
        return wanted or self.stores


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_stores(text: str) -> tuple[str, ...]:
    stores = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    for s in stores:
        if not s.isalnum() or len(s) > 16:
            raise InvalidArgument("--stores", f"store id {s!r}: 1-16 letters or digits")
    return stores


def add_user(
    conn: Connection, user_id: str, role: str, stores: Sequence[str], now: datetime
) -> str:
    """Create (or replace the token and stores of) a user; returns the new token."""
    if not user_id or len(user_id) > 32 or not user_id.replace("-", "").isalnum():
        raise InvalidArgument("--id", "1-32 letters, digits or '-'")
    try:
        r = Role(role)
    except ValueError:
        raise InvalidArgument("--role", "hq or owner") from None
    if r is Role.OWNER and not stores:
        raise InvalidArgument("--stores", "an owner needs at least one store")
    token = secrets.token_urlsafe(32)
    values = {
        "role": r.value,
        "stores": ",".join(stores) if r is Role.OWNER else "",
        "token_sha256": token_hash(token),
        "created_at": now,
    }
    done = conn.execute(update(users).where(users.c.user_id == user_id).values(**values))
    if done.rowcount == 0:
        conn.execute(users.insert().values(user_id=user_id, **values))
    return token


def by_token(conn: Connection, token: str) -> HqUser | None:
    row = conn.execute(
        select(users.c.user_id, users.c.role, users.c.stores).where(
            users.c.token_sha256 == token_hash(token)
        )
    ).first()
    if row is None:
        return None
    return HqUser(row[0], Role(row[1]), tuple(s for s in row[2].split(",") if s))


def list_users(conn: Connection) -> list[HqUser]:
    return [
        HqUser(u, Role(r), tuple(s for s in st.split(",") if s))
        for u, r, st in conn.execute(
            select(users.c.user_id, users.c.role, users.c.stores).order_by(users.c.user_id)
        )
    ]


def remove_user(conn: Connection, user_id: str) -> bool:
    return conn.execute(users.delete().where(users.c.user_id == user_id)).rowcount > 0
