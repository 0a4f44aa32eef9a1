"""hqctl report ...: HQ's consolidated reports as terminal tables, CSV, Excel and PNG charts.

The same rendering as `storectl report` (store_server.reports.output, excel,
charts), over the replicated data of every store or of `--stores`. Progress
goes to stderr, so the tables on stdout can be piped.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from hq_link.hq.reports import catalog
from hq_link.hq.reports.scope import HqScope
from hq_link.hq.reports.users import parse_stores
from store_server.cli.report_cmds import Progress, add_output_args, emit
from store_server.domain.dates import parse_date, parse_month
from store_server.domain.errors import DomainError


@contextmanager
def hq_connection(ctx: object) -> Iterator[Connection]:
    """A connection to HQ's database, with HQ's tables created if it is new."""
    from hq_link.hq import tables
    from hq_link.hq.server import make_engine

    engine = make_engine(ctx.database_url)  # type: ignore[attr-defined]
    try:
        tables.metadata.create_all(engine)
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def date_range(args: argparse.Namespace) -> tuple[date, date]:
    month = parse_month(getattr(args, "month", ""), "--month")
    if month:
        return month
    last = parse_date(args.date_to, "--to") or datetime.now(UTC).date()
    return parse_date(args.date_from, "--from") or last, last


def cmd_report(ctx: object, args: argparse.Namespace) -> int:
    if args.list:
        for spec in catalog.REPORTS.values():
            print(f"{spec.name:<12} {spec.title}")
        print(f"\nnot at HQ: {catalog.NOT_AT_HQ}")
        return 0
    try:
        kinds = list(args.kinds or ["summary"])
        if kinds == ["all"]:
            kinds = list(catalog.DEFAULT_SET)
        first, last = date_range(args)
        scope = HqScope(parse_stores(args.stores), first, last)
        options = catalog.Options(
            period=args.period,
            limit=args.limit,
            compare_last_year=not args.no_last_year,
            window_days=args.window_days,
        )
        progress = Progress(args.quiet)
        with hq_connection(ctx) as conn:
            tables = catalog.run(conn, kinds, scope, options, progress)
        emit(tables, args, progress)
    except DomainError as exc:
        print(f"hqctl report: {exc.message}", file=sys.stderr)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `report` to hqctl."""
    rep = sub.add_parser(
        "report",
        help="consolidated reports: sales (同期对比, 不含税), stores, hours, cashiers, "
        "categories and margins, tenders, best and slow sellers with days of stock, members' "
        "liabilities, stock value, stocktake variance, replenishment, settlement",
        description="Reports over the replicated data of the chain or of --stores: sales "
        "(同期对比, 不含税), stores, hours, cashiers, categories and margins (品类/毛利), tenders, "
        "best and slow sellers with days of stock (畅销/滞销), members, stock value, stocktake "
        "variance, replenishment and settlement. Categories, tax rates and costs are HQ's "
        "master data. Stock "
        "figures (stock, products' on hand and days left, replenishment) are as of each "
        "store's last day close (日结), whose snapshot the store sends with the close; "
        "variance covers the stocktakes posted in the range. "
        f"Not available at HQ: {catalog.NOT_AT_HQ}.",
    )
    rep.add_argument("kinds", nargs="*", help=f"report names ({', '.join(catalog.REPORTS)}) or all")
    rep.add_argument("--list", action="store_true", help="the reports there are")
    rep.add_argument("--stores", default="", help="S01,S02 (default: every store)")
    rep.add_argument("--from", dest="date_from", default="", help="first business day YYYY-MM-DD")
    rep.add_argument("--to", dest="date_to", default="", help="last business day (default today)")
    rep.add_argument("--month", default="", help="a whole month YYYY-MM (instead of --from/--to)")
    rep.add_argument("--period", default="day", help="summary per day, week or month")
    rep.add_argument("--limit", type=int, default=20, help="rows of a ranking")
    rep.add_argument("--no-last-year", action="store_true", help="summary without 同期对比")
    rep.add_argument(
        "--window-days", type=int, default=28, help="replenishment: days of sales for the pace"
    )
    add_output_args(rep)
    rep.set_defaults(func=cmd_report)
