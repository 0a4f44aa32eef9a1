"""The soak for 60 seconds: 30 tills and 3 handhelds against one store server
process, the hq_link agent replicating to an HQ process (SQLite), as `make
soak` runs it for 10 minutes. Progress lines go to stdout (`pytest -s`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from soak.runner import run
from soak.settings import SoakSettings


@pytest.mark.slow
@pytest.mark.timeout(280)
def test_sixty_second_soak_is_clean(tmp_path: Path) -> None:
    settings = SoakSettings(
        seconds=60, tills=30, handhelds=3, out_dir=tmp_path, progress_seconds=10
    )
    summary = run(settings)

    assert summary["errors"]["count"] == 0, summary["errors"]["examples"]
    rec = summary["reconciliation"]
    assert rec["ok"], rec["problems"]
    assert summary["hq"]["lag_rows_at_end"] == 0
    judged = {rpc: r for rpc, r in summary["latency"]["rpcs"].items() if r["judged"]}
    assert "AddItem" in judged  # the scan: hundreds of calls in every window
    grew = {rpc: (r["p50_ratio"], r["p99_ratio"]) for rpc, r in judged.items() if not r["ok"]}
    assert not grew, grew
    assert summary["rss_mb"]["ok"], summary["rss_mb"]
    assert summary["process_exit_codes"]["server"] == 0
    assert summary["ok"], summary["failures"]

    # The scenario did what a store does in a minute, and the records saw it all.
    events = summary["throughput"]["events"]
    assert summary["throughput"]["sales_in_soak_time"] >= 30
    for what in ("member sales", "returns", "voided lines", "counts", "mistyped codes"):
        assert events.get(what, 0) > 0, (what, events)
    figures = rec["figures"]
    assert (
        figures["acked_sales"] == figures["store_sales"] == figures["hq_sales"] == events["sales"]
    )
    assert figures["acked_returns"] == figures["hq_returns"] == events["returns"]
    assert figures["acked_counts"] == figures["store_counts"] == events["counts"]
    assert figures["store_change_rows"] == figures["hq_change_rows"] > 0
    assert json.loads(settings.summary_path.read_text())["ok"] is True
