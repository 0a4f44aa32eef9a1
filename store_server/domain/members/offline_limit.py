"""The offline floor limit (一卡通 while HQ is unreachable).

HQ is the authority for cross-store balances. While a store cannot reach it,
the store's copy of a member registered elsewhere may be stale: the member may
be spending the same stored value at another store right now. Like a payment
terminal's store-and-forward limits, the store then lets such a member spend
only small amounts, under three caps (ARCHITECTURE §11): per member per
business day, the store's total per business day, and not at all once HQ has
been unreachable for too long. Spends let through are flagged, and HQ
reports members they drove below zero.

Pure: the caller reads the figures (fen) in the sale's transaction and passes
the time in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store_server.domain.errors import FailedPrecondition


@dataclass(frozen=True, slots=True)
class OfflineLimits:
    member_day_fen: int  # per member per business day
    store_day_fen: int  # the store's total per business day
    offline_after_seconds: int  # no contact with HQ for longer than this: offline
    max_offline_seconds: int  # unreachable for longer than this: no offline spending


@dataclass(frozen=True, slots=True)
class OfflineSpend:
    """A stored-value spend of a foreign member at this store, with what it is checked on."""

    amount_fen: int
    member_spent_today_fen: int  # this member's offline spends at this store today
    store_spent_today_fen: int  # every member's offline spends at this store today


def is_foreign(home_store: str, store_id: str) -> bool:
    """A member registered at another store (only such members are limited)."""
    return home_store != store_id


def offline_for(last_contact: datetime | None, now: datetime) -> float | None:
    """Seconds since the last contact with HQ; None if there never was one."""
    if last_contact is None:
        return None
    return max(0.0, (now - last_contact).total_seconds())


def is_offline(last_contact: datetime | None, now: datetime, limits: OfflineLimits) -> bool:
    """No contact with HQ (ever, or for longer than `offline_after_seconds`)."""
    seconds = offline_for(last_contact, now)
    return seconds is None or seconds > limits.offline_after_seconds


def check_offline_spend(
    spend: OfflineSpend,
    *,
    last_contact: datetime | None,
    now: datetime,
    limits: OfflineLimits,
) -> None:
    """Raise FailedPrecondition if an offline spend of a foreign member passes a cap.

    Call only when the store is offline (`is_offline`) and the member foreign.
    """
    seconds = offline_for(last_contact, now)
    if seconds is None or seconds > limits.max_offline_seconds:
        raise FailedPrecondition(
            "HQ has been unreachable too long: a member of another store cannot pay by "
            "stored value here until the link is back (总部连接中断过久，外店会员暂不能使用储值)",
            reason="OFFLINE_TOO_LONG",
        )
    member_left = limits.member_day_fen - spend.member_spent_today_fen
    if spend.amount_fen > member_left:
        raise FailedPrecondition(
            f"HQ is unreachable: a member of another store may spend at most "
            f"{limits.member_day_fen} fen of stored value here today, {max(member_left, 0)} fen "
            f"left, {spend.amount_fen} fen asked (离线限额)",
            reason="OFFLINE_LIMIT",
        )
    store_left = limits.store_day_fen - spend.store_spent_today_fen
    if spend.amount_fen > store_left:
        raise FailedPrecondition(
            f"HQ is unreachable: this store's offline stored-value spending of members of "
            f"other stores is capped at {limits.store_day_fen} fen a day, {max(store_left, 0)} "
            f"fen left, {spend.amount_fen} fen asked (门店离线总限额)",
            reason="OFFLINE_STORE_LIMIT",
        )
