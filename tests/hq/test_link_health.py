"""The HQ link as `storectl doctor` sees it: lag in rows and seconds with its
warning thresholds, and the agent's recorded contact and errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hq_link.agent.link_state import LinkRecorder, read_link_state
from hq_link.agent.outbox import StoreOutbox
from store_server.appliance.doctor import (
    HQ_LAG_WARN,
    HQ_LAG_WARN_ROWS,
    Level,
    check_hq_link,
    check_hq_link_agent,
)
from store_server.config import Config, load_config
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Config, Database]]:
    db = Database(tmp_path / "store.db")
    migrate.upgrade(db)
    yield load_config(None, env={"TILLPOINT_DATABASE": str(db.path)}), db
    db.dispose()


def _write(db: Database, n: int, at: datetime) -> None:
    with unit_of_work(db, Actor.system("test"), at) as uow:
        for i in range(n):
            uow.change("test", str(i), {"i": i})


class Clock:
    def __init__(self) -> None:
        self.now = NOW
        self.tick = 0.0


def _recorder(db: Database, clock: Clock, tls_cert: Path | None = None) -> LinkRecorder:
    return LinkRecorder(
        db.path,
        hq="10.8.0.1:50061",
        tls_cert=tls_cert,
        now=lambda: clock.now,
        clock=lambda: clock.tick,
        min_interval=10.0,
    )


def _state(db: Database):
    conn = sqlite3.connect(db.path)
    try:
        return read_link_state(conn)
    finally:
        conn.close()


def test_lag_in_rows_and_seconds_warns_past_its_thresholds(
    store: tuple[Config, Database],
) -> None:
    cfg, db = store
    assert check_hq_link(cfg, NOW).detail.startswith("not configured")
    assert check_hq_link_agent(cfg, NOW) is None
    clock = Clock()
    _recorder(db, clock, Path("/etc/tillpoint/hq-link/S01.pem")).connected()
    ok = check_hq_link(cfg, NOW)
    assert (ok.level, ok.detail) == (Level.OK, "0 rows, 0 s: every change is at HQ (seq 0)")

    _write(db, 3, NOW - timedelta(seconds=40))
    recent = check_hq_link(cfg, NOW)
    assert recent.level is Level.OK
    assert recent.detail.startswith("3 row(s), 40 s: not yet at HQ (HQ has seq 0)")

    old = check_hq_link(cfg, NOW + HQ_LAG_WARN)
    assert old.level is Level.WARN and "3 row(s), 16 min" in old.detail  # 15 min 40 s

    outbox = StoreOutbox(db.path)
    try:
        outbox.record_shipped(3)
        _write(db, HQ_LAG_WARN_ROWS + 1, NOW)
    finally:
        outbox.close()
    many = check_hq_link(cfg, NOW)
    assert many.level is Level.WARN and many.detail.startswith("10,001 row(s), 0 s")


def test_the_agents_contact_and_errors(store: tuple[Config, Database]) -> None:
    cfg, db = store
    clock = Clock()
    recorder = _recorder(db, clock, Path("/etc/tillpoint/hq-link/S01.pem"))
    recorder.error("UNAVAILABLE: failed to connect to all addresses")
    state = _state(db)
    assert state is not None and state.failing and state.last_contact_at is None
    assert state.hq == "10.8.0.1:50061 (mTLS)"
    assert state.tls_cert == "/etc/tillpoint/hq-link/S01.pem"
    check = check_hq_link_agent(cfg, NOW + timedelta(seconds=30))
    assert check is not None and check.level is Level.WARN
    assert check.detail == (
        "10.8.0.1:50061 (mTLS): never reached HQ; failing 30 s ago: "
        "UNAVAILABLE: failed to connect to all addresses"
    )

    clock.now, clock.tick = NOW + timedelta(minutes=5), 300.0
    recorder.connected()
    check = check_hq_link_agent(cfg, NOW + timedelta(minutes=6))
    assert check is not None and check.level is Level.OK
    assert check.detail == "10.8.0.1:50061 (mTLS): last contact 60 s ago"

    # Contact while all is well is written at most every min_interval ...
    clock.now, clock.tick = NOW + timedelta(minutes=5, seconds=5), 305.0
    recorder.contact()
    assert _state(db).last_contact_at == NOW + timedelta(minutes=5)  # type: ignore[union-attr]
    clock.now, clock.tick = NOW + timedelta(minutes=5, seconds=11), 311.0
    recorder.contact()
    assert _state(db).last_contact_at == clock.now  # type: ignore[union-attr]
    # ... but the first contact after an error at once.
    clock.now, clock.tick = NOW + timedelta(minutes=5, seconds=12), 312.0
    recorder.error("DEADLINE_EXCEEDED: Deadline Exceeded")
    clock.now, clock.tick = NOW + timedelta(minutes=5, seconds=13), 313.0
    recorder.contact()
    state = _state(db)
    assert state is not None and not state.failing and state.last_contact_at == clock.now


def test_a_plaintext_link_is_a_warning(store: tuple[Config, Database]) -> None:
    cfg, db = store
    _recorder(db, Clock(), tls_cert=None).connected()
    check = check_hq_link_agent(cfg, NOW)
    assert check is not None and check.level is Level.WARN
    assert "plaintext, no mTLS" in check.detail
