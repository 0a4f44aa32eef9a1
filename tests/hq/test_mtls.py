"""mTLS between the agents and HQ (real HQ and agent processes, real PostgreSQL):
a store writes only as itself, a client without a certificate of the chain's CA
never gets in, and the certificates `hqctl` issues are what the link uses."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hq_link.agent.config import load_agent_config
from hq_link.agent.link_state import LinkState, read_link_state
from hq_link.hq.__main__ import server_tls
from hq_link.hq.server import build_server
from hq_link.security.tls import ClientTls, TlsConfigError, secure_channel
from store_server.config import ConfigError
from tests.hq.pki_support import TestPki, session_pki
from tests.hq.support import (
    STORE,
    AgentProcess,
    HqProcess,
    assert_hq_has_everything_once,
    hq_cursor,
    hq_rows,
    store_sale_ids,
    wait_replicated,
)
from tests.support.catalog_fixture import COKE_CAN, NOODLES
from tests.support.errors import error_detail, expect_code
from tests.support.process import REPO, free_port
from tests.support.server import RunningStore
from tests.support.till import Till
from tillpoint.hq.v1 import replication_pb2, replication_pb2_grpc, reports_pb2, reports_pb2_grpc

AT = "2026-11-23T02:00:00+00:00"


@pytest.fixture
def hq(hq_url: str) -> Iterator[HqProcess]:
    server = HqProcess(hq_url)  # mTLS with the session's test CA
    server.start()
    yield server
    server.kill()


def _batch(store_id: str, *seqs: int) -> replication_pb2.PushBatchRequest:
    receipt = {"receipt_no": "R1", "business_day": "2026-11-23", "total_fen": 350}
    rows = [
        replication_pb2.ChangeRow(
            seq=s,
            txn=s,
            kind="sale",
            key=f"sale-{store_id}-{s}",
            payload_json=json.dumps({"receipt": json.dumps(receipt), "shift_id": "x"}),
            at=AT,
            schema_version=1,
        )
        for s in seqs
    ]
    return replication_pb2.PushBatchRequest(
        store_id=store_id, first_seq=seqs[0], last_seq=seqs[-1], rows=rows
    )


def _stub(address: str, tls: ClientTls) -> replication_pb2_grpc.ReplicationServiceStub:
    return replication_pb2_grpc.ReplicationServiceStub(secure_channel(address, tls))


def _hq_tables(url: str) -> dict[str, list[tuple]]:
    return {
        table: hq_rows(url, f"SELECT store_id, count(*) FROM {table} GROUP BY store_id")
        for table in ("hq_changes", "hq_sales", "hq_quarantine", "hq_store_cursors")
    }


def _hqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hq_link.hqctl", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_hqctl_issues_a_ca_and_certificates_that_verify(tmp_path: Path) -> None:
    ca_dir = tmp_path / "ca"
    init = _hqctl("ca", "init", "--dir", str(ca_dir))
    assert init.returncode == 0, init.stderr
    store = _hqctl("cert", "store", "--store", "S01", "--dir", str(ca_dir))
    assert store.returncode == 0, store.stderr
    server = _hqctl(
        "cert", "server", "--host", "hq.example.internal", "--ip", "127.0.0.1", "--dir", str(ca_dir)
    )
    assert server.returncode == 0, server.stderr
    store_pem, store_key = ca_dir / "stores" / "S01.pem", ca_dir / "stores" / "S01.key"
    server_pem = ca_dir / "server" / "hq.example.internal.pem"
    server_key = ca_dir / "server" / "hq.example.internal.key"
    assert str(store_pem) in store.stdout and str(store_key) in store.stdout  # paths printed

    ca = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > (
        x509.load_pem_x509_certificate(store_pem.read_bytes()).not_valid_after_utc
        - datetime.now(UTC)
    )
    for pem, key, usage in (
        (store_pem, store_key, ExtendedKeyUsageOID.CLIENT_AUTH),
        (server_pem, server_key, ExtendedKeyUsageOID.SERVER_AUTH),
    ):
        cert = x509.load_pem_x509_certificate(pem.read_bytes())
        cert.verify_directly_issued_by(ca)  # raises unless the CA signed it
        assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [usage]
        private = serialization.load_pem_private_key(key.read_bytes(), password=None)
        assert private.public_key().public_numbers() == cert.public_key().public_numbers()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((ca_dir / "ca.key").stat().st_mode) == 0o600
    store_cert = x509.load_pem_x509_certificate(store_pem.read_bytes())
    assert store_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "S01"
    sans = x509.load_pem_x509_certificate(server_pem.read_bytes()).extensions
    names = sans.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["hq.example.internal"]
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]

    # A second CA would orphan every certificate: refused, the first one kept.
    before = (ca_dir / "ca.pem").read_bytes()
    again = _hqctl("ca", "init", "--dir", str(ca_dir))
    assert again.returncode == 2 and "--force" in again.stderr
    assert (ca_dir / "ca.pem").read_bytes() == before
    bad = _hqctl("cert", "store", "--store", "S-01", "--dir", str(ca_dir))
    assert bad.returncode == 2 and "1-16 letters or digits" in bad.stderr
    assert not (ca_dir / "stores" / "S-01.pem").exists()
    shown = _hqctl("cert", "show", str(store_pem), "--dir", str(ca_dir))
    assert shown.returncode == 0 and "CN=S01" in shown.stdout and "signed by the CA" in shown.stdout
    foreign = TestPki(tmp_path / "other", name="Someone else's CA")
    other = _hqctl("cert", "show", str(foreign.client_tls("S01").cert), "--dir", str(ca_dir))
    assert other.returncode == 1 and "NOT signed" in other.stdout


def test_a_store_certificate_cannot_write_as_another_store(hq: HqProcess) -> None:
    as_s01 = _stub(hq.address, session_pki().client_tls("S01"))
    err = expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: as_s01.PushBatch(_batch("S02", 1, 2), timeout=10),
    )
    detail = error_detail(err)
    assert (detail.reason, detail.field) == ("WRONG_STORE", "store_id")
    assert "S01" in detail.message and "S02" in detail.message
    expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: as_s01.GetCursor(replication_pb2.GetCursorRequest(store_id="S02"), timeout=10),
    )
    # Nothing of it applied: no change, sale, quarantined row or cursor, for any store.
    assert _hq_tables(hq.database_url) == {
        "hq_changes": [],
        "hq_sales": [],
        "hq_quarantine": [],
        "hq_store_cursors": [],
    }
    # The same certificate writes as itself, and S02 is still untouched.
    assert as_s01.PushBatch(_batch("S01", 1, 2), timeout=10).acked_seq == 2
    assert hq_cursor(hq.address, "S02") == 0  # asked with S02's own certificate
    assert _hq_tables(hq.database_url)["hq_changes"] == [("S01", 2)]


def test_an_owner_with_a_user_certificate_reads_reports_and_writes_as_no_store(
    hq: HqProcess,
) -> None:
    owner_tls = session_pki().user_tls("owner-s01")
    done = _hqctl(
        "--database", hq.database_url,
        "user", "add", "--id", "owner-s01", "--role", "owner", "--stores", "S01",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    channel = secure_channel(hq.address, owner_tls)
    reports = reports_pb2_grpc.HqReportServiceStub(channel)
    request = reports_pb2.HqReportRequest(
        kinds=["stores"], date_from="2026-11-23", date_to="2026-11-23"
    )
    bearer = [("authorization", f"Bearer {token}")]
    assert reports.RunHqReport(request, metadata=bearer, timeout=30).tables
    # The certificate gets the person in; the token decides what they read.
    expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: reports.RunHqReport(
            reports_pb2.HqReportRequest(
                kinds=["stores"], date_from="2026-11-23", date_to="2026-11-23", stores=["S02"]
            ),
            metadata=bearer,
            timeout=30,
        ),
    )
    expect_code(grpc.StatusCode.UNAUTHENTICATED, lambda: reports.RunHqReport(request, timeout=30))
    # A person's certificate writes as no store.
    as_owner = replication_pb2_grpc.ReplicationServiceStub(channel)
    err = expect_code(
        grpc.StatusCode.PERMISSION_DENIED,
        lambda: as_owner.PushBatch(_batch("S01", 1), timeout=10),
    )
    assert "not a store certificate" in error_detail(err).message
    assert _hq_tables(hq.database_url)["hq_changes"] == []


def test_a_client_without_a_certificate_cannot_connect(hq: HqProcess) -> None:
    request = replication_pb2.GetCursorRequest(store_id=STORE)
    with grpc.insecure_channel(hq.address) as plaintext:
        stub = replication_pb2_grpc.ReplicationServiceStub(plaintext)
        expect_code(grpc.StatusCode.UNAVAILABLE, lambda: stub.GetCursor(request, timeout=10))
    # TLS that trusts HQ but presents no certificate: the handshake fails.
    ca_only = grpc.ssl_channel_credentials(root_certificates=session_pki().ca_cert.read_bytes())
    with grpc.secure_channel(hq.address, ca_only) as anonymous:
        stub = replication_pb2_grpc.ReplicationServiceStub(anonymous)
        expect_code(grpc.StatusCode.UNAVAILABLE, lambda: stub.GetCursor(request, timeout=10))
        expect_code(
            grpc.StatusCode.UNAVAILABLE, lambda: stub.PushBatch(_batch(STORE, 1), timeout=10)
        )
    assert _hq_tables(hq.database_url)["hq_changes"] == []


def test_a_certificate_from_another_ca_is_refused(hq: HqProcess, tmp_path: Path) -> None:
    foreign = TestPki(tmp_path / "other", name="Someone else's CA")
    s01 = foreign.client_tls(STORE)
    # It trusts HQ's real CA, so only its own certificate is wrong.
    tls = ClientTls(cert=s01.cert, key=s01.key, ca_cert=session_pki().ca_cert)
    stub = _stub(hq.address, tls)
    expect_code(grpc.StatusCode.UNAVAILABLE, lambda: stub.PushBatch(_batch(STORE, 1), timeout=10))
    # And an agent never talks to an HQ whose certificate its CA did not sign.
    wrong_hq = _stub(hq.address, foreign.client_tls("S02"))
    expect_code(
        grpc.StatusCode.UNAVAILABLE,
        lambda: wrong_hq.GetCursor(replication_pb2.GetCursorRequest(store_id="S02"), timeout=10),
    )
    assert _hq_tables(hq.database_url)["hq_changes"] == []


def test_every_hq_service_checks_the_store_not_only_replication(tmp_path: Path) -> None:
    """A service registered later (here a stand-in, unary and client-streaming)
    gets the same rule from the interceptor, before its servicer runs."""
    pki = session_pki()
    server = build_server(
        f"sqlite:///{tmp_path / 'hq.db'}", "127.0.0.1:0", workers=2, tls=pki.server_tls()
    )
    reached: list[str] = []
    cursor = replication_pb2.GetCursorRequest
    answer = replication_pb2.GetCursorResponse

    def unary(request: replication_pb2.GetCursorRequest, context: object) -> object:
        reached.append(request.store_id)
        return answer(acked_seq=1)

    def streaming(requests: Iterator[replication_pb2.GetCursorRequest], context: object) -> object:
        reached.extend(r.store_id for r in requests)
        return answer(acked_seq=2)

    codec = {
        "request_deserializer": cursor.FromString,
        "response_serializer": answer.SerializeToString,
    }
    server.server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "tillpoint.hq.v1.LaterService",
                {
                    "Unary": grpc.unary_unary_rpc_method_handler(unary, **codec),
                    "Stream": grpc.stream_unary_rpc_method_handler(streaming, **codec),
                },
            ),
        )
    )
    server.start()
    try:
        with secure_channel(server.address, pki.client_tls("S01")) as channel:
            call = channel.unary_unary(
                "/tillpoint.hq.v1.LaterService/Unary",
                request_serializer=cursor.SerializeToString,
                response_deserializer=answer.FromString,
            )
            stream = channel.stream_unary(
                "/tillpoint.hq.v1.LaterService/Stream",
                request_serializer=cursor.SerializeToString,
                response_deserializer=answer.FromString,
            )
            assert call(cursor(store_id="S01"), timeout=10).acked_seq == 1
            expect_code(
                grpc.StatusCode.PERMISSION_DENIED, lambda: call(cursor(store_id="S02"), timeout=10)
            )
            assert stream(iter([cursor(store_id="S01")] * 2), timeout=10).acked_seq == 2
            expect_code(
                grpc.StatusCode.PERMISSION_DENIED,
                lambda: stream(iter([cursor(store_id="S01"), cursor(store_id="S02")]), timeout=10),
            )
        assert reached[:3] == ["S01", "S01", "S01"]
        assert "S02" not in reached
    finally:
        server.stop(grace=1)


def _link(store_db: Path) -> LinkState | None:
    conn = sqlite3.connect(store_db)
    try:
        return read_link_state(conn)
    finally:
        conn.close()


def _until(check: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _doctor(store_db: Path, *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "store_server.cli.main", *(command or ("doctor",))],
        cwd=REPO,
        env={**os.environ, "TILLPOINT_DATABASE": str(store_db), "TILLPOINT_STORE_ID": STORE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout + done.stderr


def test_the_agent_replicates_over_mtls_and_doctor_shows_the_link(
    store: RunningStore, hq: HqProcess, tmp_path: Path
) -> None:
    db = store.store.config.database
    till = Till(store)
    till.open_shift()
    till.sell(COKE_CAN, NOODLES)
    assert "hq_link lag: not configured" in _doctor(db)

    # With another store's certificate the agent is refused; nothing reaches HQ,
    # and the store's doctor says why.
    impostor = AgentProcess(tmp_path, db, hq.address, tls=session_pki().client_tls("S02"))
    impostor.start()
    try:
        _until(lambda: (_link(db) or LinkState("", None, "", None, "")).failing, "no error")
    finally:
        impostor.stop()
    state = _link(db)
    assert state is not None and "PERMISSION_DENIED" in state.last_error
    assert _hq_tables(hq.database_url)["hq_changes"] == []
    report = _doctor(db)
    assert f"[WARN] hq_link agent: {hq.address} (mTLS): never reached HQ; failing" in report
    assert "PERMISSION_DENIED" in report

    # With its own certificate (CN S01) it ships everything.
    agent = AgentProcess(tmp_path, db, hq.address)  # S01, the session CA
    agent.start()
    try:
        for _ in range(5):
            till.sell(COKE_CAN, NOODLES)
        last = wait_replicated(hq.address, db, agent)
        assert_hq_has_everything_once(hq.database_url, db)
        assert len(store_sale_ids(db)) == 6
        _until(lambda: int(_shipped(db)) >= last, "shipped seq not recorded")
    finally:
        agent.stop()
    state = _link(db)
    assert state is not None and not state.failing
    assert state.hq == f"{hq.address} (mTLS)"
    assert state.tls_cert == str(session_pki().client_tls(STORE).cert)
    report = _doctor(db)
    assert "[ OK ] hq_link lag: 0 rows, 0 s: every change is at HQ" in report
    assert f"[ OK ] hq_link agent: {hq.address} (mTLS): last contact" in report
    assert f"certificate {STORE}.pem: expires" in report
    status = _doctor(db, "hq", "status")
    assert "lag: 0 changes, 0 s" in status
    assert f"agent: {hq.address} (mTLS): last contact" in status

    # HQ away, the store sells on: doctor counts the rows not yet at HQ.
    hq.kill()
    till.sell(COKE_CAN)
    report = _doctor(db)
    assert "hq_link lag: " in report and "row(s)" in report and "not yet at HQ" in report


def _shipped(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT value FROM store_meta WHERE key = 'hq_link.shipped_seq'"
        ).fetchone()
        return row[0] if row else "0"
    finally:
        conn.close()


def test_tls_is_required_unless_plaintext_is_asked_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hq.db'}"
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "hq_link.hq",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--database",
            url,
        ],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("TILLPOINT_HQ")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "tls_cert, tls_key, client_ca not set" in refused.stderr
    assert "--insecure" in refused.stderr
    # The demo (`make hq`): plaintext because it was asked for.
    demo = HqProcess(url, tls=False)
    demo.start()
    try:
        assert hq_cursor(demo.address) == 0
    finally:
        demo.kill()

    config = tmp_path / "hq_link.toml"
    config.write_text('[hq_link]\nhq = "10.0.0.1:50061"\n', encoding="utf-8")
    env = {"TILLPOINT_DATABASE": str(tmp_path / "store.db")}
    with pytest.raises(ConfigError, match="tls_cert, tls_key, ca_cert not set"):
        load_agent_config(config, env=env)
    tls = session_pki().client_tls(STORE)
    config.write_text(
        f'[hq_link]\nhq = "10.0.0.1:50061"\ntls_cert = "{tls.cert}"\n'
        f'tls_key = "{tls.key}"\nca_cert = "{tmp_path / "missing.pem"}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"ca_cert .*no such file"):
        load_agent_config(config, env=env)
    config.write_text(
        f'[hq_link]\nhq = "10.0.0.1:50061"\ntls_cert = "{tls.cert}"\n'
        f'tls_key = "{tls.key}"\nca_cert = "{tls.ca_cert}"\nserver_name = "hq.internal"\n',
        encoding="utf-8",
    )
    loaded = load_agent_config(config, env=env)
    assert loaded.tls == ClientTls(tls.cert, tls.key, tls.ca_cert, "hq.internal")


def test_the_sample_configs_configure_mtls(tmp_path: Path) -> None:
    """systemd/etc/hq_link.toml and hq.toml, with their paths pointed at real
    files, are what the agent and HQ read: mTLS with those files."""
    tls = session_pki().client_tls(STORE)
    agent_text = (REPO / "systemd/etc/hq_link.toml").read_text(encoding="utf-8")
    for sample, real in (
        ("/etc/tillpoint/hq-link/S01.pem", tls.cert),
        ("/etc/tillpoint/hq-link/S01.key", tls.key),
        ("/etc/tillpoint/hq-link/ca.pem", tls.ca_cert),
        ("/etc/tillpoint/store.toml", REPO / "systemd/etc/store.toml"),
    ):
        assert sample in agent_text
        agent_text = agent_text.replace(sample, str(real))
    (tmp_path / "hq_link.toml").write_text(agent_text, encoding="utf-8")
    agent = load_agent_config(tmp_path / "hq_link.toml", env={})
    assert agent.tls == ClientTls(tls.cert, tls.key, tls.ca_cert)
    assert (agent.store_id, agent.hq) == ("S01", "hq.example.internal:50061")

    server = session_pki().server_tls()
    section = tomllib.loads((REPO / "systemd/etc/hq.toml").read_text(encoding="utf-8"))["hq"]
    args = argparse.Namespace(insecure=False, tls_cert=None, tls_key=None, client_ca=None)
    with pytest.raises(TlsConfigError, match="no such file"):
        server_tls(args, section, {})  # the sample's paths do not exist here
    section.update(tls_cert=str(server.cert), tls_key=str(server.key))
    section.update(client_ca=str(server.client_ca))
    assert server_tls(args, section, {}) == server
