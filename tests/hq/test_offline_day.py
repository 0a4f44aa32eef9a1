"""A store offline for a day (issue 7): the link is down (the proxy between the
agent and HQ refuses every connection) while the tills sell a simulated
trading day, 10:00 to 20:00 on the store's clock. The store keeps selling; the
agent keeps trying and says it is behind. Back online, it catches up with
progress lines (rows sent, rows left, rows/s), HQ has every change once and
the same sales per business day as the store, and the lag is back to zero in
the agent's log and in `storectl hq status`."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from hq_link.agent.progress import CatchUp
from tests.hq.sales_totals import hq_days, store_days
from tests.hq.support import (
    STORE,
    AgentProcess,
    HqProcess,
    assert_hq_has_everything_once,
    shipped_seq,
    store_changes,
    wait_replicated,
)
from tests.hq.tcp_proxy import TcpProxy
from tests.support.catalog_fixture import COKE_CAN, NOODLES, SPRITE_CAN, WATER
from tests.support.process import REPO
from tests.support.server import RunningStore
from tests.support.till import Till

TILLS = 4
DAY_SALES = 2_400  # with the shifts' rows, a few thousand change rows
TRADING_DAY = timedelta(hours=10)  # 10:00-20:00 in Shanghai: one business day
BASKETS = ((COKE_CAN, WATER), (NOODLES,), (SPRITE_CAN, NOODLES, WATER))


def _open_tills(store: RunningStore) -> list[Till]:
    tills = [Till(store, device_id=f"till-{n + 1:02d}") for n in range(TILLS)]
    for till in tills:
        till.open_shift()
    return tills


def _sell(store: RunningStore, tills: list[Till], sales: int) -> None:
    """`sales` sales from the tills at once, the store's clock moving on."""
    step = TRADING_DAY / DAY_SALES
    errors: list[BaseException] = []

    def till_loop(n: int) -> None:
        try:
            for i in range(n, sales, len(tills)):
                tills[n].sell(*BASKETS[i % len(BASKETS)])
                store.clock.advance(step)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=till_loop, args=(n,)) for n in range(len(tills))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, f"a till failed: {errors[0]!r}"


def _hq_status(db: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "store_server.cli.main", "hq", "status"],
        cwd=REPO,
        env={"TILLPOINT_DATABASE": str(db), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _until(check, what: str, log: AgentProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}; agent log:\n{log.log[-3000:]}")
        time.sleep(0.1)


def test_a_day_offline_catches_up_with_progress_and_no_loss(
    store: RunningStore, hq_url: str, tmp_path: Path
) -> None:
    db = store.store.config.database
    hq = HqProcess(hq_url)
    hq.start()
    proxy = TcpProxy(hq.address).start()
    tls = hq.pki.client_tls(STORE) if hq.pki is not None else False
    agent = AgentProcess(tmp_path, db, proxy.address, batch_rows=50, tls=tls)
    try:
        agent.start()
        tills = _open_tills(store)
        _sell(store, tills, 40)  # the morning's first sales go up at once
        online = wait_replicated(hq.address, db, agent)

        proxy.set_down(True)  # the VPN is gone for the rest of the day
        _sell(store, tills, DAY_SALES)
        last = store_changes(db)[-1][0]
        behind = last - online
        assert behind >= 2_000
        assert "HQ link down" in agent.log
        assert shipped_seq(db) == online  # nothing was marked sent that HQ has not got
        offline_status = _hq_status(db)
        assert f"HQ has the change log up to seq {online:,} of {last:,}" in offline_status
        assert f"lag: {behind:,} change(s) not yet at HQ" in offline_status

        log_before = len(agent.output)
        proxy.set_down(False)  # back online the next morning
        assert wait_replicated(hq.address, db, agent, timeout=120) == last
        _until(lambda: shipped_seq(db) == last, "the agent did not record HQ's ack", agent)
        _until(
            lambda: "lag: 0 rows, 0.0 s" in "".join(agent.output[log_before:]),
            "the agent never logged a lag of zero",
            agent,
        )
        catch_up = "".join(agent.output[log_before:])
        print(
            "\n" + "\n".join(line for line in catch_up.splitlines() if "catch-up" in line),
            flush=True,
        )

        # The catch-up, as the agent logs it: the backlog, progress with the
        # rate, and its end; then the lag at zero.
        assert f"catch-up: {behind:,} rows behind HQ, shipping" in catch_up
        progress = re.findall(
            r"catch-up: ([\d,]+) rows sent, ([\d,]+) left, ([\d,]+) rows/s", catch_up
        )
        assert progress, catch_up[-3000:]
        sent, left = (int(x.replace(",", "")) for x in progress[0][:2])
        assert sent + left == behind and sent > 0
        assert f"catch-up done: {behind:,} rows in" in catch_up
        assert f"lag: 0 rows, 0.0 s (HQ has seq {last} of {last})" in catch_up

        # No loss, nothing twice, the day's sales alike at HQ and at the store.
        assert_hq_has_everything_once(hq.database_url, db)
        days = store_days(db)
        assert sum(n for n, _ in days.values()) == 40 + DAY_SALES
        assert hq_days(hq.database_url) == days
        status = _hq_status(db)
        assert f"HQ has the change log up to seq {last:,} of {last:,}" in status
        assert "lag: 0 changes, 0 s (every change is at HQ)" in status
    finally:
        agent.stop()
        proxy.close()
        hq.kill()


def test_catch_up_progress_lines() -> None:
    """The lines themselves, with the time passed in: the backlog, a line after the
    first batch, then one per interval, and the end with the rate."""
    progress = CatchUp(threshold_rows=1_000, every_seconds=5.0)
    assert progress.begin(999, now=0.0) is None  # a normal backlog under load
    assert progress.begin(3_000, now=0.0) == "catch-up: 3,000 rows behind HQ, shipping"
    assert progress.shipped(500, 2_500, now=0.5) == (
        "catch-up: 500 rows sent, 2,500 left, 1,000 rows/s, about 2 s to go"
    )
    assert progress.shipped(500, 2_000, now=1.0) is None  # not yet due
    assert progress.shipped(1_500, 500, now=6.0) == (
        "catch-up: 2,500 rows sent, 500 left, 417 rows/s, about 1 s to go"
    )
    assert progress.shipped(500, 0, now=6.5) == "catch-up done: 3,000 rows in 6.5 s (462 rows/s)"
    assert not progress.running
