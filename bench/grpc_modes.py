"""Sync grpcio (thread pool) vs grpc.aio for the store server: the measurement behind the choice.

Each mode serves the same DiagnosticsService in its own process. Two handlers:
a bare echo, and an echo that first reads one row from SQLite, as every
catalog call does. grpc.aio must move a blocking SQLite read off its event
loop (asyncio.to_thread), the sync server runs it on its pool thread.
Measured sequentially (one till) and with 8 concurrent clients (a busy store).
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path

import grpc

from bench.support import measure
from tillpoint.v1 import diagnostics_pb2, diagnostics_pb2_grpc

CALLS = 2_000
CLIENTS = 8


def _db_read(path: str, local: threading.local) -> None:
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("SELECT v FROM t WHERE k = ?", (42,)).fetchone()


def serve(mode: str, db_path: str) -> None:
    local = threading.local()

    class Sync(diagnostics_pb2_grpc.DiagnosticsServiceServicer):
        def Echo(self, request, context):
            if request.payload == b"db":
                _db_read(db_path, local)
            return request

    class Aio(diagnostics_pb2_grpc.DiagnosticsServiceServicer):
        async def Echo(self, request, context):
            if request.payload == b"db":
                await asyncio.to_thread(_db_read, db_path, local)
            return request

    if mode == "sync":
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(Sync(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        print(f"port {port}", flush=True)
        server.wait_for_termination()
    else:

        async def main() -> None:
            server = grpc.aio.server()
            diagnostics_pb2_grpc.add_DiagnosticsServiceServicer_to_server(Aio(), server)
            port = server.add_insecure_port("127.0.0.1:0")
            await server.start()
            print(f"port {port}", flush=True)
            await server.wait_for_termination()

        asyncio.run(main())


def _concurrent(address: str, payload: bytes) -> float:
    """Calls per second with CLIENTS threads sharing one channel."""
    per_client = CALLS // CLIENTS
    with grpc.insecure_channel(address) as channel:
        stub = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
        msg = diagnostics_pb2.EchoMessage(payload=payload)
        stub.Echo(msg, timeout=5)
        started = time.perf_counter()
        with futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(
                pool.map(
                    lambda _: [stub.Echo(msg, timeout=5) for _ in range(per_client)], range(CLIENTS)
                )
            )
        return per_client * CLIENTS / (time.perf_counter() - started)


def run() -> bool:
    tmp = Path(tempfile.mkdtemp(prefix="grpc-modes-"))
    db_path = tmp / "t.db"
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(1000)])
    rows = []
    for mode in ("sync", "aio"):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.grpc_modes", "serve", mode, str(db_path)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        try:
            port = re.search(r"port (\d+)", proc.stdout.readline()).group(1)
            address = f"127.0.0.1:{port}"
            with grpc.insecure_channel(address) as channel:
                stub = diagnostics_pb2_grpc.DiagnosticsServiceStub(channel)
                for payload in (b"", b"db"):
                    msg = diagnostics_pb2.EchoMessage(payload=payload)
                    for _ in range(100):
                        stub.Echo(msg, timeout=5)
                    lat = measure(
                        lambda i, m=msg, s=stub: s.Echo(m, timeout=5),
                        CALLS,
                        label=f"{mode} {payload.decode() or 'echo'}",
                    )
                    rows.append((mode, payload, lat, _concurrent(address, payload)))
        finally:
            proc.kill()
            proc.wait()
    print(f"\n== gRPC server modes, {CALLS:,} calls, 127.0.0.1")
    for mode, payload, lat, conc in rows:
        what = "echo + SQLite read" if payload else "echo"
        print(
            f"  {mode:<5} {what:<19} p50 {lat.p50_ms:6.3f} ms  p99 {lat.p99_ms:6.3f} ms"
            f"  1 client {lat.per_second:6,.0f}/s  {CLIENTS} clients {conc:6,.0f}/s"
        )
    return True


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    else:
        run()
