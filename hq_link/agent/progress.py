"""Progress of a catch-up: what the agent logs while it ships a backlog (a store
back from a day offline), so whoever watches the log sees it move and when it
will be done. Pure: the caller passes the monotonic time in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CatchUp:
    """A backlog of at least `threshold_rows` is a catch-up; while one runs, a
    line after its first batch (the rate HQ takes it at, at once), then one
    every `every_seconds`, and one when the backlog is gone."""

    threshold_rows: int
    every_seconds: float
    started_at: float | None = None
    sent: int = 0
    behind_at_start: int = 0
    last_line_at: float | None = None

    @property
    def running(self) -> bool:
        return self.started_at is not None

    def begin(self, left: int, now: float) -> str | None:
        """The backlog as found (on connecting, or after a batch); a line if it starts one."""
        if self.started_at is not None or left < self.threshold_rows:
            return None
        self.started_at = now
        self.last_line_at = None
        self.sent = 0
        self.behind_at_start = left
        return f"catch-up: {left:,} rows behind HQ, shipping"

    def shipped(self, rows: int, left: int, now: float) -> str | None:
        """A batch of `rows` acknowledged, `left` rows still to ship: a line when due."""
        if self.started_at is None:
            return self.begin(left, now)
        self.sent += rows
        elapsed = max(now - self.started_at, 1e-6)
        rate = self.sent / elapsed
        if left <= 0:
            self.started_at = None
            return f"catch-up done: {self.sent:,} rows in {elapsed:.1f} s ({rate:,.0f} rows/s)"
        if self.last_line_at is not None and now - self.last_line_at < self.every_seconds:
            return None
        self.last_line_at = now
        eta = f", about {left / rate:,.0f} s to go" if rate > 0 else ""
        return f"catch-up: {self.sent:,} rows sent, {left:,} left, {rate:,.0f} rows/s{eta}"

    def interrupted(self) -> None:
        """The link dropped: the next session counts its backlog afresh."""
        self.started_at = None
