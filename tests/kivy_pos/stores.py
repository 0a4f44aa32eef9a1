"""A real store server on a fixed 127.0.0.1 port, so a till can lose it and find it again."""

from __future__ import annotations

import shutil
import socket
from dataclasses import replace
from pathlib import Path

import grpc

from store_server.app import build_server
from store_server.clock import ManualClock
from store_server.config import Config
from tests.support.server import DEADLINE, START, RunningStore


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_store_at_fixed_port(template: Path, directory: Path) -> RunningStore:
    """Like tests.support.server.start_store, but RunningStore.restart keeps the address."""
    db_path = directory / "store.db"
    shutil.copy(template, db_path)
    config = replace(
        Config(), listen=f"127.0.0.1:{free_port()}", database=db_path, grace_seconds=1.0
    )
    clock = ManualClock(START)
    store = build_server(config, clock=clock)
    store.start()
    channel = grpc.insecure_channel(store.address)
    grpc.channel_ready_future(channel).result(timeout=DEADLINE)
    return RunningStore(store=store, clock=clock, channel=channel)


def stop(running: RunningStore) -> None:
    """The server goes away (the till's view: unreachable)."""
    running.channel.close()
    running.store.stop(grace=0.5)


def start_again(running: RunningStore) -> None:
    """The same store, the same database and address, back after an outage."""
    running.store = build_server(running.store.config, clock=running.clock)
    running.store.start()
    running.channel = grpc.insecure_channel(running.store.address)
    grpc.channel_ready_future(running.channel).result(timeout=DEADLINE)
