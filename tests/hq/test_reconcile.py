"""Reconciliation at HQ: two real stores sell, return, top up and close their day; their
agents replicate to HQ on PostgreSQL; `hqctl reconcile` compares HQ's sums with the
stores' own day close and Z reports, and names every mismatch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select, update

from hq_link.hq.projectors import rebuild
from hq_link.hq.projectors.closes import day_closes
from hq_link.hq.projectors.receipts import payments
from hq_link.hq.reconcile.compare import DayFigures, Status, compare, store_figures
from hq_link.hq.reconcile.settlement import SvMovement, settle
from tests.hq.chain_support import DAY, Chain, day_at_s01, day_at_s02, hqctl, start_chain
from tests.hq.conftest import Cluster


@pytest.fixture(scope="module")
def chain(
    pg_cluster: Cluster, template_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Chain]:
    url = pg_cluster.url(pg_cluster.create_database())
    c = start_chain(template_db, tmp_path_factory.mktemp("chain"), url, ("S01", "S02"))
    try:
        day_at_s01(c.stores["S01"], c.figures)
        day_at_s02(c.stores["S02"], c.figures)
        c.replicate()
        yield c
    finally:
        c.close()


def _problems(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.split(":")[0] in ("MISMATCH", "MISSING", "LAG")]


def test_replicated_day_reconciles_and_tampering_is_named(chain: Chain) -> None:
    url = chain.hq.database_url
    done = hqctl(url, "reconcile", "--date", DAY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _problems(done.stderr) == []
    out = done.stdout
    # Both stores, the day close and the Z reports, sales, tenders and the member ledgers.
    for name in (
        "sales.total_fen",
        "returns.total_fen",
        "tender.cash",
        "tender.bank_card",
        "tender.mobile",
        "tender.stored_value",
        "stored_value.topup.paid_fen",
        "stored_value.spend.paid_fen",
        "points.earn",
    ):
        assert name in out, name
    assert "S01" in out and "S02" in out and "日结" in out and " Z " in out
    assert "不符 MISMATCH" not in out and "缺失 MISSING" not in out
    assert "56 checks, 0 not ok" in out
    # HQ's figures are the tills' figures: S01 sold 66.00 + 2.00 + 4.50 + the member's can.
    s01 = [ln for ln in out.splitlines() if ln.startswith("S01") and "sales.total_fen" in ln]
    total = sum(chain.figures.sales["S01"])
    assert any(f"{total // 100}.{total % 100:02d}" in ln for ln in s01)

    engine = create_engine(url)
    try:
        # 1. One HQ row tampered: the card payment at S01 is a fen more at HQ.
        p = payments.c
        with engine.begin() as conn:
            conn.execute(
                update(payments)
                .where(p.store_id == "S01", p.kind == "bank_card")
                .values(applied_fen=p.applied_fen + 1)
            )
        done = hqctl(url, "reconcile", "--date", DAY)
        assert done.returncode == 1
        problems = _problems(done.stderr)
        assert f"MISMATCH: S01 {DAY} 日结 tender.bank_card (HQ 2.01, store 2.00)" in problems
        assert f"MISMATCH: S01 {DAY} Z tender.bank_card (HQ 2.01, store 2.00)" in problems
        assert not [x for x in problems if "S02" in x]
        with engine.begin() as conn:
            conn.execute(
                update(payments)
                .where(p.store_id == "S01", p.kind == "bank_card")
                .values(applied_fen=p.applied_fen - 1)
            )
        assert hqctl(url, "reconcile", "--date", DAY).returncode == 0

        # 2. A store-side figure dropped: S02's day close lost its sales total.
        c = day_closes.c
        with engine.begin() as conn:
            figures = conn.execute(
                select(c.figures).where(c.store_id == "S02", c.business_day == DAY)
            ).scalar_one()
            kept = dict(figures)
            del figures["sales_total_fen"]
            conn.execute(
                update(day_closes)
                .where(c.store_id == "S02", c.business_day == DAY)
                .values(figures=figures)
            )
        done = hqctl(url, "reconcile", "--date", DAY, "--store", "S02")
        assert done.returncode == 1
        assert _problems(done.stderr) == [
            f"MISMATCH: S02 {DAY} 日结 sales.total_fen (HQ 8.00, store —)"
        ]

        # 3. No day close at all from S02.
        with engine.begin() as conn:
            conn.execute(delete(day_closes).where(c.store_id == "S02"))
        done = hqctl(url, "reconcile", "--date", DAY)
        assert done.returncode == 1
        problems = _problems(done.stderr)
        assert f"MISSING: S02 {DAY} 日结 day_close (未日结) (HQ —, store —)" in problems
        assert f"MISSING: S02 {DAY} 日结 sales.total_fen (HQ 8.00, store —)" in problems
        assert not [x for x in problems if "S01" in x]
        with engine.begin() as conn:
            conn.execute(
                day_closes.insert().values(
                    store_id="S02",
                    business_day=DAY,
                    closed=True,
                    figures=kept,
                    ledger={"stored_value": {}, "points": {}},
                    at=chain.stores["S02"].clock.now(),
                    seq=0,
                )
            )
        assert hqctl(url, "reconcile", "--date", DAY, "--store", "S02").returncode == 0

        # 4. The projections rebuilt from HQ's change log agree with the stores again.
        with engine.begin() as conn:
            conn.execute(delete(day_closes).where(c.store_id == "S01"))
        assert hqctl(url, "reconcile", "--date", DAY).returncode == 1
        again = hqctl(url, "reproject", "--quiet")
        assert again.returncode == 0, again.stderr
        assert again.stdout.count(", 0 skipped") == 2
        done = hqctl(url, "reconcile", "--date", DAY)
        assert done.returncode == 0 and "56 checks, 0 not ok" in done.stdout
    finally:
        engine.dispose()


def test_a_day_past_the_replicated_changes_is_reported_as_lag(chain: Chain) -> None:
    done = hqctl(chain.hq.database_url, "reconcile", "--date", "2026-11-24", "--store", "S01")
    assert done.returncode == 1
    problems = _problems(done.stderr)
    assert any(
        x.startswith("LAG: S01 2026-11-24 HQ replication (HQ has changes up to") for x in problems
    )
    assert "MISSING: S01 2026-11-24 日结 day_close (未日结) (HQ —, store —)" in problems


def test_the_sqlite_demo_hq_reconciles_too(template_db: Path, tmp_path: Path) -> None:
    """`make hq` runs HQ on SQLite: the same projections, checks and lag."""
    url = f"sqlite:///{tmp_path}/hq.db"
    c = start_chain(template_db, tmp_path, url, ("S01",))
    try:
        day_at_s01(c.stores["S01"], c.figures)
        c.replicate()
        done = hqctl(url, "reconcile", "--date", DAY)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "0 not ok" in done.stdout and "stored_value.topup.paid_fen" in done.stdout
        lag = hqctl(url, "reconcile", "--date", "2026-11-24")
        assert lag.returncode == 1
        assert any(x.startswith("LAG: S01 2026-11-24") for x in _problems(lag.stderr))
        # Projections lost (or made before these existed): rebuilt from hq_changes.
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                for table in rebuild.TABLES:
                    conn.execute(delete(table))
        finally:
            engine.dispose()
        assert hqctl(url, "reconcile", "--date", DAY).returncode == 1
        again = hqctl(url, "reproject", "--quiet")
        assert again.returncode == 0, again.stderr
        assert "S01: " in again.stdout and ", 0 skipped" in again.stdout
        done = hqctl(url, "reconcile", "--date", DAY)
        assert done.returncode == 0 and "0 not ok" in done.stdout
        members = hqctl(url, "report", "members", "--to", DAY, "--csv", str(tmp_path / "csv"))
        assert members.returncode == 0, members.stderr
        text = (tmp_path / "csv" / "members.csv").read_text(encoding="utf-8-sig")
        assert "新会员,1," in text and "储值充值 本金,,500.00," in text
    finally:
        c.close()


def test_settlement_convention_by_hand() -> None:
    """Top-ups owe their paid part to HQ; stored value spent is owed by HQ at face value."""
    rows = settle(
        [
            SvMovement("S01", "topup", 50_000, 8_000),  # 500.00 paid + 80.00 bonus
            SvMovement("S01", "cash_out", -10_000, -1_600),  # 100.00 paid back in cash
            SvMovement("S02", "spend", -10_500, -1_500),  # 120.00 of goods
            SvMovement("S02", "refund", 1_750, 250),  # a return put 20.00 back
            SvMovement("S01", "spend", -2_000, 0),
        ]
    )
    by = {r.store_id: r for r in rows}
    assert (by["S01"].topped_up_fen, by["S01"].spent_fen, by["S01"].net_fen) == (
        40_000,
        2_000,
        -38_000,
    )
    assert (by["S02"].spend_fen, by["S02"].returned_fen, by["S02"].net_fen) == (
        12_000,
        2_000,
        10_000,
    )
    assert by["合计"].net_fen == -28_000  # HQ holds 400.00 taken less 120.00 paid out
    assert settle([]) == []


def test_compare_names_what_one_side_lacks() -> None:
    hq = DayFigures(
        sales_count=2, sales_total_fen=800, tenders={"cash": (600, 1), "mobile": (200, 1)}
    )
    sent = store_figures(
        {
            "figures": {
                "sales_count": 2,
                "sales_total_fen": 800,
                "discounts_fen": 0,
                "rounding_fen": 0,
                "change_fen": 0,
                "returns_count": 0,
                "returns_total_fen": 0,
                "tenders": {"cash": [600, 1], "bank_card": [0, 0], "bogus": "x"},
            }
        },
        ledger=False,
    )
    checks = {c.name: c for c in compare("S02", DAY, "日结", hq, sent)}
    assert checks["tender.cash"].status is Status.OK
    assert checks["tender.bank_card"].status is Status.OK  # neither side used it
    assert checks["tender.mobile"].status is Status.MISMATCH  # the store sent none
    assert checks["tender.mobile"].store is None and checks["tender.mobile"].hq == 200
    assert "tender.bogus" not in checks  # malformed figures are not taken as zero
    assert checks["sales.total_fen"].value_text(800) == "8.00"
    assert (
        store_figures(None, ledger=True) == {} and store_figures({"figures": 3}, ledger=True) == {}
    )
