"""What one soak run does and what it tolerates before it fails."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, slots=True)
class SoakSettings:
    seconds: float = 600.0
    tills: int = 30
    handhelds: int = 3
    out_dir: Path = REPO / "var" / "soak"
    # SQLAlchemy URL of HQ's database; empty: SQLite in out_dir (the demo HQ).
    hq_database: str = ""
    progress_seconds: float = 30.0
    # Latency is compared per time window; 0: a tenth of the run, at least 10 s.
    window_seconds: float = 0.0
    # Last window's p50/p99 over the first's. Both the raw ratio and the ratio
    # normalised by the echo probe's must exceed it (the shared machine's own
    # speed drifts ~2x within minutes), and the p99 must have grown by more
    # than latency_floor_ms, before latency counts as growing.
    latency_tolerance: float = 2.0
    latency_floor_ms: float = 5.0
    # An RPC is judged only with at least this many calls in both windows.
    latency_min_samples: int = 50
    # Server RSS: mean of the last third over the mean of the middle third,
    # and at least rss_floor_mb more, before it counts as growing.
    rss_tolerance: float = 1.10
    rss_floor_mb: float = 8.0
    # How long the agent may take to bring HQ level with the store at the end.
    drain_seconds: float = 120.0
    seed: int = 12

    @property
    def window(self) -> float:
        return self.window_seconds or max(10.0, self.seconds / 10)

    @property
    def summary_path(self) -> Path:
        return self.out_dir / "summary.json"
