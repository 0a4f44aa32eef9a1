"""The offline floor limit at a sale's commit (domain rule: domain.members.offline_limit).

Runs in the sale's transaction, only for a member registered at another
store who pays by stored value: reads when HQ last answered and what was
already spent offline today, and says whether the spend is flagged.
"""

from __future__ import annotations

from store_server.config import Config
from store_server.db import fast
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.business_day import business_day
from store_server.domain.errors import FailedPrecondition
from store_server.domain.members.offline_limit import (
    OfflineLimits,
    OfflineSpend,
    check_offline_spend,
    is_foreign,
    is_offline,
)
from store_server.members.hq_contact import read_last_contact
from store_server.members.records import MemberRow

# Offline spends are negative entries: their sum negated is what was spent.
_SPENT = (
    "SELECT COALESCE(-SUM(paid_fen + bonus_fen), 0) FROM stored_value_entries"
    " WHERE offline_day = ? AND store_id = ? AND kind = 'spend'"
)


def limits(config: Config) -> OfflineLimits:
    m = config.members
    return OfflineLimits(
        member_day_fen=m.offline_floor_limit_fen,
        store_day_fen=m.offline_store_limit_fen,
        offline_after_seconds=m.offline_after_seconds,
        max_offline_seconds=m.offline_max_seconds,
    )


def offline_day_for_spend(
    uow: UnitOfWork, config: Config, member: MemberRow, amount_fen: int
) -> str | None:
    """None when the spend is an ordinary one; the business day (to flag the
    entry with) when it is let through offline; FailedPrecondition past a cap."""
    if not is_foreign(member.home_store, config.store_id):
        return None
    rules = limits(config)
    last = read_last_contact(uow.conn.connection.driver_connection)
    if not is_offline(last, uow.now, rules):
        return None
    day = business_day(uow.now, config.zone, config.business_day_cutover_hour).isoformat()
    store = config.store_id
    member_spent = fast.execute(
        uow.conn, _SPENT + " AND member_id = ?", (day, store, member.member_id)
    )
    store_spent = fast.execute(uow.conn, _SPENT, (day, store))
    check_offline_spend(
        OfflineSpend(
            amount_fen=amount_fen,
            member_spent_today_fen=int(member_spent[0][0]),
            store_spent_today_fen=int(store_spent[0][0]),
        ),
        last_contact=last,
        now=uow.now,
        limits=rules,
    )
    return day


def refuse_offline_cash_out(uow: UnitOfWork, config: Config, member: MemberRow) -> None:
    """退卡 pays out the whole balance in cash: for a member of another store it
    needs HQ's word on that balance, so it waits until the link is back."""
    if not is_foreign(member.home_store, config.store_id):
        return
    last = read_last_contact(uow.conn.connection.driver_connection)
    if is_offline(last, uow.now, limits(config)):
        raise FailedPrecondition(
            "HQ is unreachable: the stored value of a member of another store can be paid "
            "back only when the link is back (总部连接中断，外店会员暂不能退卡)",
            reason="OFFLINE_NO_REFUND",
        )
