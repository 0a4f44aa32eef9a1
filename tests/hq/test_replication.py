"""A store sells, its agent (a real process) replicates to HQ (a real process
on a real PostgreSQL): every change arrives exactly once, through agent
crashes and HQ restarts."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hq.conftest import Cluster
from tests.hq.support import (
    STORE,
    AgentProcess,
    HqProcess,
    assert_hq_has_everything_once,
    hq_cursor,
    shipped_seq,
    store_changes,
    store_sale_ids,
    wait_replicated,
)
from tests.support.catalog_fixture import COKE_CAN, NOODLES, WATER
from tests.support.process import REPO
from tests.support.server import RunningStore
from tests.support.till import Till


@pytest.fixture
def hq(hq_url: str) -> Iterator[HqProcess]:
    server = HqProcess(hq_url)
    server.start()
    yield server
    server.kill()


def _agent(tmp_path: Path, store: RunningStore, hq: HqProcess, **kw: int) -> AgentProcess:
    agent = AgentProcess(tmp_path, store.store.config.database, hq.address, **kw)
    agent.start()
    return agent


def _sell(till: Till, n: int) -> None:
    for i in range(n):
        till.sell(COKE_CAN, WATER if i % 2 else NOODLES)


def _wait_shipped(store_db: Path, seq: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while shipped_seq(store_db) < seq and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shipped_seq(store_db) >= seq


def test_every_sale_reaches_hq_exactly_once(
    store: RunningStore, hq: HqProcess, tmp_path: Path
) -> None:
    till = Till(store)
    till.open_shift()
    agent = _agent(tmp_path, store, hq)
    try:
        _sell(till, 20)
        db = store.store.config.database
        last = wait_replicated(hq.address, db, agent)
        assert_hq_has_everything_once(hq.database_url, db)
        assert len(store_sale_ids(db)) == 20
        # The agent records HQ's acknowledgement where doctor and storectl read it.
        _wait_shipped(db, last)
        status = subprocess.run(
            [sys.executable, "-m", "store_server.cli.main", "hq", "status"],
            cwd=REPO,
            env={"TILLPOINT_DATABASE": str(db), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert status.returncode == 0, status.stderr
        assert f"store {STORE}: HQ has the change log up to seq {last:,} of {last:,}" in (
            status.stdout
        )
        assert "lag: 0 changes" in status.stdout
        assert "lag: " in agent.log  # the agent logs its lag in rows and seconds
    finally:
        agent.stop()


def test_agent_killed_mid_stream_loses_and_duplicates_nothing(
    store: RunningStore, hq: HqProcess, tmp_path: Path
) -> None:
    till = Till(store)
    till.open_shift()
    db = store.store.config.database
    agent = _agent(tmp_path, store, hq, batch_rows=3)
    try:
        behind_at_kill = []
        for round_ in range(4):
            _sell(till, 12)
            time.sleep(0.05 * round_)  # somewhere in the middle of shipping
            agent.kill()
            behind_at_kill.append(hq_cursor(hq.address) < store_changes(db)[-1][0])
            agent.start()
        assert any(behind_at_kill), "no kill landed while rows were still to ship"
        wait_replicated(hq.address, db, agent)
        assert_hq_has_everything_once(hq.database_url, db)
        assert len(store_sale_ids(db)) == 48
    finally:
        agent.stop()


def test_agent_resumes_after_hq_restarts(
    store: RunningStore, hq: HqProcess, tmp_path: Path
) -> None:
    till = Till(store)
    till.open_shift()
    db = store.store.config.database
    agent = _agent(tmp_path, store, hq)
    try:
        _sell(till, 5)
        wait_replicated(hq.address, db, agent)
        hq.kill()
        _sell(till, 10)  # the store keeps selling while HQ is away
        time.sleep(0.5)
        hq.start()  # same port, same database
        last = wait_replicated(hq.address, db, agent)
        assert last == store_changes(db)[-1][0]
        assert_hq_has_everything_once(hq.database_url, db)
        assert "HQ link down" in agent.log
        assert len(store_sale_ids(db)) == 15
    finally:
        agent.stop()


def test_an_hq_that_lost_rows_gets_them_again(
    store: RunningStore, hq: HqProcess, tmp_path: Path, pg_cluster: Cluster
) -> None:
    """HQ back from an older backup (here: an empty database): the agent resumes
    from HQ's cursor and sends everything again."""
    till = Till(store)
    till.open_shift()
    db = store.store.config.database
    agent = _agent(tmp_path, store, hq)
    try:
        _sell(till, 3)
        wait_replicated(hq.address, db, agent)
        hq.kill()
        hq.database_url = pg_cluster.url(pg_cluster.create_database())
        hq.start()
        _sell(till, 3)
        wait_replicated(hq.address, db, agent)
        assert_hq_has_everything_once(hq.database_url, db)
    finally:
        agent.stop()
