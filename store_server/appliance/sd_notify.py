"""systemd's notify protocol (sd_notify(3)), without libsystemd.

systemd passes a datagram socket in NOTIFY_SOCKET; each message is a datagram
of newline-separated KEY=VALUE assignments (READY=1, WATCHDOG=1, STATUS=...).
A name starting with "@" is in the abstract namespace. Without NOTIFY_SOCKET
(started by hand, by `make run`, by a test) every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self._address = address
        self._sock: socket.socket | None = None
        if address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.watchdog_seconds = _watchdog_seconds(env)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, **fields: object) -> bool:
        """Send one message, e.g. notify(READY=1, STATUS="serving"); True if sent."""
        if self._sock is None:
            return False
        message = "\n".join(f"{key}={value}" for key, value in fields.items())
        try:
            self._sock.sendto(message.encode("utf-8"), self._address)
        except OSError as exc:
            # The manager may be restarting; a lost ping is not worth a crash.
            log.warning("sd_notify %s failed: %s", ",".join(fields), exc)
            return False
        return True

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """The watchdog interval systemd expects pings within, if it is for this process."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None  # meant for a parent that exec'd us with its environment
    return int(usec) / 1_000_000
