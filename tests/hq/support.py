"""The HQ server and the agent as real processes, and what the tests compare.

HQ runs with mTLS by default (the session's test CA, tests/hq/pki_support.py):
talk to it through `hq_channel(address, store_id)` or `HqProcess.channel()`,
which pick the store's certificate; `HqProcess(url, tls=False)` serves
plaintext. An AgentProcess uses mTLS when its HQ does.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import grpc
from sqlalchemy import create_engine, text

from hq_link.security.tls import ClientTls, secure_channel
from tests.hq.pki_support import TestPki, session_pki
from tests.support.process import ChildProcess, free_port
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc

STORE = "S01"
# HQ addresses served with mTLS, and the CA their clients' certificates come from.
_SECURE_HQ: dict[str, TestPki] = {}


def hq_channel(address: str, store_id: str = STORE) -> grpc.Channel:
    """A channel to an HqProcess: with store_id's certificate when it serves mTLS."""
    pki = _SECURE_HQ.get(address)
    if pki is None:
        return grpc.insecure_channel(address)
    return secure_channel(address, pki.client_tls(store_id))


class HqProcess(ChildProcess):
    """`python -m hq_link.hq` on one fixed port and database; kill and restart."""

    def __init__(
        self, database_url: str, port: int = 0, *, tls: bool = True, pki: TestPki | None = None
    ) -> None:
        super().__init__()
        self.database_url = database_url
        self.port = port or free_port()
        self.pki = (pki or session_pki()) if tls else None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def channel(self, store_id: str = STORE) -> grpc.Channel:
        """A channel as store_id (its certificate) when HQ serves mTLS."""
        return hq_channel(self.address, store_id)

    def start(self, timeout: float = 30) -> None:
        if self.pki is not None:
            tls = self.pki.server_tls()
            security = [
                "--tls-cert",
                str(tls.cert),
                "--tls-key",
                str(tls.key),
                "--client-ca",
                str(tls.client_ca),
            ]
            _SECURE_HQ[self.address] = self.pki
        else:
            security = ["--insecure"]
            _SECURE_HQ.pop(self.address, None)
        self._spawn(
            [
                "hq_link.hq",
                "--listen",
                self.address,
                "--database",
                self.database_url,
                "--log-level",
                "WARNING",
                *security,
            ],
            ready=r"hq listening on ",
            timeout=timeout,
            what="HQ",
        )


class AgentProcess(ChildProcess):
    """`python -m hq_link.agent --config ...` for one store database."""

    def __init__(
        self,
        directory: Path,
        store_db: Path,
        hq_address: str,
        batch_rows: int = 50,
        *,
        tls: ClientTls | bool | None = None,
    ):
        """tls: None matches the HQ at hq_address (mTLS as store S01 if it serves
        mTLS), False is plaintext, a ClientTls uses those files."""
        super().__init__()
        if tls is None or tls is True:
            pki = _SECURE_HQ.get(hq_address) or (session_pki() if tls else None)
            tls = pki.client_tls(STORE) if pki is not None else False
        if isinstance(tls, ClientTls):
            security = (
                f'tls_cert = "{tls.cert}"\ntls_key = "{tls.key}"\nca_cert = "{tls.ca_cert}"\n'
            )
        else:
            security = "insecure = true\n"
        self.config = directory / "hq_link.toml"
        self.config.write_text(
            "[hq_link]\n"
            f'hq = "{hq_address}"\n'
            f"{security}"
            f"batch_rows = {batch_rows}\n"
            "poll_seconds = 0.05\n"
            "backoff_initial_seconds = 0.05\n"
            "backoff_max_seconds = 0.5\n"
            "lag_log_seconds = 0.5\n"
            "rpc_timeout_seconds = 5\n",
            encoding="utf-8",
        )
        self.store_db = store_db

    def start(self) -> None:
        env = {**os.environ, "TILLPOINT_DATABASE": str(self.store_db), "TILLPOINT_STORE_ID": STORE}
        self._spawn(["hq_link.agent", "--config", str(self.config)], env=env)


def store_changes(store_db: Path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(store_db)
    try:
        return conn.execute("SELECT seq, kind, key FROM change_log ORDER BY seq").fetchall()
    finally:
        conn.close()


def store_sale_ids(store_db: Path) -> set[str]:
    conn = sqlite3.connect(store_db)
    try:
        return {r[0] for r in conn.execute("SELECT sale_id FROM sales")}
    finally:
        conn.close()


def shipped_seq(store_db: Path) -> int:
    conn = sqlite3.connect(store_db)
    try:
        row = conn.execute(
            "SELECT value FROM store_meta WHERE key = 'hq_link.shipped_seq'"
        ).fetchone()
        return int(row[0]) if row else 0
    finally:
        conn.close()


def hq_cursor(address: str, store_id: str = STORE) -> int:
    with hq_channel(address, store_id) as channel:
        stub = replication_pb2_grpc.ReplicationServiceStub(channel)
        return stub.GetCursor(
            replication_pb2.GetCursorRequest(store_id=store_id), timeout=5
        ).acked_seq


def wait_replicated(address: str, store_db: Path, agent: AgentProcess, timeout: float = 30) -> int:
    """Wait until HQ's cursor reaches the store's last change; returns it."""
    last = store_changes(store_db)[-1][0]
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        try:
            seen = hq_cursor(address)
        except grpc.RpcError:
            seen = -1
        if seen >= last:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"HQ at seq {seen}, store at {last}; agent log:\n{agent.log[-3000:]}")


def hq_rows(database_url: str, sql: str, **params: object) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def assert_hq_has_everything_once(database_url: str, store_db: Path) -> None:
    """Every change row of the store at HQ exactly once; every sale exactly once."""
    store = store_changes(store_db)
    hq = hq_rows(
        database_url,
        "SELECT seq, kind, key FROM hq_changes WHERE store_id = :s "
        "UNION ALL SELECT seq, kind, key FROM hq_quarantine WHERE store_id = :s ORDER BY 1",
        s=STORE,
    )
    assert hq == store, f"HQ has {len(hq)} rows, the store {len(store)}"
    sales = hq_rows(
        database_url, "SELECT doc_id FROM hq_sales WHERE store_id = :s AND kind = 'sale'", s=STORE
    )
    sale_rows = hq_rows(
        database_url,
        "SELECT key, count(*) FROM hq_changes WHERE store_id = :s AND kind = 'sale' GROUP BY key",
        s=STORE,
    )
    assert sorted(s for (s,) in sales) == sorted(store_sale_ids(store_db))
    assert all(n == 1 for _, n in sale_rows)
    assert len(sale_rows) == len(sales)
