"""The server started as systemd starts it (Type=notify, WatchdogSec)."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from store_server.db import migrate
from tests.support.process import REPO, free_port

WATCHDOG_USEC = 400_000  # pings expected every 0.2 s


def _recv(sock: socket.socket, timeout: float) -> bytes | None:
    sock.settimeout(timeout)
    try:
        return sock.recv(4096)
    except TimeoutError:
        return None


def _pings_during(sock: socket.socket, seconds: float) -> list[float]:
    times = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        message = _recv(sock, left)
        if message is None:
            break
        if b"WATCHDOG=1" in message.split(b"\n"):
            times.append(time.monotonic())
    return times


def test_ready_only_once_migrated_and_serving_then_watchdog_pings(tmp_path: Path) -> None:
    # A new store: READY has to wait for every migration as well.
    db = tmp_path / "store.db"
    notify_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify_path))
    port = free_port()
    env = {
        **os.environ,
        "TILLPOINT_DATABASE": str(db),
        "TILLPOINT_LISTEN": f"127.0.0.1:{port}",
        "NOTIFY_SOCKET": str(notify_path),
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
    }
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "store_server", "--config", str(REPO / "config/store.demo.toml")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline and ready is None:
            message = _recv(sock, deadline - time.monotonic())
            assert message is not None, "no READY=1 from the server"
            fields = dict(line.split(b"=", 1) for line in message.split(b"\n"))
            assert b"WATCHDOG" not in fields, "a watchdog ping before READY=1"
            if fields.get(b"READY") == b"1":
                ready = fields
        # At the moment it says ready, it serves, on a migrated database.
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        health = health_pb2_grpc.HealthStub(channel)
        assert health.Check(health_pb2.HealthCheckRequest(), timeout=2).status == (
            health_pb2.HealthCheckResponse.SERVING
        )
        assert f"127.0.0.1:{port}".encode() in ready[b"STATUS"]
        conn = sqlite3.connect(db)
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        conn.close()
        assert revision == migrate.head_revision()

        pings = _pings_during(sock, 1.2)
        assert 4 <= len(pings) <= 8, pings  # every 0.2 s: half of WatchdogSec
        gaps = [b - a for a, b in itertools.pairwise(pings)]
        assert max(gaps) < 0.35, gaps

        # A hung process sends nothing (systemd would kill it after WatchdogSec) ...
        proc.send_signal(signal.SIGSTOP)
        _pings_during(sock, 0.05)  # one may have been in flight
        assert _pings_during(sock, 0.8) == []
        # ... and pings again when it runs.
        proc.send_signal(signal.SIGCONT)
        assert len(_pings_during(sock, 0.6)) >= 2

        proc.send_signal(signal.SIGTERM)
        stopping = _recv(sock, 10)
        while stopping is not None and b"STOPPING=1" not in stopping:
            stopping = _recv(sock, 10)
        assert stopping is not None
        assert proc.wait(timeout=30) == 0
        channel.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()
