"""The store server's resident memory over the soak, from /proc/<pid>/status."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path


def rss_mb(pid: int) -> float | None:
    """VmRSS of `pid` in MB; None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    return None


@dataclass(frozen=True, slots=True)
class RssVerdict:
    start_mb: float
    end_mb: float
    max_mb: float
    middle_third_mb: float
    last_third_mb: float
    ratio: float
    # Least-squares growth over the last two thirds: what a leak would cost an hour.
    slope_mb_per_min: float
    ok: bool


class RssSampler(threading.Thread):
    """Samples every `interval` seconds; `samples` holds (seconds since start, MB)."""

    def __init__(self, pid: int, started: float, interval: float = 1.0) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid = pid
        self.started = started
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            mb = rss_mb(self.pid)
            if mb is not None:
                self.samples.append((time.monotonic() - self.started, mb))
            self._done.wait(self.interval)

    def finish(self) -> None:
        self._done.set()
        self.join(timeout=5)

    def latest(self) -> float | None:
        return self.samples[-1][1] if self.samples else None


def judge_rss(
    samples: list[tuple[float, float]], seconds: float, *, tolerance: float, floor_mb: float
) -> RssVerdict:
    """Bounded means the last third of the run does not sit above the middle third.

    The first third is left out: caches, the catalog index and the thread
    pool fill up there, which is growth with a ceiling. A leak keeps going,
    so it shows between the middle and the last third.
    """
    during = [(t, mb) for t, mb in samples if t <= seconds] or samples
    if not during:
        return RssVerdict(0, 0, 0, 0, 0, 0, 0, False)
    middle = [mb for t, mb in during if seconds / 3 <= t < 2 * seconds / 3] or [during[0][1]]
    last = [mb for t, mb in during if t >= 2 * seconds / 3] or [during[-1][1]]
    mid_mean = sum(middle) / len(middle)
    last_mean = sum(last) / len(last)
    ratio = last_mean / mid_mean if mid_mean else 0.0
    ok = ratio <= tolerance or last_mean - mid_mean <= floor_mb
    tail = [(t, mb) for t, mb in during if t >= seconds / 3]
    return RssVerdict(
        start_mb=during[0][1],
        end_mb=during[-1][1],
        max_mb=max(mb for _, mb in during),
        middle_third_mb=mid_mean,
        last_third_mb=last_mean,
        ratio=ratio,
        slope_mb_per_min=_slope(tail) * 60,
        ok=ok,
    )


def _slope(points: list[tuple[float, float]]) -> float:
    """MB per second by least squares; 0 for fewer than two points."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_mb = sum(mb for _, mb in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (mb - mean_mb) for t, mb in points) / var
