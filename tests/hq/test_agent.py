"""The agent's loop in-process, against an in-process HQ (SQLite): its answer
to a gap, and its lag."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from hq_link.agent.config import AgentConfig, load_agent_config
from hq_link.agent.outbox import StoreOutbox
from hq_link.agent.shipper import Shipper
from hq_link.hq import tables
from hq_link.hq.server import HqServer, build_server
from store_server.config import ConfigError
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def store_db(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "store.db")
    migrate.upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def hq(tmp_path: Path) -> Iterator[HqServer]:
    server = build_server(f"sqlite:///{tmp_path / 'hq.db'}", "127.0.0.1:0", workers=4)
    server.start()
    yield server
    server.stop(grace=1)


def _write(db: Database, n: int) -> None:
    with unit_of_work(db, Actor.system("test"), NOW) as uow:
        for i in range(n):
            uow.change("test", str(i), {"i": i})


def _until(check, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_after_a_gap_the_agent_resumes_from_hqs_cursor(
    store_db: Database, hq: HqServer, caplog: pytest.LogCaptureFixture
) -> None:
    _write(store_db, 4)
    config = AgentConfig(
        store_id="S01",
        database=store_db.path,
        hq=hq.address,
        batch_rows=2,
        poll_seconds=0.02,
        backoff_initial_seconds=0.02,
        lag_log_seconds=0.05,
    )
    outbox = StoreOutbox(store_db.path)
    shipper = Shipper(config, outbox, now=lambda: NOW)
    stop = threading.Event()
    thread = threading.Thread(target=shipper.run, args=(stop,))
    caplog.set_level("INFO", logger="hq_link.agent")
    thread.start()
    try:
        _until(lambda: outbox.shipped_seq() == 4)
        # HQ loses everything of the store (restored from an older backup).
        with hq.engine.begin() as conn:
            conn.execute(delete(tables.changes))
            conn.execute(delete(tables.store_cursors))
        _write(store_db, 2)
        _until(lambda: outbox.shipped_seq() == 6)
        _until(lambda: "(HQ has seq 6 of 6)" in caplog.text)  # the lag, logged when idle
        with hq.engine.connect() as conn:
            seqs = conn.execute(select(tables.changes.c.seq).order_by(tables.changes.c.seq))
            assert [s for (s,) in seqs] == [1, 2, 3, 4, 5, 6]
    finally:
        stop.set()
        thread.join(timeout=10)
        outbox.close()
    text = caplog.text
    assert "HQ expects seq 1" in text
    assert "resuming after seq 0" in text
    assert "lag: 0 rows, 0.0 s (HQ has seq 6 of 6)" in text


def test_agent_config(tmp_path: Path) -> None:
    path = tmp_path / "hq_link.toml"
    path.write_text(
        '[hq_link]\nhq = "10.0.0.1:50061"\nbatch_rows = 100\ninsecure = true\n', encoding="utf-8"
    )
    config = load_agent_config(path, env={"TILLPOINT_DATABASE": "/x/store.db"})
    assert (config.hq, config.batch_rows, str(config.database), config.store_id) == (
        "10.0.0.1:50061",
        100,
        "/x/store.db",
        "S01",
    )
    path.write_text("[hq_link]\nbatch_rows = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="hq"):
        load_agent_config(path, env={})
    path.write_text('[hq_link]\nhq = "h:1"\nbatch_rows = 0\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="batch_rows"):
        load_agent_config(path, env={})


def test_two_batches_in_flight_arrive_once_and_in_order(
    store_db: Database,
    hq: HqServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The agent sends the next batch before HQ acknowledged the last: HQ applies
    them in seq order, and the store records as shipped only what HQ acknowledged."""
    from hq_link.hq.ingest import Ingest

    for _ in range(20):
        _write(store_db, 15)  # store transactions of 15 rows: 300 rows
    push = Ingest.push
    inside = [0]
    most = [0]
    acked: list[int] = []
    lock = threading.Lock()

    def counting_push(self, store_id, first_seq, last_seq, rows, now):  # type: ignore[no-untyped-def]
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            time.sleep(0.02)  # long enough for the next batch to arrive meanwhile
            result = push(self, store_id, first_seq, last_seq, rows, now)
            with lock:
                acked.append(result.acked_seq)
            return result
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(Ingest, "push", counting_push)
    caplog.set_level("INFO", logger="hq_link.agent")
    config = AgentConfig(
        store_id="S01", database=store_db.path, hq=hq.address, batch_rows=20, poll_seconds=0.02
    )
    outbox = StoreOutbox(store_db.path)
    shipper = Shipper(config, outbox, now=lambda: NOW)
    stop = threading.Event()
    thread = threading.Thread(target=shipper.run, args=(stop,))
    thread.start()
    try:
        _until(lambda: outbox.shipped_seq() == 300)
    finally:
        stop.set()
        thread.join(timeout=10)
        outbox.close()
    assert most[0] == 2  # two in flight, never more
    assert max(acked) == 300 and "refused" not in caplog.text  # no gap, no retry
    # Batches end on store transactions (of 15 rows): 20 asked, 30 sent.
    assert all(seq % 15 == 0 for seq in acked)
    with hq.engine.connect() as conn:
        seqs = [s for (s,) in conn.execute(select(tables.changes.c.seq).order_by("seq"))]
    assert seqs == list(range(1, 301))
