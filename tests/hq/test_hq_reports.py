"""HQ's consolidated reports, settlement and owners' access, on data that two real
stores made and their agents replicated to HQ (a real process on PostgreSQL).

Every expected figure is computed by hand from what the tills answered (chain_support),
never by the report code."""

from __future__ import annotations

import csv
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from matplotlib import font_manager
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import create_engine

from hq_link.hq.reports import catalog
from hq_link.hq.reports.scope import HqScope
from store_server.reports.charts import cjk_font, missing_glyphs, render
from store_server.reports.excel import YUAN_FORMAT
from tests.hq.chain_support import (
    DAY,
    Chain,
    DayFigures,
    day_at_s01,
    day_at_s02,
    hqctl,
    start_chain,
    wait_store_replicated,
)
from tests.hq.conftest import Cluster
from tests.hq.support import HqProcess
from tests.support.members import supervisor_desk
from tests.support.till import Till
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc, reports_pb2, reports_pb2_grpc

D = datetime.fromisoformat(DAY).date()


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


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}" if fen >= 0 else "-" + _yuan(-fen)


def _tables(url: str, *kinds: str, stores: tuple[str, ...] = ()) -> dict:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: t for t in catalog.run(conn, kinds, HqScope(stores, D, D))}
    finally:
        engine.dispose()


def _by(table, key: str) -> dict:
    return {r[key]: r for r in table.as_dicts()}


def test_report_figures_equal_the_tills_figures(chain: Chain, tmp_path: Path) -> None:
    f: DayFigures = chain.figures
    url = chain.hq.database_url
    done = hqctl(
        url,
        "report",
        "summary",
        "stores",
        "tender",
        "products",
        "members",
        "--from",
        DAY,
        "--to",
        DAY,
        "--csv",
        str(tmp_path / "csv"),
        "--xlsx",
        str(tmp_path / "hq.xlsx"),
        "--charts",
        str(tmp_path / "png"),
    )
    assert done.returncode == 0, done.stderr
    sales = {s: sum(v) for s, v in f.sales.items()}
    refunds = {s: sum(v) for s, v in f.refunds.items()}
    receipts = sum(len(v) for v in f.sales.values())
    chain_sales = sum(sales.values())
    assert chain_sales == 6600 + 200 + 450 + f.sv_spent_fen + 600 + 200
    assert f"{_yuan(chain_sales)}" in done.stdout  # the terminal table

    t = _tables(url, "summary", "stores", "tender", "products", "members")
    day = _by(t["sales_day"], "period")
    assert day[DAY]["receipts"] == receipts == 6
    assert day[DAY]["sales_fen"] == chain_sales
    assert day[DAY]["refund_fen"] == 450
    assert day[DAY]["net_fen"] == chain_sales - 450
    assert day["合计"]["sales_fen"] == chain_sales
    stores = _by(t["stores"], "store_id")
    assert {s: stores[s]["sales_fen"] for s in ("S01", "S02")} == sales
    assert {s: stores[s]["refund_fen"] for s in ("S01", "S02")} == refunds
    assert stores["S02"]["avg_basket_fen"] == 400
    tender = _by(t["tender"], "kind")
    expected: dict[str, int] = {}
    for per_store in f.tenders.values():
        for kind, fen in per_store.items():
            expected[kind] = expected.get(kind, 0) + fen
    assert {k: r["applied_fen"] for k, r in tender.items()} == expected
    assert tender["cash"]["refunded_fen"] == 450 and tender["cash"]["net_fen"] == 7650 - 450
    best = _by(t["best_sellers"], "sku")
    # Cola: a case of 24 and one can at S01, two cans at S02; water: one bottle at each.
    assert best["P1"]["sold_milli"] == 27_000 and best["P1"]["stores"] == 2
    assert best["P1"]["sales_fen"] == 6600 + f.sv_spent_fen + 600
    assert best["P3"]["sold_milli"] == 2_000 and best["P3"]["sales_fen"] == 400
    # The noodles were returned: net nothing sold, so not a best seller.
    assert "P5" not in best and all(r["sold_milli"] > 0 for r in best.values())
    members = _by(t["members"], "label")
    assert members["会员总数"]["count"] == 1 and members["活跃会员"]["count"] == 1
    assert members["会员消费"]["amount_fen"] == f.sv_spent_fen
    # Liabilities over the chain: 500.00 paid + the bonus, less what the can took.
    held = members["储值余额 本金 (负债)"]["amount_fen"] + members["储值余额 赠送"]["amount_fen"]
    assert held == f.topup_fen + f.topup_bonus_fen - f.sv_spent_fen
    assert members["储值充值 本金"]["amount_fen"] == 50_000

    # CSV: the same figures in yuan.
    with (tmp_path / "csv" / "stores.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["门店"]: r for r in csv.DictReader(fh)}
    assert rows["S01"]["销售额"] == _yuan(sales["S01"]) and rows["合计"]["销售额"] == _yuan(
        chain_sales
    )
    # Excel: a sheet per table, numbers as numbers, yuan with two decimals.
    wb = load_workbook(tmp_path / "hq.xlsx")
    assert wb.sheetnames == [
        "sales_day",
        "stores",
        "tender",
        "best_sellers",
        "slow_sellers",
        "members",
        "member_tiers",
    ]
    ws = wb["tender"]
    assert ws["A1"].value == "支付方式"
    header = [c.value for c in ws[2]]
    col = header.index("收款") + 1
    cells = {
        ws.cell(row=r, column=2).value: ws.cell(row=r, column=col) for r in range(3, ws.max_row + 1)
    }
    assert round(Decimal(str(cells["cash"].value)) * 100) == expected["cash"]
    assert cells["cash"].number_format == YUAN_FORMAT
    ws = wb["stores"]
    s01 = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == "S01")
    assert round(Decimal(str(s01[2])) * 100) == sales["S01"] and s01[1] == len(f.sales["S01"])
    # PNG charts: valid images.
    pngs = sorted((tmp_path / "png").glob("*.png"))
    assert {p.stem for p in pngs} >= {"sales_day", "stores", "tender", "best_sellers"}
    for path in pngs:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "PNG" and img.size == (1000, 560)


def test_charts_label_chinese_with_a_cjk_font(chain: Chain) -> None:
    path, family = cjk_font()
    assert "WenQuanYi" in family or "CJK" in family, (path, family)
    tender = _tables(chain.hq.database_url, "tender")["tender"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing" for a box
        fig = render(tender)
        fig.canvas.draw()
    texts = [t for t in fig.findobj(lambda o: hasattr(o, "get_text")) if t.get_text().strip()]
    chinese = [t for t in texts if any("\u4e00" <= ch <= "\u9fff" for ch in t.get_text())]
    assert {"现金", "储值"} <= {t.get_text() for t in chinese}
    for text in chinese:
        used = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
        assert Path(used) == Path(path)
        assert missing_glyphs(text.get_text(), used) == []


def test_help_names_the_stock_reports_and_what_hq_cannot_show(chain: Chain) -> None:
    done = hqctl(chain.hq.database_url, "report", "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "slow sellers" in text and "categories" in text and "replenishment" in text
    assert "as of each store's last day close" in text
    listed = hqctl(chain.hq.database_url, "report", "--list")
    names = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert {"category", "stock", "variance", "replenishment"} <= names
    bad = hqctl(chain.hq.database_url, "report", "nope", "--to", DAY)
    assert bad.returncode == 2 and "unknown HQ report 'nope'" in bad.stderr


def _token(url: str, *args: str) -> str:
    done = hqctl(url, "user", "add", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_owners_see_only_their_stores(chain: Chain) -> None:
    url = chain.hq.database_url
    owner = _token(url, "--id", "owner-s01", "--role", "owner", "--stores", "S01")
    staff = _token(url, "--id", "hq-ops", "--role", "hq")
    f = chain.figures
    with grpc.insecure_channel(chain.hq.address) as channel:
        stub = reports_pb2_grpc.HqReportServiceStub(channel)

        def run(token: str | None, **kw: object) -> reports_pb2.HqReportResult:
            md = [("authorization", f"Bearer {token}")] if token else []
            req = reports_pb2.HqReportRequest(kinds=["stores"], date_from=DAY, date_to=DAY, **kw)
            return stub.RunHqReport(req, metadata=md, timeout=30)

        def sales_by_store(result: reports_pb2.HqReportResult) -> dict[str, int]:
            (table,) = result.tables
            keys = [c.key for c in table.columns]
            s, v = keys.index("store_id"), keys.index("sales_fen")
            return {r.cells[s].text: r.cells[v].number for r in table.rows}

        # The owner of S01 asking for S02: refused, nothing computed.
        with pytest.raises(grpc.RpcError) as err:
            run(owner, stores=["S02"])
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "S02" in err.value.details()
        with pytest.raises(grpc.RpcError) as err:
            run(owner, stores=["S01", "S02"])
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # Naming no store, the owner gets their own; naming it, the same.
        own = sales_by_store(run(owner))
        assert own == {"S01": sum(f.sales["S01"]), "合计": sum(f.sales["S01"])}
        assert sales_by_store(run(owner, stores=["S01"])) == own
        # HQ staff see every store.
        everyone = sales_by_store(run(staff))
        assert everyone["S02"] == sum(f.sales["S02"]) and everyone["S01"] == sum(f.sales["S01"])
        listed = stub.ListHqReports(
            reports_pb2.ListHqReportsRequest(),
            metadata=[("authorization", f"Bearer {staff}")],
            timeout=30,
        )
        assert "settlement" in [r.name for r in listed.reports]
        assert "day close" in listed.not_available
        # No token, or one HQ never issued: UNAUTHENTICATED.
        for token in (None, "not-a-token"):
            with pytest.raises(grpc.RpcError) as err:
                run(token)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        # Reconciliation through the service, with the same limits.
        md = [("authorization", f"Bearer {owner}")]
        ok = stub.Reconcile(reports_pb2.ReconcileRequest(date=DAY), metadata=md, timeout=30)
        assert ok.ok and ok.problems == 0
        assert {r.cells[0].text for r in ok.table.rows} == {"S01"}
        with pytest.raises(grpc.RpcError) as err:
            stub.Reconcile(
                reports_pb2.ReconcileRequest(date=DAY, stores=["S02"]), metadata=md, timeout=30
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as err:
            stub.RunHqReport(
                reports_pb2.HqReportRequest(kinds=["stores"], date_to="23.11.2026"),
                metadata=md,
                timeout=30,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "date_to" in err.value.details()
    listed = hqctl(url, "user", "list")
    assert "owner-s01" in listed.stdout and "S01" in listed.stdout
    assert owner not in hqctl(url, "user", "list").stdout  # only its hash is kept


@pytest.fixture
def settlement_chain(pg_cluster: Cluster, template_db: Path, tmp_path: Path) -> Iterator[Chain]:
    """S01 is a real store with its agent; S02 is spoken for through PushBatch below."""
    url = pg_cluster.url(pg_cluster.create_database())
    c = start_chain(template_db, tmp_path, url, ("S01",))
    yield c
    c.close()


def _push_as_s02(address: str, rows: list[tuple[str, str, dict]]) -> None:
    _push_as(address, "S02", rows)


def _push_as(address: str, store_id: str, rows: list[tuple[str, str, dict]]) -> None:
    """Change rows as a store would ship them (seq 1..n, one transaction each)."""
    with grpc.insecure_channel(address) as channel:
        stub = replication_pb2_grpc.ReplicationServiceStub(channel)
        resp = stub.PushBatch(
            replication_pb2.PushBatchRequest(
                store_id=store_id,
                first_seq=1,
                last_seq=len(rows),
                rows=[
                    replication_pb2.ChangeRow(
                        seq=n,
                        txn=n,
                        kind=kind,
                        key=key,
                        payload_json=json.dumps(payload, ensure_ascii=False),
                        at=payload["created_at"],
                        schema_version=1,
                    )
                    for n, (kind, key, payload) in enumerate(rows, start=1)
                ],
            ),
            timeout=30,
        )
    assert resp.applied_rows == len(rows) and resp.quarantined_rows == 0


def test_settlement_of_a_top_up_at_s01_spent_at_s02(
    settlement_chain: Chain, tmp_path: Path
) -> None:
    c = settlement_chain
    s01 = c.stores["S01"]
    till = Till(s01)
    till.open_shift()
    desk = supervisor_desk(s01, till)
    member = desk.register("13900139000", "李四")
    top = desk.top_up(member.member_id, 50_000)  # 500.00 at S01
    assert top.amount.fen == 50_000
    wait_store_replicated(c.hq, s01.store.config.database, "S01", c.agents["S01"])
    # The member spends 120.00 of stored value at S02 (one card): S02's ledger entry,
    # as store_server.members.ledger writes it (paid and bonus parts, signed).
    at = datetime(2026, 11, 23, 6, 30, tzinfo=UTC).isoformat()  # 14:30 in Shanghai
    spend = {
        "entry_id": "S02-V0000000001",
        "member_id": member.member_id,
        "kind": "spend",
        "paid_fen": -10_500,
        "bonus_fen": -1_500,
        "source_kind": "sale",
        "source_id": "5f0c3a52-93a4-4c41-9d1e-0e1d2c3b4a59",
        "store_id": "S02",
        "operator_id": "2001",
        "device_id": "till-01",
        "created_at": at,
        "offline_day": None,
    }
    _push_as_s02(c.hq.address, [("stored_value_entry", spend["entry_id"], spend)])

    url = c.hq.database_url
    done = hqctl(url, "settlement", "--from", DAY, "--to", DAY, "--csv", str(tmp_path / "csv"))
    assert done.returncode == 0, done.stderr
    with (tmp_path / "csv" / "settlement.csv").open(encoding="utf-8-sig") as fh:
        rows = {r["门店"]: r for r in csv.DictReader(fh)}
    # Hand-computed: S01 took 500.00 for the card and owes it to HQ; S02 handed over
    # 120.00 of goods for stored value and is owed 120.00 by HQ; HQ keeps 380.00.
    assert rows["S01"]["应付总部"] == "500.00" and rows["S01"]["总部应付"] == "0.00"
    assert rows["S01"]["结算净额"] == "-500.00"
    assert rows["S02"]["应付总部"] == "0.00" and rows["S02"]["储值消费"] == "120.00"
    assert rows["S02"]["结算净额"] == "120.00"
    assert rows["合计"]["结算净额"] == "-380.00"
    assert rows["S01"]["充值赠送"] == f"{top.bonus.fen // 100}.{top.bonus.fen % 100:02d}"
    # The same as a report, in Excel.
    xlsx = tmp_path / "settlement.xlsx"
    done = hqctl(url, "report", "settlement", "--from", DAY, "--to", DAY, "--xlsx", str(xlsx))
    assert done.returncode == 0, done.stderr
    ws = load_workbook(xlsx)["settlement"]
    header = [cell.value for cell in ws[2]]
    net = {
        r[0]: r[header.index("结算净额")]
        for r in ws.iter_rows(min_row=3, values_only=True)
        if r[0] in ("S01", "S02", "合计")
    }
    assert {k: round(Decimal(str(v)) * 100) for k, v in net.items()} == {
        "S01": -50_000,
        "S02": 12_000,
        "合计": -38_000,
    }
    # A range without the day settles nothing.
    empty = hqctl(url, "settlement", "--from", "2026-11-24", "--to", "2026-11-30")
    assert empty.returncode == 0 and "S01" not in empty.stdout


def _sale_row(n: int, day: str, total: int, at: str) -> tuple[str, str, dict]:
    receipt = {
        "kind": "sale",
        "receipt_no": f"S03-{day.replace('-', '')}-{n:04d}",
        "business_day": day,
        "at": at,
        "operator_id": "3001",
        "device_id": "till-01",
        "lines": [
            {
                "line_no": 1,
                "name": "可口可乐 330ml",
                "sku": "P1",
                "quantity_milli": 1000,
                "pack_factor": 1,
                "net_amount_fen": total,
            }
        ],
        "discount_fen": 0,
        "rounding_fen": 0,
        "total_fen": total,
        "payments": [{"kind": "cash", "applied_fen": total, "tendered_fen": total}],
        "change_fen": 0,
    }
    return ("sale", f"sale-{n}", {"receipt": json.dumps(receipt), "shift_id": "", "created_at": at})


def test_same_period_last_year(hq_url: str, tmp_path: Path) -> None:
    """Receipts of 2025 and 2026 as a store ships them: 同期对比 per day and per month."""
    hq = HqProcess(hq_url, tls=False)
    hq.start()
    try:
        _push_as(
            hq.address,
            "S03",
            [
                _sale_row(1, "2025-11-23", 1_000, "2025-11-23T03:00:00+00:00"),
                _sale_row(2, "2025-11-30", 500, "2025-11-30T03:00:00+00:00"),
                _sale_row(3, "2026-11-23", 1_500, "2026-11-23T03:00:00+00:00"),
                _sale_row(4, "2026-11-23", 500, "2026-11-23T04:00:00+00:00"),
            ],
        )
        engine = create_engine(hq_url)
        try:
            with engine.connect() as conn:
                scope = HqScope((), D, D)
                (day,) = catalog.run(conn, ["summary"], scope)
                opts = catalog.Options(period="month")
                nov = HqScope((), D.replace(day=1), D.replace(day=30))
                (month,) = catalog.run(conn, ["summary"], nov, opts)
        finally:
            engine.dispose()
        d = _by(day, "period")[DAY]
        assert (d["receipts"], d["sales_fen"], d["last_year_receipts"]) == (2, 2_000, 1)
        assert d["last_year_sales_fen"] == 1_000 and d["growth_bp"] == 10_000  # +100.00%
        m = _by(month, "period")["2026-11"]
        assert (m["sales_fen"], m["last_year_sales_fen"], m["growth_bp"]) == (2_000, 1_500, 3_333)
    finally:
        hq.kill()
