"""At the end: the store's database, HQ's and the devices' own records agree.

- every sale a till saw acknowledged is in the store exactly once, with the
  total the till was told, and the store has no sale no till was told of
  (nor two sales of one basket); the same for returns and their refunds;
- every store sale and return is at HQ exactly once with the same total, and
  HQ's replicated log is the store's change log, row for row;
- every count a handheld saw taken is in the stocktake exactly once, with
  the product and quantity it sent, and the stocktake holds nothing else.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from soak.handheld import HandheldRecord
from soak.till import TillRecord

EXAMPLES = 10


@dataclass
class Reconciliation:
    figures: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def expect_same(self, what: str, ours: dict, theirs: dict, where: str) -> None:
        """Both maps name the same keys with the same values; else name the differences."""
        missing = [k for k in ours if k not in theirs]
        extra = [k for k in theirs if k not in ours]
        differ = [k for k in ours if k in theirs and ours[k] != theirs[k]]
        for keys, verb in (
            (missing, f"missing in {where}"),
            (extra, f"in {where} but not acknowledged"),
            (differ, f"differ in {where}"),
        ):
            if keys:
                shown = ", ".join(
                    f"{k} ({ours.get(k)!r} vs {theirs.get(k)!r})" for k in keys[:EXAMPLES]
                )
                self.problems.append(f"{len(keys)} {what} {verb}: {shown}")


def _sqlite(path: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _hq(url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def reconcile(
    store_db: Path,
    hq_url: str,
    store_id: str,
    tills: Iterable[TillRecord],
    handhelds: Iterable[HandheldRecord],
    session_id: str,
) -> Reconciliation:
    r = Reconciliation()
    tills, handhelds = list(tills), list(handhelds)

    # -- the tills' records against the store ------------------------------------
    acked_sales = {sid: s.total_fen for t in tills for sid, s in t.sales.items()}
    acked_receipts = {sid: s.receipt_no for t in tills for sid, s in t.sales.items()}
    acked_returns = {rid: refund for t in tills for rid, refund in t.returns.items()}
    store_sales = {sid: total for sid, total, _ in _sqlite(store_db, _SALES, store_id)}
    store_receipts = {sid: no for sid, _, no in _sqlite(store_db, _SALES, store_id)}
    store_returns = dict(_sqlite(store_db, "SELECT return_id, refund_fen FROM returns"))
    r.figures.update(
        acked_sales=len(acked_sales),
        store_sales=len(store_sales),
        acked_returns=len(acked_returns),
        store_returns=len(store_returns),
    )
    r.expect_same("sales (total fen)", acked_sales, store_sales, "the store")
    r.expect_same("sales (receipt no)", acked_receipts, store_receipts, "the store")
    r.expect_same("returns (refund fen)", acked_returns, store_returns, "the store")
    twice = _sqlite(
        store_db, "SELECT basket_id, count(*) FROM sales GROUP BY basket_id HAVING count(*) > 1"
    )
    if twice:
        r.problems.append(f"{len(twice)} baskets sold more than once: {twice[:EXAMPLES]}")

    # -- the store against HQ ----------------------------------------------------
    hq_docs = _hq(
        hq_url,
        "SELECT doc_id, kind, total_fen FROM hq_sales WHERE store_id = :s",
        s=store_id,
    )
    hq_sales = {doc: total for doc, kind, total in hq_docs if kind == "sale"}
    hq_returns = {doc: -total for doc, kind, total in hq_docs if kind == "return"}
    r.figures.update(hq_sales=len(hq_sales), hq_returns=len(hq_returns))
    r.expect_same("store sales (total fen)", store_sales, hq_sales, "HQ")
    r.expect_same("store returns (refund fen)", store_returns, hq_returns, "HQ")
    store_log = _sqlite(store_db, "SELECT seq, kind, key FROM change_log ORDER BY seq")
    hq_log = _hq(
        hq_url,
        "SELECT seq, kind, key FROM hq_changes WHERE store_id = :s "
        "UNION ALL SELECT seq, kind, key FROM hq_quarantine WHERE store_id = :s ORDER BY 1",
        s=store_id,
    )
    quarantined = _hq(
        hq_url, "SELECT seq, reason FROM hq_quarantine WHERE store_id = :s", s=store_id
    )
    r.figures.update(
        store_change_rows=len(store_log), hq_change_rows=len(hq_log), quarantined=len(quarantined)
    )
    r.expect_same(
        "change rows (kind, key)",
        {seq: (kind, key) for seq, kind, key in store_log},
        {seq: (kind, key) for seq, kind, key in hq_log},
        "HQ",
    )
    if len(hq_log) != len({seq for seq, _, _ in hq_log}):
        r.problems.append("HQ holds some change rows more than once")
    if quarantined:
        r.problems.append(f"{len(quarantined)} rows quarantined at HQ: {quarantined[:EXAMPLES]}")
    sale_rows = _hq(
        hq_url,
        "SELECT key, count(*) FROM hq_changes WHERE store_id = :s AND kind = 'sale' "
        "GROUP BY key HAVING count(*) > 1",
        s=store_id,
    )
    if sale_rows:
        r.problems.append(f"{len(sale_rows)} sales replicated more than once: {sale_rows[:5]}")

    # -- the handhelds' records against the stocktake -------------------------------
    acked_counts = {cid: c for h in handhelds for cid, c in h.counts.items()}
    store_counts = {
        cid: (pid, qty)
        for cid, pid, qty in _sqlite(
            store_db,
            "SELECT count_id, product_id, quantity_milli FROM stocktake_counts "
            "WHERE session_id = ?",
            session_id,
        )
    }
    r.figures.update(acked_counts=len(acked_counts), store_counts=len(store_counts))
    r.expect_same("counts (product, quantity)", acked_counts, store_counts, "the stocktake")
    return r


_SALES = "SELECT sale_id, total_fen, receipt_no FROM sales WHERE store_id = ?"
