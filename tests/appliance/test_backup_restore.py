"""Backups taken while four tills commit, and restoring them."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest

from store_server.app import build_server
from store_server.appliance.settings import BackupPolicy
from store_server.backups.backup_info import inspect_backup
from store_server.backups.restore import RestoreRefused, restore_backup
from store_server.backups.snapshot import backup_and_rotate, take_backup
from store_server.clock import ManualClock
from store_server.config import Config
from store_server.db import migrate
from store_server.db.database import Database
from tests.support import catalog_fixture as cf
from tests.support.server import DEADLINE, START, RunningStore
from tests.support.till import Till, cash, new_id

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)


def _sale_ids(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT sale_id FROM sales")}
    finally:
        conn.close()


def _sell_until(till: Till, stop: threading.Event, acked: list[tuple[float, str]]) -> None:
    while not stop.is_set():
        till.new_basket()
        till.scan(cf.COKE_CAN)
        basket = till.scan(cf.WATER)
        sale_id = new_id()
        till.commit(cash(basket.total.fen), sale_id=sale_id)
        acked.append((time.monotonic(), sale_id))


def test_backup_during_four_tills_holds_every_sale_committed_before_it(
    store: RunningStore, tmp_path: Path
) -> None:
    tills = [Till(store, device_id=f"till-0{n}") for n in range(1, 5)]
    for till in tills:
        till.open_shift()
    stop = threading.Event()
    acked: list[list[tuple[float, str]]] = [[] for _ in tills]
    threads = [
        threading.Thread(target=_sell_until, args=(till, stop, log), daemon=True)
        for till, log in zip(tills, acked, strict=True)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.8)
    started = time.monotonic()
    result = backup_and_rotate(
        store.db.path,
        BackupPolicy(directory=tmp_path / "backups"),
        store_id="S01",
        now=NOW,
        zone=SHANGHAI,
    )
    time.sleep(0.5)  # the tills go on selling after the backup
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert all(not t.is_alive() for t in threads)

    before = {sale for log in acked for at, sale in log if at < started}
    after = {sale for log in acked for at, sale in log if at >= started}
    assert len(before) >= 8 and after, (len(before), len(after))
    info = inspect_backup(result.path)
    assert info.intact and info.store_id == "S01"
    assert info.revision == migrate.head_revision()
    in_backup = _sale_ids(result.path)
    assert before <= in_backup
    assert in_backup <= _sale_ids(store.db.path)  # nothing in it that the store lacks
    # No half sale: every sale in the backup has its lines and its payment.
    conn = sqlite3.connect(result.path)
    orphans = conn.execute(
        "SELECT count(*) FROM sales s WHERE NOT EXISTS (SELECT 1 FROM sale_lines l "
        "WHERE l.sale_id = s.sale_id) OR NOT EXISTS (SELECT 1 FROM sale_payments p "
        "WHERE p.sale_id = s.sale_id)"
    ).fetchone()
    conn.close()
    assert orphans == (0,)
    assert result.path.name == "S01-20261123T190000Z.db"
    assert not list(result.path.parent.glob("*.partial"))


def test_restore_round_trip_keeps_the_replaced_database_aside(
    store: RunningStore, tmp_path: Path
) -> None:
    till = Till(store)
    till.open_shift()
    kept = {till.sell(cf.COKE_CAN).sale_id, till.sell(cf.WATER).sale_id}
    backup, _, _ = take_backup(store.db.path, tmp_path / "b", store_id="S01", now=NOW)
    later = till.sell(cf.NOODLES).sale_id
    config = store.store.config
    store.channel.close()
    store.store.stop(grace=1.0)

    result = restore_backup(backup, config.database, store_id="S01", now=NOW)
    assert _sale_ids(config.database) == kept
    assert result.set_aside is not None
    assert _sale_ids(result.set_aside) == kept | {later}  # with its WAL content

    # The restored store serves again and sells on from the backup's state.
    clock = ManualClock(START + timedelta(minutes=5))
    server = build_server(config, clock=clock)
    server.start()
    channel = grpc.insecure_channel(server.address)
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)
    try:
        # The shift opened before the backup is open again.
        till = Till(RunningStore(store=server, clock=clock, channel=channel))
        till.sell(cf.WATER)
        assert len(_sale_ids(config.database)) == 3
    finally:
        channel.close()
        server.stop(grace=1.0)


def _backup_of(template: Path, directory: Path, store_id: str) -> Path:
    path, _, _ = take_backup(template, directory, store_id=store_id, now=NOW)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restore_refuses_corrupt_foreign_and_unknown_backups(
    template_db: Path, tmp_path: Path
) -> None:
    live = tmp_path / "live" / "store.db"
    live.parent.mkdir()
    shutil.copy(template_db, live)
    before = _digest(live)

    other_store = _backup_of(template_db, tmp_path / "s02", "S02")
    with pytest.raises(RestoreRefused, match="backup of store S02, this is store S01"):
        restore_backup(other_store, live, store_id="S01", now=NOW)

    corrupt = _backup_of(template_db, tmp_path / "corrupt", "S01")
    data = bytearray(corrupt.read_bytes())
    page = 4096
    data[4 * page : 12 * page] = b"\xa5" * (8 * page)  # eight b-tree pages overwritten
    corrupt.write_bytes(bytes(data))
    with pytest.raises(RestoreRefused, match="damaged"):
        restore_backup(corrupt, live, store_id="S01", now=NOW)

    plain = tmp_path / "plain.db"
    sqlite3.connect(plain).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(RestoreRefused, match="not a Tillpoint backup"):
        restore_backup(plain, live, store_id="S01", now=NOW)

    newer = _backup_of(template_db, tmp_path / "newer", "S01")
    conn = sqlite3.connect(newer)
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    with pytest.raises(RestoreRefused, match="unknown to this version"):
        restore_backup(newer, live, store_id="S01", now=NOW)

    text = tmp_path / "notes.db"
    text.write_text("not a database at all " * 100)
    with pytest.raises(RestoreRefused, match="damaged"):
        restore_backup(text, live, store_id="S01", now=NOW)

    assert _digest(live) == before
    assert sorted(p.name for p in live.parent.iterdir()) == ["store.db"]


def test_an_older_backup_is_upgraded_when_the_server_starts(
    template_db: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.db"
    db = Database(old)
    migrate.upgrade(db, "0001")
    db.dispose()
    backup = _backup_of(old, tmp_path / "b", "S01")
    live = tmp_path / "live" / "store.db"
    restore_backup(backup, live, store_id="S01", now=NOW)
    server = build_server(replace(Config(), database=live, listen="127.0.0.1:0"))
    try:
        assert migrate.current_revision(server.db) == migrate.head_revision()
    finally:
        server.stop(grace=0.5)
