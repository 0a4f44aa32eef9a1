"""Tells a keyboard-wedge scanner's keystrokes from a person typing.

A wedge scanner "types" the code very fast and presses Enter. Pure logic: the caller
passes each key with its timestamp (seconds, from the UI toolkit's event), so tests use
explicit times and nothing here reads a clock.
"""

from __future__ import annotations

ENTER_KEYS = frozenset({"\r", "\n", "enter"})

# Timestamps are floats: 10.05 - 10.0 is 0.050000000000000711, which must still count as
# a 50 ms gap.
_EPSILON_S = 1e-6


class WedgeDetector:
    """feed(key, at) returns a scanned code or None.

    A code is a burst of >= ``min_length`` printable characters followed by Enter, with
    every gap (between characters and before Enter) <= ``max_gap`` seconds. On None the
    caller keeps the characters as typed text; on a code it removes the last
    ``len(code)`` typed characters and handles the scan instead.
    """

    def __init__(self, max_gap: float = 0.050, min_length: int = 4, max_length: int = 48):
        if max_gap <= 0 or min_length < 1 or max_length < min_length:
            raise ValueError("need max_gap > 0 and 1 <= min_length <= max_length")
        self.max_gap = max_gap
        self.min_length = min_length
        self.max_length = max_length
        self._burst: list[str] = []
        self._last_at: float | None = None

    def reset(self) -> None:
        self._burst.clear()
        self._last_at = None

    def feed(self, key: str, at: float) -> str | None:
        """One key press: a single character, or Enter as "\\r", "\\n" or "enter"."""
        fast = self._last_at is not None and 0 <= at - self._last_at <= self.max_gap + _EPSILON_S
        if key.lower() in ENTER_KEYS:
            burst = list(self._burst)
            is_code = fast and self.min_length <= len(burst) <= self.max_length
            self.reset()
            return "".join(burst) if is_code else None
        if len(key) != 1 or not key.isprintable() or not key.isascii():
            # Shift, arrows, Chinese IME output: a scanner never sends these in a code.
            self.reset()
            return None
        if not fast:
            # Slow (or clock went backwards): what came before was typing; start afresh.
            self._burst.clear()
        self._burst.append(key)
        self._last_at = at
        return None
