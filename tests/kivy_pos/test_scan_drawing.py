"""What the real till window draws for a scan, under Xvfb against a real store server:
one frame per scan, only the new line's and the totals' labels rendered again, the
newest line in sight once the list scrolls. (A software renderer pays ~30 ms of CPU per
frame and ~0.2 ms per label render: a second frame or a re-rendered list is what made
scan-to-screen slow; see bench/kivy_scan_bench.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kivy_pos.scenario import run_till
from tests.kivy_pos.till_driver import SCANS
from tests.support.server import RunningStore

pytestmark = pytest.mark.slow


def test_each_wedge_scan_draws_one_frame_and_renders_only_the_new_line(
    store: RunningStore, tmp_path: Path
) -> None:
    result = run_till(store.store.address, tmp_path, scenario="scans", timeout=90.0)
    scans = result["scans"]
    assert [s["lines"] for s in scans] == list(range(1, SCANS + 1))
    scrolled = 0
    for s in scans:
        n = s["scan"]
        # The keys of the code and its Enter draw nothing of their own: one frame shows
        # the new line, and nothing moves after it (no scroll-bar fade, no second layout).
        assert s["frames"] == 1, s
        assert f"件数 {n}" in s["texts"] and n in s["rows"], s  # the newest line in sight
        # The new line's labels (made the first time a row is needed) and the totals;
        # never the whole list again (14 lines of 5 labels: 70).
        assert s["renders"] <= 16, s
        if 1 not in s["rows"]:  # the list scrolled: the first line is out of sight
            scrolled += 1
            # Every row widget keeps its line: only the new line's number and name (its
            # price, quantity and amount equal the row's it takes over) and the totals.
            assert s["renders"] <= 6, s
    assert scrolled >= 2
    last = scans[-1]["texts"]
    assert "雪碧 330ml" in last and "可口可乐 330ml" in last
