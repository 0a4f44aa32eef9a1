"""Latency per RPC over time windows, and whether it grew from the first window to the last."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass

from soak.calls import Sample

REFERENCE_RPC = "Echo"  # the probe: what the machine itself does to a call


def percentile(sorted_ms: list[float], p: float) -> float:
    """Nearest rank; 0 for no samples."""
    if not sorted_ms:
        return 0.0
    return sorted_ms[max(0, math.ceil(p * len(sorted_ms)) - 1)]


@dataclass(frozen=True, slots=True)
class Stats:
    start_s: float
    n: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @staticmethod
    def of(start: float, ms: list[float]) -> Stats:
        ms = sorted(ms)
        return Stats(
            start_s=round(start, 1),
            n=len(ms),
            p50_ms=round(percentile(ms, 0.50), 2),
            p99_ms=round(percentile(ms, 0.99), 2),
            max_ms=round(ms[-1], 2) if ms else 0.0,
        )


@dataclass(frozen=True, slots=True)
class RpcLatency:
    rpc: str
    overall: Stats
    windows: list[Stats]
    p50_ratio: float  # the settled end (see _settled_end) over the first window
    p99_ratio: float
    normalized_p50_ratio: float  # the same, divided by the echo probe's ratio
    normalized_p99_ratio: float
    judged: bool  # enough calls in both windows to judge
    ok: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _ratio(last: float, first: float) -> float:
    return round(last / first, 3) if first > 0 else 0.0


def _settled_end(wins: list[Stats]) -> tuple[float, float]:
    """The p50 and p99 the run ended at: the lowest of the last third of the windows
    (at least two). A leak or a growing table raises every late window; one window
    spoilt by a neighbour's burst on a shared machine raises only itself."""
    tail = wins[-max(2, len(wins) // 3) :] if len(wins) > 1 else wins
    return min(w.p50_ms for w in tail), min(w.p99_ms for w in tail)


def windows_of(
    samples: list[Sample], seconds: float, window: float
) -> dict[str, list[list[float]]]:
    """rpc -> per window, the milliseconds of its calls; later calls join the last window."""
    count = max(1, int(seconds // window))
    per: dict[str, list[list[float]]] = defaultdict(lambda: [[] for _ in range(count)])
    for s in samples:
        if s.at < 0 or s.at > seconds:
            continue  # logins before the soak; the drain after it (the last baskets)
        per[s.rpc][min(count - 1, max(0, int(s.at // window)))].append(s.ms)
    return per


def judge_latency(
    samples: list[Sample],
    seconds: float,
    window: float,
    *,
    tolerance: float,
    floor_ms: float,
    min_samples: int,
) -> dict[str, RpcLatency]:
    per = windows_of(samples, seconds, window)
    stats = {
        rpc: [Stats.of(i * window, ms) for i, ms in enumerate(wins)] for rpc, wins in per.items()
    }
    ref = stats.get(REFERENCE_RPC)
    ref_end = _settled_end(ref) if ref else (0.0, 0.0)
    ref50 = _ratio(ref_end[0], ref[0].p50_ms) if ref else 0.0
    ref99 = _ratio(ref_end[1], ref[0].p99_ms) if ref else 0.0
    result = {}
    for rpc, wins in sorted(stats.items()):
        first, last = wins[0], wins[-1]
        end50, end99 = _settled_end(wins)
        r50, r99 = _ratio(end50, first.p50_ms), _ratio(end99, first.p99_ms)
        n50 = round(r50 / ref50, 3) if ref50 else r50
        n99 = round(r99 / ref99, 3) if ref99 else r99
        judged = first.n >= min_samples and last.n >= min_samples
        # Growth counts only when the raw and the machine-normalised ratio both
        # exceed the tolerance and the milliseconds grew by more than noise.
        grew50 = r50 > tolerance and n50 > tolerance and end50 - first.p50_ms > floor_ms
        grew99 = r99 > tolerance and n99 > tolerance and end99 - first.p99_ms > floor_ms
        all_ms = [ms for w in per[rpc] for ms in w]
        result[rpc] = RpcLatency(
            rpc=rpc,
            overall=Stats.of(0.0, all_ms),
            windows=wins,
            p50_ratio=r50,
            p99_ratio=r99,
            normalized_p50_ratio=n50,
            normalized_p99_ratio=n99,
            judged=judged,
            ok=not judged or not (grew50 or grew99),
        )
    return result


def interval_line(samples: list[Sample], since: float, rpcs: tuple[str, ...]) -> str:
    """p50/p99 of some RPCs over the samples after `since`, for the progress line."""
    parts = []
    for rpc in rpcs:
        ms = sorted(s.ms for s in samples if s.at >= since and s.rpc == rpc)
        if ms:
            parts.append(f"{rpc} {percentile(ms, 0.5):.1f}/{percentile(ms, 0.99):.1f}")
    return ", ".join(parts)
