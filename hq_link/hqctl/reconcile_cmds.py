"""hqctl reconcile --date D [--store S]; hqctl settlement --from D --to D.

reconcile: per store and business day, HQ's totals (sales, returns, tenders,
member ledgers) against the store's own day close and Z reports as
replicated; prints every check, exit status 1 when any is not ok (a
mismatch, a missing day close or Z report, or replication behind the day).

settlement: stored value owed between HQ and each store over a range
(convention in hq_link.hq.reconcile.settlement).

reproject: rebuild those projections from HQ's change log (hq_link.hq.projectors.rebuild).
"""

from __future__ import annotations

import argparse
import sys

from hq_link.hq.projectors import rebuild
from hq_link.hq.reconcile import queries, settlement
from hq_link.hq.reconcile import run as reconcile
from hq_link.hq.reports import catalog, facts
from hq_link.hq.reports.scope import HqScope
from hq_link.hq.reports.users import parse_stores
from hq_link.hqctl.report_cmds import date_range, hq_connection
from store_server.cli.report_cmds import Progress, add_output_args, emit
from store_server.domain.dates import parse_date
from store_server.domain.errors import DomainError, InvalidArgument


def cmd_reconcile(ctx: object, args: argparse.Namespace) -> int:
    try:
        day = parse_date(args.date, "--date")
        if day is None:
            raise InvalidArgument("--date", "a business day as YYYY-MM-DD is required")
        stores = parse_stores(args.store)
        with hq_connection(ctx) as conn:
            checks = reconcile.reconcile(conn, [day.isoformat()], stores)
    except DomainError as exc:
        print(f"hqctl reconcile: {exc.message}", file=sys.stderr)
        return 2
    table = reconcile.as_table(checks, only_problems=args.problems_only)
    emit([table], args, Progress(args.quiet))
    problems = reconcile.failed(checks)
    for c in problems:
        print(
            f"{c.status.value}: {c.store_id} {c.day} {c.source} {c.name} "
            f"(HQ {c.value_text(c.hq)}, store {c.value_text(c.store)})",
            file=sys.stderr,
        )
    if not checks:
        print("hqctl reconcile: no store to reconcile", file=sys.stderr)
    return 1 if problems else 0


def cmd_settlement(ctx: object, args: argparse.Namespace) -> int:
    try:
        first, last = date_range(args)
        scope = HqScope(parse_stores(args.stores), first, last)
        with hq_connection(ctx) as conn:
            rows = settlement.settle(facts.sv_movements(conn, scope))
    except DomainError as exc:
        print(f"hqctl settlement: {exc.message}", file=sys.stderr)
        return 2
    emit(
        [catalog.settlement_table(rows, f"储值结算 {first} 至 {last}")], args, Progress(args.quiet)
    )
    return 0


def cmd_reproject(ctx: object, args: argparse.Namespace) -> int:
    try:
        stores = parse_stores(args.store)
    except DomainError as exc:
        print(f"hqctl reproject: {exc.message}", file=sys.stderr)
        return 2
    bad = 0
    with hq_connection(ctx) as conn:
        for store in stores or queries.known_stores(conn):
            bar = Progress(args.quiet)
            done = rebuild.rebuild_store(
                conn,
                store,
                progress=lambda n, total, s=store, b=bar: b(s, n, max(total, 1)),
            )
            for seq, why in done.skipped:
                print(f"{store} seq {seq}: not projected: {why}", file=sys.stderr)
            bad += len(done.skipped)
            print(f"{store}: {done.rows:,} change rows projected, {len(done.skipped)} skipped")
    return 1 if bad else 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `reconcile` and `settlement` to hqctl."""
    rec = sub.add_parser(
        "reconcile",
        help="HQ's totals against the stores' day close and Z reports (exit 1 on a mismatch)",
    )
    rec.add_argument("--date", required=True, help="business day YYYY-MM-DD")
    rec.add_argument("--store", default="", help="S01 or S01,S02 (default: every store)")
    rec.add_argument("--problems-only", action="store_true", help="print only checks not ok")
    add_output_args(rec)
    rec.set_defaults(func=cmd_reconcile)
    st = sub.add_parser(
        "settlement",
        help="结算: stored value owed between HQ and each store",
        description=settlement.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    st.add_argument("--from", dest="date_from", default="", help="first business day YYYY-MM-DD")
    st.add_argument("--to", dest="date_to", default="", help="last business day (default today)")
    st.add_argument("--month", default="", help="a whole month YYYY-MM (instead of --from/--to)")
    st.add_argument("--stores", default="", help="S01,S02 (default: every store)")
    add_output_args(st)
    st.set_defaults(func=cmd_settlement)
    rep = sub.add_parser(
        "reproject",
        help="rebuild the receipts, ledger and closing-figure projections from hq_changes",
    )
    rep.add_argument("--store", default="", help="S01 or S01,S02 (default: every store)")
    rep.add_argument("--quiet", action="store_true", help="no progress on stderr")
    rep.set_defaults(func=cmd_reproject)
