"""storectl: create the database, import products, manage operators, check the audit log."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from store_server.cli import appliance_cmds, hq_cmds, member_cmds, report_cmds, stock_cmds
from store_server.clock import SystemClock
from store_server.config import Config, ConfigError, load_config
from store_server.db import migrate
from store_server.db.audit_log import iter_audit, tail_audit
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.domain.audit_chain import verify_chain
from store_server.domain.errors import DomainError
from store_server.operators import upsert_operator
from store_server.product_import import import_products_csv


def _progress(stage: str, done: int, total: int) -> None:
    print(f"  {stage}: {done:,}/{total:,}", file=sys.stderr, flush=True)


def cmd_init(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    print(f"database {cfg.database} at schema {migrate.current_revision(db)}")
    return 0


def cmd_import(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    report = import_products_csv(
        db,
        Path(args.file),
        clock=SystemClock(),
        actor=Actor.system("storectl"),
        progress=_progress,
        dry_run=args.dry_run,
    )
    if not report.ok:
        print(
            f"{args.file}: {len(report.errors)} problem(s); nothing was imported:", file=sys.stderr
        )
        for err in report.errors:
            print(f"  {err}", file=sys.stderr)
        return 1
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{args.file}: {verb} {report.rows} rows ({report.inserted} new, {report.updated} updated)"
    )
    return 0


def cmd_add_operator(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    migrate.upgrade(db)
    pin = args.pin or getpass.getpass("PIN: ")
    with unit_of_work(db, Actor.system("storectl"), SystemClock().now()) as uow:
        created = upsert_operator(
            uow, operator_id=args.id, name=args.name, role=args.role, pin=pin, store_id=cfg.store_id
        )
    print(f"operator {args.id} {'added' if created else 'updated'} ({args.role})")
    return 0


def cmd_audit_verify(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        checked, broken = verify_chain(iter_audit(conn))
    if broken:
        print(
            f"audit log TAMPERED: row {broken.seq} {broken.why} "
            f"({checked} rows before it are intact)"
        )
        return 1
    print(f"audit log intact: {checked} rows verified")
    return 0


def cmd_audit_show(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    with db.read() as conn:
        for r in tail_audit(conn, args.limit):
            print(
                f"{r.seq:>7} {r.at} {r.operator_id:<6} {r.device_id:<12} {r.action:<34} "
                f"{r.target:<16} {r.outcome} {r.detail}"
            )
    return 0


def cmd_currency_set(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    from store_server.currencies import set_currency

    migrate.upgrade(db)
    with unit_of_work(db, Actor.system("storectl"), SystemClock().now()) as uow:
        micro = set_currency(uow, args.code, args.name or args.code, args.rate, args.minor_units)
    print(
        f"{args.code.upper()}: 1 unit = {args.rate} yuan ({micro} millionths of a fen per "
        f"minor unit)"
    )
    return 0


def cmd_currency_list(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from store_server.db.sales_models import Currency

    with db.read() as conn:
        for row in conn.execute(select(Currency).order_by(Currency.code)):
            print(f"{row.code} {row.name:<8} {row.rate_micro:>12} (fen per minor unit x 10^6)")
    return 0


def cmd_promotion_create(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    import json

    from store_server.promotions import create

    migrate.upgrade(db)
    try:
        data = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"storectl: {args.file}: {exc}", file=sys.stderr)
        return 1
    items = data if isinstance(data, list) else [data]
    with unit_of_work(db, Actor.system("storectl"), SystemClock().now()) as uow:
        for item in items:  # all or nothing: one transaction
            promo = create(uow, item, zone=cfg.timezone)
            print(f"promotion {promo.promo_id} ({promo.name}) active")
    return 0


def cmd_promotion_list(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    import json

    from store_server.promotions import listing

    with db.read() as conn:
        for promo_id, status, definition, created_at in listing(conn, include_ended=args.all):
            data = json.loads(definition)
            print(
                f"{promo_id:<24} {status:<7} {data['rule']['type']:<15} {data['name']}"
                f"  (since {created_at:%Y-%m-%d %H:%M} UTC)"
            )
    return 0


def cmd_promotion_end(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    from store_server.promotions import end

    with unit_of_work(db, Actor.system("storectl"), SystemClock().now()) as uow:
        ended = end(uow, args.promo_id)
    print(f"promotion {args.promo_id} {'ended' if ended else 'had already ended'}")
    return 0


def cmd_demo(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    from store_server.demo.members import create_demo_members, members_text
    from store_server.demo.setup import create_demo, demo_exists, operators_text

    migrate.upgrade(db)
    if args.if_missing and demo_exists(db):
        print(f"demo store {cfg.store_id} already in {cfg.database}: keeping its data")
    else:
        print(f"creating demo store {cfg.store_id} in {cfg.database} ({args.products:,} products)")
        create_demo(db, cfg, clock=SystemClock(), products=args.products, progress=_progress)
    create_demo_members(db, cfg, clock=SystemClock())  # also into an older demo store
    print(operators_text())
    print(members_text(db))
    return 0


def cmd_gen_catalog(cfg: Config | None, db: Database | None, args: argparse.Namespace) -> int:
    from store_server.demo.catalog_generator import write_catalog_csv

    rows = write_catalog_csv(
        Path(args.out),
        args.count,
        seed=args.seed,
        progress=lambda d, t: _progress("generating", d, t),
    )
    print(f"wrote {rows:,} products to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storectl", description=__doc__)
    p.add_argument("--config", help="TOML configuration (default: built-in defaults + env)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create or upgrade the database").set_defaults(fn=cmd_init)
    imp = sub.add_parser("import-products", help="import products from CSV (all or nothing)")
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="validate only")
    imp.set_defaults(fn=cmd_import)
    op = sub.add_parser("add-operator", help="add or update an operator")
    op.add_argument("--id", required=True)
    op.add_argument("--name", required=True)
    op.add_argument(
        "--role", required=True, help="cashier, supervisor, stock_clerk, owner or admin"
    )
    op.add_argument("--pin", help="the PIN (asked for when omitted)")
    op.set_defaults(fn=cmd_add_operator)
    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="audit_cmd", required=True
    )
    audit.add_parser("verify", help="check the hash chain").set_defaults(fn=cmd_audit_verify)
    show = audit.add_parser("show", help="the latest entries")
    show.add_argument("--limit", type=int, default=50)
    show.set_defaults(fn=cmd_audit_show)
    cur = sub.add_parser("currency", help="exchange rates for foreign cash").add_subparsers(
        dest="currency_cmd", required=True
    )
    cur_set = cur.add_parser("set", help="set a rate: yuan per unit, e.g. USD 7.1234")
    cur_set.add_argument("code")
    cur_set.add_argument("rate")
    cur_set.add_argument("--name", default="")
    cur_set.add_argument(
        "--minor-units", type=int, default=2, help="decimal places of the currency (JPY: 0)"
    )
    cur_set.set_defaults(fn=cmd_currency_set)
    cur.add_parser("list", help="the rates").set_defaults(fn=cmd_currency_list)
    promo = sub.add_parser("promotion", help="the store's promotions").add_subparsers(
        dest="promotion_cmd", required=True
    )
    promo_create = promo.add_parser(
        "create", help="add promotions from a JSON file (one object or a list; all or none)"
    )
    promo_create.add_argument("file")
    promo_create.set_defaults(fn=cmd_promotion_create)
    promo_list = promo.add_parser("list", help="active promotions (--all: ended ones too)")
    promo_list.add_argument("--all", action="store_true")
    promo_list.set_defaults(fn=cmd_promotion_list)
    promo_end = promo.add_parser("end", help="end a promotion now")
    promo_end.add_argument("promo_id")
    promo_end.set_defaults(fn=cmd_promotion_end)
    demo = sub.add_parser("demo", help="create the demo store")
    demo.add_argument("--if-missing", action="store_true", help="keep an existing demo store")
    demo.add_argument("--products", type=int, default=2000)
    demo.set_defaults(fn=cmd_demo)
    gen = sub.add_parser("gen-catalog", help="write a generated catalog CSV of any size")
    gen.add_argument("--count", type=int, default=100_000)
    gen.add_argument("--seed", type=int, default=2026)
    gen.add_argument("--out", required=True)
    gen.set_defaults(fn=cmd_gen_catalog, no_db=True)
    appliance_cmds.register(sub)  # backup, restore, doctor
    stock_cmds.register(sub)  # stock, stocktake
    member_cmds.register(sub)  # member
    report_cmds.register(sub)  # report
    hq_cmds.register(sub)  # hq status
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "no_db", False):
        return args.fn(None, None, args)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        print(f"storectl: {exc}", file=sys.stderr)
        return 2
    db = Database(cfg.database, synchronous=cfg.synchronous)
    try:
        return args.fn(cfg, db, args)
    except DomainError as exc:
        print(f"storectl: {exc.message}", file=sys.stderr)
        return 1
    finally:
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
