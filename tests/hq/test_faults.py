"""The HQ link under faults (issue 7): while tills sell 2,000 sales at a real
store server, a TCP proxy between the agent and HQ cuts the link 200 times at
random points (mid-batch, before the ack, after the ack), the agent process is
SIGKILLed and restarted 20 times and HQ 5 times. Afterwards HQ has every change
row and every sale exactly once, nothing quarantined, HQ's sales per
business day add up to the store's own, and `hqctl reconcile` finds no
mismatch against the store's Z reports and day close.

The fault schedule comes from a fixed seed, printed (TILLPOINT_FAULT_SEED
replays another); thread timing still varies from run to run.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.hq.sales_totals import hq_days, store_days
from tests.hq.support import (
    STORE,
    AgentProcess,
    HqProcess,
    assert_hq_has_everything_once,
    hq_rows,
    store_changes,
    wait_replicated,
)
from tests.hq.tcp_proxy import CutKind, TcpProxy
from tests.support.catalog_fixture import COKE_CAN, NOODLES, SPRITE_CAN, WATER
from tests.support.process import REPO
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.v1 import common_pb2, sales_pb2

SEED = int(os.environ.get("TILLPOINT_FAULT_SEED", "20261123"))
ARMED_KINDS = (CutKind.MID_BATCH, CutKind.BEFORE_ACK, CutKind.AFTER_ACK)
BASKETS = ((COKE_CAN, WATER), (NOODLES,), (SPRITE_CAN, NOODLES, WATER), (WATER, WATER))


# --- the proxy itself, on a plain echo server ---------------------------------


@pytest.fixture
def echo() -> Iterator[str]:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn, contextlib.suppress(OSError):  # the proxy resets it: that is the point
        while data := conn.recv(65536):
            conn.sendall(data)


def _read_until_closed(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything that arrives before the connection ends; and whether it was reset."""
    got = b""
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except ConnectionResetError:
        return got, True
    return got, False


def test_proxy_cuts_where_it_is_told(echo: str) -> None:
    with TcpProxy(echo) as proxy:
        # Mid-batch: only the first 5 bytes reach the far side.
        fired = proxy.arm(CutKind.MID_BATCH, after_bytes=5)
        with socket.create_connection(("127.0.0.1", proxy.port)) as s:
            s.sendall(b"0123456789")
            assert fired.wait(5)
            got, _ = _read_until_closed(s)
        assert got in (b"", b"01234")  # the echo of the half that got through, if any
        # Before the ack: the request goes through, its answer never comes back.
        fired = proxy.arm(CutKind.BEFORE_ACK, request_bytes=4)
        with socket.create_connection(("127.0.0.1", proxy.port)) as s:
            s.sendall(b"ping")
            assert fired.wait(5)
            assert _read_until_closed(s) == (b"", True)
        # After the ack: the answer arrives whole, then the link ends.
        fired = proxy.arm(CutKind.AFTER_ACK, request_bytes=4)
        with socket.create_connection(("127.0.0.1", proxy.port)) as s:
            s.sendall(b"ping")
            assert fired.wait(5)
            assert _read_until_closed(s) == (b"ping", False)
        # Now: every open connection is reset; down: new ones are refused.
        with socket.create_connection(("127.0.0.1", proxy.port)) as s:
            s.sendall(b"x")
            assert s.recv(1) == b"x"
            assert proxy.cut_now() == 1
            assert _read_until_closed(s) == (b"", True)
        proxy.set_down(True)
        with socket.create_connection(("127.0.0.1", proxy.port)) as s:
            assert _read_until_closed(s)[0] == b""
        proxy.set_down(False)
        with socket.create_connection(("127.0.0.1", proxy.port)) as s:
            s.sendall(b"back")
            assert s.recv(4) == b"back"
        assert proxy.cuts == {
            CutKind.MID_BATCH: 1,
            CutKind.BEFORE_ACK: 1,
            CutKind.AFTER_ACK: 1,
            CutKind.NOW: 1,
        }


# --- the link under faults ----------------------------------------------------


@dataclass
class _Pace:
    """Keeps the sales and the faults moving together, so faults land while
    the agent has rows to ship rather than after the selling is over."""

    sales: int
    faults: int
    sold: int = 0
    faulted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sales_ahead(self) -> bool:
        return self.sold / self.sales > self.faulted / self.faults + 0.03

    def faults_ahead(self) -> bool:
        return self.faulted / self.faults > self.sold / self.sales + 0.03


def _till_thread(
    store: RunningStore,
    n: int,
    pace: _Pace,
    errors: list[BaseException],
    stop: threading.Event,
    tills: list[Till],
) -> threading.Thread:
    def sell() -> None:
        try:
            till = Till(store, device_id=f"till-{n:02d}")
            till.open_shift()
            tills.append(till)
            i = 0
            while not stop.is_set():
                with pace.lock:
                    if pace.sold >= pace.sales:
                        return
                    ahead = pace.sales_ahead()
                    if not ahead:
                        pace.sold += 1
                if ahead:
                    time.sleep(0.005)
                    continue
                till.sell(*BASKETS[(n + i) % len(BASKETS)])
                i += 1
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    thread = threading.Thread(target=sell, name=f"till-{n}")
    thread.start()
    return thread


def _close_shifts_and_day(store: RunningStore, tills: list[Till]) -> None:
    for till in tills:
        x = till.call("XReport", sales_pb2.ShiftReportRequest())
        till.call(
            "CloseShift",
            sales_pb2.CloseShiftRequest(counted_cash=common_pb2.Money(fen=x.expected_cash.fen)),
        )
    office = Till(store, device_id="office", operator=("1003", "3333"))
    day = store.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    assert office.call("CloseDay", sales_pb2.DayRequest(business_day=day)).closed


def run_faults(
    store: RunningStore,
    database_url: str,
    directory: Path,
    *,
    seed: int,
    sales: int,
    tills: int,
    cuts: int,
    agent_kills: int,
    hq_restarts: int,
) -> None:
    rng = random.Random(seed)
    print(f"\nfault schedule seed {seed} (TILLPOINT_FAULT_SEED={seed} replays it)")
    db = store.store.config.database
    hq = HqProcess(database_url)
    hq.start()
    proxy = TcpProxy(hq.address).start()
    # The agent talks to the proxy's address: give it HQ's credentials (mTLS passes
    # through the proxy untouched).
    tls = hq.pki.client_tls(STORE) if hq.pki is not None else False
    agent = AgentProcess(directory, db, proxy.address, batch_rows=10, tls=tls)
    schedule = ["cut"] * cuts + ["agent"] * agent_kills + ["hq"] * hq_restarts
    rng.shuffle(schedule)
    pace = _Pace(sales=sales, faults=len(schedule))
    stop = threading.Event()
    errors: list[BaseException] = []
    started = time.monotonic()
    threads: list[threading.Thread] = []
    open_tills: list[Till] = []
    try:
        agent.start()
        threads = [_till_thread(store, n + 1, pace, errors, stop, open_tills) for n in range(tills)]
        fallback_cuts = 0
        for done, fault in enumerate(schedule, 1):
            while pace.faults_ahead() and not errors and any(t.is_alive() for t in threads):
                time.sleep(0.005)
            assert not errors, f"a till failed: {errors[0]!r}"
            if fault == "cut":
                kind = rng.choice(ARMED_KINDS)
                fired = proxy.arm(kind, after_bytes=rng.randint(1, 12_000), request_bytes=300)
                if not fired.wait(2.0):
                    # Nothing to ship just now: cut whatever is open instead.
                    proxy.disarm()
                    proxy.cut_now()
                    fallback_cuts += 1
            elif fault == "agent":
                time.sleep(rng.uniform(0, 0.3))  # somewhere in the middle of shipping
                agent.kill()
                agent.start()
            else:
                if rng.random() < 0.5:
                    hq.kill()
                else:
                    hq.stop()
                time.sleep(rng.uniform(0, 0.5))
                hq.start()
            with pace.lock:
                pace.faulted = done
            if done % 25 == 0:
                print(
                    f"  faults {done}/{len(schedule)}, sales {pace.sold}/{sales}, "
                    f"{time.monotonic() - started:.0f} s",
                    flush=True,
                )
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, f"a till failed: {errors[0]!r}"
        assert pace.sold == sales
        _close_shifts_and_day(store, open_tills)  # what the reconciliation compares with
        last = wait_replicated(hq.address, db, agent, timeout=120)
        print(
            f"  {sales} sales, {last:,} change rows through {proxy.connections} connections; "
            f"cuts: "
            + ", ".join(f"{k.value} {proxy.cuts[k]}" for k in (*ARMED_KINDS, CutKind.NOW))
            + f"; agent killed {agent_kills}x, HQ restarted {hq_restarts}x; "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
        assert sum(proxy.cuts.values()) == cuts
        assert fallback_cuts == proxy.cuts[CutKind.NOW]
        for kind in ARMED_KINDS:  # every kind of cut really happened
            assert proxy.cuts[kind] > 0, proxy.cuts
        assert_hq_has_everything_once(database_url, db)
        assert len(store_changes(db)) == last
        assert hq_rows(database_url, "SELECT count(*) FROM hq_quarantine") == [(0,)]
        # HQ's sales per business day against the store's own sales table.
        days = store_days(db)
        assert sum(n for n, _ in days.values()) == sales
        assert hq_days(database_url) == days
        assert "HQ link down" in agent.log
        # And HQ's reconciliation of the day against the store's Z reports and day close.
        hqctl = [sys.executable, "-m", "hq_link.hqctl", "--database", database_url]
        for day in days:
            done = subprocess.run(
                [*hqctl, "reconcile", "--date", day, "--store", STORE],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stdout + done.stderr
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        agent.stop()
        proxy.close()
        hq.kill()


def test_every_sale_reaches_hq_once_through_cuts_kills_and_restarts(
    store: RunningStore, hq_url: str, tmp_path: Path
) -> None:
    run_faults(
        store,
        hq_url,
        tmp_path,
        seed=SEED,
        sales=2_000,
        tills=4,
        cuts=200,
        agent_kills=20,
        hq_restarts=5,
    )
