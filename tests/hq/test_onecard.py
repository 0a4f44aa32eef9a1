"""One card across stores (一卡通) with real parts: two store servers (S01, S02)
on their own SQLite files, their agents as real processes, and HQ as a real
process on a real PostgreSQL with mTLS.

A member registered at S01 identifies by phone + PIN and spends at S02, and
S01, S02 and HQ agree on the balances to the fen. With HQ down, S02 lets the
member of S01 spend stored value only up to the offline floor limit, flags
those spends, and once HQ is back the member driven below zero (spending at
both stores while they could not see each other) is reported by HQ.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from hq_link.security.tls import ClientTls
from store_server.domain.business_day import business_day
from store_server.members.hq_contact import read_last_contact
from store_server.members_config import MembersConfig
from tests.hq.support import AgentProcess, HqProcess, hq_rows
from tests.support import catalog_fixture as cf
from tests.support.errors import error_detail, expect_code
from tests.support.members import (
    PIN,
    MemberDesk,
    by_card,
    by_id,
    by_phone,
    count_card,
    points,
    stored_value,
    supervisor_desk,
)
from tests.support.process import REPO
from tests.support.server import RunningStore, start_store
from tests.support.till import Till, cash, new_id
from tillpoint.v1 import common_pb2, members_pb2, sales_pb2

PHONE = "13912345678"
FP = grpc.StatusCode.FAILED_PRECONDITION
# The offline floor limit of these tests: 50 yuan per member per day; HQ
# unreachable for more than 30 s is offline, for more than an hour: no offline spends.
MEMBERS = MembersConfig(
    offline_floor_limit_fen=5_000,
    offline_store_limit_fen=100_000,
    offline_after_seconds=30,
    offline_max_seconds=3_600,
)


class StoreAgent(AgentProcess):
    """The agent of one store (its own store id and certificate), pulling often."""

    def __init__(self, directory: Path, store: RunningStore, hq: HqProcess) -> None:
        self.store_id = store.store.config.store_id
        tls: ClientTls | bool = hq.pki.client_tls(self.store_id) if hq.pki else False
        directory.mkdir(exist_ok=True)
        super().__init__(directory, store.store.config.database, hq.address, tls=tls)
        with self.config.open("a", encoding="utf-8") as f:
            f.write("member_pull_seconds = 0.1\n")

    def start(self) -> None:
        env = {
            **os.environ,
            "TILLPOINT_DATABASE": str(self.store_db),
            "TILLPOINT_STORE_ID": self.store_id,
        }
        self._spawn(["hq_link.agent", "--config", str(self.config)], env=env)


@pytest.fixture
def hq(hq_url: str) -> Iterator[HqProcess]:
    server = HqProcess(hq_url)
    server.start()
    yield server
    server.kill()


def _store(template_db: Path, directory: Path, store_id: str) -> RunningStore:
    directory.mkdir()
    return start_store(template_db, directory, store_id=store_id, members=MEMBERS)


@pytest.fixture
def stores(template_db: Path, tmp_path: Path) -> Iterator[tuple[RunningStore, RunningStore]]:
    a = _store(template_db, tmp_path / "S01", "S01")
    b = _store(template_db, tmp_path / "S02", "S02")
    yield a, b
    for s in (a, b):
        s.channel.close()
        s.store.stop(grace=1.0)


@pytest.fixture
def agents(
    stores: tuple[RunningStore, RunningStore], hq: HqProcess, tmp_path: Path
) -> Iterator[tuple[StoreAgent, StoreAgent]]:
    pair = tuple(StoreAgent(tmp_path / f"agent-{s.store.config.store_id}", s, hq) for s in stores)
    for agent in pair:
        agent.start()
    yield pair  # type: ignore[misc]
    for agent in pair:
        agent.stop()


# -- what the tests read ------------------------------------------------------------


def _db(store: RunningStore) -> sqlite3.Connection:
    return sqlite3.connect(store.store.config.database)


def member_balances(store: RunningStore, member_id: str) -> tuple[int, int] | None:
    """(points, stored value fen) on the store's member row; None if not there."""
    conn = _db(store)
    try:
        row = conn.execute(
            "SELECT points, sv_paid_fen + sv_bonus_fen FROM members WHERE member_id = ?",
            (member_id,),
        ).fetchone()
    finally:
        conn.close()
    return tuple(row) if row else None


def ledger_sums(store: RunningStore, member_id: str) -> tuple[int, int]:
    """The same figures summed from the store's ledgers."""
    conn = _db(store)
    try:
        pts = conn.execute(
            "SELECT COALESCE(SUM(points), 0) FROM points_entries WHERE member_id = ?",
            (member_id,),
        ).fetchone()[0]
        sv = conn.execute(
            "SELECT COALESCE(SUM(paid_fen + bonus_fen), 0) FROM stored_value_entries"
            " WHERE member_id = ?",
            (member_id,),
        ).fetchone()[0]
    finally:
        conn.close()
    return pts, sv


def entry_ids(store: RunningStore, member_id: str) -> set[str]:
    conn = _db(store)
    try:
        return {
            r[0]
            for r in conn.execute(
                "SELECT entry_id FROM points_entries WHERE member_id = ?"
                " UNION SELECT entry_id FROM stored_value_entries WHERE member_id = ?",
                (member_id, member_id),
            )
        }
    finally:
        conn.close()


def change_keys(store: RunningStore, kinds: tuple[str, ...]) -> list[str]:
    conn = _db(store)
    try:
        marks = ",".join("?" * len(kinds))
        return [
            r[0] for r in conn.execute(f"SELECT key FROM change_log WHERE kind IN ({marks})", kinds)
        ]
    finally:
        conn.close()


def hq_balances(hq: HqProcess, member_id: str) -> tuple[int, int]:
    (row,) = hq_rows(
        hq.database_url,
        "SELECT COALESCE(SUM(points), 0), COALESCE(SUM(paid_fen + bonus_fen), 0)"
        " FROM hq_member_entries WHERE member_id = :m",
        m=member_id,
    )
    return int(row[0]), int(row[1])


def wait_for(
    what: str, check: Callable[[], bool], agents: tuple[AgentProcess, ...], timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    logs = "\n".join(a.log[-2000:] for a in agents)
    raise AssertionError(f"timed out waiting for {what}; agent logs:\n{logs}")


def agree(
    stores: tuple[RunningStore, ...], hq: HqProcess, member_id: str, expected: tuple[int, int]
) -> Callable[[], bool]:
    """Every store's cache and ledgers and HQ's sums all equal `expected`."""

    def check() -> bool:
        for s in stores:
            if member_balances(s, member_id) != expected or ledger_sums(s, member_id) != expected:
                return False
        return hq_balances(hq, member_id) == expected

    return check


def sell_to_member(
    till: Till, desk: MemberDesk, card_no: str, code: str, qty: int, pay: Callable[[int], list]
):
    till.new_basket()
    desk.attach(by_card(card_no))
    basket = None
    for _ in range(qty):
        basket = till.scan(code)
    assert basket is not None
    return till.commit(*pay(basket.total.fen))


def _till(store: RunningStore) -> tuple[Till, MemberDesk]:
    till = Till(store)
    till.open_shift()
    return till, MemberDesk(till)


# -- the tests ---------------------------------------------------------------------------


def test_member_of_one_store_spends_at_another_and_every_balance_agrees(
    stores: tuple[RunningStore, RunningStore],
    hq: HqProcess,
    agents: tuple[StoreAgent, StoreAgent],
) -> None:
    a, b = stores
    till_a, desk_a = _till(a)
    member = desk_a.register(PHONE, "赵六")
    assert member.member_id.startswith("80001")  # S01's member numbers
    # 10 cases of cola for cash earn 660 points; 100 yuan topped up brings 10 bonus.
    sale = sell_to_member(till_a, desk_a, member.card_no, cf.COKE_CASE, 10, lambda t: [cash(t)])
    assert sale.receipt.member.points_earned == 660
    supervisor_desk(a, till_a).top_up(member.member_id, 10_000)
    assert member_balances(a, member.member_id) == (660, 11_000)
    wait_for(
        "S02 and HQ to have the member of S01",
        agree(stores, hq, member.member_id, (660, 11_000)),
        agents,
    )

    # At S02: phone + PIN work (the PIN's hash came down), and so does the card.
    till_b, desk_b = _till(b)
    assert desk_b.identify(by_phone(PHONE, PIN)).member_id == member.member_id
    assert desk_b.identify(by_card(member.card_no)).stored_value.fen == 11_000
    # 30 yuan by stored value, 2 yuan by points (200 points), the rest cash.
    sale_b = sell_to_member(
        till_b,
        desk_b,
        member.card_no,
        cf.COKE_CASE,
        1,
        lambda t: [stored_value(3_000), points(200), cash(t - 3_200)],
    )
    earned_b = sale_b.receipt.member.points_earned
    assert earned_b == 64  # on the 64 yuan paid in money (not the 2 yuan of points)
    expected = (660 - 200 + earned_b, 11_000 - 3_000)
    assert member_balances(b, member.member_id) == expected
    wait_for(
        "S01 and HQ to have the spend at S02", agree(stores, hq, member.member_id, expected), agents
    )
    # The same entries, each once, at both stores and at HQ.
    assert entry_ids(a, member.member_id) == entry_ids(b, member.member_id)
    at_hq = hq_rows(
        hq.database_url,
        "SELECT store_id, entry_id FROM hq_member_entries WHERE member_id = :m",
        m=member.member_id,
    )
    assert {e for _, e in at_hq} == entry_ids(a, member.member_id)
    assert all(e.startswith(f"{s}-") for s, e in at_hq)  # kept with the store that made it
    assert {s for s, _ in at_hq} == {"S01", "S02"}
    # Nothing that came down went up again: each store's change log holds only
    # its own entries, and HQ received every entry exactly once.
    kinds = ("points_entry", "stored_value_entry")
    assert all(k.startswith("S01-") for k in change_keys(a, kinds))
    assert all(k.startswith("S02-") for k in change_keys(b, kinds))
    dupes = hq_rows(
        hq.database_url,
        "SELECT key FROM hq_changes WHERE kind IN ('points_entry', 'stored_value_entry')"
        " GROUP BY key HAVING count(*) > 1",
    )
    assert dupes == []


def test_offline_floor_limit_then_hq_reports_the_member_below_zero(
    stores: tuple[RunningStore, RunningStore],
    hq: HqProcess,
    agents: tuple[StoreAgent, StoreAgent],
) -> None:
    a, b = stores
    # The stores' clocks at the wall clock the agents stamp their contact with.
    for s in stores:
        s.clock.set(datetime.now(UTC))
    till_a, desk_a = _till(a)
    member = desk_a.register(PHONE, "赵六")
    supervisor_desk(a, till_a).top_up(member.member_id, 10_000)  # 100 + 10 bonus
    mid = member.member_id
    wait_for("S02 to have the member", agree(stores, hq, mid, (0, 11_000)), agents)
    till_b, desk_b = _till(b)

    hq.kill()  # HQ unreachable
    time.sleep(0.5)  # an answer already on its way is recorded before we read
    conn = _db(b)
    try:
        last_contact = read_last_contact(conn)
    finally:
        conn.close()
    assert last_contact is not None
    b.clock.set(last_contact + timedelta(seconds=31))  # past offline_after_seconds

    def spend_sv(fen: int):
        return sell_to_member(
            till_b,
            desk_b,
            member.card_no,
            cf.COKE_CASE,
            1,
            lambda t: [stored_value(fen), cash(t - fen)],
        )

    earned = [spend_sv(3_000).receipt.member.points_earned]
    earned.append(spend_sv(2_000).receipt.member.points_earned)  # 50 yuan: the limit
    err = expect_code(FP, lambda: spend_sv(1))
    assert error_detail(err).reason == "OFFLINE_LIMIT"
    assert "0 fen left, 1 fen asked" in err.details()
    till_b.basket_id = ""
    # The member's own store is not limited: S01 spends 80 yuan of its 110 there.
    home = sell_to_member(
        till_a,
        desk_a,
        member.card_no,
        cf.COKE_CASE,
        2,
        lambda t: [stored_value(8_000), cash(t - 8_000)],
    )
    earned.append(home.receipt.member.points_earned)
    assert earned == [66, 66, 132]  # points on the money paid, stored value included
    assert member_balances(b, mid)[1] == 6_000
    assert member_balances(a, mid)[1] == 3_000
    # The two spends at S02 are flagged with the business day; nothing else is.
    conn = _db(b)
    try:
        flagged = conn.execute(
            "SELECT entry_id, paid_fen + bonus_fen, offline_day FROM stored_value_entries"
            " WHERE offline_day IS NOT NULL ORDER BY entry_id"
        ).fetchall()
    finally:
        conn.close()
    assert [fen for _, fen, _ in flagged] == [-3_000, -2_000]
    day = business_day(last_contact + timedelta(seconds=31), b.store.config.zone, 4)
    assert {d for _, _, d in flagged} == {day.isoformat()}
    # Paying the balance back in cash (退卡) needs HQ's word on it: not offline.
    err = expect_code(
        FP,
        lambda: supervisor_desk(b, till_b).call(
            "RefundStoredValue",
            members_pb2.RefundStoredValueRequest(
                refund_id=new_id(), member=by_id(mid), payment=members_pb2.DepositPayment()
            ),
        ),
    )
    assert error_detail(err).reason == "OFFLINE_NO_REFUND"
    # HQ gone for longer than offline_max_seconds: no offline spending at all.
    b.clock.set(last_contact + timedelta(seconds=3_601))
    err = expect_code(FP, lambda: spend_sv(1))
    assert error_detail(err).reason == "OFFLINE_TOO_LONG"
    till_b.basket_id = ""

    hq.start()  # back: both stores replicate and pull
    b.clock.set(datetime.now(UTC))
    # 110 - 30 - 20 at S02 - 80 at S01 = -20 yuan, everywhere.
    wait_for("every balance at -20 yuan", agree(stores, hq, mid, (264, -2_000)), agents)
    at_hq = hq_rows(
        hq.database_url,
        "SELECT entry_id, offline_day FROM hq_member_entries"
        " WHERE member_id = :m AND offline_day IS NOT NULL ORDER BY entry_id",
        m=mid,
    )
    assert [e for e, _ in at_hq] == [e for e, _, _ in flagged]
    report = subprocess.run(
        [
            sys.executable,
            "-m",
            "hq_link.hqctl",
            "--database",
            hq.database_url,
            "members",
            "negative",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 1, report.stderr
    line = next(x for x in report.stdout.splitlines() if x.startswith(mid))
    assert line.split()[:4] == [mid, "S01", "-20.00", "50.00"]
    assert line.endswith("S02")


def test_the_pull_refuses_bad_input(hq: HqProcess) -> None:
    from tillpoint.hq.v1 import onecard_pb2, onecard_pb2_grpc

    with hq.channel("S02") as channel:
        stub = onecard_pb2_grpc.OneCardServiceStub(channel)
        for request in (
            onecard_pb2.PullMemberChangesRequest(store_id="S02", after_rev=-1),
            onecard_pb2.PullMemberChangesRequest(store_id="S02", limit=5_001),
        ):
            expect_code(
                grpc.StatusCode.INVALID_ARGUMENT,
                lambda r=request: stub.PullMemberChanges(r, timeout=5),
            )
        # Another store's pull with S02's certificate: refused.
        expect_code(
            grpc.StatusCode.PERMISSION_DENIED,
            lambda: stub.PullMemberChanges(
                onecard_pb2.PullMemberChangesRequest(store_id="S01"), timeout=5
            ),
        )
        empty = stub.PullMemberChanges(
            onecard_pb2.PullMemberChangesRequest(store_id="S02"), timeout=5
        )
        assert (list(empty.changes), empty.next_rev, empty.head_rev) == ([], 0, 0)


def test_a_count_card_sold_at_one_store_is_used_at_another(
    stores: tuple[RunningStore, RunningStore],
    hq: HqProcess,
    agents: tuple[StoreAgent, StoreAgent],
) -> None:
    a, b = stores
    till_a, desk_a = _till(a)
    member = desk_a.register(PHONE, "赵六")
    coke_at_a = till_a.scan(cf.COKE_CAN).lines[0].product_id
    till_a.call("ClearBasket", sales_pb2.BasketRef(basket_id=till_a.basket_id))
    till_a.basket_id = ""
    card_id = new_id()
    supervisor_desk(a, till_a).call(
        "SellCountCard",
        members_pb2.SellCountCardRequest(
            card_id=card_id,
            member=by_id(member.member_id),
            product_id=coke_at_a,
            uses=5,
            price=common_pb2.Money(fen=1_000),
            payment=members_pb2.DepositPayment(kind="cash"),
        ),
    )
    till_b, desk_b = _till(b)

    def remaining(desk: MemberDesk) -> list[tuple[str, int]]:
        try:
            cards = desk.identify(by_card(member.card_no)).count_cards
        except grpc.RpcError:
            return []
        return [(c.card_id, c.remaining) for c in cards]

    wait_for("the count card at S02", lambda: remaining(desk_b) == [(card_id, 5)], agents)
    sale = sell_to_member(
        till_b, desk_b, member.card_no, cf.COKE_CAN, 2, lambda t: [count_card(card_id, 2)]
    )
    assert [p.kind for p in sale.receipt.payments] == ["count_card"]
    assert remaining(desk_b) == [(card_id, 3)]
    wait_for("the uses at S01", lambda: remaining(desk_a) == [(card_id, 3)], agents)
