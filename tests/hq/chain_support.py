"""Two real store servers, their agents (real processes) and one HQ (a real process on
PostgreSQL), with a business day whose every figure the HQ tests know by hand."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from tests.hq.support import AgentProcess, HqProcess, hq_cursor, store_changes
from tests.support.catalog_fixture import COKE_CAN, COKE_CASE, NOODLES, WATER
from tests.support.members import MemberDesk, by_card, stored_value, supervisor_desk
from tests.support.process import REPO
from tests.support.server import RunningStore, start_store
from tests.support.till import Till, card, cash, new_id
from tillpoint.v1 import common_pb2, sales_pb2

DAY = "2026-11-23"  # the stores' clocks start at 10:00 Shanghai time on this day


class StoreAgent(AgentProcess):
    """The agent of one store of the chain (AgentProcess ships as S01)."""

    def __init__(self, directory: Path, store_db: Path, hq_address: str, store_id: str) -> None:
        super().__init__(directory, store_db, hq_address, tls=False)
        self.store_id = store_id

    def start(self) -> None:
        env = {
            **os.environ,
            "TILLPOINT_DATABASE": str(self.store_db),
            "TILLPOINT_STORE_ID": self.store_id,
        }
        self._spawn(["hq_link.agent", "--config", str(self.config)], env=env)


def wait_store_replicated(
    hq: HqProcess, store_db: Path, store_id: str, agent: AgentProcess
) -> None:
    last = store_changes(store_db)[-1][0]
    deadline = time.monotonic() + 60
    seen = -1
    while time.monotonic() < deadline:
        try:
            seen = hq_cursor(hq.address, store_id)
        except grpc.RpcError:
            seen = -1
        if seen >= last:
            return
        time.sleep(0.1)
    raise AssertionError(f"{store_id}: HQ at {seen}, store at {last}:\n{agent.log[-3000:]}")


@dataclass
class DayFigures:
    """What each store did, as the tills' answers said (fen)."""

    sales: dict[str, list[int]] = field(default_factory=dict)  # store -> sale totals
    refunds: dict[str, list[int]] = field(default_factory=dict)
    tenders: dict[str, dict[str, int]] = field(default_factory=dict)  # store -> kind -> applied
    member_id: str = ""
    topup_fen: int = 0
    topup_bonus_fen: int = 0
    sv_spent_fen: int = 0


def _tender(fig: DayFigures, store: str, kind: str, fen: int) -> None:
    t = fig.tenders.setdefault(store, {})
    t[kind] = t.get(kind, 0) + fen


def day_at_s01(store: RunningStore, fig: DayFigures) -> None:
    """Three sales, a return, a member's top-up and a stored-value sale; shift and day closed."""
    till = Till(store)
    till.open_shift(50_000)
    s = "S01"
    a = till.sell(COKE_CASE, pay=cash(7000))  # 66.00, change 4.00
    b = till.sell(WATER, pay=card(200))  # 2.00 by card
    c = till.sell(NOODLES, pay=cash(500))  # 4.50, change 0.50
    fig.sales[s] = [a.total.fen, b.total.fen, c.total.fen]
    assert fig.sales[s] == [6600, 200, 450]
    _tender(fig, s, "cash", 6600 + 450)
    _tender(fig, s, "bank_card", 200)
    back = till.call(
        "ReturnItems",
        sales_pb2.ReturnRequest(
            return_id=new_id(),
            receipt_no=c.receipt_no,
            lines=[
                sales_pb2.ReturnLineRequest(line_no=1, quantity=common_pb2.Quantity(milli=1000))
            ],
        ),
    )
    fig.refunds[s] = [back.refund.fen]
    assert fig.refunds[s] == [450]
    desk = supervisor_desk(store, till)
    member = desk.register("13800138000", "张三")
    fig.member_id = member.member_id
    top = desk.top_up(member.member_id, 50_000)  # 500.00 in cash
    fig.topup_fen, fig.topup_bonus_fen = top.amount.fen, top.bonus.fen
    assert fig.topup_fen == 50_000
    # The member buys a can with stored value (member price).
    MemberDesk(till).attach(by_card(member.card_no))
    basket = till.scan(COKE_CAN)
    d = till.commit(stored_value(basket.total.fen))
    fig.sales[s].append(d.total.fen)
    fig.sv_spent_fen = d.total.fen
    _tender(fig, s, "stored_value", d.total.fen)
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    till.call(
        "CloseShift",
        sales_pb2.CloseShiftRequest(counted_cash=common_pb2.Money(fen=x.expected_cash.fen)),
    )
    _close_day(store)


def day_at_s02(store: RunningStore, fig: DayFigures) -> None:
    """Two sales (cash, mobile); shift and day closed."""
    till = Till(store)
    till.open_shift(30_000)
    s = "S02"
    a = till.sell(COKE_CAN, COKE_CAN, pay=cash(1000))  # 6.00, change 4.00
    till.new_basket()
    basket = till.scan(WATER)
    b = till.commit(
        sales_pb2.Payment(
            kind=sales_pb2.TENDER_KIND_MOBILE,
            amount=common_pb2.Money(fen=basket.total.fen),
            reference="WX-1",
        )
    )
    fig.sales[s] = [a.total.fen, b.total.fen]
    assert fig.sales[s] == [600, 200]
    fig.refunds[s] = []
    _tender(fig, s, "cash", 600)
    _tender(fig, s, "mobile", 200)
    x = till.call("XReport", sales_pb2.ShiftReportRequest())
    till.call(
        "CloseShift",
        sales_pb2.CloseShiftRequest(counted_cash=common_pb2.Money(fen=x.expected_cash.fen)),
    )
    _close_day(store)


def _close_day(store: RunningStore) -> None:
    admin = Till(store, device_id="office", operator=("1003", "3333"))
    status = admin.call("CloseDay", sales_pb2.DayRequest(business_day=DAY))
    assert status.closed


@dataclass
class Chain:
    hq: HqProcess
    stores: dict[str, RunningStore]
    agents: dict[str, StoreAgent]
    figures: DayFigures

    def replicate(self) -> None:
        for sid, agent in self.agents.items():
            wait_store_replicated(self.hq, self.stores[sid].store.config.database, sid, agent)

    def close(self) -> None:
        for agent in self.agents.values():
            agent.stop()
        for store in self.stores.values():
            store.channel.close()
            store.store.stop(grace=1.0)
        self.hq.kill()


def start_chain(template: Path, root: Path, hq_url: str, store_ids: tuple[str, ...]) -> Chain:
    hq = HqProcess(hq_url, tls=False)
    hq.start()
    stores: dict[str, RunningStore] = {}
    agents: dict[str, StoreAgent] = {}
    for sid in store_ids:
        d = root / sid
        d.mkdir(parents=True, exist_ok=True)
        stores[sid] = start_store(template, d, store_id=sid)
        agents[sid] = StoreAgent(d, stores[sid].store.config.database, hq.address, sid)
        agents[sid].start()
    return Chain(hq, stores, agents, DayFigures())


def hqctl(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m hq_link.hqctl --database URL ...` as its own process."""
    return subprocess.run(
        [sys.executable, "-m", "hq_link.hqctl", "--database", database_url, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
