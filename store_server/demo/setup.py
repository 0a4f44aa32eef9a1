"""Create the demo store: a generated catalog and the demo operators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from store_server.clock import Clock
from store_server.config import Config
from store_server.currencies import set_currency
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.models import Operator, Product
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.demo.catalog_generator import write_catalog_csv
from store_server.operators import upsert_operator
from store_server.product_import import import_products_csv

DEMO_OPERATORS = (
    ("1001", "收银员 小王", "cashier", "1111"),
    ("1002", "值班主管 李姐", "supervisor", "2222"),
    ("1003", "店长 张总", "admin", "3333"),
    ("1004", "理货员 小陈", "stock_clerk", "4444"),
)
DEMO_PRODUCTS = 2_000


def demo_exists(db: Database) -> bool:
    with db.read() as conn:
        products = conn.execute(select(func.count()).select_from(Product)).scalar_one()
        operators = conn.execute(select(func.count()).select_from(Operator)).scalar_one()
    return products > 0 and operators > 0


def create_demo(
    db: Database,
    config: Config,
    *,
    clock: Clock,
    products: int = DEMO_PRODUCTS,
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    migrate.upgrade(db)
    csv_path = Path(config.database).with_name("demo-catalog.csv")
    write_catalog_csv(csv_path, products)
    actor = Actor.system("storectl-demo")
    report = import_products_csv(db, csv_path, clock=clock, actor=actor, progress=progress)
    if not report.ok:  # the generator and the validator disagree: a bug, say so loudly
        raise RuntimeError(
            "demo catalog failed validation: " + "; ".join(map(str, report.errors[:5]))
        )
    with unit_of_work(db, actor, clock.now()) as uow:
        # Example rates for foreign cash; a real store gets HQ's.
        set_currency(uow, "USD", "美元", "7.1234")
        set_currency(uow, "HKD", "港币", "0.9150")
        for operator_id, name, role, pin in DEMO_OPERATORS:
            upsert_operator(
                uow,
                operator_id=operator_id,
                name=name,
                role=role,
                pin=pin,
                store_id=config.store_id,
            )


def operators_text() -> str:
    lines = ["Demo operators (operator id / PIN):"]
    lines += [f"  {oid}  {pin}  {role:<12} {name}" for oid, name, role, pin in DEMO_OPERATORS]
    return "\n".join(lines)
