"""The store server as `make run` starts it: its own process, stopped by Ctrl-C."""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tillpoint.v1 import auth_pb2, auth_pb2_grpc, catalog_pb2, catalog_pb2_grpc

REPO = Path(__file__).resolve().parents[2]


def start(db: Path) -> tuple[subprocess.Popen[str], str, list[str]]:
    env = {**os.environ, "TILLPOINT_DATABASE": str(db), "TILLPOINT_LISTEN": "127.0.0.1:0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "store_server", "--config", str(REPO / "config/store.demo.toml")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"listening on (127\.0\.0\.1:\d+)", line)
        if match:
            # Keep draining output so the server never blocks on a full pipe.
            threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
            return proc, match.group(1), lines
    proc.kill()
    raise AssertionError("server did not start:\n" + "".join(lines))


def test_serves_stops_cleanly_on_ctrl_c_and_keeps_data(template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    shutil.copy(template_db, db)
    proc, address, lines = start(db)
    try:
        channel = grpc.insecure_channel(address)
        health = health_pb2_grpc.HealthStub(channel)
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=5).status == (
            health_pb2.HealthCheckResponse.SERVING
        )
        login = auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(operator_id="1001", pin="1111", device_id="till-01"), timeout=5
        )
        md = [("authorization", f"Bearer {login.token}"), ("x-device-id", "till-01")]
        catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        # A long stream in flight when Ctrl-C comes must still finish.
        stream = catalog.StreamCatalog(
            catalog_pb2.StreamCatalogRequest(chunk_size=1), metadata=md, timeout=10
        )
        first = next(stream)
        proc.send_signal(signal.SIGINT)
        rest = list(stream)
        assert len(first.products) + sum(len(c.products) for c in rest) == 8
        assert proc.wait(timeout=30) == 0
        channel.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines)
    assert "stopping: finishing calls in flight" in output
    assert "store server stopped" in output
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # The second start finds the same data, and the first token is still valid.
    proc, address, lines = start(db)
    try:
        with grpc.insecure_channel(address) as channel:
            me = auth_pb2_grpc.AuthServiceStub(channel).WhoAmI(
                auth_pb2.WhoAmIRequest(), metadata=md, timeout=5
            )
            assert me.operator_id == "1001"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
