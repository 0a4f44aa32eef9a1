"""The store server's main loop: check health, then ping systemd's watchdog.

The pings come only from here, after a health check has returned. If the loop
hangs (a deadlock, a disk that stops answering statvfs) the pings stop and
systemd kills and restarts the service after WatchdogSec.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from store_server.appliance.sd_notify import Notifier

log = logging.getLogger(__name__)


def loop_period(notifier: Notifier, health_interval: float) -> float:
    """Seconds between turns: the health interval, at most half the watchdog's."""
    if notifier.watchdog_seconds is None:
        return health_interval
    return min(health_interval, notifier.watchdog_seconds / 2)


def run_main_loop(
    stop: threading.Event,
    *,
    check: Callable[[], object],
    notifier: Notifier,
    health_interval: float,
) -> None:
    """Run until `stop` is set."""
    period = loop_period(notifier, health_interval)
    while True:
        try:
            check()
        except Exception:
            # A failing check is a health problem, not a hang: keep pinging.
            log.exception("health check failed")
        if notifier.watchdog_seconds is not None:
            notifier.notify(WATCHDOG=1)
        if stop.wait(period):
            return
