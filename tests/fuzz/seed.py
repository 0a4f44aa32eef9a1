"""A store with something of everything, and the ids the fuzzer aims at.

Built once per session through the real RPCs (two tills, a handheld, a member
with balances, a sale, a return, a promotion, a stocktake), then copied for
each fuzzed RPC, so every RPC meets the same populated store and hostile
requests can name real ids: another till's basket, another member's card.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.operators import upsert_operator
from tests.support import catalog_fixture as cf
from tests.support.server import DEADLINE, RunningStore, start_store
from tillpoint.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    common_pb2,
    members_pb2,
    members_pb2_grpc,
    promotions_pb2,
    promotions_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
    stock_pb2,
    stock_pb2_grpc,
)

PHONE = "13800138000"
OTHER_PHONE = "13900139000"
MEMBER_PIN = "246810"
ADMIN = ("1003", "3333", "till-01")
CASHIER = ("1001", "1111", "till-02")
CLERK = ("1004", "4444", "hh-01")
PROMOTION = {
    "promo_id": "fuzz-half",
    "name": "第二件半价",
    "group": "",
    "priority": 0,
    "rule": {"type": "nth_percent", "nth": 2, "percent_bp": 5000},
    "scope": {"product_ids": [1], "categories": []},
    "schedule": {"days_of_week": [], "time_from": "08:00"},
}


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Pools:
    """Real ids in the seeded store, by the request field names that carry them."""

    by_field: dict[str, list] = field(default_factory=dict)
    # Call metadata of the seeded sessions (tokens live in the database, so
    # they work on every copy of it): admin, cashier, clerk.
    logins: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, name: str, *values: object) -> None:
        bucket = self.by_field.setdefault(name, [])
        bucket.extend(v for v in values if v not in bucket)

    def get(self, name: str) -> list:
        return self.by_field.get(name, [])


def _money(fen: int) -> common_pb2.Money:
    return common_pb2.Money(fen=fen)


def seed(template: Path, directory: Path) -> tuple[Path, Pools]:
    """Populate a copy of the test template through the RPCs; return its file and ids."""
    store = start_store(template, directory)
    try:
        pools = _populate(store)
    finally:
        store.channel.close()
        store.store.stop(grace=1.0)
    return directory / "store.db", pools


def _populate(store: RunningStore) -> Pools:
    with unit_of_work(store.db, Actor.system("fuzz"), store.clock.now()) as uow:
        upsert_operator(
            uow, operator_id="1004", name="理货员", role="stock_clerk", pin="4444", store_id="S01"
        )
    admin = store.login(*ADMIN)
    cashier = store.login(*CASHIER)
    ch = store.channel
    sales = sales_pb2_grpc.SalesServiceStub(ch)
    members = members_pb2_grpc.MemberServiceStub(ch)
    catalog = catalog_pb2_grpc.CatalogServiceStub(ch)
    stock = stock_pb2_grpc.StockServiceStub(ch)
    stocktake = stock_pb2_grpc.StocktakeServiceStub(ch)
    promos = promotions_pb2_grpc.PromotionServiceStub(ch)
    pools = Pools()

    def call(method, request, md=admin):
        return method(request, metadata=md, timeout=DEADLINE)

    with store.db.read() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM products ORDER BY id LIMIT 8"))]
    products = [call(catalog.GetProduct, catalog_pb2.GetProductRequest(product_id=i)) for i in ids]
    pools.add("product_id", *(p.product_id for p in products[:8]))
    pools.add("sku", *(p.sku for p in products[:4]))
    pools.add("code", cf.COKE_CAN, cf.COKE_CASE, cf.WATER, cf.UPC_CHIPS, cf.NOODLES, "1001")

    for md in (admin, cashier):
        call(
            sales.OpenShift, sales_pb2.OpenShiftRequest(shift_id=new_id(), float=_money(50_000)), md
        )

    # A member with stored value, a count card and a coupon; a second member.
    member = call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(
            registration_id=new_id(),
            phone=PHONE,
            name="王小明",
            birthday="1990-03-04",
            pin=MEMBER_PIN,
        ),
    )
    other = call(
        members.RegisterMember,
        members_pb2.RegisterMemberRequest(
            registration_id=new_id(), phone=OTHER_PHONE, name="李四", pin=MEMBER_PIN
        ),
    )
    cred = members_pb2.MemberCredential(member_id=member.member_id)
    cash = members_pb2.DepositPayment(kind="cash")
    call(
        members.TopUp,
        members_pb2.TopUpRequest(
            topup_id=new_id(), member=cred, amount=_money(10_000), payment=cash
        ),
    )
    card_id = new_id()
    call(
        members.SellCountCard,
        members_pb2.SellCountCardRequest(
            card_id=card_id,
            member=cred,
            product_id=products[0].product_id,
            uses=5,
            price=_money(1_000),
            payment=cash,
        ),
    )
    coupon = call(
        members.IssueCoupon,
        members_pb2.IssueCouponRequest(
            coupon_id=new_id(),
            member_id=member.member_id,
            campaign="fuzz",
            definition=json.dumps({"name": "5元券", "rule": {"type": "coupon", "amount_fen": 500}}),
            valid_from="2026-11-01",
            valid_until="2026-12-31",
        ),
    )
    qr = call(members.IssueQrCode, members_pb2.MemberCredential(phone=PHONE, pin=MEMBER_PIN))
    pools.add("member_id", member.member_id, other.member_id)
    pools.add("card_no", member.card_no, other.card_no)
    pools.add("phone", PHONE, OTHER_PHONE)
    pools.add("pin", MEMBER_PIN, "1111", "3333")
    pools.add("qr_payload", qr.payload)
    pools.add("card_id", card_id)
    pools.add("reference", card_id, "C-0001")
    pools.add("coupon_id", coupon.coupon_id)

    # A committed sale with a member, then a partial return of it.
    basket_id = new_id()
    call(sales.CreateBasket, sales_pb2.CreateBasketRequest(basket_id=basket_id))
    basket = None
    for code in (cf.COKE_CAN, cf.WATER):
        basket = call(
            sales.AddItem,
            sales_pb2.AddItemRequest(basket_id=basket_id, line_id=new_id(), code=code),
        )
    card = members_pb2.MemberCredential(card_no=member.card_no)
    call(sales.AttachMember, sales_pb2.AttachMemberRequest(basket_id=basket_id, member=card))
    basket = call(sales.TotalBasket, sales_pb2.BasketRef(basket_id=basket_id))
    sale = call(
        sales.CommitSale,
        sales_pb2.CommitSaleRequest(
            sale_id=new_id(),
            basket_id=basket_id,
            payments=[sales_pb2.Payment(kind=sales_pb2.TENDER_KIND_CASH, amount=basket.total)],
        ),
    )
    returned = call(
        sales.ReturnItems,
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=sale.receipt_no,
            reason="破损",
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    pools.add("sale_id", sale.sale_id)
    pools.add("receipt_no", sale.receipt_no, returned.receipt_no)
    pools.add("return_id", returned.return_id)
    pools.add("business_day", sale.receipt.business_day)

    # Open baskets: the admin's own (with lines), a held one, and the cashier's
    # on another till (hostile requests name it).
    for md, hold in ((admin, False), (admin, True), (cashier, False)):
        bid = new_id()
        call(sales.CreateBasket, sales_pb2.CreateBasketRequest(basket_id=bid), md)
        for code in (cf.COKE_CAN, cf.NOODLES):
            lid = new_id()
            call(
                sales.AddItem,
                sales_pb2.AddItemRequest(basket_id=bid, line_id=lid, code=code),
                md,
            )
            pools.add("line_id", lid)
        if hold:
            call(sales.HoldBasket, sales_pb2.BasketRef(basket_id=bid), md)
        pools.add("basket_id", bid)

    # Stock: a supplier, a rule, a delivery; a promotion; a stocktake with counts.
    call(
        stock.UpsertSupplier,
        stock_pb2.UpsertSupplierRequest(
            supplier=stock_pb2.Supplier(supplier_id="SUP1", name="可口可乐公司", lead_days=2)
        ),
    )
    call(
        stock.SetStockRule,
        stock_pb2.SetStockRuleRequest(
            rule=stock_pb2.StockRule(
                product_id=products[0].product_id,
                supplier_id="SUP1",
                min_milli=10_000,
                max_milli=50_000,
                pack_milli=24_000,
            )
        ),
    )
    delivery_id = new_id()
    call(
        stock.ReceiveDelivery,
        stock_pb2.ReceiveDeliveryRequest(
            delivery_id=delivery_id,
            supplier_id="SUP1",
            reference="DN-1",
            lines=[stock_pb2.StockLineInput(code=cf.COKE_CASE, quantity_milli=2000)],
        ),
    )
    pools.add("supplier_id", "SUP1")
    pools.add("delivery_id", delivery_id)
    promo = call(
        promos.CreatePromotion,
        promotions_pb2.CreatePromotionRequest(definition_json=json.dumps(PROMOTION)),
    )
    pools.add("promo_id", promo.promo_id)
    pools.add("definition_json", json.dumps(PROMOTION, ensure_ascii=False))
    session_id = new_id()
    call(
        stocktake.OpenSession,
        stock_pb2.OpenSessionRequest(session_id=session_id, name="全店盘点"),
    )
    count_id = new_id()
    call(
        stocktake.SendCounts,
        stock_pb2.CountBatch(
            session_id=session_id,
            counts=[
                stock_pb2.Count(count_id=count_id, zone="A1", code=cf.WATER, quantity_milli=3000)
            ],
        ),
    )
    pools.add("session_id", session_id)
    pools.add("count_id", count_id)
    pools.add("replaces_count_id", count_id)
    pools.add("operator_id", "1001", "1002", "1003", "1004")
    pools.add("device_id", "till-01", "till-02", "hh-01")
    pools.add("store_id", "S01", "S02")
    pools.add("currency", "USD", "HKD", "CNY", "XXX")
    pools.add("kinds", "summary", "hourly", "cashier", "tender", "products")
    pools.logins = {"admin": admin, "cashier": cashier, "clerk": store.login(*CLERK)}
    return pools
