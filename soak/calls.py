"""Every RPC the simulated devices make, timed, with its outcome.

A call answers OK, or with a status the scenario meant to provoke (a
mistyped barcode is NOT_FOUND), or it is an error: the soak fails on any.
Checks a device makes of an answer (a replayed commit must bring back the
same receipt) are errors of the same list.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

DEADLINE = 10.0
MAX_EXAMPLES = 50


class ScenarioError(Exception):
    """An unintended answer; already recorded. The device drops what it was doing."""


@dataclass(frozen=True, slots=True)
class Sample:
    at: float  # seconds since the soak started
    rpc: str
    ms: float


@dataclass(frozen=True, slots=True)
class ErrorRecord:
    at: float
    device: str
    rpc: str
    status: str
    detail: str


class CallRecorder:
    """Thread-safe: every device thread records here."""

    def __init__(self, started: float) -> None:
        self.started = started
        self._lock = threading.Lock()
        self.samples: list[Sample] = []
        self.errors: list[ErrorRecord] = []
        self.error_count = 0
        self.expected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def reset_clock(self) -> None:
        """Time 0 is now: what was recorded before (logins) falls out of the windows."""
        with self._lock:
            shift = time.monotonic() - self.started
            self.started += shift
            self.samples = [Sample(s.at - shift, s.rpc, s.ms) for s in self.samples]

    def now(self) -> float:
        return time.monotonic() - self.started

    def call(
        self,
        device: str,
        rpc: str,
        method: Callable[..., Any],
        request: Any,
        *,
        metadata: list[tuple[str, str]] | None = None,
        expect: frozenset[grpc.StatusCode] = frozenset(),
        timeout: float = DEADLINE,
    ) -> Any:
        """The answer; None when the call failed as `expect` said; else ScenarioError."""
        t0 = time.monotonic()
        try:
            answer = method(request, metadata=metadata, timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            ms = (time.monotonic() - t0) * 1000
            if code in expect:
                self._sample(t0, rpc, ms)
                with self._lock:
                    self.expected[f"{rpc} {code.name}"] += 1
                return None
            self.error(device, rpc, code.name, exc.details() or "")  # type: ignore[attr-defined]
            raise ScenarioError(f"{rpc}: {code.name}") from exc
        self._sample(t0, rpc, (time.monotonic() - t0) * 1000)
        return answer

    def error(self, device: str, rpc: str, status: str, detail: str) -> None:
        with self._lock:
            self.error_count += 1
            if len(self.errors) < MAX_EXAMPLES:
                self.errors.append(ErrorRecord(self.now(), device, rpc, status, detail[:300]))

    def expected_outcome(self, what: str, n: int = 1) -> None:
        """An intended non-OK outcome that is not a status (a count rejected in its batch)."""
        with self._lock:
            self.expected[what] += n

    def _sample(self, t0: float, rpc: str, ms: float) -> None:
        with self._lock:
            self.samples.append(Sample(t0 - self.started, rpc, ms))
            self.calls[rpc] += 1

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)
