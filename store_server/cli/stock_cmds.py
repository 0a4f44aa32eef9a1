"""storectl stock ... and storectl stocktake ...: the stock office from a shell.

Writes go through the same units of work as the gRPC services (audited as
operator `storectl`), so a running server and storectl may both be used.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import time
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path

from store_server.clock import SystemClock
from store_server.config import Config
from store_server.db import fast, migrate, stock_repo
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.errors import InvalidArgument, NotFound
from store_server.domain.money import format_yuan, parse_yuan
from store_server.stock import documents, replenishment, sessions, variances
from store_server.stock.lines import LineInput

ACTOR = Actor.system("storectl")


def _milli(text: str, field: str) -> int:
    try:
        value = Decimal(text.strip()) * 1000
    except InvalidOperation as exc:
        raise InvalidArgument(field, f"not a number: {text!r}") from exc
    if value != value.to_integral_value():
        raise InvalidArgument(field, "at most three decimals")
    return int(value)


def _qty(milli: int) -> str:
    return (
        f"{Decimal(milli) / 1000:f}".rstrip("0").rstrip(".") if milli % 1000 else str(milli // 1000)
    )


def _bar(stage: str, done: int, total: int, started: float = 0.0) -> None:
    width = 30
    filled = width * done // total if total else width
    elapsed = f" {time.perf_counter() - started:5.1f} s" if started else ""
    print(
        f"\r  {stage:<20} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}{elapsed}",
        end="\n" if done >= total else "",
        file=sys.stderr,
        flush=True,
    )


def cmd_rebuild(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    with db.write() as conn:
        before = stock_repo.mismatches(conn)
        cached = stock_repo.rebuild(conn)
    for pid, old, new in before[:20]:
        print(f"  product {pid}: cache said {_qty(old)}, movements say {_qty(new)}")
    print(f"on-hand rebuilt from the movements: {cached:,} products, {len(before)} corrected")
    return 0


def cmd_check(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        wrong = stock_repo.mismatches(conn)
    for pid, old, new in wrong[:20]:
        print(f"  product {pid}: cache {_qty(old)}, movements {_qty(new)}")
    print(f"{len(wrong)} product(s) whose cached on-hand differs from the movements")
    return 1 if wrong else 0


def cmd_supplier(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        replenishment.upsert_supplier(uow, args.supplier_id, args.name, args.lead_days)
    print(f"supplier {args.supplier_id} {args.name}: {args.lead_days} lead day(s)")
    return 0


def cmd_rule(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        rows = fast.execute(uow.conn, "SELECT id FROM products WHERE sku = ?", (args.sku,))
        if not rows:
            raise NotFound(f"no product with SKU {args.sku}", reason="UNKNOWN_PRODUCT")
        replenishment.set_rule(
            uow,
            product_id=rows[0][0],
            supplier_id=args.supplier,
            min_milli=_milli(args.min, "--min"),
            max_milli=_milli(args.max, "--max"),
            pack_milli=_milli(args.pack, "--pack"),
            lead_days=args.lead_days,
        )
    print(f"{args.sku}: min {args.min}, max {args.max}, ordered in packs of {args.pack}")
    return 0


def cmd_receive(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    """A delivery note as CSV: code (barcode) or product_id, quantity, optional cost in yuan."""
    migrate.upgrade(db)
    path = Path(args.file)
    lines = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            where = f"row {n}"
            pid = (row.get("product_id") or "").strip()
            lines.append(
                LineInput(
                    product_id=int(pid) if pid.isdigit() else 0,
                    code=(row.get("code") or row.get("barcode") or "").strip(),
                    quantity_milli=_milli(row.get("quantity") or "", f"{where}, quantity"),
                    unit_cost_fen=parse_yuan(row["cost"], field=f"{where}, cost")
                    if (row.get("cost") or "").strip()
                    else 0,
                )
            )
    # The same file for the same delivery note is the same document: running it twice
    # receives once.
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    delivery_id = args.delivery_id or str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"tillpoint:{args.supplier}:{args.reference}:{digest}")
    )
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        doc = documents.receive(
            uow,
            delivery_id=delivery_id,
            supplier_id=args.supplier,
            reference=args.reference,
            lines=lines,
        )
    total = sum(ln.quantity_milli for ln in doc.lines)
    print(f"delivery {doc.doc_id}: {len(doc.lines)} line(s), {_qty(total)} units received")
    return 0


def cmd_low(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        levels = replenishment.low_stock(conn)
    for lv in levels:
        print(
            f"{lv.sku:<10} {lv.name:<24} 库存 {_qty(lv.on_hand_milli):>8}  下限 "
            f"{_qty(lv.min_milli):>6}  在途 {_qty(lv.on_order_milli)}"
        )
    print(f"{len(levels)} product(s) below their minimum")
    return 0


def cmd_suggest(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        drafts = replenishment.suggestions(conn, SystemClock().now(), args.window_days)
        names = replenishment.supplier_names(conn)
    for supplier, lines in sorted(drafts.items()):
        print(f"草稿采购单 draft order: {supplier} {names.get(supplier, '')}")
        for s in lines:
            print(f"  product {s.product_id:>7}  order {_qty(s.quantity_milli):>8}")
    print(f"{len(drafts)} draft order(s)")
    return 0


def cmd_st_open(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        view = sessions.open_session(
            uow,
            session_id=args.session_id or str(uuid.uuid4()),
            name=args.name,
            categories=args.category,
            zones=args.zone,
            uncounted_zero=args.uncounted_zero,
            recount_threshold_milli=_milli(args.recount_threshold, "--recount-threshold"),
        )
    print(f"stocktake {view.session_id} open: {view.name}")
    return 0


def cmd_st_list(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        views = [
            sessions.get(conn, v.session_id, with_counts=True)
            for v in sessions.listing(conn, include_closed=True)
        ]
    for v in views:
        scope = ",".join(v.categories) or "全店 whole store"
        print(f"{v.session_id}  {v.status:<7} {v.counts:>8,} counts  {v.name}  [{scope}]")
    return 0


def cmd_st_close(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        view = sessions.close(uow, args.session_id)
    print(f"stocktake {view.session_id} {view.status}: {view.counts:,} counts")
    return 0


def cmd_st_report(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        lines, categories = variances.report(conn, args.session_id, nonzero_only=args.nonzero)
    for ln in lines[: args.limit]:
        print(
            f"{ln.sku:<10} {ln.name:<24} 实盘 {_qty(ln.counted_milli):>8} 账面 "
            f"{_qty(ln.expected_milli):>8} 差异 {_qty(ln.variance_milli):>7} "
            f"{format_yuan(ln.variance_cost_fen):>10}"
        )
    for cat, (qty, fen, n) in sorted(categories.items()):
        print(f"  {cat:<12} {n:>7,} products  差异 {_qty(qty):>8}  {format_yuan(fen):>12}")
    print(f"total variance {format_yuan(sum(f for _, f, _ in categories.values()))}")
    return 0


def cmd_st_post(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with unit_of_work(db, ACTOR, SystemClock().now()) as uow:
        result = variances.post(uow, args.session_id, lambda s, d, t: _bar(s, d, t, started))
    print(
        f"stocktake {result.session_id} posted in {time.perf_counter() - started:.1f} s: "
        f"{result.products_counted:,} products counted, {result.products_adjusted:,} adjusted, "
        f"variance {_qty(result.variance_milli)} units, {format_yuan(result.variance_cost_fen)}"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `stock` and `stocktake` to storectl."""
    stock = sub.add_parser("stock", help="stock: on-hand, receiving, replenishment").add_subparsers(
        dest="stock_cmd", required=True
    )
    rb = stock.add_parser("rebuild", help="recompute the on-hand cache from the movements")
    rb.set_defaults(fn=cmd_rebuild)
    stock.add_parser("check", help="compare the on-hand cache with the movements").set_defaults(
        fn=cmd_check
    )
    sup = stock.add_parser("supplier", help="add or update a supplier")
    sup.add_argument("supplier_id")
    sup.add_argument("name")
    sup.add_argument("--lead-days", type=int, default=2)
    sup.set_defaults(fn=cmd_supplier)
    rule = stock.add_parser("rule", help="min/max (库存上下限) and pack size of a product")
    rule.add_argument("sku")
    rule.add_argument("--supplier", default="")
    rule.add_argument("--min", required=True, help="units")
    rule.add_argument("--max", required=True, help="units")
    rule.add_argument("--pack", default="1", help="the supplier's pack, units (e.g. 24)")
    rule.add_argument("--lead-days", type=int, help="default: the supplier's")
    rule.set_defaults(fn=cmd_rule)
    rec = stock.add_parser(
        "receive", help="receive a delivery from CSV (code or product_id, quantity, cost)"
    )
    rec.add_argument("file")
    rec.add_argument("--supplier", required=True)
    rec.add_argument("--reference", default="", help="the delivery note's number")
    rec.add_argument("--delivery-id", default="", help="UUID (default: derived from the file)")
    rec.set_defaults(fn=cmd_receive)
    stock.add_parser("low", help="products below their minimum").set_defaults(fn=cmd_low)
    sug = stock.add_parser("suggest", help="replenishment: draft orders per supplier")
    sug.add_argument("--window-days", type=int, default=replenishment.DEFAULT_WINDOW_DAYS)
    sug.set_defaults(fn=cmd_suggest)

    st = sub.add_parser("stocktake", help="stocktakes (盘点)").add_subparsers(
        dest="stocktake_cmd", required=True
    )
    op = st.add_parser("open", help="open a stocktake (whole store, or --category/--zone)")
    op.add_argument("name")
    op.add_argument("--category", action="append", default=[])
    op.add_argument("--zone", action="append", default=[])
    op.add_argument("--uncounted-zero", action="store_true", help="post uncounted as zero")
    op.add_argument("--recount-threshold", default="1", help="units (default 1)")
    op.add_argument("--session-id", default="")
    op.set_defaults(fn=cmd_st_open)
    st.add_parser("list", help="every stocktake").set_defaults(fn=cmd_st_list)
    cl = st.add_parser("close", help="take no more counts")
    cl.add_argument("session_id")
    cl.set_defaults(fn=cmd_st_close)
    rp = st.add_parser("report", help="variance per product and category")
    rp.add_argument("session_id")
    rp.add_argument("--nonzero", action="store_true")
    rp.add_argument("--limit", type=int, default=100)
    rp.set_defaults(fn=cmd_st_report)
    po = st.add_parser("post", help="post the variance as adjustments (shows progress)")
    po.add_argument("session_id")
    po.set_defaults(fn=cmd_st_post)
