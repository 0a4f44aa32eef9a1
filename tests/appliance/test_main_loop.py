"""Watchdog pings come from the main loop, after each health check: a hung
loop stops them (and systemd would restart the service)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path

from store_server.appliance.main_loop import loop_period, run_main_loop
from store_server.appliance.sd_notify import Notifier


def _pings(sock: socket.socket, seconds: float) -> list[float]:
    times = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if sock.recv(100) == b"WATCHDOG=1":
                times.append(time.monotonic())
        except TimeoutError:
            break
    return times


def test_pings_at_half_the_watchdog_interval_and_stop_when_the_loop_hangs(
    tmp_path: Path,
) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"})
    assert loop_period(notifier, health_interval=5.0) == 0.1
    healthy = threading.Event()
    healthy.set()
    stop = threading.Event()

    def check() -> None:
        healthy.wait()  # a check that never returns: a disk that stopped answering

    loop = threading.Thread(
        target=run_main_loop,
        args=(stop,),
        kwargs={"check": check, "notifier": notifier, "health_interval": 5.0},
        daemon=True,
    )
    loop.start()
    running = _pings(sock, 1.0)
    assert 7 <= len(running) <= 13, running
    assert max(b - a for a, b in itertools.pairwise(running)) < 0.2

    healthy.clear()  # the loop hangs in its next check
    time.sleep(0.15)
    assert _pings(sock, 0.6) == []

    healthy.set()  # it comes back: pings resume
    assert len(_pings(sock, 0.5)) >= 3
    stop.set()
    loop.join(timeout=2)
    assert not loop.is_alive()
    sock.close()


def test_a_failing_check_still_pings(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "100000"})
    stop = threading.Event()

    def check() -> None:
        raise OSError("statvfs failed")

    loop = threading.Thread(
        target=run_main_loop,
        args=(stop,),
        kwargs={"check": check, "notifier": notifier, "health_interval": 5.0},
        daemon=True,
    )
    loop.start()
    assert len(_pings(sock, 0.3)) >= 3
    stop.set()
    loop.join(timeout=2)
    sock.close()
