"""积分兑换: a member takes a gift from the gift catalog for points; the stock moves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from store_server.config import Config
from store_server.db import stock_repo
from store_server.db.member_models import PointsEntry, PointsGift
from store_server.db.unit_of_work import UnitOfWork
from store_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from store_server.domain.ids import check_uuid
from store_server.domain.members import points as points_rules
from store_server.members import ledger, records
from store_server.members.credentials import check_active
from store_server.members.ledger import Source


@dataclass(frozen=True, slots=True)
class GiftRedemption:
    redemption_id: str
    points: int
    member: records.MemberRow


def redeem_gift(
    uow: UnitOfWork,
    config: Config,
    *,
    redemption_id: str,
    member_id: str,
    product_id: int,
    quantity: int,
) -> GiftRedemption:
    redemption_id = check_uuid(redemption_id, "redemption_id")
    if not 0 < quantity <= 100:
        raise InvalidArgument("quantity", "1 to 100")
    done = uow.conn.execute(
        select(PointsEntry.points).where(
            PointsEntry.source_kind == "gift", PointsEntry.source_id == redemption_id
        )
    ).scalar()
    if done is not None:
        return GiftRedemption(redemption_id, -done, records.require(uow.conn, member_id))
    price = uow.conn.execute(
        select(PointsGift.points).where(PointsGift.product_id == product_id)
    ).scalar()
    if price is None:
        raise NotFound(f"product {product_id} is not in the gift catalog", reason="NOT_A_GIFT")
    member = records.require(uow.conn, member_id)
    check_active(member)
    points = price * quantity
    if points > member.points:
        raise FailedPrecondition(
            f"the member has {member.points} points, the gift needs {points}",
            reason="INSUFFICIENT_POINTS",
        )
    today = uow.now.astimezone(config.zone).date()
    taken = points_rules.consume(ledger.lots(uow, member_id), points, today=today)
    ledger.take_from_lots(uow, taken)
    source = Source("gift", redemption_id)
    ledger.points_entry(uow, config.store_id, member_id, "gift", -points, source)
    stock_repo.record(
        uow.conn,
        [(product_id, -quantity * 1000)],
        kind="points_gift",
        source_id=redemption_id,
        at=uow.now,
    )
    uow.audit(
        "member.gift",
        f"member:{member_id}",
        detail={"redemption_id": redemption_id, "product_id": product_id, "points": points},
    )
    return GiftRedemption(redemption_id, points, records.require(uow.conn, member_id))


def set_gift(uow: UnitOfWork, product_id: int, points: int) -> None:
    """Put a product in the gift catalog at a price in points (0 takes it out)."""
    table = PointsGift.__table__
    uow.conn.execute(table.delete().where(table.c.product_id == product_id))
    if points > 0:
        uow.conn.execute(table.insert(), {"product_id": product_id, "points": points})
    uow.change("points_gift", str(product_id), {"points": points})
