"""TLS on the till link: [server] tls_cert and tls_key turn it on; plaintext is then refused."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import grpc
import pytest

from clients.kivy_pos.client.store_client import StoreClient
from store_server.app import build_server
from store_server.clock import ManualClock
from store_server.config import Config, ConfigError, load_config
from tests.support.server import START
from tillpoint.v1 import auth_pb2, auth_pb2_grpc, diagnostics_pb2, diagnostics_pb2_grpc


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the store's own, as `make install` would make)."""
    cert, key = directory / "store.crt", directory / "store.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=tillpoint-store-S01",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_client_works_and_a_plaintext_client_fails(template_db: Path, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    db = tmp_path / "store.db"
    db.write_bytes(template_db.read_bytes())
    config = replace(
        Config(), listen="127.0.0.1:0", database=db, grace_seconds=1.0, tls_cert=cert, tls_key=key
    )
    store = build_server(config, clock=ManualClock(START))
    store.start()
    try:
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with grpc.secure_channel(store.address, creds) as channel:
            echo = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel).Echo(
                diagnostics_pb2.EchoMessage(payload=b"\x00tls"), timeout=10
            )
            assert echo.payload == b"\x00tls"
            login = auth_pb2_grpc.AuthServiceStub(channel).Login(
                auth_pb2.LoginRequest(operator_id="1001", pin="1111", device_id="till-01"),
                timeout=10,
            )
            assert login.operator.operator_id == "1001"
        # The till's and the handheld's client layer speaks TLS with the store's CA.
        till = StoreClient(store.address, "till-02", tls_ca=cert.read_bytes())
        try:
            assert till.login("1001", "1111").operator_id == "1001"
        finally:
            till.close()
        # A client that speaks plaintext gets no answer at all, let alone a token.
        with grpc.insecure_channel(store.address) as channel:
            with pytest.raises(grpc.RpcError) as info:
                auth_pb2_grpc.AuthServiceStub(channel).Login(
                    auth_pb2.LoginRequest(operator_id="1001", pin="1111", device_id="till-01"),
                    timeout=3,
                )
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        # Nor does a TLS client that does not trust the store's certificate.
        (tmp_path / "other").mkdir()
        other, _ = make_certificate(tmp_path / "other")
        untrusting = grpc.ssl_channel_credentials(root_certificates=other.read_bytes())
        with grpc.secure_channel(store.address, untrusting) as channel:
            with pytest.raises(grpc.RpcError) as info:
                diagnostics_pb2_grpc.DiagnosticsServiceStub(channel).Echo(
                    diagnostics_pb2.EchoMessage(payload=b"x"), timeout=3
                )
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        store.stop(grace=1.0)


def test_tls_config_needs_both_files_and_they_must_exist(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    toml = tmp_path / "store.toml"
    toml.write_text(f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n', encoding="utf-8")
    config = load_config(toml, env={})
    assert (config.tls_cert, config.tls_key) == (cert, key)
    assert load_config(None, env={}).tls_cert is None  # plaintext by default (a demo on one box)
    toml.write_text(f'[server]\ntls_cert = "{cert}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="both or neither"):
        load_config(toml, env={})
    toml.write_text(
        f'[server]\ntls_cert = "{cert}"\ntls_key = "{tmp_path / "missing.key"}"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="tls_key"):
        load_config(toml, env={})
