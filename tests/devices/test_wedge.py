from __future__ import annotations

import pytest

from devices.scanner.wedge import WedgeDetector


def feed_all(detector: WedgeDetector, keys: str, start: float, gap: float) -> list[str | None]:
    """Feed each key ``gap`` seconds after the previous one; '\\r' is Enter."""
    return [detector.feed(key, start + i * gap) for i, key in enumerate(keys)]


def test_fast_burst_with_enter_is_a_code() -> None:
    results = feed_all(WedgeDetector(), "6901234567892\r", start=100.0, gap=0.010)
    assert results[:-1] == [None] * 13
    assert results[-1] == "6901234567892"


def test_gap_of_exactly_50_ms_still_counts_as_scanner() -> None:
    results = feed_all(WedgeDetector(), "12345\r", start=10.0, gap=0.050)
    assert results[-1] == "12345"


def test_slow_typing_is_text() -> None:
    results = feed_all(WedgeDetector(), "12345\r", start=10.0, gap=0.051)
    assert results == [None] * 6


def test_one_slow_gap_inside_the_burst_breaks_it() -> None:
    detector = WedgeDetector()
    times = [0.0, 0.01, 0.02, 0.20, 0.21, 0.22]  # a 180 ms pause between "3" and "4"
    keys = "123456"
    assert [detector.feed(k, t) for k, t in zip(keys, times, strict=True)] == [None] * 6
    # The burst restarted at "4": only "456" is fast, fewer than 4 characters.
    assert detector.feed("enter", 0.23) is None


def test_burst_after_slow_typing_is_still_detected() -> None:
    detector = WedgeDetector()
    for key, at in [("a", 0.0), ("b", 0.5), ("c", 1.0)]:
        assert detector.feed(key, at) is None
    results = feed_all(detector, "4891028164456\n", start=1.5, gap=0.005)
    assert results[-1] == "4891028164456"


def test_short_burst_and_slow_enter_are_not_codes() -> None:
    assert feed_all(WedgeDetector(), "123\r", start=0.0, gap=0.001)[-1] is None
    detector = WedgeDetector()
    feed_all(detector, "12345", start=0.0, gap=0.001)
    assert detector.feed("\r", 0.004 + 0.2) is None


def test_non_printable_key_resets_and_threshold_is_configurable() -> None:
    detector = WedgeDetector(max_gap=0.1, min_length=2)
    assert feed_all(detector, "12\r", start=0.0, gap=0.09)[-1] == "12"
    feed_all(detector, "123", start=5.0, gap=0.01)
    assert detector.feed("shift", 5.03) is None
    assert detector.feed("\r", 5.04) is None


def test_clock_going_backwards_restarts_the_burst() -> None:
    detector = WedgeDetector()
    feed_all(detector, "1234", start=10.0, gap=0.01)
    assert detector.feed("5", 9.0) is None
    assert detector.feed("\r", 9.01) is None


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError):
        WedgeDetector(max_gap=0)
