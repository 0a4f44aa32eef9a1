"""Members speed with 1,000,000 members, each figure beside its physical reference in the same run.

- database size, and the store server's RSS after warm-up;
- member auth by card (IdentifyMember) p50/p99 vs the raw gRPC echo p50/p99,
  alternating blocks (target: p99 under 3x the echo p99);
- CommitSale of 20-line sales paid half by stored value, half in cash, each by
  another member, from 4 tills at once, vs the raw SQLite commits of
  sales_bench (the same reference: target at least 0.3 of it).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import grpc
import psutil

from bench.sales_bench import commit_bytes, raw_sqlite_commits
from bench.support import (
    BENCH_DIR,
    catalog_db,
    login_metadata,
    measure_pair,
    progress,
    start_server,
    verdict,
)
from store_server.domain.members.identity import member_number, store_code
from tillpoint.v1 import (
    common_pb2,
    diagnostics_pb2,
    diagnostics_pb2_grpc,
    members_pb2,
    members_pb2_grpc,
    sales_pb2,
    sales_pb2_grpc,
)

MEMBERS = 1_000_000
SKUS = 100_000
BATCH = 100_000  # generated members per transaction
PIN_MEMBERS = 10  # members with a real scrypt PIN hash (the rest have none)
PIN = "246810"
STORE_ID = "S01"  # config/store.demo.toml
CALLS = 3_000
TILLS = 4
COMMITS_PER_TILL = 100
COMMIT_LINES = 20
TOPUP_FEN = 200_000  # 充2000: enough for half of any 20-line basket

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红玉梅文辉鹏飞婷雪琳晨浩宇欣"


def _ids() -> str:
    return str(uuid.uuid4())


def card_of(seq: int) -> str:
    """The card number of the `seq`-th generated member (the card is the member number)."""
    return member_number(store_code(STORE_ID), seq)


def members_db(count: int = MEMBERS, skus: int = SKUS) -> Path:
    """The bench store with `count` generated members (built once, then reused)."""
    from store_server.db import migrate
    from store_server.db.database import Database

    path = BENCH_DIR / f"members-{count}.db"
    if path.exists():
        db = Database(path, synchronous="NORMAL")
        migrate.upgrade(db)  # a store built by an older version: bring it to head
        db.dispose()
        return path
    source = catalog_db(skus)
    print(f"building a store with {count:,} members in {path} (once)", file=sys.stderr)
    partial = path.with_suffix(".partial")
    for leftover in BENCH_DIR.glob(partial.name + "*"):
        leftover.unlink()
    shutil.copy(source, partial)
    started = time.perf_counter()
    _generate_members(partial, count)
    print(
        f"  generated {count:,} members in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    partial.rename(path)
    return path


def _generate_members(path: Path, count: int) -> None:
    """Members and their cards by raw executemany, one transaction per BATCH.

    Phones are unique 1[3-9]xxxxxxxxx; birthdays in the birthday month already
    had this year's coupon (so auth is the steady state, not the once-a-year
    coupon write); tiers follow the cumulative spend. A few members get a real
    scrypt PIN hash: hashing a million would take hours.
    """
    from store_server.domain.members.tiers import DEFAULT_TIERS
    from store_server.domain.pins import hash_pin

    rng = random.Random(5)
    now = datetime.now(UTC)
    created = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    year = now.year
    phones = rng.sample(range(13_000_000_000, 20_000_000_000), count)
    pins = [hash_pin(PIN) for _ in range(PIN_MEMBERS)]
    tiers = sorted(DEFAULT_TIERS, key=lambda t: t.min_spend_fen)

    def member_row(seq: int) -> tuple:
        card = card_of(seq)
        spend = int(rng.paretovariate(1.2) * 20_000) - 20_000
        tier = next(t.code for t in reversed(tiers) if spend >= t.min_spend_fen)
        birthday = (
            date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28)).isoformat()
            if rng.random() < 0.7
            else None
        )
        return (
            card,  # member_id
            card,  # card_no: the member number is the card
            None,  # registration_id
            str(phones[seq - 1]),
            rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.randint(1, 2))),
            birthday,
            tier,
            "active",
            pins[seq - 1] if seq <= PIN_MEMBERS else None,
            0,  # failed_pins
            None,  # locked_until
            0,  # card_discount_bp
            STORE_ID,
            created,
            0,  # points
            0,  # points_earned_total
            spend,
            0,  # sv_paid_fen (stored value comes by TopUp, through its ledger)
            0,  # sv_bonus_fen
            year,  # birthday_coupon_year
        )

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")  # a crash leaves only the .partial file
    conn.execute("PRAGMA cache_size=-262144")  # 256 MB: the phone index is inserted at random
    for start in range(1, count + 1, BATCH):
        seqs = range(start, min(start + BATCH, count + 1))
        rows = [member_row(seq) for seq in seqs]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO members (member_id, card_no, registration_id, phone, name, birthday,"
            " tier, status, pin_hash, failed_pins, locked_until, card_discount_bp, home_store,"
            " created_at, points, points_earned_total, spend_total_fen, sv_paid_fen,"
            " sv_bonus_fen, birthday_coupon_year)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO member_cards (card_no, member_id, status, issued_at, ended_at)"
            " VALUES (?, ?, 'active', ?, NULL)",
            [(r[1], r[0], created) for r in rows],
        )
        conn.execute("COMMIT")
        progress("members generated", seqs[-1], count)
    # The next registration continues after the generated numbers.
    conn.execute(
        "INSERT INTO counters (name, value) VALUES ('member-number', ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (count,),
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _fresh(name: str, source: Path) -> Path:
    for leftover in BENCH_DIR.glob(f"{name}*"):
        leftover.unlink()
    path = BENCH_DIR / name
    shutil.copy(source, path)
    return path


def _codes(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT b.code FROM barcodes b JOIN products p ON p.id = b.product_id "
                "WHERE b.pack_factor = 1 AND p.status = 'active'"
            )
        ]


def _add_operators(db: Path) -> None:
    """Four cashiers for the tills and a supervisor for the top-ups (PIN 1111)."""
    with sqlite3.connect(db) as conn:
        for oid, role in (
            ("1101", "cashier"),
            ("1102", "cashier"),
            ("1103", "cashier"),
            ("1104", "cashier"),
            ("1201", "supervisor"),
        ):
            conn.execute(
                "INSERT INTO operators (operator_id, name, role, store_id, pin_hash,"
                " active, failed_pin_count, created_at) SELECT ?, 'bench', ?, 'S01',"
                " pin_hash, 1, 0, created_at FROM operators WHERE operator_id = '1001'",
                (oid, role),
            )


def _login(channel: grpc.Channel, operator: str, device: str) -> list[tuple[str, str]]:
    from tillpoint.v1 import auth_pb2, auth_pb2_grpc

    resp = auth_pb2_grpc.AuthServiceStub(channel).Login(
        auth_pb2.LoginRequest(operator_id=operator, pin="1111", device_id=device), timeout=10
    )
    return [("authorization", f"Bearer {resp.token}"), ("x-device-id", device)]


def _open_shift(stub: sales_pb2_grpc.SalesServiceStub, md: list) -> None:
    stub.OpenShift(
        sales_pb2.OpenShiftRequest(shift_id=_ids(), float=common_pb2.Money(fen=0)),
        metadata=md,
        timeout=10,
    )


def _member_basket(
    stub: sales_pb2_grpc.SalesServiceStub, md: list, card_no: str, codes: list[str]
) -> tuple[str, int]:
    """A basket with its member attached by card, then scanned: (basket id, total)."""
    basket_id = _ids()
    stub.CreateBasket(sales_pb2.CreateBasketRequest(basket_id=basket_id), metadata=md, timeout=10)
    stub.AttachMember(
        sales_pb2.AttachMemberRequest(
            basket_id=basket_id, member=members_pb2.MemberCredential(card_no=card_no)
        ),
        metadata=md,
        timeout=10,
    )
    basket = None
    for code in codes:
        basket = stub.AddItem(
            sales_pb2.AddItemRequest(basket_id=basket_id, line_id=_ids(), code=code),
            metadata=md,
            timeout=10,
        )
    return basket_id, basket.total.fen


def run(members: int = MEMBERS, calls: int = CALLS) -> bool:
    source = members_db(members)
    size_mb = source.stat().st_size / 2**20
    db = _fresh("members-run.db", source)
    _add_operators(db)
    codes = _codes(db)
    rng = random.Random(13)
    chosen = rng.sample(range(1, members + 1), 200 + calls + TILLS * COMMITS_PER_TILL)
    warm_cards = [card_of(s) for s in chosen[:200]]
    auth_cards = [card_of(s) for s in chosen[200 : 200 + calls]]
    spend_cards = [card_of(s) for s in chosen[200 + calls :]]
    server = start_server(db)
    try:
        channel = grpc.insecure_channel(server.address)
        md = login_metadata(channel)
        echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
        member_stub = members_pb2_grpc.MemberServiceStub(channel)
        empty = diagnostics_pb2.EchoMessage()

        def identify(card_no: str) -> members_pb2.Member:
            return member_stub.IdentifyMember(
                members_pb2.MemberCredential(card_no=card_no), metadata=md, timeout=5
            )

        for card in warm_cards:  # warm both paths up, on members not timed later
            echo.Echo(empty, timeout=5)
            identify(card)
        rss_mb = psutil.Process(server.proc.pid).memory_info().rss / 2**20

        echo_lat, auth_lat = measure_pair(
            lambda i: echo.Echo(empty, timeout=5),
            lambda i: identify(auth_cards[i]),
            calls,
            label="echo + identify by card",
        )
        assert identify(auth_cards[0]).card_no == auth_cards[0]

        # Stored value for the members who pay, through TopUp and its ledger (untimed).
        desk = sales_pb2_grpc.SalesServiceStub(channel)
        sup = _login(channel, "1201", "bench-desk")
        _open_shift(desk, sup)
        for n, card in enumerate(spend_cards, 1):
            member_stub.TopUp(
                members_pb2.TopUpRequest(
                    topup_id=_ids(),
                    member=members_pb2.MemberCredential(card_no=card),
                    amount=common_pb2.Money(fen=TOPUP_FEN),
                    payment=members_pb2.DepositPayment(kind="cash"),
                ),
                metadata=sup,
                timeout=10,
            )
            if n % 100 == 0:
                progress("members topped up", n, len(spend_cards))

        # Commits: 4 tills, member baskets filled first (not timed), then commit at once.
        tills = []
        for t in range(TILLS):
            tmd = _login(channel, f"110{t + 1}", f"bench-till-{t}")
            tstub = sales_pb2_grpc.SalesServiceStub(channel)
            _open_shift(tstub, tmd)
            tills.append((tstub, tmd))
        baskets: list[list[tuple[str, int]]] = []
        for t, (tstub, tmd) in enumerate(tills):
            cards = spend_cards[t * COMMITS_PER_TILL : (t + 1) * COMMITS_PER_TILL]
            baskets.append(
                [
                    _member_basket(tstub, tmd, card, rng.sample(codes, COMMIT_LINES))
                    for card in cards
                ]
            )
            progress("member baskets filled", (t + 1) * COMMITS_PER_TILL, TILLS * COMMITS_PER_TILL)
        barrier = threading.Barrier(TILLS)

        def commit_all(t: int) -> None:
            tstub, tmd = tills[t]
            barrier.wait()
            for basket_id, total in baskets[t]:
                by_card = total // 2
                tstub.CommitSale(
                    sales_pb2.CommitSaleRequest(
                        sale_id=_ids(),
                        basket_id=basket_id,
                        payments=[
                            sales_pb2.Payment(
                                kind=sales_pb2.TENDER_KIND_STORED_VALUE,
                                amount=common_pb2.Money(fen=by_card),
                            ),
                            sales_pb2.Payment(
                                kind=sales_pb2.TENDER_KIND_CASH,
                                amount=common_pb2.Money(fen=total - by_card),
                            ),
                        ],
                    ),
                    metadata=tmd,
                    timeout=30,
                )

        started = time.perf_counter()
        with ThreadPoolExecutor(TILLS) as pool:
            list(pool.map(commit_all, range(TILLS)))
        commit_rate = TILLS * COMMITS_PER_TILL / (time.perf_counter() - started)
        channel.close()
    finally:
        server.stop()
    with sqlite3.connect(db) as conn:
        spends = conn.execute(
            "SELECT count(*) FROM stored_value_entries WHERE kind = 'spend'"
        ).fetchone()[0]
    assert spends == TILLS * COMMITS_PER_TILL, spends

    raw_db = _fresh("members-raw.db", source)
    with sqlite3.connect(raw_db) as conn:
        conn.execute("INSERT INTO counters VALUES ('raw', 0)")
    # The same rows and bytes (receipt, change payload, audit entry) as this
    # run's member sales wrote, as sales_bench compares its own.
    raw_rate = raw_sqlite_commits(raw_db, TILLS * COMMITS_PER_TILL, COMMIT_LINES, commit_bytes(db))

    auth_ratio = auth_lat.p99_ms / echo_lat.p99_ms
    commit_ratio = commit_rate / raw_rate
    print(f"\n== members, {members:,} members, {SKUS:,} SKUs, 127.0.0.1, synchronous=FULL")
    print(f"  store database       {size_mb:,.0f} MB ({source.name})")
    print(f"  server RSS           {rss_mb:,.0f} MB after warm-up")
    print(
        f"  raw gRPC echo        p50 {echo_lat.p50_ms:6.3f} ms  p99 {echo_lat.p99_ms:6.3f} ms"
        f"  ({echo_lat.per_second:,.0f} calls/s)"
    )
    print(
        f"  auth by card         p50 {auth_lat.p50_ms:6.3f} ms  p99 {auth_lat.p99_ms:6.3f} ms"
        f"  ({auth_lat.per_second:,.0f} calls/s, IdentifyMember, {calls:,} random members)"
    )
    print(
        f"  auth/echo            p50 x{auth_lat.p50_ms / echo_lat.p50_ms:.2f}"
        f"  p99 x{auth_ratio:.2f}"
        f"   (target p99 < x3.00: {verdict(auth_ratio < 3)})"
    )
    print(
        f"  raw SQLite commits   {raw_rate:,.0f} sales/s ({COMMIT_LINES} lines, sales_bench's rows,"
        f" one transaction each)"
    )
    print(
        f"  CommitSale, {TILLS} tills {commit_rate:,.0f} sales/s = x{commit_ratio:.2f} of raw"
        f" (stored value + cash, a member each)"
        f"   (target >= x0.30: {verdict(commit_ratio >= 0.3)})"
    )
    return auth_ratio < 3 and commit_ratio >= 0.3


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
