"""The notify protocol on a real AF_UNIX datagram socket, as systemd listens."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from store_server.appliance.sd_notify import Notifier


def _listen(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    return sock


def test_sends_assignments_to_the_socket(tmp_path: Path) -> None:
    sock = _listen(tmp_path / "notify")
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify")})
    assert notifier.notify(READY=1, STATUS="serving on 127.0.0.1:50051")
    assert sock.recv(4096) == b"READY=1\nSTATUS=serving on 127.0.0.1:50051"
    notifier.close()
    sock.close()


def test_abstract_namespace_socket() -> None:
    name = f"tillpoint-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
    assert notifier.notify(WATCHDOG=1)
    assert sock.recv(100) == b"WATCHDOG=1"
    sock.close()


def test_without_systemd_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.notify(READY=1) is False
    assert notifier.watchdog_seconds is None


def test_watchdog_interval_only_for_this_process() -> None:
    assert Notifier({"WATCHDOG_USEC": "30000000"}).watchdog_seconds == 30.0
    mine = {"WATCHDOG_USEC": "500000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier(mine).watchdog_seconds == 0.5
    assert Notifier({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}).watchdog_seconds is None
    assert Notifier({"WATCHDOG_USEC": "0"}).watchdog_seconds is None


def test_a_vanished_manager_is_not_fatal(tmp_path: Path) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    assert notifier.notify(WATCHDOG=1) is False
