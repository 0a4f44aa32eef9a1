"""storectl report ...: the store's reports as terminal tables, CSV, Excel and PNG charts.

Runs the same report functions as ReportService, on a read snapshot of the
database (a running server may keep selling meanwhile). Progress goes to
stderr, so the tables on stdout can be piped.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from store_server.clock import SystemClock
from store_server.config import Config
from store_server.db.database import Database
from store_server.domain.business_day import business_day
from store_server.domain.dates import parse_date, parse_month
from store_server.domain.errors import PermissionDenied
from store_server.reports import catalog
from store_server.reports.output import to_text, write_csv
from store_server.reports.scope import ReportScope
from store_server.reports.table import Table


class Progress:
    """A bar on stderr: `  summary [#####.....] 3/8  1.2 s`."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self._quiet:
            return
        width = 24
        filled = width * done // total if total else width
        print(
            f"\r  {stage:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
            f"{time.perf_counter() - self._started:5.1f} s",
            end="\n" if done >= total else "",
            file=sys.stderr,
            flush=True,
        )


def emit(tables: list[Table], args: argparse.Namespace, progress: Progress) -> None:
    """Print the tables and write the files asked for (storectl and hqctl alike)."""
    if not args.no_table:
        for t in tables:
            print(to_text(t))
            print()
    if args.csv:
        for path in write_csv(tables, Path(args.csv)):
            print(f"wrote {path}", file=sys.stderr)
    if args.xlsx:
        from store_server.reports.excel import write_workbook

        print(f"wrote {write_workbook(tables, Path(args.xlsx), progress)}", file=sys.stderr)
    if args.charts:
        from store_server.reports.charts import write_charts

        for path in write_charts(tables, Path(args.charts), progress):
            print(f"wrote {path}", file=sys.stderr)


def add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", default="", help="write one CSV per table into this folder")
    p.add_argument("--xlsx", default="", help="write an Excel workbook (one sheet per table)")
    p.add_argument("--charts", default="", help="write PNG charts into this folder")
    p.add_argument("--no-table", action="store_true", help="print no tables")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _range(cfg: Config, args: argparse.Namespace) -> tuple[date, date]:
    month = parse_month(args.month, "--month")
    if month:
        return month
    today = business_day(SystemClock().now(), cfg.zone, cfg.business_day_cutover_hour)
    last = parse_date(args.date_to, "--to") or today
    return parse_date(args.date_from, "--from") or last, last


def cmd_report(cfg: Config, db: Database, args: argparse.Namespace) -> int:
    if args.list:
        for spec in catalog.REPORTS.values():
            print(f"{spec.name:<14} {spec.title}{'  (收银员可看本班)' if spec.cashier else ''}")
        return 0
    kinds = list(args.kinds or ["summary"])
    if kinds == ["all"]:
        kinds = list(catalog.DEFAULT_SET)
    if args.store and args.store != cfg.store_id:
        raise PermissionDenied(f"this store's database holds store {cfg.store_id} only")
    first, last = _range(cfg, args)
    scope = ReportScope(
        cfg.store_id,
        first,
        last,
        cfg.zone,
        cfg.business_day_cutover_hour,
        shift_id=args.shift or None,
    )
    options = catalog.with_period(
        catalog.Options(
            limit=args.limit,
            compare_last_year=not args.no_last_year,
            session_id=args.session,
            window_days=args.window_days,
        ),
        args.period,
    )
    progress = Progress(args.quiet)
    with db.read() as conn:
        tables = catalog.run(conn, cfg, kinds, scope, options, progress)
    emit(tables, args, progress)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `report` to storectl."""
    rep = sub.add_parser(
        "report",
        help="reports: sales, hours, cashiers, categories, tenders, products, members, stock",
    )
    rep.add_argument("kinds", nargs="*", help=f"report names ({', '.join(catalog.REPORTS)}) or all")
    rep.add_argument("--list", action="store_true", help="the reports there are")
    rep.add_argument("--from", dest="date_from", default="", help="first business day YYYY-MM-DD")
    rep.add_argument("--to", dest="date_to", default="", help="last business day (default today)")
    rep.add_argument("--month", default="", help="a whole month YYYY-MM (instead of --from/--to)")
    rep.add_argument("--period", default="day", help="summary per day, week or month")
    rep.add_argument("--shift", default="", help="one shift only")
    rep.add_argument("--store", default="", help="the store id (this store only)")
    rep.add_argument("--limit", type=int, default=20, help="rows of a ranking")
    rep.add_argument("--session", default="", help="variance: the stocktake (default: latest)")
    rep.add_argument("--window-days", type=int, default=28, help="replenishment's sales window")
    rep.add_argument("--no-last-year", action="store_true", help="summary without 同期对比")
    add_output_args(rep)
    rep.set_defaults(fn=cmd_report)
