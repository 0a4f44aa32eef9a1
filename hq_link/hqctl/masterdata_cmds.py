"""hqctl commands for master data: products (one, or a CSV import), prices,
promotions, currencies, member tiers, operators, and the change history.

Every command is one HQ transaction; the stores pull the result
(`tillpoint.hq.v1.MasterDataService`). Products are named by SKU everywhere,
also inside promotion definitions (where storectl takes product ids).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from store_server.domain.catalog_import import check_header, parse_rows
from store_server.domain.errors import DomainError


def _engine(ctx: Any) -> Engine:
    from hq_link.hq.server import make_engine
    from hq_link.hq.tables import metadata

    engine = make_engine(ctx.database_url)
    metadata.create_all(engine)
    return engine


def _run(ctx: Any, action: Any) -> int:
    from hq_link.hq.masterdata.writer import MasterData

    engine = _engine(ctx)
    try:
        return int(action(MasterData(engine), datetime.now(UTC)))
    except DomainError as exc:
        print(f"hqctl: {exc.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SystemExit(f"hqctl: --effective-at {text!r}: not ISO-8601 ({exc})") from exc
    if at.tzinfo is None:
        raise SystemExit("hqctl: --effective-at needs its UTC offset, e.g. 2026-12-01T08:00+08:00")
    return at


def _progress(done: int, total: int) -> None:
    print(f"  writing: {done:,}/{total:,}", file=sys.stderr, flush=True)


def cmd_product_upsert(ctx: Any, args: argparse.Namespace) -> int:
    row = {
        "sku": args.sku,
        "name": args.name,
        "category": args.category,
        "unit": args.unit,
        "tax_rate": args.tax_rate,
        "retail_price": args.retail_price,
        "member_price": args.member_price or "",
        "cost": args.cost or "",
        "barcode": args.barcode or "",
        "case_barcode": args.case_barcode or "",
        "case_pack": args.case_pack or "",
        "case_price": args.case_price or "",
        "plu": args.plu or "",
        "weighed": "1" if args.weighed else "0",
        "pinyin": args.pinyin or "",
        "status": args.status,
    }
    drafts, errors = parse_rows([row])
    if errors:
        for err in errors:
            print(f"hqctl: {err.column}: {err.reason}", file=sys.stderr)
        return 1

    def action(md: Any, now: datetime) -> int:
        inserted, _ = md.upsert_products(drafts, now)
        print(f"product {args.sku} {'added' if inserted else 'updated'}")
        return 0

    return _run(ctx, action)


def cmd_product_import(ctx: Any, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            errors = check_header(reader.fieldnames or [])
            rows = [] if errors else list(reader)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"hqctl: {path}: {exc}", file=sys.stderr)
        return 1
    print(f"  validating: {len(rows):,} rows", file=sys.stderr, flush=True)
    drafts, row_errors = parse_rows(rows)
    errors += row_errors
    if errors:
        print(f"{path}: {len(errors)} problem(s); nothing was imported:", file=sys.stderr)
        for err in errors[:200]:
            print(f"  {err}", file=sys.stderr)
        return 1
    if args.dry_run:
        print(f"{path}: would import {len(drafts)} rows")
        return 0

    def action(md: Any, now: datetime) -> int:
        inserted, updated = md.upsert_products(drafts, now, progress=_progress)
        print(f"{path}: imported {len(drafts)} rows ({inserted} new, {updated} updated)")
        return 0

    return _run(ctx, action)


def cmd_price_set(ctx: Any, args: argparse.Namespace) -> int:
    effective = _when(args.effective_at)

    def action(md: Any, now: datetime) -> int:
        change_id, revision = md.set_price(
            sku=args.product,
            retail_fen=args.price_fen,
            member_fen=args.member_fen,
            store_id=args.store,
            effective_at=effective,
            now=now,
            change_id=args.change_id,
        )
        where = f"store {args.store}" if args.store else "every store"
        when = effective.isoformat() if effective else "now"
        print(
            f"price of {args.product} for {where}: {args.price_fen} fen from {when} "
            f"(change {change_id}, revision {revision})"
        )
        return 0

    return _run(ctx, action)


def cmd_price_remove(ctx: Any, args: argparse.Namespace) -> int:
    def action(md: Any, now: datetime) -> int:
        revision = md.remove_store_price(args.store, args.product, now)
        if revision is None:
            print(f"store {args.store} has no price of its own for {args.product}")
        else:
            print(f"store {args.store} back to HQ's price for {args.product} (revision {revision})")
        return 0

    return _run(ctx, action)


def cmd_promotion_create(ctx: Any, args: argparse.Namespace) -> int:
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"hqctl: {args.file}: {exc}", file=sys.stderr)
        return 1
    items = data if isinstance(data, list) else [data]

    def action(md: Any, now: datetime) -> int:
        for item in items:
            promo_id, created = md.create_promotion(item, now)
            print(f"promotion {promo_id} {'active' if created else 'already active'}")
        return 0

    return _run(ctx, action)


def cmd_promotion_end(ctx: Any, args: argparse.Namespace) -> int:
    def action(md: Any, now: datetime) -> int:
        ended = md.end_promotion(args.promo_id, now)
        print(f"promotion {args.promo_id} {'ended' if ended else 'had already ended'}")
        return 0

    return _run(ctx, action)


def cmd_currency_set(ctx: Any, args: argparse.Namespace) -> int:
    def action(md: Any, now: datetime) -> int:
        revision = md.set_currency(
            code=args.code, name=args.name, rate=args.rate, minor_units=args.minor_units, now=now
        )
        print(f"{args.code.upper()}: 1 unit = {args.rate} yuan (revision {revision})")
        return 0

    return _run(ctx, action)


def cmd_tier_set(ctx: Any, args: argparse.Namespace) -> int:
    def action(md: Any, now: datetime) -> int:
        revision = md.set_tier(
            code=args.code,
            name=args.name,
            rank=args.rank,
            discount_bp=args.discount_bp,
            points_multiplier_bp=args.points_multiplier_bp,
            min_spend_fen=args.min_spend_fen,
            min_points=args.min_points,
            now=now,
        )
        print(f"tier {args.code} ({args.name}) set (revision {revision})")
        return 0

    return _run(ctx, action)


def cmd_operator_upsert(ctx: Any, args: argparse.Namespace) -> int:
    import getpass

    pin = args.pin or getpass.getpass("PIN: ")

    def action(md: Any, now: datetime) -> int:
        revision = md.upsert_operator(
            operator_id=args.id,
            name=args.name,
            role=args.role,
            pin=pin,
            store_id=args.store,
            active=not args.inactive,
            now=now,
        )
        where = f"store {args.store}" if args.store else "every store"
        print(f"operator {args.id} ({args.role}, {where}) saved (revision {revision})")
        return 0

    return _run(ctx, action)


def cmd_status(ctx: Any, args: argparse.Namespace) -> int:
    from hq_link.hq.masterdata import reader, revisions

    engine = _engine(ctx)
    try:
        with engine.connect() as conn:
            latest, floor = revisions.latest(conn), revisions.floor(conn)
            kept = reader.history_size(conn)
    finally:
        engine.dispose()
    print(
        f"master data at revision {latest}; history keeps {kept:,} change(s) "
        f"from revision {max(floor, 1)}"
    )
    return 0


def cmd_prune(ctx: Any, args: argparse.Namespace) -> int:
    def action(md: Any, now: datetime) -> int:
        floor = md.prune_history(args.keep)
        print(f"history now starts at revision {floor}; stores behind it get a snapshot")
        return 0

    return _run(ctx, action)


def register(sub: argparse._SubParsersAction) -> None:
    product = sub.add_parser("product", help="products (master data)").add_subparsers(
        dest="product_cmd", required=True
    )
    up = product.add_parser("upsert", help="add or replace one product (prices in yuan)")
    up.add_argument("--sku", required=True)
    up.add_argument("--name", required=True)
    up.add_argument("--category", required=True)
    up.add_argument("--unit", required=True)
    up.add_argument("--tax-rate", required=True, help="percent: 0, 1, 3, 5, 6, 9 or 13")
    up.add_argument("--retail-price", required=True, help="yuan, e.g. 3.50")
    up.add_argument("--member-price")
    up.add_argument("--cost")
    up.add_argument("--barcode", help="one or more, separated by ;")
    up.add_argument("--case-barcode")
    up.add_argument("--case-pack")
    up.add_argument("--case-price")
    up.add_argument("--plu")
    up.add_argument("--weighed", action="store_true")
    up.add_argument("--pinyin")
    up.add_argument("--status", default="active", choices=("active", "inactive"))
    up.set_defaults(func=cmd_product_upsert)
    imp = product.add_parser("import", help="import a products CSV (storectl's columns)")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true")
    imp.set_defaults(func=cmd_product_import)

    price = sub.add_parser("price", help="prices for every store or one").add_subparsers(
        dest="price_cmd", required=True
    )
    ps = price.add_parser("set", help="a new price, now or at --effective-at")
    ps.add_argument("--product", required=True, help="SKU")
    ps.add_argument("--price-fen", required=True, type=int)
    ps.add_argument("--member-fen", type=int)
    ps.add_argument("--store", help="one store's price (default: every store)")
    ps.add_argument("--effective-at", help="ISO-8601 with offset (default: now)")
    ps.add_argument("--change-id", help="idempotency key (default: a new UUID)")
    ps.set_defaults(func=cmd_price_set)
    pr = price.add_parser("remove", help="a store goes back to HQ's price")
    pr.add_argument("--product", required=True)
    pr.add_argument("--store", required=True)
    pr.set_defaults(func=cmd_price_remove)

    promo = sub.add_parser("promotion", help="promotions (storectl's JSON)").add_subparsers(
        dest="promotion_cmd", required=True
    )
    pc = promo.add_parser("create", help="from a JSON file (an object or a list; all or none)")
    pc.add_argument("file")
    pc.set_defaults(func=cmd_promotion_create)
    pe = promo.add_parser("end", help="end a promotion in every store")
    pe.add_argument("promo_id")
    pe.set_defaults(func=cmd_promotion_end)

    cur = sub.add_parser("currency", help="exchange rates").add_subparsers(
        dest="currency_cmd", required=True
    )
    cs = cur.add_parser("set", help="yuan per unit, e.g. USD 7.1234")
    cs.add_argument("code")
    cs.add_argument("rate")
    cs.add_argument("--name", default="")
    cs.add_argument("--minor-units", type=int, default=2)
    cs.set_defaults(func=cmd_currency_set)

    tier = sub.add_parser("tier", help="member tiers").add_subparsers(
        dest="tier_cmd", required=True
    )
    ts = tier.add_parser("set", help="add or change a tier")
    ts.add_argument("--code", required=True)
    ts.add_argument("--name", required=True)
    ts.add_argument("--rank", type=int, required=True)
    ts.add_argument("--discount-bp", type=int, default=0)
    ts.add_argument("--points-multiplier-bp", type=int, default=10_000)
    ts.add_argument("--min-spend-fen", type=int, default=0)
    ts.add_argument("--min-points", type=int, default=0)
    ts.set_defaults(func=cmd_tier_set)

    op = sub.add_parser("operator", help="operators").add_subparsers(
        dest="operator_cmd", required=True
    )
    ou = op.add_parser("upsert", help="add or change an operator (the PIN is hashed at HQ)")
    ou.add_argument("--id", required=True)
    ou.add_argument("--name", required=True)
    ou.add_argument("--role", required=True)
    ou.add_argument("--pin", help="asked for when omitted")
    ou.add_argument("--store", help="the operator's store (default: every store)")
    ou.add_argument("--inactive", action="store_true")
    ou.set_defaults(func=cmd_operator_upsert)

    md = sub.add_parser("masterdata", help="the master-data change history").add_subparsers(
        dest="masterdata_cmd", required=True
    )
    md.add_parser("status", help="revision and history").set_defaults(func=cmd_status)
    mp = md.add_parser("prune", help="keep only the newest N revisions of history")
    mp.add_argument("--keep", type=int, required=True)
    mp.set_defaults(func=cmd_prune)
