"""Report speed, the figure beside its physical reference in the same run.

- the month report (sales per day of October 2026 with 同期对比, tax-exclusive
  figure and refunds) over 310,000 sale lines (31,000 sales of 10 lines, plus
  October 2025 for the comparison) on a 100,000-SKU store, through the report
  code, vs one plain SQL query computing the same figures (target: under 2 s,
  and the figures equal);
- the rest of that month's reports (hours, cashiers, categories, tenders,
  best/slow sellers, members, stock), each timed, for information.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench.support import BENCH_DIR, catalog_db, verdict

SKUS = 100_000
MONTH = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
SALES_PER_DAY = 1_000
LINES = 10
TARGET_S = 2.0
REPEAT = 3

# Sales per day, tax-exclusive per rate (half up, integers), refunds and last
# year's same dates: what the summary report computes, in one statement.
REFERENCE_SQL = """
WITH hdr AS (
  SELECT business_day AS d, count(*) AS n, sum(total_fen) AS t, sum(discount_fen) AS disc
  FROM sales WHERE business_day BETWEEN :first AND :last AND store_id = 'S01' GROUP BY 1),
rated AS (
  SELECT s.business_day AS d, l.tax_rate_bp AS r, sum(l.paid_fen) AS p
  FROM sales s JOIN sale_lines l ON l.sale_id = s.sale_id
  WHERE s.business_day BETWEEN :first AND :last AND s.store_id = 'S01' GROUP BY 1, 2),
ex AS (
  SELECT d, sum((2 * p * 10000 + (10000 + r)) / (2 * (10000 + r))) AS x FROM rated GROUP BY d),
ret AS (
  SELECT business_day AS d, sum(refund_fen) AS f FROM returns
  WHERE business_day BETWEEN :first AND :last GROUP BY 1),
ly AS (
  SELECT date(business_day, '+1 year') AS d, count(*) AS n, sum(total_fen) AS t FROM sales
  WHERE business_day BETWEEN :ly_first AND :ly_last AND store_id = 'S01' GROUP BY 1)
SELECT hdr.d, hdr.n, hdr.t, hdr.disc, ex.x, coalesce(ret.f, 0), coalesce(ly.n, 0),
       coalesce(ly.t, 0)
FROM hdr LEFT JOIN ex USING (d) LEFT JOIN ret USING (d) LEFT JOIN ly USING (d) ORDER BY hdr.d
"""


def build(db: Path) -> None:
    """The month's history, by the tests' generator (raw inserts), built once."""
    from tests.reports.dataset import generate, products_of

    conn = sqlite3.connect(db)
    products = products_of(conn)
    started = time.perf_counter()
    generate(
        conn,
        MONTH,
        sales_per_day=SALES_PER_DAY,
        lines_per_sale=LINES,
        seed=1,
        products=products,
        members=5_000,
        keep=False,
    )
    generate(
        conn,
        [d.replace(year=2025) for d in MONTH],
        sales_per_day=SALES_PER_DAY // 3,
        lines_per_sale=LINES // 2,
        seed=2,
        products=products,
        members=0,
        keep=False,
    )
    conn.close()
    print(f"  generated the history in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def history_db() -> Path:
    path = BENCH_DIR / "reports-month.db"
    if not path.exists():
        partial = path.with_suffix(".partial")
        shutil.copy(catalog_db(SKUS), partial)
        print(f"building the month's sales in {path} (once)", file=sys.stderr)
        build(partial)
        partial.rename(path)
    return path


def _time(fn) -> tuple[float, object]:
    samples, result = [], None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def run() -> bool:
    from store_server.config import Config
    from store_server.db.database import Database
    from store_server.reports import catalog
    from store_server.reports.scope import ReportScope

    path = history_db()
    cfg = Config()
    scope = ReportScope("S01", MONTH[0], MONTH[-1], cfg.zone, cfg.business_day_cutover_hour)
    db = Database(path, synchronous="NORMAL")
    raw = sqlite3.connect(path)
    lines = raw.execute(
        "SELECT count(*) FROM sale_lines l JOIN sales s ON s.sale_id = l.sale_id "
        "WHERE s.business_day BETWEEN ? AND ?",
        (MONTH[0].isoformat(), MONTH[-1].isoformat()),
    ).fetchone()[0]
    params = {
        "first": MONTH[0].isoformat(),
        "last": MONTH[-1].isoformat(),
        "ly_first": MONTH[0].replace(year=2025).isoformat(),
        "ly_last": MONTH[-1].replace(year=2025).isoformat(),
    }

    def report() -> list:
        with db.read() as conn:
            return catalog.run(conn, cfg, ["summary"], scope)

    ref_s, ref_rows = _time(lambda: raw.execute(REFERENCE_SQL, params).fetchall())
    rep_s, tables = _time(report)
    got = [
        (
            r["period"],
            r["receipts"],
            r["sales_fen"],
            r["discount_fen"],
            r["ex_tax_fen"],
            r["refund_fen"],
            r["last_year_receipts"],
            r["last_year_sales_fen"],
        )
        for r in tables[0].as_dicts()[:-1]  # without the 合计 row
    ]
    same = got == [tuple(r) for r in ref_rows]
    others = {}
    for name in ("hourly", "cashier", "category", "tender", "products", "members", "stock"):

        def one(name: str = name) -> list:
            with db.read() as conn:
                return catalog.run(conn, cfg, [name], scope)

        others[name] = _time(one)[0]
    raw.close()
    db.dispose()
    ok = rep_s < TARGET_S and same
    print(f"\n== reports, October 2026: {lines:,} sale lines, {SKUS:,} SKUs (median of {REPEAT})")
    print(f"  one plain SQL query       {ref_s * 1000:7.0f} ms (per-day sales, tax, refunds, 同期)")
    print(
        f"  month report (summary)    {rep_s * 1000:7.0f} ms = x{rep_s / ref_s:.2f} of the query, "
        f"figures {'equal' if same else 'DIFFER'}   [target < {TARGET_S:.0f} s: {verdict(ok)}]"
    )
    for name, secs in others.items():
        print(f"  {name:<25} {secs * 1000:7.0f} ms")
    print(f"  all of the month's reports {rep_s * 1000 + sum(others.values()) * 1000:6.0f} ms")
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
