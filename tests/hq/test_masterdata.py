"""Master data down: HQ (a real process on a real PostgreSQL, or in-process on
it) to a store (real SQLite, a real store server) through the agent (a real
process) or its puller in-process.

hqctl runs as a real process; HQ's clock is the real one, so scheduled prices
are set a day ahead of now and the store server's clock is driven to them.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import create_engine, text

from hq_link.agent.config import AgentConfig
from hq_link.agent.masterdata_pull import MasterDataPull, to_incoming
from hq_link.hq.masterdata.writer import MasterData
from hq_link.hq.server import HqServer, build_server
from store_server.currencies import rate_micro
from store_server.domain.catalog_import import parse_rows
from store_server.hq_apply.applier import ApplyError, apply_page, current_revision
from store_server.prices import RECHECK_SECONDS
from tests.hq.support import STORE, AgentProcess, HqProcess, hq_rows
from tests.support.catalog_fixture import COKE_CAN, SPRITE_CAN, write_csv
from tests.support.process import REPO
from tests.support.seed_schema import snapshot as dump_tables
from tests.support.server import RunningStore
from tillpoint.hq.v1 import masterdata_pb2, masterdata_pb2_grpc
from tillpoint.v1 import catalog_pb2

DEADLINE = 10.0
PROMO = (
    '{"promo_id": "cola2", "name": "可乐第二件半价", "rule": {"type": "nth_percent", '
    '"nth": 2, "percent_bp": 5000}, "scope": {"product_ids": ["P1"], "categories": []}}'
)


def hqctl(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hq_link.hqctl", "--database", url, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout + done.stderr


def wait_until(check: Callable[[], bool], what: str, log: Callable[[], str], timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; agent log:\n{log()[-4000:]}")
        time.sleep(0.05)


def store_query(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def md_revision(db: Path) -> int:
    rows = store_query(db, "SELECT revision FROM hq_masterdata_state WHERE id = 1")
    return int(rows[0][0]) if rows else 0


def hq_latest(url: str) -> int:
    return int(hq_rows(url, "SELECT COALESCE(MAX(revision), 0) FROM hq_md_changes")[0][0])


def catalog_csv(directory: Path, *, without: tuple[str, ...] = ()) -> Path:
    path = write_csv(directory / "catalog.csv")
    if without:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = [r for r in csv.reader(fh) if r[0] not in without]
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def hq(hq_url: str) -> Iterator[HqProcess]:
    server = HqProcess(hq_url)
    server.start()
    yield server
    server.kill()


def start_agent(tmp_path: Path, store: RunningStore, hq: HqProcess) -> AgentProcess:
    agent = AgentProcess(tmp_path, store.store.config.database, hq.address)
    agent.config.write_text(
        agent.config.read_text(encoding="utf-8") + "masterdata_pull_seconds = 0.1\n",
        encoding="utf-8",
    )
    agent.start()
    return agent


def lookup_fen(store: RunningStore, md: list, code: str) -> int:
    return store.catalog.Lookup(
        catalog_pb2.LookupRequest(code=code), metadata=md, timeout=DEADLINE
    ).amount.fen


# The kinds storectl-style writes log; none may come from master data applied from HQ.
_HQ_KINDS = {"catalog.import", "promotion", "currency", "operator", "price_change.scheduled"}


def test_a_price_change_at_hq_reaches_the_store_and_takes_effect_at_its_time(
    store: RunningStore, hq: HqProcess, hq_url: str, tmp_path: Path
) -> None:
    db = store.store.config.database
    hqctl(hq_url, "product", "import", str(catalog_csv(tmp_path)))
    last_seq = store_query(db, "SELECT COALESCE(MAX(seq), 0) FROM change_log")[0][0]
    agent = start_agent(tmp_path, store, hq)
    try:
        latest = hq_latest(hq_url)
        wait_until(lambda: md_revision(db) == latest, "the first snapshot", lambda: agent.log)
        assert "snapshot applied" in agent.log

        at = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        change_id = str(uuid.uuid4())
        hqctl(
            hq_url,
            "price",
            "set",
            "--product",
            "P1",
            "--price-fen",
            "320",
            "--effective-at",
            at.isoformat(),
            "--change-id",
            change_id,
        )
        wait_until(
            lambda: bool(
                store_query(db, "SELECT 1 FROM price_changes WHERE change_id = ?", change_id)
            ),
            "the price change at the store",
            lambda: agent.log,
        )
        # Let the store server's scheduler look for changes scheduled by
        # another process (it does so at most once a second).
        time.sleep(RECHECK_SECONDS + 0.2)
        store.clock.set(at - timedelta(seconds=1))
        md = store.login()
        assert lookup_fen(store, md, COKE_CAN) == 300
        assert lookup_fen(store, md, COKE_CAN) == 300
        label_sql = "SELECT product_id FROM label_jobs WHERE source_id = ?"
        assert store_query(db, label_sql, change_id) == []
        store.clock.set(at)
        assert lookup_fen(store, md, COKE_CAN) == 320
        p1 = store_query(db, "SELECT id FROM products WHERE sku = 'P1'")[0][0]
        assert store_query(db, label_sql, change_id) == [(p1,)]
        # Nothing that came from HQ went into the store's change log.
        kinds = {
            k for (k,) in store_query(db, "SELECT kind FROM change_log WHERE seq > ?", last_seq)
        }
        assert not kinds & _HQ_KINDS, kinds
    finally:
        agent.stop()


def _bulk_revisions(url: str, products: int, revisions: int) -> None:
    """`revisions` product changes over `products` new products, in bulk SQL
    (each a revision of the sequence, as hqctl would have written them)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO hq_md_products (sku, name, pinyin, category, unit, weighed, plu,"
                    " tax_rate_bp, retail_price_fen, member_price_fen, cost_fen, status, revision)"
                    " SELECT 'G' || lpad(g::text, 5, '0'), '商品 ' || g, 'SP', '杂货', '个', false,"
                    " NULL, 1300, 100 + g, NULL, 50, 'active', 0"
                    " FROM generate_series(0, :n - 1) g"
                ),
                {"n": products},
            )
            conn.execute(
                text(
                    "INSERT INTO hq_md_changes (revision, entity, key, store_id, payload, deleted,"
                    " at) SELECT nextval('hq_md_revision_seq'), 'product', p.sku, NULL,"
                    " jsonb_build_object('sku', p.sku, 'name', p.name, 'pinyin', p.pinyin,"
                    " 'category', p.category, 'unit', p.unit, 'weighed', false, 'plu', NULL,"
                    " 'tax_rate_bp', 1300, 'retail_price_fen', p.retail_price_fen,"
                    " 'member_price_fen', NULL, 'cost_fen', 50, 'status', 'active',"
                    " 'barcodes', '[]'::jsonb), false, now()"
                    " FROM generate_series(0, :r - 1) g"
                    " JOIN hq_md_products p ON p.sku = 'G' || lpad((g % :n)::text, 5, '0')"
                    " ORDER BY g"
                ),
                {"n": products, "r": revisions},
            )
            conn.execute(
                text(
                    "UPDATE hq_md_products p SET revision = c.rev FROM (SELECT key,"
                    " max(revision) AS rev FROM hq_md_changes WHERE entity = 'product'"
                    " GROUP BY key) c WHERE c.key = p.sku AND p.sku LIKE 'G%'"
                )
            )
    finally:
        engine.dispose()


def assert_store_equals_hq(url: str, db: Path) -> None:
    hq_products = hq_rows(
        url,
        "SELECT sku, name, category, unit, tax_rate_bp, retail_price_fen, member_price_fen,"
        " status FROM hq_md_products ORDER BY sku",
    )
    skus = {r[0] for r in hq_products}
    store_products = [
        r
        for r in store_query(
            db,
            "SELECT p.sku, p.name, c.name, p.unit, p.tax_rate_bp, p.retail_price_fen,"
            " p.member_price_fen, p.status FROM products p JOIN categories c"
            " ON c.id = p.category_id ORDER BY p.sku",
        )
        if r[0] in skus
    ]
    assert store_products == hq_products
    assert sorted(
        hq_rows(url, "SELECT code, sku, pack_factor, price_fen FROM hq_md_barcodes")
    ) == sorted(
        store_query(
            db,
            "SELECT b.code, p.sku, b.pack_factor, b.price_fen FROM barcodes b"
            " JOIN products p ON p.id = b.product_id",
        )
    )
    assert sorted(
        hq_rows(
            url,
            "SELECT sku, retail_price_fen, member_price_fen FROM hq_md_store_prices"
            " WHERE store_id = :s AND NOT deleted",
            s=STORE,
        )
    ) == sorted(
        store_query(
            db,
            "SELECT p.sku, s.retail_price_fen, s.member_price_fen FROM store_prices s"
            " JOIN products p ON p.id = s.product_id WHERE s.store_id = ?",
            STORE,
        )
    )
    assert store_query(db, "SELECT count(*) FROM store_prices WHERE store_id <> ?", STORE) == [(0,)]
    assert sorted(
        hq_rows(url, "SELECT change_id FROM hq_md_price_changes WHERE folded_at IS NULL")
    ) == sorted(store_query(db, "SELECT change_id FROM price_changes WHERE applied_at IS NULL"))
    assert sorted(
        hq_rows(url, "SELECT promo_id FROM hq_md_promotions WHERE status = 'active'")
    ) == sorted(store_query(db, "SELECT promo_id FROM promotions WHERE status = 'active'"))
    assert sorted(
        (code, rate_micro(rate, minor))
        for code, rate, minor in hq_rows(
            url, "SELECT code, rate, minor_units FROM hq_md_currencies"
        )
    ) == sorted(store_query(db, "SELECT code, rate_micro FROM currencies"))
    tier_cols = "code, name, rank, discount_bp, points_multiplier_bp, min_spend_fen, min_points"
    assert sorted(hq_rows(url, f"SELECT {tier_cols} FROM hq_md_tiers")) == sorted(
        store_query(db, f"SELECT {tier_cols} FROM hq_member_tiers")
    )
    hq_ops = hq_rows(
        url,
        "SELECT operator_id, name, role, pin_hash FROM hq_md_operators"
        " WHERE store_id IS NULL OR store_id = :s ORDER BY operator_id",
        s=STORE,
    )
    ids = {r[0] for r in hq_ops}
    assert [
        r
        for r in store_query(
            db, "SELECT operator_id, name, role, pin_hash FROM operators ORDER BY operator_id"
        )
        if r[0] in ids
    ] == hq_ops


def test_a_store_100000_revisions_behind_gets_a_snapshot_and_ends_equal_to_hq(
    store: RunningStore, hq: HqProcess, hq_url: str, tmp_path: Path
) -> None:
    db = store.store.config.database
    # HQ no longer sells P7: after the snapshot the store must not either.
    hqctl(hq_url, "product", "import", str(catalog_csv(tmp_path, without=("P7",))))
    agent = start_agent(tmp_path, store, hq)
    latest = hq_latest(hq_url)
    wait_until(lambda: md_revision(db) == latest, "the first snapshot", lambda: agent.log)
    agent.stop()
    behind = md_revision(db)

    _bulk_revisions(hq_url, products=2_000, revisions=100_000)
    hqctl(hq_url, "price", "set", "--product", "P2", "--price-fen", "280", "--store", STORE)
    hqctl(hq_url, "price", "set", "--product", "P3", "--price-fen", "150", "--store", "S02")
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    hqctl(hq_url, "price", "set", "--product", "P4", "--price-fen", "999", "--effective-at", later)
    (tmp_path / "promo.json").write_text(PROMO, encoding="utf-8")
    hqctl(hq_url, "promotion", "create", str(tmp_path / "promo.json"))
    hqctl(hq_url, "currency", "set", "USD", "7.1234")
    hqctl(
        hq_url,
        "tier",
        "set",
        "--code",
        "gold",
        "--name",
        "金卡",
        "--rank",
        "2",
        "--discount-bp",
        "500",
    )
    hqctl(
        hq_url,
        "operator",
        "upsert",
        "--id",
        "2001",
        "--name",
        "区域经理",
        "--role",
        "supervisor",
        "--pin",
        "5678",
    )
    latest = hq_latest(hq_url)
    assert latest - behind > 100_000

    (tmp_path / "again").mkdir()
    agent = start_agent(tmp_path / "again", store, hq)
    try:
        wait_until(lambda: md_revision(db) == latest, "the snapshot", lambda: agent.log, 180)
        log = agent.log
        assert "read a snapshot" in log  # HQ's SNAPSHOT_REQUIRED answer, as logged
        assert "snapshot at revision" in log and "snapshot: applied" in log
    finally:
        agent.stop()
    assert_store_equals_hq(hq_url, db)
    assert store_query(db, "SELECT status FROM products WHERE sku = 'P7'") == [("inactive",)]
    assert store_query(db, "SELECT count(*) FROM products WHERE sku LIKE 'G%'") == [(2_000,)]
    assert store_query(db, "SELECT snapshot_revision FROM hq_masterdata_state") == [(latest,)]
    # The store server serves HQ's data: S01's own price for P2.
    md = store.login()
    assert lookup_fen(store, md, SPRITE_CAN) == 280
    # HQ's tiers replace the configured ones from the store server's next start.
    store.restart()
    assert [(t.code, t.name, t.discount_bp) for t in store.store.config.members.tiers] == [
        ("gold", "金卡", 500)
    ]


# -- in-process HQ (real PostgreSQL, real gRPC) and puller ---------------------


@pytest.fixture
def hq_inproc(hq_url: str) -> Iterator[HqServer]:
    server = build_server(hq_url, "127.0.0.1:0", workers=4)
    server.start()
    yield server
    server.stop(grace=1)


@pytest.fixture
def store_db(template_db: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store.db"
    shutil.copy(template_db, path)
    yield path


def _puller(hq: HqServer, db: Path) -> MasterDataPull:
    config = AgentConfig(store_id=STORE, database=db, hq=hq.address, rpc_timeout_seconds=30)
    return MasterDataPull(config, channel_factory=grpc.insecure_channel)


def _stub(hq: HqServer) -> tuple[grpc.Channel, masterdata_pb2_grpc.MasterDataServiceStub]:
    channel = grpc.insecure_channel(hq.address)
    return channel, masterdata_pb2_grpc.MasterDataServiceStub(channel)


def _seed_hq(hq: HqServer, directory: Path) -> MasterData:
    with catalog_csv(directory).open(encoding="utf-8") as fh:
        drafts, errors = parse_rows(csv.DictReader(fh))
    assert not errors
    md = MasterData(hq.engine)
    md.upsert_products(drafts, datetime.now(UTC))
    return md


def test_a_page_pulled_twice_changes_nothing(
    hq_inproc: HqServer, store_db: Path, tmp_path: Path
) -> None:
    md = _seed_hq(hq_inproc, tmp_path)
    puller = _puller(hq_inproc, store_db)
    channel, stub = _stub(hq_inproc)
    try:
        puller.pull_once(stub)  # the first snapshot
        since = current_revision(puller.db)
        now = datetime.now(UTC)
        md.set_price(
            sku="P2", retail_fen=330, member_fen=None, store_id=None, effective_at=None, now=now
        )
        md.set_currency(code="HKD", name="港币", rate="0.9123", minor_units=2, now=now)
        md.create_promotion(json.loads(PROMO), now)
        md.end_promotion("cola2", now)
        reply = stub.PullChanges(
            masterdata_pb2.PullChangesRequest(store_id=STORE, since_revision=since),
            timeout=DEADLINE,
        )
        assert not reply.has_more and reply.revision == reply.latest_revision > since
        changes = [to_incoming(m) for m in reply.changes]

        def apply() -> int:
            return apply_page(
                puller.db,
                changes,
                reached=reply.revision,
                latest=reply.latest_revision,
                store_id=STORE,
                zone="Asia/Shanghai",
                now=datetime.now(UTC),
            ).changes

        assert apply() == len(changes) > 0
        conn = sqlite3.connect(store_db)
        first = dump_tables(conn)
        conn.close()
        assert apply() == 0
        conn = sqlite3.connect(store_db)
        assert dump_tables(conn) == first
        conn.close()
        p2 = store_query(store_db, "SELECT id, retail_price_fen FROM products WHERE sku = 'P2'")
        assert p2[0][1] == 330
        assert store_query(
            store_db, "SELECT count(*) FROM label_jobs WHERE product_id = ?", p2[0][0]
        ) == [(1,)]
        assert store_query(store_db, "SELECT status FROM promotions WHERE promo_id = 'cola2'") == [
            ("ended",)
        ]
    finally:
        channel.close()
        puller.db.dispose()


def test_a_page_that_fails_leaves_nothing_half_applied(
    hq_inproc: HqServer, store_db: Path, tmp_path: Path, hq_url: str
) -> None:
    md = _seed_hq(hq_inproc, tmp_path)
    puller = _puller(hq_inproc, store_db)
    channel, stub = _stub(hq_inproc)
    try:
        puller.pull_once(stub)
        since = current_revision(puller.db)
        (draft,), _ = parse_rows(
            [
                {
                    "sku": "P9",
                    "name": "新品 酸奶",
                    "category": "乳品",
                    "unit": "杯",
                    "tax_rate": "13",
                    "retail_price": "6.50",
                }
            ]
        )
        now = datetime.now(UTC)
        md.upsert_products([draft], now)
        change_id, _ = md.set_price(
            sku="P1", retail_fen=310, member_fen=None, store_id=None, effective_at=None, now=now
        )
        # A change the store cannot apply (as a newer HQ might send): its product
        # is unknown at the store.
        engine = create_engine(hq_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE hq_md_changes SET payload = jsonb_set(payload, '{sku}', '\"NOPE\"')"
                    " WHERE key = :k"
                ),
                {"k": change_id},
            )
        conn_before = sqlite3.connect(store_db)
        before = dump_tables(conn_before)
        conn_before.close()
        with pytest.raises(ApplyError, match="no product NOPE"):
            puller.pull_once(stub)
        conn_after = sqlite3.connect(store_db)
        assert dump_tables(conn_after) == before  # P9 (earlier in the page) is not there either
        conn_after.close()
        assert current_revision(puller.db) == since
        # HQ fixes the change; the next pull applies the whole page.
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE hq_md_changes SET payload = jsonb_set(payload, '{sku}', '\"P1\"')"
                    " WHERE key = :k"
                ),
                {"k": change_id},
            )
        engine.dispose()
        assert puller.pull_once(stub) >= 2
        assert store_query(store_db, "SELECT name FROM products WHERE sku = 'P9'") == [
            ("新品 酸奶",)
        ]
        assert store_query(store_db, "SELECT retail_price_fen FROM products WHERE sku = 'P1'") == [
            (310,)
        ]
    finally:
        channel.close()
        puller.db.dispose()


def test_pull_answers_only_what_concerns_the_store_and_refuses_bad_input(
    hq_inproc: HqServer, tmp_path: Path
) -> None:
    md = _seed_hq(hq_inproc, tmp_path)
    now = datetime.now(UTC)
    md.set_price(
        sku="P3", retail_fen=150, member_fen=None, store_id="S02", effective_at=None, now=now
    )
    md.set_price(
        sku="P3", retail_fen=160, member_fen=None, store_id=STORE, effective_at=None, now=now
    )
    channel, stub = _stub(hq_inproc)
    try:
        with pytest.raises(grpc.RpcError) as err:
            stub.PullChanges(masterdata_pb2.PullChangesRequest(store_id=STORE), timeout=DEADLINE)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "snapshot" in err.value.details()
        reply = stub.PullChanges(
            masterdata_pb2.PullChangesRequest(store_id=STORE, since_revision=1, page_size=3),
            timeout=DEADLINE,
        )
        assert reply.has_more and len(reply.changes) == 3
        seen = list(reply.changes)
        while reply.has_more:
            reply = stub.PullChanges(
                masterdata_pb2.PullChangesRequest(
                    store_id=STORE, since_revision=reply.revision, page_size=3
                ),
                timeout=DEADLINE,
            )
            seen += reply.changes
        assert reply.revision == reply.latest_revision
        assert {c.store_id for c in seen} == {"", STORE}
        assert [c.revision for c in seen] == sorted(c.revision for c in seen)
        for bad, field in (
            (masterdata_pb2.PullChangesRequest(store_id=STORE, page_size=99_999), "page_size"),
            (
                masterdata_pb2.PullChangesRequest(store_id=STORE, since_revision=-1),
                "since_revision",
            ),
            (masterdata_pb2.PullChangesRequest(store_id=""), "store_id"),
        ):
            with pytest.raises(grpc.RpcError) as err:
                stub.PullChanges(bad, timeout=DEADLINE)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert field in err.value.details()
        pages = list(
            stub.GetSnapshot(
                masterdata_pb2.GetSnapshotRequest(store_id=STORE, page_size=4), timeout=DEADLINE
            )
        )
        items = [i for p in pages for i in p.items]
        assert pages[-1].last and len(items) == pages[0].total
        assert {i.key for i in items if i.entity == "store_price"} == {f"{STORE}:P3"}
    finally:
        channel.close()
