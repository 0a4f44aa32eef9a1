"""Start a real store server in-process on 127.0.0.1:0 with a real SQLite file."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import grpc

from store_server.app import StoreServer, build_server
from store_server.clock import ManualClock
from store_server.config import Config
from store_server.db import migrate
from store_server.db.database import Database
from store_server.db.unit_of_work import Actor, unit_of_work
from store_server.operators import upsert_operator
from store_server.product_import import import_products_csv
from tests.support.catalog_fixture import write_csv
from tillpoint.v1 import auth_pb2, auth_pb2_grpc, catalog_pb2_grpc, diagnostics_pb2_grpc

START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
OPERATORS = (
    ("1001", "收银员 小王", "cashier", "1111"),
    ("1002", "值班主管 李姐", "supervisor", "2222"),
    ("1003", "店长 张总", "admin", "3333"),
)
DEADLINE = 10.0


def make_template(directory: Path) -> Path:
    """A migrated database with the fixture catalog and operators, built once."""
    path = directory / "template.db"
    db = Database(path)
    migrate.upgrade(db)
    clock = ManualClock(START)
    report = import_products_csv(
        db, write_csv(directory / "catalog.csv"), clock=clock, actor=Actor.system("test")
    )
    assert report.ok, report.errors
    with unit_of_work(db, Actor.system("test"), clock.now()) as uow:
        for oid, name, role, pin in OPERATORS:
            upsert_operator(uow, operator_id=oid, name=name, role=role, pin=pin, store_id="S01")
    db.dispose()
    return path


@dataclass
class RunningStore:
    store: StoreServer
    clock: ManualClock
    channel: grpc.Channel

    @property
    def auth(self) -> auth_pb2_grpc.AuthServiceStub:
        return auth_pb2_grpc.AuthServiceStub(self.channel)

    @property
    def catalog(self) -> catalog_pb2_grpc.CatalogServiceStub:
        return catalog_pb2_grpc.CatalogServiceStub(self.channel)

    @property
    def diagnostics(self) -> diagnostics_pb2_grpc.DiagnosticsServiceStub:
        return diagnostics_pb2_grpc.DiagnosticsServiceStub(self.channel)

    @property
    def db(self) -> Database:
        return self.store.db

    def restart(self) -> None:
        """Stop the server and start a new one on the same database file and clock."""
        self.channel.close()
        self.store.stop(grace=1.0)
        self.store = build_server(self.store.config, clock=self.clock)
        self.store.start()
        self.channel = grpc.insecure_channel(self.store.address)
        grpc.channel_ready_future(self.channel).result(timeout=DEADLINE)

    def login(
        self, operator_id: str = "1001", pin: str = "1111", device_id: str = "till-01"
    ) -> list[tuple[str, str]]:
        """Log in; returns the call metadata that carries the token."""
        resp = self.auth.Login(
            auth_pb2.LoginRequest(operator_id=operator_id, pin=pin, device_id=device_id),
            timeout=DEADLINE,
        )
        return [("authorization", f"Bearer {resp.token}"), ("x-device-id", device_id)]


def start_store(template: Path, directory: Path, **overrides: object) -> RunningStore:
    db_path = directory / "store.db"
    shutil.copy(template, db_path)
    config = replace(
        Config(), listen="127.0.0.1:0", database=db_path, grace_seconds=1.0, **overrides
    )
    clock = ManualClock(START)
    store = build_server(config, clock=clock)
    store.start()
    channel = grpc.insecure_channel(store.address)
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)
    return RunningStore(store=store, clock=clock, channel=channel)
